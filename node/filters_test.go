package node

import (
	"context"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// createFiled creates a tool of its own software (no URL) of license and
// languages.
func createFiled(t *testing.T, n *testNode, id, license string, langs ...string) {
	t.Helper()
	tl := validTool()
	tl.DisplayName, tl.RepositoryUrl, tl.License, tl.AvailableLanguages = id, "", license, langs
	if _, err := n.client.CreateTool(admin(context.Background()), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: id, Tool: tl}); err != nil {
		t.Fatalf("create %s (%s): %v", id, license, err)
	}
}

// facetCounts are the counts of a field's facet values, by value.
func facetCounts(t *testing.T, n *testNode, field string) map[string]int64 {
	t.Helper()
	resp, err := n.client.GetToolFacets(context.Background(), &catalogv1.GetToolFacetsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, f := range resp.GetFacets() {
		if f.GetField() == field {
			for _, v := range f.GetValues() {
				counts[v.GetValue()] = v.GetCount()
			}
		}
	}
	return counts
}

// TestOneLicenseOneFacetValue: one license written the ways catalogs write
// it (a deprecated GNU identifier, "+", a deprecated GPL with an
// exception, a reference in another case) is one facet value, which a
// filter written any of those ways finds whole; GPL-3.0+ is not counted as
// GPL-3.0-only.
func TestOneLicenseOneFacetValue(t *testing.T) {
	n := startNode(t)
	createFiled(t, n, "later-new", "GPL-3.0-or-later")
	createFiled(t, n, "later-old", "GPL-3.0+")
	createFiled(t, n, "only-new", "GPL-3.0-only")
	createFiled(t, n, "only-old", "GPL-3.0")
	createFiled(t, n, "classpath", "GPL-2.0-with-classpath-exception")
	createFiled(t, n, "classpath-new", "GPL-2.0-only WITH Classpath-exception-2.0")
	createFiled(t, n, "agreement", "LicenseRef-City-Agreement")
	createFiled(t, n, "agreement-lower", "licenseref-city-agreement")
	want := map[string]int64{"GPL-3.0-or-later": 2, "GPL-3.0-only": 2, "GPL-2.0-only": 2, "LicenseRef-city-agreement": 2}
	if got := facetCounts(t, n, "license"); len(got) != len(want) {
		t.Errorf("license facet %v, want %v", got, want)
	} else {
		for v, c := range want {
			if got[v] != c {
				t.Errorf("license facet %v, want %v", got, want)
				break
			}
		}
	}
	for filter, want := range map[string]int64{
		"GPL-3.0-or-later": 2, "gpl-3.0+": 2, "GPL-3.0-only+": 2, "GPL-3.0": 2, "gpl-3.0-only": 2,
		"GPL-2.0-with-classpath-exception": 2, "LICENSEREF-CITY-AGREEMENT": 2,
	} {
		resp, err := n.client.ListTools(context.Background(), &catalogv1.ListToolsRequest{License: []string{filter}})
		if err != nil || resp.GetTotalSize() != want {
			t.Errorf("license=%s: %d tools (%v), want %d", filter, resp.GetTotalSize(), err, want)
		}
	}
}

// TestOneLanguageOneFacetValue: a language's deprecated code (iw for
// Hebrew, in for Indonesian) is the language, in the facet and in the
// filter, and a tag that names no language (und) is no facet value.
func TestOneLanguageOneFacetValue(t *testing.T) {
	n := startNode(t)
	createFiled(t, n, "hebrew-new", "MIT", "he")
	createFiled(t, n, "hebrew-old", "MIT", "iw", "und")
	createFiled(t, n, "indonesian-old", "MIT", "in")
	got := facetCounts(t, n, "language")
	if got["he"] != 2 || got["id"] != 1 || got["iw"] != 0 || got["in"] != 0 || got["und"] != 0 {
		t.Errorf("language facet %v, want he 2, id 1 (and en, of the descriptions)", got)
	}
	for filter, want := range map[string]int64{"he": 2, "iw": 2, "he-IL": 2, "ID": 1} {
		resp, err := n.client.ListTools(context.Background(), &catalogv1.ListToolsRequest{Language: []string{filter}})
		if err != nil || resp.GetTotalSize() != want {
			t.Errorf("language=%s: %d tools (%v), want %d", filter, resp.GetTotalSize(), err, want)
		}
	}
}

// TestFilterValuesThatFindNothingRefused: a filter's value that cannot
// name what a tool is filed under (empty, an expression of several
// licenses, a language tag that names no language) is refused, naming
// the value, rather than answering no tool.
func TestFilterValuesThatFindNothingRefused(t *testing.T) {
	n := startNode(t)
	createFiled(t, n, "decidim", "AGPL-3.0-or-later", "en")
	for query, field := range map[string]string{
		"category=":                        "category[0]",
		"license=MIT&license=":             "license[1]",
		"license=MIT%20OR%20Apache-2.0":    "license[0]",
		"language=und":                     "language[0]",
		"language=not%20a%20tag":           "language[0]",
		"criterion=Open_License":           "criterion[0]",
		"origin=fr&platform=web&platform=": "platform[1]",
	} {
		resp, b := n.do(t, "GET", "/v1/tools?"+query, "", "")
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"`+field+`"`) {
			t.Errorf("GET /v1/tools?%s: %d %.300s, want 400 naming %s", query, resp.StatusCode, b, field)
		}
	}
	if resp, b := n.do(t, "GET", "/v1/tools?license=AGPL-3.0-or-later&language=EN", "", ""); resp.StatusCode != 200 || !strings.Contains(string(b), `"total_size":"1"`) {
		t.Errorf("a good filter: %d %.300s", resp.StatusCode, b)
	}
}
