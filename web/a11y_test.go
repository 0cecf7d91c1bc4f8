package web_test

// Accessibility of the pages for the people who use them: screen
// readers, keyboard only, phones, right-to-left languages (WCAG 2.1 AA,
// which public-sector sites are held to).

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"golang.org/x/net/html"
)

// arabic is a short description as a Moroccan or Tunisian member writes
// it: Arabic words, a number in parentheses, a full stop at its end.
const arabic = "منصة للمشاركة المواطنة (الإصدار 2)."

// signInBrowser signs the browser in with the admin token.
func signInBrowser(t *testing.T, b *browser, n *testNode) {
	t.Helper()
	b.visit(t, "signin", n.base+"/signin", chromedp.CSS("#token"))
	b.do(t, "signin-token", chromedp.SendKeys(chromedp.CSS("#token"), testToken))
	b.navigateBy(t, "signed-in", chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.CSS(`form[action="/signout"]`))
}

// TestRightToLeftTextHasItsDirection: a description in Arabic (a peer's,
// or one the curator types) is marked lang="ar", but nothing gives it a
// right-to-left direction (dir="rtl" or dir="auto"): it is laid out as
// the English page is, aligned left, its full stop and parentheses put at
// the wrong end of the sentence. The tool's lead, its search card, and the
// curator's inputs for that language all come out left-to-right.
func TestRightToLeftTextHasItsDirection(t *testing.T) {
	dir := dataWithPeerRecords(t, "ma", peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "chark", &catalogv1.Tool{Name: "origins/ma/tools/chark", Origin: "ma", Seq: 1,
		DisplayName: "Chark", Descriptions: map[string]*catalogv1.Description{"ar": {ShortDescription: arabic, LongDescription: arabic}}}})
	n := startNodeIn(t, dir)
	if _, err := n.catalog.CreateTool(admin(context.Background()), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "mocharaka", Tool: &catalogv1.Tool{
		DisplayName: "Mocharaka", Descriptions: map[string]*catalogv1.Description{"ar": {ShortDescription: arabic}}}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	direction := func(sel string) string { return textDirection(t, b, sel) }
	b.visit(t, "rtl-tool", n.base+"/tools/ma/chark", chromedp.CSS("#qualification-heading"))
	for _, sel := range []string{`.record-head .lead[lang="ar"]`, `section .long[lang="ar"]`} {
		if d := direction(sel); d != "rtl" {
			t.Errorf("/tools/ma/chark: the Arabic %s is laid out %q, want rtl", sel, d)
		}
	}
	b.visit(t, "rtl-search", n.base+"/?q=chark", chromedp.CSS("#results-heading"))
	if d := direction(`.tool-card p[lang="ar"]`); d != "rtl" {
		t.Errorf("/?q=chark: the Arabic description of the result is laid out %q, want rtl", d)
	}
	signInBrowser(t, b, n)
	b.visit(t, "rtl-edit", n.base+"/tools/fr/mocharaka/edit", chromedp.CSS("#d0_short"))
	for _, sel := range []string{"#d0_short", "#d0_long"} {
		if d := direction(sel); d != "rtl" {
			t.Errorf("/tools/fr/mocharaka/edit: the curator types Arabic into %s laid out %q, want rtl", sel, d)
		}
	}
}

// textDirection is the direction the browser lays the element sel of
// its page out in ("missing" for none).
func textDirection(t *testing.T, b *browser, sel string) string {
	t.Helper()
	return b.eval(t, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? getComputedStyle(e).direction : "missing"; })()`, sel))
}

// langOf is the language an element is in: its own lang, else its
// nearest ancestor's.
func langOf(n *html.Node) string {
	for ; n != nil; n = n.Parent {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "lang" {
					return a.Val
				}
			}
		}
	}
	return ""
}

// TestFormWordsInThePageLanguage: on the English tool form, the block of
// a description in French is a <fieldset lang="fr">, so the page's own
// English words in it (its legend "Description in French", the labels
// "Short description", the hints, and the error beside a field) are
// marked French: a screen reader reads them with French pronunciation.
// Only the inputs hold French (and say so with their own lang).
func TestFormWordsInThePageLanguage(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	c := client(t)
	csrf := signIn(t, c, n)
	check := func(what, page string) {
		doc, err := html.Parse(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		pageLang := ""
		for e := range doc.Descendants() {
			if e.Type == html.ElementNode && e.Data == "html" {
				pageLang = langOf(e)
			}
		}
		for e := range doc.Descendants() {
			if e.Type != html.ElementNode {
				continue
			}
			class := ""
			for _, a := range e.Attr {
				if a.Key == "class" {
					class = a.Val
				}
			}
			if e.Data == "label" || e.Data == "legend" || class == "hint" || class == "field-error" {
				if l := langOf(e); l != pageLang {
					var text strings.Builder
					for d := range e.Descendants() {
						if d.Type == html.TextNode {
							text.WriteString(d.Data)
						}
					}
					t.Errorf("%s: the page's own <%s class=%q> %q is marked lang=%q on a page in %q", what, e.Data, class, strings.Join(strings.Fields(text.String()), " "), l, pageLang)
				}
			}
		}
	}
	_, page, _ := get(t, c, n.base+"/tools/fr/decidim/edit")
	check("GET /tools/fr/decidim/edit", page)
	code, page, _ := post(t, c, n.base+"/tools/new", url.Values{"csrf": {csrf}, "display_name": {"Broken"}, "descriptions": {"2"},
		"d0_lang": {"en"}, "d0_short": {"Short"}, "d1_lang": {"fr"}, "d1_short": {strings.Repeat("é", 151)}})
	if code != http.StatusBadRequest {
		t.Fatalf("a refused tool: %d", code)
	}
	check("a refused POST /tools/new", page)
}

// TestRefusedFormSaysSoInItsTitle: a form sent back with errors (a tool
// the API refused, a wrong sign-in token) has the same title as the empty
// form, and no script moves focus to the error summary: a screen reader
// user who submits hears "New tool" again and must find the error by
// reading on (role="alert" on text already in a page as it loads is not
// announced by every screen reader). The title says there is an error, as
// the error page's own title does.
func TestRefusedFormSaysSoInItsTitle(t *testing.T) {
	n := startNode(t)
	c := client(t)
	title := func(page string) string {
		m := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no title:\n%s", page)
		}
		return html.UnescapeString(m[1])
	}
	_, page, _ := get(t, c, n.base+"/signin")
	blank := title(page)
	code, page, _ := post(t, c, n.base+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {"not-the-token-0123456789"}, "next": {"/"}})
	if code != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", code)
	}
	if got := title(page); got == blank || !strings.Contains(got, "Error") {
		t.Errorf("sign-in refused (%d): title %q, the same as the empty form's %q", code, got, blank)
	}
	csrf := signIn(t, c, n)
	_, page, _ = get(t, c, n.base+"/tools/new")
	blank = title(page)
	code, page, _ = post(t, c, n.base+"/tools/new", url.Values{"csrf": {csrf}, "display_name": {"Broken"}, "repository_url": {"not a url"},
		"descriptions": {"1"}, "d0_lang": {"en"}, "d0_short": {"Short"}})
	if code != http.StatusBadRequest {
		t.Fatalf("a refused tool: %d", code)
	}
	if got := title(page); got == blank || !strings.Contains(got, "Error") {
		t.Errorf("tool form refused (%d): title %q, the same as the empty form's %q", code, got, blank)
	}
}

// luminance is the relative luminance (WCAG 2.1) of a CSS "rgb(r, g, b)".
func luminance(t *testing.T, rgb string) float64 {
	t.Helper()
	m := regexp.MustCompile(`rgba?\((\d+), (\d+), (\d+)`).FindStringSubmatch(rgb)
	if m == nil {
		t.Fatalf("not a colour: %q", rgb)
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.Atoi(m[i+1])
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}

// contrast is the contrast ratio (WCAG 2.1) of two CSS colours.
func contrast(t *testing.T, fg, bg string) float64 {
	t.Helper()
	a, b := luminance(t, fg), luminance(t, bg)
	return (max(a, b) + 0.05) / (min(a, b) + 0.05)
}

// TestFocusedDeleteReadable: a keyboard user tabbing to "Delete" (the
// confirmation's button, the tool page's link) gets the focus style's
// dark text (#1b1b1b) but keeps the danger red ground (#b50909), as
// .danger comes after :focus-visible in the style sheet with the same
// weight: 2.5:1, under the 4.5:1 WCAG 1.4.3 asks of text.
func TestFocusedDeleteReadable(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	b := newBrowser(t)
	signInBrowser(t, b, n)
	for _, path := range []string{"/tools/fr/decidim", "/tools/fr/decidim/delete"} {
		b.visit(t, "danger", n.base+path, chromedp.CSS(".danger"))
		focused := false
		for range 40 {
			b.do(t, "tab", chromedp.KeyEvent(kb.Tab))
			if b.eval(t, `String(document.activeElement.classList.contains("danger") && document.activeElement.matches(":focus-visible"))`) == "true" {
				focused = true
				break
			}
		}
		if !focused {
			t.Fatalf("%s: Tab never reached the Delete control", path)
		}
		colours := b.eval(t, `(() => { const s = getComputedStyle(document.activeElement); return s.color + "|" + s.backgroundColor; })()`)
		fg, bg, _ := strings.Cut(colours, "|")
		if r := contrast(t, fg, bg); r < 4.5 {
			t.Errorf("%s: the focused Delete control's text %s on %s: contrast %.2f:1, want at least 4.5:1", path, fg, bg, r)
		}
	}
}

// TestDataTablesNamed: the federation page's tables (records by origin,
// members, harvests) have no caption and no name of their own: a screen
// reader listing or jumping to tables announces "table" only, where the
// tool page's criteria table has its caption.
func TestDataTablesNamed(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	_, page, _ := get(t, client(t), n.base+"/federation")
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for e := range doc.Descendants() {
		if e.Type != html.ElementNode || e.Data != "table" {
			continue
		}
		tables++
		named := false
		for _, a := range e.Attr {
			if a.Key == "aria-label" || a.Key == "aria-labelledby" {
				named = true
			}
		}
		for c := e.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "caption" {
				named = true
			}
		}
		if !named {
			var head strings.Builder
			for d := range e.Descendants() {
				if d.Type == html.ElementNode && d.Data == "th" && d.FirstChild != nil && d.FirstChild.Type == html.TextNode {
					head.WriteString(d.FirstChild.Data + " | ")
				}
				if head.Len() > 60 {
					break
				}
			}
			t.Errorf("/federation: a data table without a caption or name (headers %s…)", head.String())
		}
	}
	if tables == 0 {
		t.Fatal("no table on /federation")
	}
}

// TestPagesReflowAt320: WCAG 1.4.10 asks that a page read at 320 CSS
// pixels (a small phone, or 1280 pixels zoomed to 400%) without scrolling
// sideways. The tool page's criteria table is no scrolling region (the
// federation page's tables are) and keeps its words whole (table {
// overflow-wrap: normal }), so a reason quoting the repository's URL
// makes the whole page 527 pixels wide: a phone shows it zoomed out to
// fit, its text shrunk, or scrolled sideways. The search page's order
// menu, as wide as its longest option, overflows too. (The phone checks
// of TestBrowser compared scrollWidth with innerWidth, which a mobile
// browser widens to the content: they could not see it.)
func TestPagesReflowAt320(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	b := newBrowser(t)
	b.do(t, "narrow", chromedp.EmulateViewport(320, 640))
	for _, path := range []string{"/tools/fr/decidim", "/?q=democracy"} {
		b.visit(t, "reflow", n.base+path, chromedp.CSS("main"))
		sw, cw := b.eval(t, `String(document.documentElement.scrollWidth)`), b.eval(t, `String(document.documentElement.clientWidth)`)
		if sw != cw {
			widest := b.eval(t, `(() => { let w = null, r = 0; for (const e of document.querySelectorAll("main *")) { const x = e.getBoundingClientRect().right; if (x > r + 1) { r = x; w = e; } } return w ? w.tagName.toLowerCase() + (w.className ? "." + w.className : "") + (w.id ? "#" + w.id : "") + " ends at " + Math.round(r) : ""; })()`)
			t.Errorf("%s at 320 CSS pixels: %s pixels wide (%s)", path, sw, widest)
		}
	}
}

// TestArabicDescriptionLaidOutRightToLeft: a description marked lang="ar"
// is laid out right to left on the tool page and its search card, as its
// form lays it out (dir="rtl"): one that begins with the tool's Latin name
// (as Arabic descriptions of software do), or a description block that
// holds only features, whose first letters are the page's own heading
// ("Features"), must not come out left to right.
func TestArabicDescriptionLaidOutRightToLeft(t *testing.T) {
	n := startNode(t)
	if _, err := n.catalog.CreateTool(admin(context.Background()), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "mocharaka", Tool: &catalogv1.Tool{
		DisplayName:  "Mocharaka",
		Descriptions: map[string]*catalogv1.Description{"ar": {ShortDescription: "Decidim " + arabic, Features: []string{"الميزانية التشاركية."}}}}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	direction := func(sel string) string { return textDirection(t, b, sel) }
	b.visit(t, "rtl-tool", n.base+"/tools/fr/mocharaka", chromedp.CSS("#qualification-heading"))
	for _, sel := range []string{`.record-head .lead[lang="ar"]`, `section ul[lang="ar"] li`} {
		if d := direction(sel); d != "rtl" {
			t.Errorf("/tools/fr/mocharaka: the Arabic %s is laid out %q, want rtl", sel, d)
		}
	}
	b.visit(t, "rtl-search", n.base+"/?q=mocharaka", chromedp.CSS("#results-heading"))
	if d := direction(`.tool-card p[lang="ar"]`); d != "rtl" {
		t.Errorf("/?q=mocharaka: the Arabic description of the result is laid out %q, want rtl", d)
	}
	signInBrowser(t, b, n)
	b.visit(t, "rtl-edit", n.base+"/tools/fr/mocharaka/edit", chromedp.CSS("#d0_short"))
	if d := direction("#d0_short"); d != "rtl" {
		t.Errorf("the form lays the same description out %q", d)
	}
}

// TestCriteriaReasonsReadableOnAPhone: on a phone (390 CSS pixels, as
// TestBrowser's), a reason's ordinary words are not cut in the middle:
// the table scrolls in a region of its own, as the federation page's do.
// (Letting its cells break anywhere, to fit it, shrank the reason's
// column to a letter.)
func TestCriteriaReasonsReadableOnAPhone(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	b := newBrowser(t)
	b.do(t, "phone-viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	b.visit(t, "criteria-phone", n.base+"/tools/fr/decidim", chromedp.CSS("table.criteria"))
	cut := b.eval(t, `(() => { const out = []; for (const c of document.querySelectorAll("table.criteria td")) { const w = document.createTreeWalker(c, NodeFilter.SHOW_TEXT); let n; while ((n = w.nextNode())) { const re = /\S+/g; let m; while ((m = re.exec(n.data))) { const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length); if (new Set([...r.getClientRects()].map(x => Math.round(x.top))).size > 1) out.push(m[0]); } } } return out.join(" "); })()`)
	var words []string
	for _, w := range strings.Fields(cut) {
		if regexp.MustCompile(`^\pL+[.,]?$`).MatchString(w) { // a word of letters, no hyphen or URL
			words = append(words, w)
		}
	}
	if len(words) > 0 {
		cols := b.eval(t, `[...document.querySelectorAll("table.criteria thead th")].map(c => Math.round(c.getBoundingClientRect().width)).join(", ")`)
		t.Errorf("on a phone the criteria's reasons cut the words %q in the middle (columns %s pixels wide)", words, cols)
	}
}
