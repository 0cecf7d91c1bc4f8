package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/testing/protocmp"
)

// editThroughForm creates tool, loads its edit page, applies change to the
// posted form, saves, and returns the tool before and after.
func editThroughForm(t *testing.T, tool *catalogv1.Tool, change func(v map[string][]string)) (want, got *catalogv1.Tool) {
	t.Helper()
	n := startNode(t)
	c := client(t)
	signIn(t, c, n)
	ctx := context.Background()
	want, err := n.catalog.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "tricky", Tool: tool})
	if err != nil {
		t.Fatal(err)
	}
	_, page, _ := get(t, c, n.base+"/tools/fr/tricky/edit")
	form := formOnPage(t, page, "/tools/fr/tricky/edit")
	change(form)
	if code, page, _ := post(t, c, n.base+"/tools/fr/tricky/edit", form); code != http.StatusSeeOther {
		t.Fatalf("the edit: %d\n%s", code, page)
	}
	got, err = n.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/tricky"})
	if err != nil {
		t.Fatal(err)
	}
	return want, got
}

// TestEditBlockKeepsFeatures edits only a block's short description, or
// renames its language (en to en-GB): its features, one holding a newline,
// stay as they were.
func TestEditBlockKeepsFeatures(t *testing.T) {
	for _, tc := range []struct {
		what, field, value, lang string
	}{
		{"an edit of the short description only", "d0_short", "Tricky values, edited", "en"},
		{"renaming the block's language", "d0_lang", "en-GB", "en-GB"},
	} {
		want, got := editThroughForm(t, &catalogv1.Tool{
			DisplayName:  "Tricky",
			Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values", Features: []string{"line one\nline two", "plain"}}},
		}, func(v map[string][]string) { v[tc.field] = []string{tc.value} })
		if diff := cmp.Diff(got.GetDescriptions()[tc.lang].GetFeatures(), want.GetDescriptions()["en"].GetFeatures(), protocmp.Transform()); diff != "" {
			t.Errorf("features after %s (-got +want):\n%s", tc.what, diff)
		}
	}
}

// TestEditAddedContactKeepsOthers adds a contact: the one whose name holds
// "; ", left as shown, stays as it was (read again, it was refused).
func TestEditAddedContactKeepsOthers(t *testing.T) {
	want, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName:  "Tricky",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values"}},
		Maintenance:  &catalogv1.Maintenance{Type: "community", Contacts: []*catalogv1.Contact{{Name: "Doe; Jane"}}},
	}, func(v map[string][]string) { v["contacts"] = []string{v["contacts"][0] + "\r\nBob; bob@example.org"} })
	if diff := cmp.Diff(got.GetMaintenance().GetContacts()[0], want.GetMaintenance().GetContacts()[0], protocmp.Transform()); diff != "" {
		t.Errorf("the untouched contact after adding another (-got +want):\n%s", diff)
	}
}

// TestEditKeepsCRLFLong saves unchanged a block whose long description
// holds CR LF (the API takes it): it stays as it was.
func TestEditKeepsCRLFLong(t *testing.T) {
	want, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName:  "Tricky",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values", LongDescription: "para one\r\npara two", Features: []string{"line one\nline two"}}},
	}, func(v map[string][]string) { v["display_name"] = []string{"Tricky, renamed"} })
	if diff := cmp.Diff(got.GetDescriptions()["en"], want.GetDescriptions()["en"], protocmp.Transform()); diff != "" {
		t.Errorf("the untouched block (-got +want):\n%s", diff)
	}
}

// TestEditKeepsShortWithNewline saves unchanged a block whose short
// description holds a newline, which a browser drops from an input's
// value: it stays as it was.
func TestEditKeepsShortWithNewline(t *testing.T) {
	want, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName:  "Tricky",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky\nvalues", Features: []string{"line one\nline two"}}},
	}, func(v map[string][]string) {
		v["d0_short"] = []string{strings.NewReplacer("\r", "", "\n", "").Replace(v["d0_short"][0])} // what a browser posts
	})
	if diff := cmp.Diff(got.GetDescriptions()["en"], want.GetDescriptions()["en"], protocmp.Transform()); diff != "" {
		t.Errorf("the untouched block (-got +want):\n%s", diff)
	}
}

// TestEditAddedItemKeepsOthers adds an item to used_by and edits another:
// the item holding a newline, left as shown, stays one item.
func TestEditAddedItemKeepsOthers(t *testing.T) {
	_, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName:  "Tricky",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values"}},
		UsedBy:       []string{"Ville de Paris\nDirection du numérique", "Lyon", "a\nb", "a"},
	}, func(v map[string][]string) {
		v["used_by"] = []string{strings.Replace(v["used_by"][0], "Lyon", "Lyon Métropole", 1) + "\r\nGrenoble"}
	})
	want := []string{"Ville de Paris\nDirection du numérique", "Lyon Métropole", "a\nb", "a", "Grenoble"}
	if diff := cmp.Diff(got.GetUsedBy(), want); diff != "" {
		t.Errorf("used_by after an item edited and one added (-got +want):\n%s", diff)
	}
}

// TestEditKeepsWhatTheFormCannotShow saves the form of a tool whose
// values the form's text cannot hold exactly (items holding a newline, a
// contact and a contractor whose names hold "; ", a long description
// starting with a blank line), changing only its name: everything else
// stays as it was, where the form used to split the items, refuse the
// contact, and drop the blank line.
func TestEditKeepsWhatTheFormCannotShow(t *testing.T) {
	want, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName: "Tricky",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values", LongDescription: "\nStarts with a blank line",
			Features: []string{"line one\nline two", "plain"}}},
		UsedBy: []string{"Ville de Paris\nDirection du numérique"}, Standards: []string{"A\nB"},
		Maintenance: &catalogv1.Maintenance{Type: "community", Contacts: []*catalogv1.Contact{{Name: "Doe; Jane", Email: "jane@example.org"}},
			Contractors: []*catalogv1.Contractor{{Name: "Acme; Inc"}}},
	}, func(v map[string][]string) { v["display_name"] = []string{"Tricky, renamed"} })
	want.DisplayName = "Tricky, renamed"
	if diff := cmp.Diff(got, want, protocmp.Transform(), protocmp.IgnoreFields(&catalogv1.Tool{}, "etag", "seq", "update_time")); diff != "" {
		t.Errorf("the tool after an edit of its name (-got +want):\n%s", diff)
	}
}

// TestEditKeepsContactWithNewline saves, its textarea left as shown, a
// contact whose name holds a newline (the API takes it): it stays one.
func TestEditKeepsContactWithNewline(t *testing.T) {
	want, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName:  "Tricky",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values"}},
		Maintenance:  &catalogv1.Maintenance{Type: "community", Contacts: []*catalogv1.Contact{{Name: "Doe\nJane", Email: "jane@example.org"}}},
	}, func(v map[string][]string) { v["display_name"] = []string{"Tricky, renamed"} })
	if diff := cmp.Diff(got.GetMaintenance(), want.GetMaintenance(), protocmp.Transform()); diff != "" {
		t.Errorf("maintenance after an edit of the name only (-got +want):\n%s", diff)
	}
}

// TestEditDeletedAndRenamedBlock clears block de and renames block en to
// de: the block's multi-line feature and its short description stay.
func TestEditDeletedAndRenamedBlock(t *testing.T) {
	want, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName: "Tricky",
		Descriptions: map[string]*catalogv1.Description{
			"de": {ShortDescription: "Deutsch"},
			"en": {ShortDescription: "Tricky\nvalues", Features: []string{"line one\nline two"}},
		},
	}, func(v map[string][]string) {
		for _, k := range []string{"lang", "short", "long", "features", "doc", "apidoc"} {
			v["d0_"+k] = []string{""}
		}
		v["d1_lang"] = []string{"de"}
		v["d1_short"] = []string{"Trickyvalues"} // what a browser posts of "Tricky\nvalues"
	})
	if diff := cmp.Diff(got.GetDescriptions(), map[string]*catalogv1.Description{"de": want.GetDescriptions()["en"]}, protocmp.Transform()); diff != "" {
		t.Errorf("descriptions (-got +want):\n%s", diff)
	}
}

// TestEditSwappedLanguages swaps the languages of blocks en and fr (they
// were mislabelled): their contents move unchanged.
func TestEditSwappedLanguages(t *testing.T) {
	want, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName: "Tricky",
		Descriptions: map[string]*catalogv1.Description{
			"en": {ShortDescription: "Français", Features: []string{"un\ndeux"}},
			"fr": {ShortDescription: "English", Features: []string{"one\ntwo"}},
		},
	}, func(v map[string][]string) {
		v["d0_lang"], v["d1_lang"] = []string{"fr"}, []string{"en"}
	})
	wantD := map[string]*catalogv1.Description{"fr": want.GetDescriptions()["en"], "en": want.GetDescriptions()["fr"]}
	if diff := cmp.Diff(got.GetDescriptions(), wantD, protocmp.Transform()); diff != "" {
		t.Errorf("descriptions (-got +want):\n%s", diff)
	}
}

// TestEditRenamedIntoDeletedFeatures clears block de and renames block
// en to de, whose features show as the same text as de's did: the block's
// own features (two items) move, not de's (one item); with a feature
// added, its two lines still stay two items.
func TestEditRenamedIntoDeletedFeatures(t *testing.T) {
	for _, tc := range []struct {
		added string
		want  []string
	}{{"", []string{"x", "y"}}, {"\r\nz", []string{"x", "y", "z"}}} {
		_, got := editThroughForm(t, &catalogv1.Tool{
			DisplayName: "Tricky",
			Descriptions: map[string]*catalogv1.Description{
				"de": {ShortDescription: "Deutsch", Features: []string{"x\ny"}},
				"en": {ShortDescription: "English", Features: []string{"x", "y"}},
			},
		}, func(v map[string][]string) {
			for _, k := range []string{"lang", "short", "long", "features", "doc", "apidoc"} {
				v["d0_"+k] = []string{""}
			}
			v["d1_lang"] = []string{"de"}
			v["d1_features"] = []string{v["d1_features"][0] + tc.added}
		})
		if diff := cmp.Diff(got.GetDescriptions()["de"].GetFeatures(), tc.want); diff != "" {
			t.Errorf("features of the renamed block, %q added (-got +want):\n%s", tc.added, diff)
		}
	}
}

// TestEditStaleFormUntouchedContractor posts a stale form (the tool was
// changed since the page was loaded) whose contractor, left as shown, has a
// name holding "; ": the edit is merged with the change (another field),
// and the untouched contractor kept as it was, not read as an error (which,
// the etag kept, came back forever).
func TestEditStaleFormUntouchedContractor(t *testing.T) {
	n := startNode(t)
	c := client(t)
	signIn(t, c, n)
	ctx := context.Background()
	created, err := n.catalog.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "tricky", Tool: &catalogv1.Tool{
		DisplayName:  "Tricky",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values"}},
		Maintenance: &catalogv1.Maintenance{Type: "contract", Contractors: []*catalogv1.Contractor{
			{Name: "Acme; Inc", Website: "https://acme.example", Until: "2030-01-01"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, page, _ := get(t, c, n.base+"/tools/fr/tricky/edit")
	form := formOnPage(t, page, "/tools/fr/tricky/edit")
	created.License = "MIT" // someone else's edit
	if _, err := n.catalog.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: created, UpdateMask: fieldMask("license")}); err != nil {
		t.Fatal(err)
	}
	form["d0_short"] = []string{"Tricky values, edited"}
	code, page, _ := post(t, c, n.base+"/tools/fr/tricky/edit", form)
	if code != http.StatusSeeOther {
		i := strings.Index(page, "field-error")
		t.Fatalf("a stale post of another field: %d, want %d (merged and saved); %.300s", code, http.StatusSeeOther, page[max(i, 0):])
	}
	got, err := n.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/tricky"})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetLicense() != "MIT" || got.GetDescriptions()["en"].GetShortDescription() != "Tricky values, edited" || got.GetMaintenance().GetContractors()[0].GetName() != "Acme; Inc" {
		t.Errorf("after the merged edit: license %q, description %q, contractor %q", got.GetLicense(), got.GetDescriptions()["en"].GetShortDescription(), got.GetMaintenance().GetContractors()[0].GetName())
	}
}

// TestEditLargeTool saves, changing its name, the form of a tool the API
// took: 25 languages of long descriptions in accented letters, about 500
// KB, whose form is three times that URL-encoded (more than the API's
// 1 MiB a request, which the form's limit was).
func TestEditLargeTool(t *testing.T) {
	tool := &catalogv1.Tool{DisplayName: "Large", Descriptions: map[string]*catalogv1.Description{}}
	for _, l := range []string{"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "ca"} {
		tool.Descriptions[l] = &catalogv1.Description{ShortDescription: "Outil " + l, LongDescription: strings.Repeat("é", 9_900)}
	}
	_, got := editThroughForm(t, tool, func(v map[string][]string) { v["display_name"] = []string{"Large, renamed"} })
	if got.GetDisplayName() != "Large, renamed" || len(got.GetDescriptions()) != 25 || got.GetDescriptions()["fr"].GetLongDescription() != strings.Repeat("é", 9_900) {
		t.Errorf("after the edit: %q, %d descriptions", got.GetDisplayName(), len(got.GetDescriptions()))
	}
}

// TestUseCaseEditKeepsWhatTheFormCannotShow saves the edit form of a
// use case unchanged but for its start date. Its organisation's name holds
// a newline (a browser drops it from an input's value) and its purpose
// holds CR LF (the API takes both): they must stay as they were, as the
// README promises for the forms "the same under /usecases/".
func TestUseCaseEditKeepsWhatTheFormCannotShow(t *testing.T) {
	n := startNode(t)
	c := client(t)
	signIn(t, c, n)
	ctx := context.Background()
	want, err := n.catalog.CreateUseCase(admin(ctx), &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCaseId: "tricky", UseCase: &catalogv1.UseCase{
		Tool: "https://github.com/decidim/decidim", Purpose: "Line one\r\nLine two",
		Organization: &catalogv1.Organization{Name: "Ville de Paris\nDirection du numérique", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "FR"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, page, _ := get(t, c, n.base+"/usecases/fr/tricky/edit")
	form := formOnPage(t, page, "/usecases/fr/tricky/edit")
	// What a browser posts of an input: its value without line ends.
	form["org_name"] = []string{strings.NewReplacer("\r", "", "\n", "").Replace(form.Get("org_name"))}
	form["start_date"] = []string{"2024"} // the only change
	if code, page, _ := post(t, c, n.base+"/usecases/fr/tricky/edit", form); code != http.StatusSeeOther {
		t.Fatalf("the edit: %d\n%s", code, page)
	}
	got, err := n.catalog.GetUseCase(ctx, &catalogv1.GetUseCaseRequest{Name: "origins/fr/usecases/tricky"})
	if err != nil {
		t.Fatal(err)
	}
	want.StartDate = "2024"
	if diff := cmp.Diff(got, want, protocmp.Transform(), protocmp.IgnoreFields(&catalogv1.UseCase{}, "etag", "seq", "update_time")); diff != "" {
		t.Errorf("the use case after an edit of its start date only (-got +want):\n%s", diff)
	}
}

// TestEditOfADeletedRecordKeepsWhatWasTyped: a curator edits a tool's long
// description; meanwhile a colleague deletes the tool. Saving must not
// throw away what was typed: the page should show it, to copy.
func TestEditOfADeletedRecordKeepsWhatWasTyped(t *testing.T) {
	n := startNode(t)
	c := client(t)
	signIn(t, c, n)
	ctx := context.Background()
	if _, err := n.catalog.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "gone", Tool: &catalogv1.Tool{
		DisplayName: "Gone", Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Soon gone"}},
	}}); err != nil {
		t.Fatal(err)
	}
	_, page, _ := get(t, c, n.base+"/tools/fr/gone/edit")
	form := formOnPage(t, page, "/tools/fr/gone/edit")
	if _, err := n.catalog.DeleteTool(admin(ctx), &catalogv1.DeleteToolRequest{Name: "origins/fr/tools/gone"}); err != nil {
		t.Fatal(err)
	}
	typed := "An hour of careful writing about this tool & its <uses>"
	form["d0_long"] = []string{typed}
	code, body, _ := post(t, c, n.base+"/tools/fr/gone/edit", form, "Origin", n.base)
	if !strings.Contains(body, html.EscapeString(typed)) {
		i := strings.Index(body, "<main")
		t.Errorf("an edit of a tool deleted meanwhile: %d, and the typed text is not on the page:\n%.500s", code, body[max(i, 0):])
	}
	// Each text is under its label on the form, not the input's name.
	for _, label := range []string{"Description 1 · Long description", "Name"} {
		if !strings.Contains(body, ">"+label+"</label>") {
			t.Errorf("the typed text is not labelled %q:\n%s", label, body)
		}
	}
	if strings.Contains(body, ">d0_long<") || strings.Contains(body, ">display_name<") {
		t.Error("the page names the typed text by the form's input names")
	}
}

// TestEditKeepsSpacesAroundUntouchedValues saves unchanged but for its name the
// form of a tool whose version and publisher URI end with a space (the
// API takes them; a harvested publiccode.yml may carry them): they must
// stay as they were, as the README promises for every field the curator
// left as the form showed it.
func TestEditKeepsSpacesAroundUntouchedValues(t *testing.T) {
	want, got := editThroughForm(t, &catalogv1.Tool{
		DisplayName:     "Tricky",
		Descriptions:    map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values", DocumentationUrl: "https://example.org/doc "}},
		SoftwareVersion: "1.0 ", RepositoryUrl: "https://example.org/repo ", LandingUrl: "https://example.org/ ",
		License:   "MIT ",
		Publisher: &catalogv1.Publisher{Name: "Etalab", Uri: "https://www.etalab.gouv.fr/ "},
	}, func(v map[string][]string) { v["display_name"] = []string{"Tricky, renamed"} })
	want.DisplayName = "Tricky, renamed"
	if diff := cmp.Diff(got, want, protocmp.Transform(), protocmp.IgnoreFields(&catalogv1.Tool{}, "etag", "seq", "update_time")); diff != "" {
		t.Errorf("the tool after an edit of its name (-got +want):\n%s", diff)
	}
}

// TestEditKeepsTheOrderOfCategoriesAndThemes: an edit of another field
// keeps the order of the categories and themes (a source's, a harvested
// tool's), which the form's boxes show in the vocabulary's: changed, the
// record was signed anew for nothing; a box checked anew comes after.
func TestEditKeepsTheOrderOfCategoriesAndThemes(t *testing.T) {
	tool := &catalogv1.Tool{
		DisplayName:  "Tricky",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Tricky values"}},
		Categories:   []string{"e-commerce", "accounting"},
		OgpThemes:    []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_OPEN_DATA, catalogv1.OgpTheme_OGP_THEME_E_PETITIONS},
	}
	want, got := editThroughForm(t, tool, func(v map[string][]string) { v["display_name"] = []string{"Tricky, renamed"} })
	if !slices.Equal(got.GetCategories(), want.GetCategories()) || !slices.Equal(got.GetOgpThemes(), want.GetOgpThemes()) {
		t.Errorf("after an edit of the name only: categories %v, themes %v; want %v, %v", got.GetCategories(), got.GetOgpThemes(), want.GetCategories(), want.GetOgpThemes())
	}
	_, got = editThroughForm(t, tool, func(v map[string][]string) { v["categories"] = append(v["categories"], "blog") })
	if want := []string{"e-commerce", "accounting", "blog"}; !slices.Equal(got.GetCategories(), want) {
		t.Errorf("a category checked anew: %v, want %v", got.GetCategories(), want)
	}
}

// TestDeleteSaysWhatItLeaves: a tool's delete confirmation names the use
// cases of this node that name it, which stay; the page after the delete
// names the record by its title, in the reader's language.
func TestDeleteSaysWhatItLeaves(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	c := client(t)
	csrf := signIn(t, c, n)
	_, page, _ := get(t, c, n.base+"/tools/fr/decidim/delete")
	if !strings.Contains(page, "Ajuntament de Barcelona") || !strings.Contains(page, "stay") {
		i := strings.Index(page, "<main")
		t.Errorf("the confirmation of Decidim's delete does not name its use cases:\n%.600s", page[max(i, 0):])
	}
	get(t, c, n.base+"/?lang=fr")
	_, page, _ = get(t, c, n.base+"/tools/fr/consul/delete")
	code, page, _ := post(t, c, n.base+"/tools/fr/consul/delete", url.Values{"csrf": {csrf}, "etag": {regexpValue(t, page, "etag")}, "title": {regexpValue(t, page, "title")}})
	if code != http.StatusOK || strings.Contains(page, "origins/fr/tools/consul") || !strings.Contains(page, "Consul Democracy") {
		i := strings.Index(page, "<main")
		t.Errorf("the page after a delete: %d\n%.400s", code, page[max(i, 0):])
	}
}

// TestFrenchFormErrorsNamedByTheirLabels: on the French pages, a refused
// form's summary names each field by its label, gives the API's message
// in French, beside the input too, and says in French that an id is
// taken.
func TestFrenchFormErrorsNamedByTheirLabels(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	c := client(t)
	csrf := signIn(t, c, n)
	get(t, c, n.base+"/?lang=fr")
	code, page, _ := post(t, c, n.base+"/tools/new", url.Values{"csrf": {csrf}, "tool_id": {"nouveau"}, "display_name": {"Nouveau"},
		"repository_url": {"pas une url"}, "descriptions": {"1"}, "d0_lang": {"fr"}, "d0_short": {"Démocratie"}})
	summary := page[strings.Index(page, "error-summary"):]
	summary = summary[:strings.Index(summary, "</ul>")]
	if code != http.StatusBadRequest || !strings.Contains(summary, "Dépôt du code source") || strings.Contains(summary, "tool.repository_url") ||
		!strings.Contains(summary, "&#34;pas une url&#34; n’est pas une URL http ou https") || strings.Contains(summary, `lang="en"`) {
		t.Errorf("a bad URL on the French pages: %d\n%s", code, summary)
	}
	if beside := page[strings.Index(page, `id="repository_url-error"`):]; !strings.Contains(beside[:strings.Index(beside, "</p>")], "n’est pas une URL http ou https") {
		t.Errorf("beside the input: %.300s", beside)
	}
	code, page, _ = post(t, c, n.base+"/tools/new", url.Values{"csrf": {csrf}, "tool_id": {"decidim"}, "display_name": {"Decidim"},
		"descriptions": {"1"}, "d0_lang": {"fr"}, "d0_short": {"Démocratie"}})
	if code != http.StatusConflict || strings.Contains(page, "already exists") || !strings.Contains(page, "Cet identifiant est déjà pris") {
		i := strings.Index(page, "error-summary")
		t.Errorf("a taken id on the French pages: %d\n%.600s", code, page[max(i, 0):])
	}
}
