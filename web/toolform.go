package web

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/validate"
	"github.com/ogptoolbox/federation/vocabulary"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// maxDescriptionBlocks bounds the languages a form takes at once: as many
// as a tool may hold, so that saving the form of a tool in 24 languages
// (the EU's) unchanged keeps them all.
const maxDescriptionBlocks = validate.MaxListItems

// toolForm is the tool form as typed: it keeps what the curator wrote,
// so a refused form comes back as it was sent.
type toolForm struct {
	formBase
	DisplayName        string
	RepositoryURL      string
	LandingURL         string
	LogoURL            string
	License            string
	Descriptions       []descForm
	Categories         []string
	Themes             []string // OgpTheme names
	DevelopmentStatus  string
	SoftwareType       string
	Platforms          string // comma-separated
	AvailableLanguages string // comma-separated
	MaintenanceType    string
	Contacts           string // a line each: name; e-mail; phone; affiliation
	Contractors        string // a line each: name; web site; until
	PublisherName      string
	PublisherURI       string
	UsedBy             string // a line each
	SoftwareVersion    string
	ReleaseDate        string
	LocalisationReady  bool
	Standards          string // a line each

	was *catalogv1.Tool // the version edited, still current (see editing)
}

// descForm is one language's description block. From is the language of
// the block of the edited version it was shown from ("" for a block the
// page adds), carried by a hidden field: a block whose language the
// curator changed is still compared with the block it came from.
type descForm struct {
	Lang, Short, Long, Features, DocURL, APIDocURL string
	From                                           string
}

func (d descForm) empty() bool {
	return strings.TrimSpace(d.Lang+d.Short+d.Long+d.Features+d.DocURL+d.APIDocURL) == ""
}

// toolCuration is how the pages curate the node's tools.
func toolCuration(s *Server) *curation[*catalogv1.Tool, *toolForm] {
	return &curation[*catalogv1.Tool, *toolForm]{
		s: s, kind: "tool", collection: "tools", parse: parseToolForm, formOf: toolFormOf,
		blank: func(_ *http.Request, p *page) *toolForm { return &toolForm{Descriptions: []descForm{{Lang: p.Lang}}} },
		get: func(ctx context.Context, name string) (*catalogv1.Tool, error) {
			return s.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: name})
		},
		remove: func(ctx context.Context, name, etag string) (*emptypb.Empty, error) {
			return s.catalog.DeleteTool(ctx, &catalogv1.DeleteToolRequest{Name: name, Etag: etag})
		},
		naming: func(ctx context.Context, name string) []string {
			// The first page: enough to say that some stay, and which.
			resp, err := s.catalog.ListUseCases(ctx, &catalogv1.ListUseCasesRequest{Origin: []string{s.cfg.Origin}, Tool: []string{name}, PageSize: 20})
			if err != nil {
				return nil // the confirmation stands without them
			}
			var titles []string
			for _, u := range resp.GetUseCases() {
				titles = append(titles, cmp.Or(u.GetOrganization().GetName(), u.GetName()))
			}
			return titles
		},
	}
}

// parseToolForm reads a posted tool form.
func parseToolForm(v url.Values) *toolForm {
	f := &toolForm{
		formBase:    formBase{ID: strings.TrimSpace(v.Get("tool_id")), Etag: v.Get("etag")},
		DisplayName: v.Get("display_name"), RepositoryURL: strings.TrimSpace(v.Get("repository_url")),
		LandingURL: strings.TrimSpace(v.Get("landing_url")), LogoURL: strings.TrimSpace(v.Get("logo_url")),
		License: strings.TrimSpace(v.Get("license")), Categories: v["categories"], Themes: v["ogp_themes"],
		DevelopmentStatus: v.Get("development_status"), SoftwareType: v.Get("software_type"),
		Platforms: v.Get("platforms"), AvailableLanguages: v.Get("available_languages"),
		MaintenanceType: v.Get("maintenance_type"), Contacts: v.Get("contacts"), Contractors: v.Get("contractors"),
		PublisherName: v.Get("publisher_name"), PublisherURI: strings.TrimSpace(v.Get("publisher_uri")),
		UsedBy: v.Get("used_by"), SoftwareVersion: strings.TrimSpace(v.Get("software_version")),
		ReleaseDate: strings.TrimSpace(v.Get("release_date")), LocalisationReady: v.Get("localisation_ready") == "on",
		Standards: v.Get("standards"),
	}
	n, _ := strconv.Atoi(v.Get("descriptions"))
	n = min(max(n, 1), maxDescriptionBlocks)
	for i := range n {
		d := func(k string) string { return v.Get(fmt.Sprintf("d%d_%s", i, k)) }
		f.Descriptions = append(f.Descriptions, descForm{
			Lang: strings.TrimSpace(d("lang")), Short: d("short"), Long: textareaText(d("long")), Features: d("features"),
			DocURL: strings.TrimSpace(d("doc")), APIDocURL: strings.TrimSpace(d("apidoc")), From: d("from"),
		})
	}
	return f
}

// toolFormOf is the form of an existing tool, for editing.
func toolFormOf(t *catalogv1.Tool) *toolForm {
	f := &toolForm{
		formBase: formBase{Name: t.GetName(), Etag: t.GetEtag()}, DisplayName: t.GetDisplayName(),
		RepositoryURL: t.GetRepositoryUrl(), LandingURL: t.GetLandingUrl(), LogoURL: t.GetLogoUrl(),
		License: t.GetLicense(), Categories: t.GetCategories(),
		DevelopmentStatus: t.GetDevelopmentStatus(), SoftwareType: t.GetSoftwareType(),
		Platforms: strings.Join(t.GetPlatforms(), ", "), AvailableLanguages: strings.Join(t.GetAvailableLanguages(), ", "),
		MaintenanceType: t.GetMaintenance().GetType(), PublisherName: t.GetPublisher().GetName(), PublisherURI: t.GetPublisher().GetUri(),
		UsedBy: strings.Join(t.GetUsedBy(), "\n"), SoftwareVersion: t.GetSoftwareVersion(), ReleaseDate: t.GetReleaseDate(),
		LocalisationReady: t.GetLocalisationReady(), Standards: strings.Join(t.GetStandards(), "\n"),
	}
	for _, th := range t.GetOgpThemes() {
		f.Themes = append(f.Themes, th.String())
	}
	var contacts, contractors []string
	for _, c := range t.GetMaintenance().GetContacts() {
		contacts = append(contacts, joinParts(c.GetName(), c.GetEmail(), c.GetPhone(), c.GetAffiliation()))
	}
	for _, c := range t.GetMaintenance().GetContractors() {
		contractors = append(contractors, joinParts(c.GetName(), c.GetWebsite(), c.GetUntil()))
	}
	f.Contacts, f.Contractors = strings.Join(contacts, "\n"), strings.Join(contractors, "\n")
	langs := make([]string, 0, len(t.GetDescriptions()))
	for l := range t.GetDescriptions() {
		langs = append(langs, l)
	}
	slices.Sort(langs)
	for _, l := range langs {
		d := t.GetDescriptions()[l]
		f.Descriptions = append(f.Descriptions, descForm{
			Lang: l, Short: d.GetShortDescription(), Long: d.GetLongDescription(), Features: strings.Join(d.GetFeatures(), "\n"),
			DocURL: d.GetDocumentationUrl(), APIDocURL: d.GetApiDocumentationUrl(), From: l,
		})
	}
	return f
}

// joinParts writes a line of parts separated by "; ", without the empty
// parts at its end.
func joinParts(parts ...string) string {
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, "; ")
}

// splitParts reads a line of at most n parts separated by ";".
func splitParts(line string, n int) ([]string, bool) {
	parts := strings.Split(line, ";")
	if len(parts) > n {
		return nil, false
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return append(parts, make([]string, n-len(parts))...), true
}

// record is the tool the form describes. What the form itself cannot read
// (a language described twice, a line with too many parts, a theme that
// does not exist) goes to errs; everything else is the API's to check.
func (f *toolForm) record(errs *formErrors, p *page) *catalogv1.Tool {
	t := &catalogv1.Tool{
		Name: f.Name, Etag: f.Etag, DisplayName: f.DisplayName,
		RepositoryUrl: f.RepositoryURL, LandingUrl: f.LandingURL, LogoUrl: f.LogoURL, License: f.License,
		Categories: f.Categories, DevelopmentStatus: f.DevelopmentStatus, SoftwareType: f.SoftwareType,
		Platforms: items(f.Platforms), AvailableLanguages: items(f.AvailableLanguages), UsedBy: lines(f.UsedBy),
		SoftwareVersion: f.SoftwareVersion, ReleaseDate: f.ReleaseDate, LocalisationReady: f.LocalisationReady,
		Standards: lines(f.Standards),
	}
	// What the curator left as the form showed it keeps the edited
	// version's value, which the form's text may not hold exactly: a list
	// item holding a newline, a contact whose name holds "; ", a name
	// holding a newline (which an input drops). Platforms and languages
	// are words and codes, without commas.
	var was *catalogv1.Tool // nil for a new tool: every value is read as typed
	var shown *toolForm
	if f.was != nil {
		was, shown = f.was, toolFormOf(f.was)
		t.DisplayName = keptInput(f.DisplayName, shown.DisplayName, was.GetDisplayName())
		t.UsedBy, t.Standards = keptItems(f.UsedBy, was.GetUsedBy()), keptItems(f.Standards, was.GetStandards())
		// Inputs read trimmed keep the spaces around a value the API
		// took (a harvested record's), when left as shown.
		t.RepositoryUrl = keptTrimmed(f.RepositoryURL, shown.RepositoryURL, was.GetRepositoryUrl())
		t.LandingUrl = keptTrimmed(f.LandingURL, shown.LandingURL, was.GetLandingUrl())
		t.LogoUrl = keptTrimmed(f.LogoURL, shown.LogoURL, was.GetLogoUrl())
		t.License = keptTrimmed(f.License, shown.License, was.GetLicense())
		t.SoftwareVersion = keptTrimmed(f.SoftwareVersion, shown.SoftwareVersion, was.GetSoftwareVersion())
		t.ReleaseDate = keptTrimmed(f.ReleaseDate, shown.ReleaseDate, was.GetReleaseDate())
	}
	for i, d := range f.Descriptions {
		if d.empty() {
			continue
		}
		if t.Descriptions == nil {
			t.Descriptions = map[string]*catalogv1.Description{}
		}
		id := fmt.Sprintf("d%d_lang", i)
		if _, dup := t.Descriptions[d.Lang]; dup {
			errs.add(id, p.T("form.description_lang"), p.T("form.err_lang_twice", d.Lang))
			continue
		}
		desc := &catalogv1.Description{
			ShortDescription: d.Short, LongDescription: d.Long, Features: lines(d.Features),
			DocumentationUrl: d.DocURL, ApiDocumentationUrl: d.APIDocURL,
		}
		if from, wasDesc := shown.blockFrom(was, d.From); from != nil {
			desc.ShortDescription = keptInput(d.Short, from.Short, wasDesc.GetShortDescription())
			if sameText(d.Long, from.Long) {
				desc.LongDescription = wasDesc.GetLongDescription()
			}
			desc.Features = keptItems(d.Features, wasDesc.GetFeatures())
			desc.DocumentationUrl = keptTrimmed(d.DocURL, from.DocURL, wasDesc.GetDocumentationUrl())
			desc.ApiDocumentationUrl = keptTrimmed(d.APIDocURL, from.APIDocURL, wasDesc.GetApiDocumentationUrl())
		}
		t.Descriptions[d.Lang] = desc
	}
	for _, name := range f.Themes {
		v, ok := catalogv1.OgpTheme_value[name]
		if !ok || v == 0 {
			errs.add("ogp_themes", p.T("form.ogp_themes"), p.T("form.err_no_theme", name))
			continue
		}
		t.OgpThemes = append(t.OgpThemes, catalogv1.OgpTheme(v))
	}
	if was != nil {
		// Boxes come in the vocabulary's order: the edited version's
		// order stands for what stays checked (a source's own order,
		// which an edit of another field changed, and so signed anew).
		t.Categories = keptOrder(t.Categories, was.GetCategories())
		t.OgpThemes = keptOrder(t.OgpThemes, was.GetOgpThemes())
	}
	m := &catalogv1.Maintenance{Type: f.MaintenanceType}
	m.Contacts = keptRecords(f.Contacts, was.GetMaintenance().GetContacts(), 4,
		func(c *catalogv1.Contact) string {
			return joinParts(c.GetName(), c.GetEmail(), c.GetPhone(), c.GetAffiliation())
		},
		func(parts []string) *catalogv1.Contact {
			return &catalogv1.Contact{Name: parts[0], Email: parts[1], Phone: parts[2], Affiliation: parts[3]}
		},
		func(l string) { errs.add("contacts", p.T("form.contacts"), p.T("form.err_parts", l, 4)) })
	m.Contractors = keptRecords(f.Contractors, was.GetMaintenance().GetContractors(), 3,
		func(c *catalogv1.Contractor) string { return joinParts(c.GetName(), c.GetWebsite(), c.GetUntil()) },
		func(parts []string) *catalogv1.Contractor {
			return &catalogv1.Contractor{Name: parts[0], Website: parts[1], Until: parts[2]}
		},
		func(l string) { errs.add("contractors", p.T("form.contractors"), p.T("form.err_parts", l, 3)) })
	if m.Type != "" || len(m.Contacts) > 0 || len(m.Contractors) > 0 {
		t.Maintenance = m
	}
	if f.PublisherName != "" || f.PublisherURI != "" {
		t.Publisher = &catalogv1.Publisher{Name: f.PublisherName, Uri: f.PublisherURI}
		if shown != nil {
			t.Publisher.Name = keptInput(f.PublisherName, shown.PublisherName, was.GetPublisher().GetName())
			t.Publisher.Uri = keptTrimmed(f.PublisherURI, shown.PublisherURI, was.GetPublisher().GetUri())
		}
	}
	return t
}

// keptOrder is checked (values of boxes, in the form's order) with those
// was holds first, in was's order, then the others.
func keptOrder[T comparable](checked, was []T) []T {
	out := make([]T, 0, len(checked))
	for _, v := range was {
		if slices.Contains(checked, v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, v := range checked {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return checked // nil stays nil
	}
	return out
}

// blockFrom is the block of the edited version (f is its form, nil for
// a new tool) of language from, as the form showed it, and its
// description; nil for none.
func (f *toolForm) blockFrom(was *catalogv1.Tool, from string) (*descForm, *catalogv1.Description) {
	if f == nil || from == "" {
		return nil, nil
	}
	for j := range f.Descriptions {
		if f.Descriptions[j].Lang == from {
			return &f.Descriptions[j], was.GetDescriptions()[from]
		}
	}
	return nil, nil
}

// keptItems reads a textarea of a list, an item a line (see lines),
// keeping each item of was (the edited version's) whose lines run whole
// and unchanged among the posted ones, even one holding newlines: only
// what the curator typed is read anew.
func keptItems(posted string, was []string) []string {
	return keptRuns(posted, was, func(s string) string { return s }, func(line string) (string, bool) { return line, true })
}

// keptRecords is keptItems for a textarea of records a line, each of at
// most n parts separated by ";" (contacts, contractors): a record of was
// shown as show gives is kept as it was (its name may hold "; ", or a
// newline); any other line is read anew (read), or said to have too many
// parts (refuse).
func keptRecords[T any](posted string, was []T, n int, show func(T) string, read func(parts []string) T, refuse func(line string)) []T {
	return keptRuns(posted, was, show, func(line string) (T, bool) {
		parts, ok := splitParts(line, n)
		if !ok {
			refuse(line)
			var none T
			return none, false
		}
		return read(parts), true
	})
}

// maxAlignedCells bounds keptRuns' table (lines posted times things
// stored): a list holds at most validate.MaxListItems things, and a
// textarea of megabytes of lines is refused by the API whatever it keeps.
const maxAlignedCells = 1 << 20

// keptRuns reads the posted text of a textarea of things a line: each of
// was (the edited version's things, in order), shown as show gives it (on
// one line or more), whose lines run unchanged among the posted ones is
// kept as it was; any other non-empty line, trimmed, is read anew (read;
// false drops it). Posted unchanged, it gives was back as it was.
func keptRuns[T any](posted string, was []T, show func(T) string, read func(line string) (T, bool)) []T {
	shown := make([][]string, len(was))
	for i, w := range was {
		shown[i] = strings.Split(textareaText(show(w)), "\n")
	}
	posts := strings.Split(textareaText(posted), "\n")
	if len(posts)*len(was) > maxAlignedCells {
		was, shown = nil, nil // each line read as typed, which the API refuses as too many items anyway
	}
	matches := func(j, i int) bool {
		return i+len(shown[j]) <= len(posts) && slices.Equal(posts[i:i+len(shown[j])], shown[j])
	}
	// First the things left in their order: the alignment of was, in
	// order, with runs of the posted lines that covers the most lines
	// (best[i][j]: from line i and thing j on).
	best := make([][]int, len(posts)+1)
	for i := range best {
		best[i] = make([]int, len(was)+1)
	}
	for i := len(posts) - 1; i >= 0; i-- {
		for j := len(was) - 1; j >= 0; j-- {
			b := max(best[i+1][j], best[i][j+1])
			if matches(j, i) {
				b = max(b, len(shown[j])+best[i+len(shown[j])][j+1])
			}
			best[i][j] = b
		}
	}
	keptAt := make([]int, len(posts)) // 1 + the thing kept at a line where its run starts, 0 for none
	covered := make([]bool, len(posts))
	used := make([]bool, len(was))
	take := func(j, i int) {
		keptAt[i], used[j] = j+1, true
		for k := i; k < i+len(shown[j]); k++ {
			covered[k] = true
		}
	}
	for i, j := 0, 0; i < len(posts) && j < len(was); {
		switch {
		case matches(j, i) && best[i][j] == len(shown[j])+best[i+len(shown[j])][j+1]:
			take(j, i)
			i, j = i+len(shown[j]), j+1
		case best[i][j] == best[i+1][j]:
			i++
		default:
			j++
		}
	}
	// Then the things moved: the longest first (a thing "a" must not take
	// the first line of "a\nb"), each in the first run of lines still
	// uncovered that holds it.
	moved := make([]int, 0, len(was))
	for j := range was {
		if !used[j] {
			moved = append(moved, j)
		}
	}
	slices.SortStableFunc(moved, func(a, b int) int { return len(shown[b]) - len(shown[a]) })
	for _, j := range moved {
		for i := range posts {
			if matches(j, i) && !slices.Contains(covered[i:i+len(shown[j])], true) {
				take(j, i)
				break
			}
		}
	}
	var out []T
	for i := 0; i < len(posts); i++ {
		switch {
		case keptAt[i] > 0:
			out = append(out, was[keptAt[i]-1])
		case covered[i]:
		default:
			if line := strings.TrimSpace(posts[i]); line != "" {
				if r, ok := read(line); ok {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// create makes t, the tool the form describes, in parent, with the form's
// id.
func (f *toolForm) create(ctx context.Context, c catalogv1.CatalogServiceClient, parent string, t *catalogv1.Tool) (*catalogv1.Tool, error) {
	return c.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: parent, ToolId: f.ID, Tool: t})
}

// update writes t, the tool the form describes, but only the fields the
// form edits: what it does not show (provenance) stays as it was.
func (f *toolForm) update(ctx context.Context, c catalogv1.CatalogServiceClient, t *catalogv1.Tool) (*catalogv1.Tool, error) {
	return c.UpdateTool(ctx, &catalogv1.UpdateToolRequest{Tool: t, UpdateMask: &fieldmaskpb.FieldMask{Paths: f.fields()}})
}

// fields are the fields of a tool the form edits.
func (f *toolForm) fields() []string {
	return []string{
		"display_name", "descriptions", "repository_url", "landing_url", "logo_url", "license", "categories", "ogp_themes",
		"development_status", "software_type", "platforms", "available_languages", "maintenance", "publisher", "used_by",
		"software_version", "release_date", "localisation_ready", "standards",
	}
}

// input is the form input of a field path of the tool: "display_name" is
// display_name, "descriptions.fr.features[2]" the features of the block
// whose language is fr, "maintenance.contacts[0].email" the contacts. It
// is "" for a path no input holds.
func (f *toolForm) input(p string) string {
	if p == "descriptions" {
		return "d0_short"
	}
	if rest, ok := strings.CutPrefix(p, "descriptions."); ok {
		// The language may be any string the curator typed: match it
		// whole against each block's.
		for i, d := range f.Descriptions {
			if d.empty() {
				continue
			}
			if rest == d.Lang {
				return fmt.Sprintf("d%d_lang", i)
			}
			if sub, ok := strings.CutPrefix(rest, d.Lang+"."); ok {
				sub = listIndex().ReplaceAllString(sub, "")
				if in := map[string]string{
					"short_description": "short", "long_description": "long", "features": "features",
					"documentation_url": "doc", "api_documentation_url": "apidoc",
				}[sub]; in != "" {
					return fmt.Sprintf("d%d_%s", i, in)
				}
				return fmt.Sprintf("d%d_lang", i)
			}
		}
		return ""
	}
	p = listIndex().ReplaceAllString(p, "")
	switch {
	case p == "maintenance.type":
		return "maintenance_type"
	case strings.HasPrefix(p, "maintenance.contacts"):
		return "contacts"
	case strings.HasPrefix(p, "maintenance.contractors"):
		return "contractors"
	case p == "publisher.name":
		return "publisher_name"
	case p == "publisher.uri":
		return "publisher_uri"
	}
	switch p {
	case "display_name", "repository_url", "landing_url", "logo_url", "license", "categories", "ogp_themes",
		"development_status", "software_type", "platforms", "available_languages", "used_by",
		"software_version", "release_date", "localisation_ready", "standards":
		return p
	}
	return ""
}

func (f *toolForm) title() string { return f.DisplayName }

func (f *toolForm) editing(was *catalogv1.Tool) { f.was = was }

// view lays the form out, with always a block to add a language, and the
// number of blocks for parseToolForm.
func (f *toolForm) view(p *page, errs *formErrors, create bool) formView {
	if n := len(f.Descriptions); n == 0 || (!f.Descriptions[n-1].empty() && n < maxDescriptionBlocks) {
		f.Descriptions = append(f.Descriptions, descForm{})
	}
	hidden := [][2]string{{"descriptions", strconv.Itoa(len(f.Descriptions))}}
	for i, d := range f.Descriptions {
		if d.From != "" {
			hidden = append(hidden, [2]string{fmt.Sprintf("d%d_from", i), d.From})
		}
	}
	return formView{Fieldsets: f.fieldsets(p, errs, create), Cancel: "/", Hidden: hidden}
}

// fieldsets lays the form out for the template, with errs beside their
// inputs. create adds the id of the new tool.
func (f *toolForm) fieldsets(p *page, errs *formErrors, create bool) []fieldset {
	in := inputs(p, errs)
	required := func(fl field) field { fl.Required = true; return fl }
	about := fieldset{Legend: p.T("form.about")}
	if create {
		about.Fields = append(about.Fields, in("text", "tool_id", "form.tool_id", "form.tool_id_hint", f.ID))
	}
	about.Fields = append(about.Fields,
		required(in("text", "display_name", "form.display_name", "", f.DisplayName)),
		in("url", "repository_url", "form.repository_url", "form.url_hint", f.RepositoryURL),
		in("url", "landing_url", "form.landing_url", "form.url_hint", f.LandingURL),
		in("url", "logo_url", "form.logo_url", "form.url_hint", f.LogoURL),
		in("text", "license", "form.license", "form.license_hint", f.License),
	)
	out := []fieldset{about}

	for i, d := range f.Descriptions {
		id := func(k string) string { return fmt.Sprintf("d%d_%s", i, k) }
		legend := p.T("form.description_n", i+1)
		if d.Lang != "" {
			legend = p.T("form.description_in", p.LangName(d.Lang))
		}
		short := in("text", id("short"), "form.short_description", "form.short_hint", d.Short)
		long := in("textarea", id("long"), "form.long_description", "", d.Long)
		long.Rows = 6
		features := in("textarea", id("features"), "form.features", "form.lines_hint", d.Features)
		short.Lang, long.Lang, features.Lang = d.Lang, d.Lang, d.Lang
		optional := ""
		if i > 0 && i == len(f.Descriptions)-1 && d.empty() && !hasErrors(errs, id("")) {
			optional = p.T("form.add_language")
		}
		out = append(out, fieldset{Legend: legend, Lang: d.Lang, Optional: optional, Fields: []field{
			in("text", id("lang"), "form.description_lang", "form.lang_hint", d.Lang),
			short, long, features,
			in("url", id("doc"), "form.documentation_url", "form.url_hint", d.DocURL),
			in("url", id("apidoc"), "form.api_documentation_url", "form.url_hint", d.APIDocURL),
		}})
	}

	themes := in("checkboxes", "ogp_themes", "form.ogp_themes", "", "")
	for i := 1; i < len(catalogv1.OgpTheme_name); i++ {
		name := catalogv1.OgpTheme(i).String()
		themes.Options = append(themes.Options, option{Value: name, Label: p.Theme(name), Selected: slices.Contains(f.Themes, name)})
	}
	categories := in("checkboxes", "categories", "form.categories", "", "")
	categories.Columns = true
	for _, c := range vocabulary.Categories() {
		categories.Options = append(categories.Options, option{Value: c, Label: c, Selected: slices.Contains(f.Categories, c)})
	}
	for _, c := range f.Categories { // kept as typed, for the API to judge
		if !vocabulary.IsCategory(c) {
			categories.Options = append(categories.Options, option{Value: c, Label: c, Selected: true})
		}
	}
	status := in("select", "development_status", "form.development_status", "", f.DevelopmentStatus)
	status.Options = choices(f.DevelopmentStatus, vocabulary.DevelopmentStatuses(), func(v string) string { return p.T("status." + v) })
	softwareType := in("select", "software_type", "form.software_type", "", f.SoftwareType)
	softwareType.Options = choices(f.SoftwareType, vocabulary.SoftwareTypes(), nil)
	out = append(out, fieldset{Legend: p.T("form.classification"), Fields: []field{
		themes, categories, status, softwareType,
		in("text", "platforms", "form.platforms", "form.platforms_hint", f.Platforms),
		in("text", "available_languages", "form.available_languages", "form.languages_hint", f.AvailableLanguages),
		{ID: "localisation_ready", Kind: "checkbox", Label: p.T("form.localisation_ready"), Checked: f.LocalisationReady, Errors: errs.of("localisation_ready")},
		in("textarea", "standards", "form.standards", "form.lines_hint", f.Standards),
	}})

	maintenance := in("select", "maintenance_type", "form.maintenance_type", "", f.MaintenanceType)
	maintenance.Options = choices(f.MaintenanceType, vocabulary.MaintenanceTypes(), func(v string) string { return p.T("maintenance." + v) })
	out = append(out, fieldset{Legend: p.T("form.people"), Fields: []field{
		in("text", "publisher_name", "form.publisher_name", "", f.PublisherName),
		in("text", "publisher_uri", "form.publisher_uri", "form.publisher_uri_hint", f.PublisherURI),
		maintenance,
		in("textarea", "contacts", "form.contacts", "form.contacts_hint", f.Contacts),
		in("textarea", "contractors", "form.contractors", "form.contractors_hint", f.Contractors),
		in("textarea", "used_by", "form.used_by", "form.lines_hint", f.UsedBy),
	}})
	out = append(out, fieldset{Legend: p.T("form.release"), Fields: []field{
		in("text", "software_version", "form.software_version", "", f.SoftwareVersion),
		in("text", "release_date", "form.release_date", "form.date_hint", f.ReleaseDate),
	}})
	return out
}

// hasErrors reports whether an input whose id starts with prefix has an
// error.
func hasErrors(errs *formErrors, prefix string) bool {
	for id := range errs.byInput {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}

// choices are a select's options: none chosen first, then the values,
// and the current value if it is none of them (kept for the API to judge).
func choices(current string, values []string, label func(string) string) []option {
	out := []option{{Value: "", Label: "—", Selected: current == ""}}
	for _, v := range values {
		l := v
		if label != nil {
			l = label(v)
		}
		out = append(out, option{Value: v, Label: l, Selected: v == current})
	}
	if current != "" && !slices.Contains(values, current) {
		out = append(out, option{Value: current, Label: current, Selected: true})
	}
	return out
}
