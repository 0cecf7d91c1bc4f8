package web_test

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// TestFacetValuesOfAPeerFilter: the facet values a peer's tool brings
// (a theme of a newer version, named by its number; a category of
// kilobytes) either link to a page that finds the tool, or are shown
// without a link, never linking to a page that refuses itself.
func TestFacetValuesOfAPeerFilter(t *testing.T) {
	long := strings.Repeat("x", 3000)
	dir := dataWithPeerRecords(t, "de", peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "future", &catalogv1.Tool{Name: "origins/de/tools/future", Origin: "de", Seq: 1, DisplayName: "Future",
		OgpThemes: []catalogv1.OgpTheme{99}, Categories: []string{long, "civic"},
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}}}})
	n := startNodeIn(t, dir)
	c := client(t)
	_, page, _ := get(t, c, n.base+"/")
	links := regexp.MustCompile(`<a href="(/\?[^"]*)" class="facet-value`).FindAllStringSubmatch(page, -1)
	var theme bool
	for _, l := range links {
		href := html.UnescapeString(l[1])
		theme = theme || strings.Contains(href, "ogp_theme=99")
		if strings.Contains(href, long) {
			t.Errorf("a link of %d bytes to a page that refuses so long a filter", len(href))
			continue
		}
		code, body, _ := get(t, c, n.base+href)
		if code != 200 || !strings.Contains(body, "Future") {
			t.Errorf("GET %.80s: %d, or no Future", href, code)
		}
	}
	if !theme {
		t.Errorf("no link to the theme of number 99 among %d", len(links))
	}
}

// TestFacetAlternativesOffered: a category chosen, the page offers the
// other categories as alternatives, each counted by the tools it has.
func TestFacetAlternativesOffered(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	for id, cats := range map[string][]string{"both": {"collaboration", "survey"}, "collab": {"collaboration"}, "survey": {"survey"}, "blog": {"blog"}} {
		tool := &catalogv1.Tool{DisplayName: id, Categories: cats, Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}}}
		if _, err := n.catalog.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: id, Tool: tool}); err != nil {
			t.Fatal(err)
		}
	}
	_, page, _ := get(t, client(t), n.base+"/?category=collaboration")
	for _, want := range []string{"category=collaboration&amp;category=survey\" class=\"facet-value\"><span class=\"box\" aria-hidden=\"true\">☐</span> <bdi>survey</bdi> <span class=\"count\">(2)</span>",
		"category=collaboration&amp;category=blog\" class=\"facet-value\"><span class=\"box\" aria-hidden=\"true\">☐</span> <bdi>blog</bdi> <span class=\"count\">(1)</span>"} {
		if !strings.Contains(page, want) {
			i := strings.Index(page, "facet-value")
			t.Errorf("the page lacks %s\n%s", want, page[max(i-200, 0):min(i+2000, len(page))])
		}
	}
}

// TestFacetsOfOneRecordPerSoftware: with one record per software, the
// facets count software, as the page's total does.
func TestFacetsOfOneRecordPerSoftware(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	for _, id := range []string{"decidim", "decidim-copy"} {
		tool := &catalogv1.Tool{DisplayName: id, RepositoryUrl: "https://github.com/decidim/decidim", Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}}}
		if _, err := n.catalog.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: id, Tool: tool}); err != nil {
			t.Fatal(err)
		}
	}
	_, page, _ := get(t, client(t), n.base+"/?collapse=1")
	if !strings.Contains(page, `<span class="count">(1)</span>`) || strings.Contains(page, `<span class="count">(2)</span>`) {
		i := strings.Index(page, "facet-value")
		t.Errorf("one software of two records counted twice:\n%s", page[max(i-200, 0):min(i+1500, len(page))])
	}
}
