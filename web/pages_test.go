package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestPages checks, without a browser, the status and a piece of each
// page, bad addresses and parameters included: a clear page with the right
// status, never a crash.
func TestPages(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	c := client(t)
	for _, tc := range []struct {
		method, path string
		want         int
		contains     string
	}{
		{"GET", "/", 200, "Consul Democracy"},
		{"HEAD", "/", 200, ""},
		{"GET", "/?q=participatory", 200, `href="/tools/fr/decidim"`},
		{"GET", "/?ogp_theme=OGP_THEME_E_PETITIONS", 200, "1 tool found"},
		{"GET", "/?order=score&collapse=1", 200, "Decidim"},
		{"GET", "/?q=zzzzzz", 200, "No tool matches"},
		{"GET", "/tools/fr/decidim", 200, "Ajuntament de Barcelona"},
		{"GET", "/usecases/fr/barcelona", 200, `href="/tools/fr/decidim"`},
		{"GET", "/federation", 200, "Records held, by origin"},
		{"GET", "/signin", 200, `type="password"`},
		{"GET", "/static/style.css", 200, "--brand"},

		{"GET", "/nope", 404, "There is no page at this address."},
		{"GET", "/tools/fr/nope", 404, "This node holds no such record."},
		{"GET", "/usecases/fr/nope", 404, "This node holds no such record."},
		{"GET", "/tools/FR/decidim", 404, "is not an origin"},
		{"GET", "/tools/fr/Not_An_Id", 404, "is not an id"},
		{"GET", "/?ogp_theme=OGP_THEME_BOGUS", 400, "is not an OGP theme"},
		{"GET", "/?order=sideways", 400, "is not an order"},
		{"GET", "/?page_token=garbage", 400, "page_token"},
		{"GET", "/?criterion=shiny", 400, "is not a criterion"},
		{"GET", "/?" + manyFilters(60), 400, "more filters than a search takes"},
		// At the most filters a search takes, values show, but no link
		// adds one more (it would be refused).
		{"GET", "/?category=collaboration&" + manyFilters(49), 200, `<span class="facet-value">`},
		{"GET", "/?q=%FF", 400, "not valid UTF-8"},
		{"GET", "/static/", 404, "There is no page"},
		{"GET", "/static/nope.css", 404, "There is no page"},
		{"POST", "/federation", 405, "does not take this kind of request"},
		{"PUT", "/tools/fr/decidim", 405, "does not take this kind of request"},
		{"POST", "/tools/new", 401, "not signed in"},
		{"GET", "/tools/new", 303, ""},

		// REST and the node's own endpoints are still theirs.
		{"GET", "/v1/origins/fr/tools/decidim", 200, `"display_name"`},
		{"GET", "/healthz", 200, "SERVING"},
		{"GET", "/openapi.json", 200, "swagger"},
	} {
		req, err := http.NewRequest(tc.method, n.base+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		code, body, resp := do(t, c, req)
		if code != tc.want {
			t.Errorf("%s %s: status %d, want %d:\n%.400s", tc.method, tc.path, code, tc.want, body)
			continue
		}
		if !strings.Contains(body, tc.contains) {
			t.Errorf("%s %s: no %q in:\n%s", tc.method, tc.path, tc.contains, body)
		}
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s %s: no Content-Security-Policy", tc.method, tc.path)
		}
	}
}

// TestNoJavaScript follows the pages as a browser without JavaScript
// would: search, a facet's link, a tool, and its use case.
func TestNoJavaScript(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	c := client(t)
	_, page, _ := get(t, c, n.base+"/?q=democracy")
	if strings.Contains(page, "<script") {
		t.Error("the search page has a script")
	}
	for _, want := range []string{`href="/tools/fr/decidim"`, `href="/tools/fr/consul"`, `<label for="q">`, `class="skip" href="#main"`} {
		if !strings.Contains(page, want) {
			t.Errorf("search: no %s", want)
		}
	}
	// The facet of a theme is a link that adds the filter.
	link := "/?ogp_theme=OGP_THEME_E_PETITIONS&amp;q=democracy"
	if !strings.Contains(page, `href="`+link+`"`) {
		t.Fatalf("search: no facet link %s in\n%s", link, page)
	}
	_, page, _ = get(t, c, n.base+strings.ReplaceAll(link, "&amp;", "&"))
	if !strings.Contains(page, `href="/tools/fr/consul"`) || strings.Contains(page, `href="/tools/fr/decidim"`) {
		t.Errorf("the e-petitions facet did not filter:\n%s", page)
	}
	_, page, _ = get(t, c, n.base+"/tools/fr/decidim")
	for _, want := range []string{"Spain", "Finland", "City of Helsinki", "Ajuntament de Barcelona", "Open license", "Signed by this node", "AGPL-3.0-or-later"} {
		if !strings.Contains(page, want) {
			t.Errorf("tool page: no %q", want)
		}
	}
}

// TestLanguages checks that the pages' text follows ?lang, the cookie it
// sets, and Accept-Language; and that descriptions follow the reader.
func TestLanguages(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	c := client(t)
	_, page, _ := get(t, c, n.base+"/", "Accept-Language", "fr-FR,fr;q=0.9")
	if !strings.Contains(page, `<html lang="fr">`) || !strings.Contains(page, "Outils numériques pour le gouvernement ouvert") {
		t.Errorf("Accept-Language fr: not French:\n%.600s", page)
	}
	if !strings.Contains(page, "Démocratie participative pour les villes") {
		t.Error("Accept-Language fr: Decidim's description is not the French one")
	}
	_, page, _ = get(t, c, n.base+"/?lang=fr")
	if !strings.Contains(page, "Rechercher") {
		t.Error("?lang=fr: not French")
	}
	// The cookie remembers the choice over Accept-Language.
	_, page, _ = get(t, c, n.base+"/tools/fr/decidim", "Accept-Language", "en")
	if !strings.Contains(page, "Adoption dans la fédération") || !strings.Contains(page, "Espagne") {
		t.Error("after ?lang=fr, the tool page is not French")
	}
	// Back to English: the pages, and the descriptions the record has in
	// English.
	_, page, _ = get(t, c, n.base+"/?lang=en", "Accept-Language", "fr")
	if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "Participatory democracy for cities") {
		t.Errorf("?lang=en: not English")
	}
}

// TestSignIn checks that a wrong token is refused with a message and no
// session, and that the right one gives a session cookie only the server
// can use.
func TestSignIn(t *testing.T) {
	n := startNode(t)
	c := client(t)
	_, page, _ := get(t, c, n.base+"/signin?next=/federation")
	csrf := csrfOf(t, page)

	code, body, resp := post(t, c, n.base+"/signin", url.Values{"csrf": {csrf}, "token": {"not-the-token"}, "next": {"/federation"}})
	if code != http.StatusUnauthorized || !strings.Contains(body, "This is not the node&#39;s admin token.") || !strings.Contains(body, `aria-invalid="true"`) {
		t.Errorf("wrong token: %d\n%s", code, body)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "ogpnode_session" {
			t.Errorf("wrong token: a session cookie was set")
		}
	}
	// Without the sign-in form's secret (another site's form): refused.
	if code, _, _ := post(t, client(t), n.base+"/signin", url.Values{"csrf": {csrf}, "token": {testToken}}); code != http.StatusForbidden {
		t.Errorf("sign-in without the form's cookie: %d, want 403", code)
	}

	code, _, resp = post(t, c, n.base+"/signin", url.Values{"csrf": {csrf}, "token": {testToken}, "next": {"/federation"}})
	if code != http.StatusSeeOther || resp.Header.Get("Location") != "/federation" {
		t.Fatalf("sign in: %d, to %q", code, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "ogpnode_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || strings.Contains(session.Value, testToken) {
		t.Fatalf("session cookie %+v", session)
	}
	// An outside next is not followed.
	_, page, _ = get(t, client(t), n.base+"/signin?next=//evil.example/")
	if !strings.Contains(page, `name="next" value="/"`) {
		t.Error("sign-in kept an outside next")
	}
	_, page, _ = get(t, c, n.base+"/")
	if !strings.Contains(page, `action="/signout"`) {
		t.Fatal("signed in: no sign-out button")
	}
	if code, _, _ := post(t, c, n.base+"/signout", url.Values{"csrf": {csrfOf(t, page)}}); code != http.StatusSeeOther {
		t.Errorf("sign out: %d", code)
	}
	if code, _, _ := get(t, c, n.base+"/tools/new"); code != http.StatusSeeOther {
		t.Errorf("after sign-out, the new tool form: %d, want a redirect to sign in", code)
	}
}

// TestCSRF checks that a signed-in session's forms are refused without
// their token, with another one, or from another site, and that nothing is
// written then.
func TestCSRF(t *testing.T) {
	n := startNode(t)
	c := client(t)
	csrf := signIn(t, c, n)
	form := func(token string) url.Values {
		return url.Values{"csrf": {token}, "tool_id": {"forged"}, "display_name": {"Forged"}, "descriptions": {"1"}, "d0_lang": {"en"}, "d0_short": {"A forged tool"}}
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", form(""), nil},
		{"a wrong token", form("x" + csrf), nil},
		{"another site", form(csrf), []string{"Origin", "https://evil.example"}},
	} {
		code, body, _ := post(t, c, n.base+"/tools/new", tc.form, tc.header...)
		if code != http.StatusForbidden || !strings.Contains(body, "was not sent from this node&#39;s own page") {
			t.Errorf("%s: %d\n%.300s", tc.name, code, body)
		}
	}
	if _, err := n.catalog.GetTool(context.Background(), &catalogv1.GetToolRequest{Name: "origins/fr/tools/forged"}); status.Code(err) != codes.NotFound {
		t.Errorf("a refused form wrote a tool: %v", err)
	}
	code, _, resp := post(t, c, n.base+"/tools/new", form(csrf), "Origin", n.base)
	if code != http.StatusSeeOther || resp.Header.Get("Location") != "/tools/fr/forged" {
		t.Errorf("with the token: %d, to %q", code, resp.Header.Get("Location"))
	}
}

// TestCuration creates, edits (with a concurrent change in between) and
// deletes a tool and a use case through the forms, and checks that the
// API's field violations come back beside their fields with what was
// typed.
func TestCuration(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	c := client(t)
	csrf := signIn(t, c, n)
	ctx := context.Background()

	// An error of the API beside its field, the form kept as typed.
	bad := url.Values{"csrf": {csrf}, "display_name": {"Broken"}, "repository_url": {"not a url"}, "descriptions": {"2"},
		"d0_lang": {"en"}, "d0_short": {"Short"}, "d1_lang": {"fr"}, "d1_short": {strings.Repeat("é", 151)}, "contacts": {"Ada; not-an-email"}}
	code, page, _ := post(t, c, n.base+"/tools/new", bad)
	if code != http.StatusBadRequest {
		t.Fatalf("a bad tool: %d", code)
	}
	for _, want := range []string{
		`<p class="field-error" id="repository_url-error">`, `value="not a url"`, `aria-describedby="repository_url-hint repository_url-error"`,
		`id="d1_short-error"`, `id="contacts-error"`, `href="#repository_url"`, "is not an http or https URL", ">\nAda; not-an-email</textarea>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("bad tool form: no %s", want)
		}
	}

	// Create, then edit against a stale version: merged with the change
	// made meanwhile, of another field, which stays.
	code, _, resp := post(t, c, n.base+"/tools/new", url.Values{"csrf": {csrf}, "tool_id": {"petitions"}, "display_name": {"Petitions"},
		"descriptions": {"1"}, "d0_lang": {"en"}, "d0_short": {"Petitions online"}, "ogp_themes": {"OGP_THEME_E_PETITIONS"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	_, page, _ = get(t, c, n.base+resp.Header.Get("Location")+"/edit")
	etag := regexpValue(t, page, "etag")
	if _, err := n.catalog.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: &catalogv1.Tool{Name: "origins/fr/tools/petitions", License: "MIT"}, UpdateMask: fieldMask("license")}); err != nil {
		t.Fatal(err)
	}
	edit := url.Values{"csrf": {csrf}, "etag": {etag}, "display_name": {"Petitions Hub"}, "descriptions": {"1"}, "d0_lang": {"en"}, "d0_short": {"Petitions online"}}
	if code, page, _ = post(t, c, n.base+"/tools/fr/petitions/edit", edit); code != http.StatusSeeOther {
		t.Fatalf("a stale edit: %d\n%s", code, page)
	}
	got, err := n.catalog.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/petitions"})
	if err != nil || got.GetDisplayName() != "Petitions Hub" || got.GetLicense() != "MIT" {
		t.Errorf("after the edit: %v, %v", got, err)
	}

	// A use case of it, in another country; then delete both.
	code, page, _ = post(t, c, n.base+"/usecases/new", url.Values{"csrf": {csrf}, "tool": {"origins/fr/tools/petitions"}, "org_name": {"Stadt Wien"},
		"org_kind": {"ORGANIZATION_KIND_LOCAL_GOVERNMENT"}, "org_country": {"at"}, "purpose": {"Petitions of the city"}})
	if code != http.StatusBadRequest || !strings.Contains(page, `id="org_country-error"`) {
		t.Errorf("a lowercase country: %d", code)
	}
	code, _, resp = post(t, c, n.base+"/usecases/new", url.Values{"csrf": {csrf}, "use_case_id": {"wien"}, "tool": {"origins/fr/tools/petitions"}, "org_name": {"Stadt Wien"},
		"org_kind": {"ORGANIZATION_KIND_LOCAL_GOVERNMENT"}, "org_country": {"AT"}, "purpose": {"Petitions of the city"}})
	if code != http.StatusSeeOther || resp.Header.Get("Location") != "/usecases/fr/wien" {
		t.Fatalf("create a use case: %d", code)
	}
	_, page, _ = get(t, c, n.base+"/tools/fr/petitions")
	if !strings.Contains(page, "Austria") || !strings.Contains(page, "Stadt Wien") {
		t.Error("the tool page lacks its new use case")
	}
	for _, p := range []string{"/usecases/fr/wien", "/tools/fr/petitions"} {
		_, page, _ = get(t, c, n.base+p+"/delete")
		code, _, _ := post(t, c, n.base+p+"/delete", url.Values{"csrf": {csrf}, "etag": {regexpValue(t, page, "etag")}})
		if code != http.StatusOK {
			t.Errorf("delete %s: %d", p, code)
		}
		if code, _, _ := get(t, c, n.base+p); code != http.StatusNotFound {
			t.Errorf("%s after delete: %d", p, code)
		}
	}

	// Another origin's records are not curated here.
	if code, _, _ := get(t, c, n.base+"/tools/de/decidim/edit"); code != http.StatusForbidden {
		t.Errorf("edit another origin's tool: %d", code)
	}
}

// TestPaging follows the pages of results forward and back.
func TestPaging(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	for i := range 45 {
		tool := &catalogv1.Tool{DisplayName: fmt.Sprintf("Tool %02d", i), Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool for paging"}}}
		if _, err := n.catalog.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", Tool: tool}); err != nil {
			t.Fatal(err)
		}
	}
	c := client(t)
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`)
	prev := regexp.MustCompile(`href="([^"]+)" rel="prev"`)
	first := func(page string) string { return regexp.MustCompile(`Tool \d\d`).FindString(page) }
	unescape := func(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

	_, p1, _ := get(t, c, n.base+"/?q=paging&order=name")
	if !strings.Contains(p1, "45 tools found") || first(p1) != "Tool 00" || prev.MatchString(p1) {
		t.Fatalf("page 1: first %q", first(p1))
	}
	_, p2, _ := get(t, c, n.base+unescape(next.FindStringSubmatch(p1)[1]))
	_, p3, _ := get(t, c, n.base+unescape(next.FindStringSubmatch(p2)[1]))
	if first(p2) != "Tool 20" || first(p3) != "Tool 40" || next.MatchString(p3) || !strings.Contains(p3, "Page 3") {
		t.Fatalf("pages 2 and 3 start with %q and %q", first(p2), first(p3))
	}
	_, back, _ := get(t, c, n.base+unescape(prev.FindStringSubmatch(p3)[1]))
	_, back1, _ := get(t, c, n.base+unescape(prev.FindStringSubmatch(back)[1]))
	if first(back) != "Tool 20" || first(back1) != "Tool 00" || prev.MatchString(back1) {
		t.Errorf("back: %q, then %q", first(back), first(back1))
	}
}

// TestFacetSaysWhatItLeavesOut: past the 100 values a facet lists, the
// page says how many it leaves out, rather than let the list pass for all.
func TestFacetSaysWhatItLeavesOut(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	for i := range 102 {
		tool := &catalogv1.Tool{DisplayName: fmt.Sprintf("Tool %03d", i), License: fmt.Sprintf("LicenseRef-agreement-%03d", i), Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}}}
		if _, err := n.catalog.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", Tool: tool}); err != nil {
			t.Fatal(err)
		}
	}
	c := client(t)
	_, page, _ := get(t, c, n.base+"/")
	if !strings.Contains(page, "and 2 rarer values, not listed") {
		t.Errorf("the page does not say that the license facet leaves 2 values out")
	}
	// A license chosen still lists the others, its alternatives; a
	// search of one tool lists its license alone.
	_, page, _ = get(t, c, n.base+"/?q=tool&license=LicenseRef-agreement-000")
	if !strings.Contains(page, "and 2 rarer values, not listed") {
		t.Errorf("a license chosen: the page does not say that the other licenses leave 2 values out")
	}
	_, page, _ = get(t, c, n.base+"/?q=000")
	if strings.Contains(page, "not listed") {
		t.Errorf("a search of one tool still says values are left out")
	}
}

// manyFilters is a query of n category filters, each another value.
func manyFilters(n int) string {
	v := url.Values{}
	for i := range n {
		v.Add("category", fmt.Sprintf("c%d", i))
	}
	return v.Encode()
}

// TestPagesOfIDsThatCannotBeAreNotFound: the address of a record
// that cannot exist (an id in capitals, with a dot, an encoded slash, an
// origin in capitals) is a page that does not exist: 404, as an id that
// could exist but does not is, not 400 "the address asks for something
// this node cannot read".
func TestPagesOfIDsThatCannotBeAreNotFound(t *testing.T) {
	n := startNode(t)
	seed(t, n)
	for _, path := range []string{"/tools/fr/Decidim", "/tools/FR/decidim", "/tools/fr/decidim.html", "/tools/fr/a%2Fb", "/usecases/fr/Barcelona", "/tools/fr/nope"} {
		if code, _, _ := get(t, client(t), n.base+path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
}

// TestSignInTokenTrimmed: the API takes the admin token with
// spaces around it (Authorization: Bearer  TOKEN , trimmed); sign-in, where
// it is pasted, refuses it.
func TestSignInTokenTrimmed(t *testing.T) {
	n := startNode(t)
	c := client(t)
	_, page, _ := get(t, c, n.base+"/signin")
	code, _, _ := post(t, c, n.base+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {testToken + " "}, "next": {"/"}})
	if code != http.StatusSeeOther {
		t.Errorf("sign-in with the token and a trailing space: %d, want 303", code)
	}
}

// TestTypedTextLabelled: the page that shows what a refused
// form held (its session ended) gives each read-only textarea a name that
// assistive technology reads (a <label for>, aria-label or
// aria-labelledby), not only a <dt> beside it.
func TestTypedTextLabelled(t *testing.T) {
	n := startNode(t)
	c := client(t)
	form := url.Values{"csrf": {"stale"}, "tool_id": {"kept"}, "display_name": {"Kept"}, "descriptions": {"1"}, "d0_lang": {"en"}, "d0_short": {"Typed text"}}
	code, body, _ := post(t, c, n.base+"/tools/new", form, "Origin", n.base)
	if code != http.StatusUnauthorized {
		t.Fatalf("a form posted signed out: %d", code)
	}
	for _, ta := range regexp.MustCompile(`<textarea[^>]*>`).FindAllString(body, -1) {
		labelled := strings.Contains(ta, "aria-label")
		if m := regexp.MustCompile(`id="([^"]+)"`).FindStringSubmatch(ta); m != nil && strings.Contains(body, `for="`+m[1]+`"`) {
			labelled = true
		}
		if !labelled {
			t.Errorf("a textarea without an accessible name: %s", ta)
		}
	}
}

// TestAdoptionCutSaid: a software with more records than an adoption
// answer holds whole (four tools of 0.9 MB): the tool's page says that
// some are in brief, as the API gives them.
func TestAdoptionCutSaid(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	langs := []string{"en", "fr", "de", "es", "it", "pt", "nl", "pl", "cs", "sk", "sl", "hr", "hu", "ro", "bg", "el", "da", "sv", "fi", "et", "lv", "lt", "ga", "mt", "ca", "eu", "gl", "is", "no", "uk"}
	for i := range 4 {
		tool := &catalogv1.Tool{DisplayName: fmt.Sprintf("Decidim %d", i), RepositoryUrl: "https://github.com/decidim/decidim", License: "AGPL-3.0-or-later",
			Descriptions: map[string]*catalogv1.Description{}}
		for _, l := range langs {
			d := &catalogv1.Description{ShortDescription: "Participatory democracy", LongDescription: strings.Repeat("participation ", 700)}
			for j := range 100 {
				d.Features = append(d.Features, fmt.Sprintf("%d %s", j, strings.Repeat("feature ", 24)))
			}
			tool.Descriptions[l] = d
		}
		if _, err := n.catalog.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: fmt.Sprintf("decidim-%d", i), Tool: tool}); err != nil {
			t.Fatalf("create tool %d: %v", i, err)
		}
	}
	code, page, _ := get(t, client(t), n.base+"/tools/fr/decidim-0")
	if code != 200 || !strings.Contains(page, "Records in brief: 1; use cases left out: 0.") {
		t.Errorf("the page of a tool whose adoption was abridged: %d, says nothing of it", code)
	}
}
