package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestFederationPageTellsEachRun: the federation page's last harvests say
// what a run's report says: a complete run's warning (a source that lists
// nothing where it made tools, taken for a broken export), and the
// entries whose hand edits were kept, which the other counts leave out.
func TestFederationPageTellsEachRun(t *testing.T) {
	n := startNode(t)
	c := client(t)
	send := func(method, path, body string) {
		t.Helper()
		req, err := http.NewRequest(method, n.base+path, bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		if code, b, _ := do(t, c, req); code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, code, b)
		}
	}
	lastRun := func() string {
		t.Helper()
		_, page, _ := get(t, c, n.base+"/federation")
		section := page[strings.Index(page, "harvests-heading"):]
		row := section[strings.Index(section, "<tr>\n        <th"):]
		return row[:strings.Index(row, "</tr>")] // the most recent first
	}
	src := `"source": {"name": "city", "kind": "csv", "location": "/srv/city.csv"}, "complete": true`
	entry := func(desc string) string {
		return `"entries": [{"source_id": "1", "tool": {"display_name": "Alpha", "descriptions": {"en": {"short_description": "` + desc + `"}}}}]`
	}
	send("POST", "/v1/harvests:import", `{`+src+`, `+entry("A tool")+`}`)
	if row := lastRun(); !strings.Contains(row, "1 created, 0 updated, 0 unchanged, 0 deleted, 0 rejected; kept as edited by hand: 0") || strings.Contains(row, "error-text") {
		t.Errorf("a clean run: %s", row)
	}
	send("PATCH", "/v1/origins/fr/tools/alpha?update_mask=license", `{"license": "MIT"}`)
	send("POST", "/v1/harvests:import", `{`+src+`, `+entry("A tool, changed")+`}`)
	if row := lastRun(); !strings.Contains(row, "0 created, 0 updated, 0 unchanged, 0 deleted, 0 rejected; kept as edited by hand: 1") {
		t.Errorf("a run of one entry whose hand edit was kept: %s", row)
	}
	other := `"source": {"name": "town", "kind": "csv", "location": "/srv/town.csv"}, "complete": true`
	send("POST", "/v1/harvests:import", `{`+other+`, `+entry("Another tool")+`}`)
	send("POST", "/v1/harvests:import", `{`+other+`}`) // the export broke: its header alone
	if row := lastRun(); !strings.Contains(row, "warning") || !strings.Contains(row, "broken export") || strings.Contains(row, "incomplete") {
		t.Errorf("a run taken for a broken export: %s", row)
	}
}

// TestFederationPageListsEachSource: the federation page lists the last
// run of each source, so that a source harvested often (or failing every
// second) does not hide the others.
func TestFederationPageListsEachSource(t *testing.T) {
	n := startNode(t)
	c := client(t)
	imp := func(name string) {
		t.Helper()
		body := `{"source": {"name": "` + name + `", "kind": "csv", "location": "/srv/` + name + `.csv"}, "complete": true, "entries": [{"source_id": "1", "tool": {"display_name": "Tool of ` + name + `", "descriptions": {"en": {"short_description": "A tool"}}}}]}`
		req, err := http.NewRequest(http.MethodPost, n.base+"/v1/harvests:import", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set("Content-Type", "application/json")
		if code, b, _ := do(t, c, req); code != http.StatusOK {
			t.Fatalf("import: %d %s", code, b)
		}
	}
	imp("daily")
	for range 12 {
		imp("often")
	}
	_, page, _ := get(t, c, n.base+"/federation")
	section := page[strings.Index(page, "harvests-heading"):]
	if strings.Count(section, ">often <span") != 1 || strings.Count(section, ">daily <span") != 1 {
		t.Errorf("the last run of each source, once: %s", section[:strings.Index(section, "</table>")])
	}
	if _, api, _ := get(t, c, n.base+"/v1/harvests?last_of_each_source=true"); strings.Count(api, `"name":"harvests/`) != 2 {
		t.Errorf("GET /v1/harvests?last_of_each_source=true: %s", api)
	}
}
