package web_test

// Web security of the pages and the HTTP port against a hostile peer's
// records and a hostile website (review D). Each test fails on the code
// as it stands and passes once its fault is fixed.

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"golang.org/x/net/html"
)

// TestRESTAnswersNotSniffed: every answer of the HTTP port that carries a
// peer's text (the JSON of a tool whose name is HTML, an error quoting a
// path, the OpenAPI document, the metrics) says nosniff, as the pages do:
// without it a browser that sniffs may take one for HTML of the node's
// origin.
func TestRESTAnswersNotSniffed(t *testing.T) {
	dir := dataWithPeerRecords(t, "de", peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "evil", &catalogv1.Tool{Name: "origins/de/tools/evil", Origin: "de", Seq: 1,
		DisplayName: `<html><script>alert(document.cookie)</script>`}})
	n := startNodeIn(t, dir)
	for _, path := range []string{"/v1/origins/de/tools/evil", "/v1/tools?query=evil", "/v1/%3Chtml%3E", "/openapi.json", "/healthz", "/metrics"} {
		_, _, resp := get(t, client(t), n.base+path)
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: %d %s, X-Content-Type-Options %q, want nosniff", path, resp.StatusCode, resp.Header.Get("Content-Type"), got)
		}
	}
}

// TestSignInThrottled: wrong admin tokens typed into the sign-in form,
// one after the other from one address, are refused after a few with 429
// (and Retry-After), not checked without end: the form is a way to guess
// the token that no limit slowed. While locked out, the address's tries
// are not checked, the right token's either.
func TestSignInThrottled(t *testing.T) {
	n := startNode(t)
	c := client(t)
	_, page, _ := get(t, c, n.base+"/signin")
	csrf := csrfOf(t, page)
	codes := map[int]int{}
	for i := range 50 {
		code, _, resp := post(t, c, n.base+"/signin", url.Values{"csrf": {csrf}, "token": {"guess-number-" + string(rune('a'+i%26)) + "-0123456789"}, "next": {"/"}})
		codes[code]++
		if code == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "" {
			if i != 5 {
				t.Errorf("locked out at the wrong token %d, want the sixth", i+1)
			}
			code, page, _ := post(t, c, n.base+"/signin", url.Values{"csrf": {csrf}, "token": {testToken}, "next": {"/"}})
			if code != http.StatusTooManyRequests || !strings.Contains(page, "Too many wrong tokens") {
				t.Errorf("the right token while locked out: %d", code)
			}
			return
		}
	}
	t.Errorf("50 wrong tokens in a row through the sign-in form: statuses %v, none refused as too many", codes)
}

// bidiLeaks lists the blocks of page (a paragraph, list item, cell,
// heading, the title) in which a text with a bidi embedding, override or
// isolate it does not close (U+202A..U+202E, U+2066..U+2068) is followed
// by other text of the same block, outside a <bdi> or an element with a
// dir attribute: UAX #9 applies the override to the end of the paragraph,
// whatever inline elements it crosses, so the page's own words after a
// record's text (its origin, "recorded by ...") are shown reordered.
func bidiLeaks(t *testing.T, page string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	blocks := []string{"title", "p", "li", "dd", "dt", "td", "th", "h1", "h2", "h3", "h4", "summary", "div", "section", "article", "header", "main", "body", "ul", "ol", "dl", "table", "tr", "details", "nav", "aside", "footer"}
	isBlock := func(n *html.Node) bool { return n.Type == html.ElementNode && slices.Contains(blocks, n.Data) }
	isolates := func(n *html.Node) bool {
		if n.Type != html.ElementNode {
			return false
		}
		if n.Data == "bdi" {
			return true
		}
		for _, a := range n.Attr {
			if a.Key == "dir" {
				return true
			}
		}
		return false
	}
	var leaks []string
	var walkBlock func(block *html.Node)
	walkBlock = func(block *html.Node) {
		open := 0 // unclosed embeddings of the block's text so far
		var text strings.Builder
		leaked := false
		var inline func(n *html.Node)
		inline = func(n *html.Node) {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				switch {
				case isBlock(c):
					walkBlock(c)
				case isolates(c):
					text.WriteString("[isolated]")
				case c.Type == html.TextNode:
					if open > 0 && strings.TrimSpace(c.Data) != "" {
						leaked = true
					}
					text.WriteString(c.Data)
					open += bidiDepth(c.Data)
				case c.Type == html.ElementNode:
					inline(c)
				}
			}
		}
		inline(block)
		if leaked {
			leaks = append(leaks, block.Data+": "+strings.Join(strings.Fields(text.String()), " "))
		}
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "html" {
			walkBlock(n)
		}
		// The title is one text, the record's and the site's name: no
		// element can isolate the record's part there.
		if n.Type == html.ElementNode && n.Data == "title" && n.FirstChild != nil {
			title := n.FirstChild.Data
			if i := strings.LastIndex(title, " · "); i >= 0 && bidiDepth(title[:i]) > 0 {
				leaks = append(leaks, "title: "+title)
			}
		}
	}
	return leaks
}

// bidiDepth is how many embeddings, overrides and isolates s opens and
// does not close.
func bidiDepth(s string) int {
	open := 0
	for _, r := range s {
		switch {
		case r >= '\u202A' && r <= '\u202E' && r != '\u202C' || r >= '\u2066' && r <= '\u2068':
			open++
		case (r == '\u202C' || r == '\u2069') && open > 0:
			open--
		}
	}
	return open
}

// TestRecordTextIsolatedFromBidi: a peer's names carrying a right-to-left
// override they do not close (a display name, an organisation's name)
// reorder the page's own words shown after them in the same paragraph:
// the origin of a record (" — de (Germany)"), "recorded by de", the site's
// name in the title. The pages must isolate a record's text (<bdi>, or
// dir="auto") or close what it opens.
func TestRecordTextIsolatedFromBidi(t *testing.T) {
	const rlo = "\u202E"
	dir := dataWithPeerRecords(t, "de",
		peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "decidim", &catalogv1.Tool{Name: "origins/de/tools/decidim", Origin: "de", Seq: 1,
			DisplayName: "Decidim" + rlo, RepositoryUrl: "https://github.com/decidim/decidim", License: "MIT" + rlo,
			Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Participatory democracy"}}}},
		peerRecord{federationv1.RecordKind_RECORD_KIND_USE_CASE, "berlin", &catalogv1.UseCase{Name: "origins/de/usecases/berlin", Origin: "de", Seq: 2,
			Tool: "origins/fr/tools/decidim", Purpose: "Participation",
			Organization: &catalogv1.Organization{Name: "Berlin" + rlo, Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "DE"}}},
	)
	n := startNodeIn(t, dir)
	seed(t, n) // origins/fr/tools/decidim, of the same repository
	for _, path := range []string{"/tools/fr/decidim", "/tools/de/decidim", "/?q=decidim"} {
		code, page, _ := get(t, client(t), n.base+path)
		if code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		for _, leak := range bidiLeaks(t, page) {
			t.Errorf("GET %s: a record's unclosed override reorders the rest of %q", path, leak)
		}
	}
}

// TestPeerLinksOnlyToTheWeb: a peer's URLs that are no http(s) URL, as
// the API requires of every URL, are not made links: a relative one leads
// the curator who follows "Web site" or "Source code" into this node's
// own curation pages (the confirmation of the delete of one of its
// tools), from another member's record.
func TestPeerLinksOnlyToTheWeb(t *testing.T) {
	dir := dataWithPeerRecords(t, "de",
		peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "lure", &catalogv1.Tool{Name: "origins/de/tools/lure", Origin: "de", Seq: 1,
			DisplayName: "Lure", LandingUrl: "/tools/fr/decidim/delete", RepositoryUrl: "../../tools/fr/consul/delete",
			Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool", DocumentationUrl: "/signin?next=/tools/fr/decidim/delete"}}}},
		peerRecord{federationv1.RecordKind_RECORD_KIND_USE_CASE, "lure", &catalogv1.UseCase{Name: "origins/de/usecases/lure", Origin: "de", Seq: 2,
			Tool: "/tools/fr/decidim/delete", Url: "/usecases/fr/barcelona/delete", Purpose: "Lure",
			Organization: &catalogv1.Organization{Name: "Lure", Country: "DE"}}},
	)
	n := startNodeIn(t, dir)
	seed(t, n)
	c := client(t)
	signIn(t, c, n)
	for _, path := range []string{"/tools/de/lure", "/usecases/de/lure"} {
		_, page, _ := get(t, c, n.base+path)
		doc, err := html.Parse(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		for a := range doc.Descendants() {
			if a.Type != html.ElementNode || a.Data != "a" {
				continue
			}
			for _, at := range a.Attr {
				if at.Key == "href" && strings.Contains(at.Val, "delete") {
					t.Errorf("GET %s: a peer's URL is a link into this node: <a href=%q>", path, at.Val)
				}
			}
		}
	}
}

// TestLongWordsDoNotWidenThePage: a record's word longer than a phone's
// screen (a name of one word, a long URL, which the API takes up to 200
// characters and 2,048 bytes) is broken, not left to make the tool page
// and the search scroll sideways, as its code and URIs already are.
func TestLongWordsDoNotWidenThePage(t *testing.T) {
	dir := dataWithPeerRecords(t, "de", peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "long", &catalogv1.Tool{Name: "origins/de/tools/long", Origin: "de", Seq: 1,
		DisplayName: "Long" + strings.Repeat("x", 190), LandingUrl: "https://example.org/" + strings.Repeat("y", 300),
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Short" + strings.Repeat("z", 150), LongDescription: "Long" + strings.Repeat("w", 400)}}}})
	n := startNodeIn(t, dir)
	b := newBrowser(t)
	b.do(t, "phone-viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	for name, path := range map[string]string{"long-tool": "/tools/de/long", "long-search": "/?q=long"} {
		b.visit(t, name, n.base+path, chromedp.CSS("main"))
		if wide := b.eval(t, `String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`); wide != "false" {
			t.Errorf("on a phone %s scrolls sideways: scrollWidth %s for a width of %s", path, b.eval(t, `String(document.documentElement.scrollWidth)`), b.eval(t, `String(document.documentElement.clientWidth)`))
		}
	}
}
