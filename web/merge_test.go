package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// TestEditMergedWithChangesMeanwhile: a curator's edit posted once someone
// else changed the record keeps both: their changes to other fields (a
// license, a description in another language) stay, and the curator's
// are saved. Before, the form came back, and a save again wrote the whole
// form over the other's changes.
func TestEditMergedWithChangesMeanwhile(t *testing.T) {
	ctx := context.Background()
	n, c, created, form := budgetBeingEdited(t)
	created.License = "MIT"
	created.Descriptions["es"] = &catalogv1.Description{ShortDescription: "Presupuestos participativos"}
	if _, err := n.catalog.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: created, UpdateMask: fieldMask("license", "descriptions")}); err != nil {
		t.Fatal(err)
	}
	form.Set("display_name", "Budget of the city")
	form.Set("d0_short", "Participatory budgets of the city")
	if code, page, _ := post(t, c, n.base+"/tools/fr/budget/edit", form); code != http.StatusSeeOther {
		t.Fatalf("an edit posted after another's: %d\n%.500s", code, page[max(strings.Index(page, "error-summary"), 0):])
	}
	got, err := n.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/budget"})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetDisplayName() != "Budget of the city" || got.GetDescriptions()["en"].GetShortDescription() != "Participatory budgets of the city" ||
		got.GetLicense() != "MIT" || got.GetDescriptions()["es"].GetShortDescription() != "Presupuestos participativos" {
		t.Errorf("after the merged edit: %q, %q, license %q, es %q", got.GetDisplayName(), got.GetDescriptions()["en"].GetShortDescription(),
			got.GetLicense(), got.GetDescriptions()["es"].GetShortDescription())
	}
}

// TestEditConflictKeepsTheOthersChanges: a field both changed comes back
// marked, saying what the other made it, holding the curator's version,
// and the form holds the other's changes to the rest: saved as it is, it
// keeps the curator's version there and the other's changes elsewhere.
func TestEditConflictKeepsTheOthersChanges(t *testing.T) {
	ctx := context.Background()
	n, c, created, form := budgetBeingEdited(t)
	csrf := form.Get("csrf")
	created.DisplayName, created.License = "City budget", "MIT"
	if _, err := n.catalog.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: created, UpdateMask: fieldMask("display_name", "license")}); err != nil {
		t.Fatal(err)
	}
	form.Set("display_name", "Budget of the city")
	code, page, _ := post(t, c, n.base+"/tools/fr/budget/edit", form)
	if code != http.StatusConflict {
		t.Fatalf("an edit of a field the other changed too: %d, want %d", code, http.StatusConflict)
	}
	beside := page[strings.Index(page, `id="display_name-error"`):]
	beside = beside[:strings.Index(beside, "</p>")]
	if !strings.Contains(beside, "Someone else changed it meanwhile, to: City budget") || strings.Count(page, `class="field-error"`) != 1 ||
		!strings.Contains(page, `value="Budget of the city"`) || !strings.Contains(page, `value="MIT"`) {
		t.Errorf("the form of the conflict: %.300s", beside)
	}
	again := formOnPage(t, page, "/tools/fr/budget/edit")
	again.Set("csrf", csrf)
	if code, _, _ := post(t, c, n.base+"/tools/fr/budget/edit", again); code != http.StatusSeeOther {
		t.Fatalf("the form saved as it came back: %d", code)
	}
	got, err := n.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/budget"})
	if err != nil || got.GetDisplayName() != "Budget of the city" || got.GetLicense() != "MIT" {
		t.Errorf("after the save: %q, license %q, %v", got.GetDisplayName(), got.GetLicense(), err)
	}
}

// TestEditConflictWithoutTheVersionShown: a form whose version the session
// does not remember (the node restarted, or another session's form) comes
// back as before: said changed, to look at and save again.
func TestEditConflictWithoutTheVersionShown(t *testing.T) {
	ctx := context.Background()
	n, _, created, form := budgetBeingEdited(t)
	created.License = "MIT"
	if _, err := n.catalog.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: created, UpdateMask: fieldMask("license")}); err != nil {
		t.Fatal(err)
	}
	other := client(t)
	form.Set("csrf", signIn(t, other, n))
	form.Set("display_name", "Budget of the city")
	code, page, _ := post(t, other, n.base+"/tools/fr/budget/edit", form)
	if code != http.StatusConflict || !strings.Contains(page, "Look at the current version") || !strings.Contains(page, `value="Budget of the city"`) {
		t.Errorf("a stale form of another session: %d", code)
	}
}

// budgetBeingEdited is a node with a tool "budget", and a signed-in
// client that opened its edit form: the form as the page holds it.
func budgetBeingEdited(t *testing.T) (*testNode, *http.Client, *catalogv1.Tool, url.Values) {
	t.Helper()
	n := startNode(t)
	c := client(t)
	signIn(t, c, n)
	created, err := n.catalog.CreateTool(admin(context.Background()), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "budget", Tool: &catalogv1.Tool{
		DisplayName: "Budget", Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Participatory budgets"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, page, _ := get(t, c, n.base+"/tools/fr/budget/edit")
	return n, c, created, formOnPage(t, page, "/tools/fr/budget/edit")
}

// TestEditConflictOnPublisherMarked: a message both changed is merged field
// by field (the publisher's name and address), and a field of it both
// changed is marked beside its input, with what the other made it, as the
// display name is; the maintenance's type changed here and its contacts
// there merge without a conflict.
func TestEditConflictOnPublisherMarked(t *testing.T) {
	ctx := context.Background()
	n, c, created, form := budgetBeingEdited(t)
	created.Publisher = &catalogv1.Publisher{Name: "Ministry of Finance", Uri: "https://finance.example.org"}
	created.Maintenance = &catalogv1.Maintenance{Contacts: []*catalogv1.Contact{{Name: "Ann", Email: "ann@example.org"}}}
	if _, err := n.catalog.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: created, UpdateMask: fieldMask("publisher", "maintenance")}); err != nil {
		t.Fatal(err)
	}
	form.Set("publisher_name", "City hall")
	form.Set("maintenance_type", "internal")
	code, page, _ := post(t, c, n.base+"/tools/fr/budget/edit", form)
	if code != http.StatusConflict {
		t.Fatalf("an edit of the publisher the other changed too: %d, want %d", code, http.StatusConflict)
	}
	i := strings.Index(page, `id="publisher_name-error"`)
	if i < 0 {
		s := strings.Index(page, "error-summary")
		t.Fatalf("the publisher both changed is not marked beside its input; the summary:\n%.600s", page[max(s, 0):])
	}
	if beside := page[i:]; !strings.Contains(beside[:strings.Index(beside, "</p>")], "Ministry of Finance") {
		t.Errorf("the mark does not say what the other made it: %.300s", beside)
	}
	if strings.Count(page, `class="field-error"`) != 1 || !strings.Contains(page, "https://finance.example.org") || !strings.Contains(page, "ann@example.org") {
		t.Errorf("the form of the conflict holds not the other's changes to the rest, or marks more")
	}
}
