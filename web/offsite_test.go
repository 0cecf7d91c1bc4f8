package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// TestSignInStaysOnSite: a sign-in link whose next a browser would follow
// off the site (a backslash it reads as a slash, which http.Redirect's
// cleaning of "/./" would put first) sends the curator to the home page,
// signed in or signing in.
func TestSignInStaysOnSite(t *testing.T) {
	n := startNode(t)
	base, err := url.Parse(n.base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	// followed is where a browser goes from a Location: a backslash is a
	// slash in http(s) URLs.
	followed := func(loc string) *url.URL {
		u, err := base.Parse(strings.ReplaceAll(loc, `\`, "/"))
		if err != nil {
			t.Fatalf("Location %q: %v", loc, err)
		}
		return u
	}
	for _, next := range []string{`/./\evil.example/`, "/\t/evil.example/", `/.\\evil.example`} {
		c := client(t)
		signIn(t, c, n)
		code, _, resp := get(t, c, n.base+"/signin?next="+url.QueryEscape(next))
		if u := followed(resp.Header.Get("Location")); code != 303 || u.Host != base.Host || u.Path != "/" {
			t.Errorf("GET /signin?next=%q signed in: %d, Location %q", next, code, resp.Header.Get("Location"))
		}
		c = client(t)
		_, page, _ := get(t, c, n.base+"/signin?next="+url.QueryEscape(next))
		code, _, resp = post(t, c, n.base+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {testToken}, "next": {regexpValue(t, page, "next")}})
		if u := followed(resp.Header.Get("Location")); code != 303 || u.Host != base.Host || u.Path != "/" {
			t.Errorf("POST /signin with next %q: %d, Location %q", next, code, resp.Header.Get("Location"))
		}
	}
}

// TestLanguageLinksStayOnSite: a page's language links keep the path as
// the request wrote it: /%2Fevil.example links to itself, not to
// //evil.example, another site.
func TestLanguageLinksStayOnSite(t *testing.T) {
	n := startNode(t)
	code, page, _ := get(t, client(t), n.base+"/%2Fevil.example")
	if code != 404 || strings.Contains(page, `href="//`) || !strings.Contains(page, `href="/%2Fevil.example?lang=fr"`) {
		i := max(strings.Index(page, `?lang=fr"`)-60, 0)
		t.Errorf("GET /%%2Fevil.example: %d, its French link: %s", code, page[i:min(i+80, len(page))])
	}
}

// TestLangInCapitals: ?lang=FR is French, and remembered as "fr".
func TestLangInCapitals(t *testing.T) {
	n := startNode(t)
	c := client(t)
	code, page, resp := get(t, c, n.base+"/?lang=FR")
	if code != 200 || !strings.Contains(page, `<html lang="fr"`) || !strings.Contains(page, "Rechercher") {
		t.Errorf("?lang=FR: %d, %.120s", code, page[strings.Index(page, "<html"):])
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "ogpnode_lang" && ck.Value != "fr" {
			t.Errorf("?lang=FR remembered as %q", ck.Value)
		}
	}
}

// TestSearchPageBounded: a search of long filter values (each link of its
// page repeats them: 1 MB of them made a page of 100 MB) is refused, naming
// the parameter.
func TestSearchPageBounded(t *testing.T) {
	n := startNode(t)
	v := url.Values{}
	for i := range 50 {
		v.Add("category", fmt.Sprintf("%02d", i)+strings.Repeat("x", 20000))
	}
	code, body, _ := get(t, client(t), n.base+"/?"+v.Encode())
	if code != 400 || len(body) > 100<<10 || !strings.Contains(body, "category") {
		t.Errorf("a search of %d bytes: %d, a page of %d bytes", len(v.Encode()), code, len(body))
	}
	if code, _, _ := get(t, client(t), n.base+"/?q="+strings.Repeat("word+", 1000)); code != 400 {
		t.Errorf("a query of 5,000 bytes: %d", code)
	}
	if code, _, _ := get(t, client(t), n.base+"/?q=participation&category=collaboration&license=MIT"); code != 200 {
		t.Errorf("a search: %d", code)
	}
}

// TestFormNotUTF8: a posted form whose field is not UTF-8 (not a browser)
// is refused as a bad form, not answered as the node's error.
func TestFormNotUTF8(t *testing.T) {
	n := startNode(t)
	c := client(t)
	csrf := signIn(t, c, n)
	code, body, _ := post(t, c, n.base+"/tools/new", url.Values{"csrf": {csrf}, "tool_id": {"bad"}, "display_name": {"Bad \xff name"},
		"descriptions": {"1"}, "d0_lang": {"en"}, "d0_short": {"A tool"}})
	if code != 400 || !strings.Contains(body, "display_name") {
		t.Errorf("a form not UTF-8: %d", code)
	}
}

// TestCollapsedCount: with "one record per software", the count above the
// list counts software, as the list shows them, not records.
func TestCollapsedCount(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	for _, id := range []string{"decidim", "decidim-bis"} {
		tool := &catalogv1.Tool{DisplayName: "Decidim " + id, RepositoryUrl: "https://github.com/decidim/decidim",
			Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Participatory democracy"}}}
		if _, err := n.catalog.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: id, Tool: tool}); err != nil {
			t.Fatal(err)
		}
	}
	for query, want := range map[string]string{"/?collapse=1": "1 ", "/": "2 "} {
		_, page, _ := get(t, client(t), n.base+query)
		listed := strings.Count(page, `class="tool-card"`)
		i := strings.Index(page, `id="results-heading">`)
		heading := page[i+len(`id="results-heading">`):]
		heading = heading[:strings.Index(heading, "<")]
		if i < 0 || !strings.HasPrefix(heading, want) || listed != int(want[0]-'0') {
			t.Errorf("%s: %d tools listed under %q", query, listed, heading)
		}
	}
}

// TestSignedOutFormKept: a curator whose session ended while a form was
// open (12 hours passed, the node restarted, they signed out in another
// tab) posts it: the page says so, links to sign in, and shows what they
// typed, to copy; the same for a form of an older session.
func TestSignedOutFormKept(t *testing.T) {
	n := startNode(t)
	c := client(t)
	csrf := signIn(t, c, n)
	_, page, _ := get(t, c, n.base+"/")
	post(t, c, n.base+"/signout", url.Values{"csrf": {csrfOf(t, page)}})
	typed := "A long description typed for an hour, <with> \"marks\" & all"
	form := url.Values{"csrf": {csrf}, "tool_id": {"kept"}, "display_name": {"Kept"}, "descriptions": {"1"}, "d0_lang": {"en"}, "d0_short": {typed}}
	code, body, _ := post(t, c, n.base+"/tools/new", form, "Origin", n.base) // as a browser sends it
	if code != 401 || !strings.Contains(body, html.EscapeString(typed)) || !strings.Contains(body, `href="/signin"`) || strings.Contains(body, csrf) {
		i := strings.Index(body, "<main")
		t.Errorf("a form posted once signed out: %d\n%.600s", code, body[max(i, 0):])
	}
	signIn(t, c, n) // a new session: the form's token is the old one's
	code, body, _ = post(t, c, n.base+"/tools/new", form, "Origin", n.base)
	if code != 403 || !strings.Contains(body, html.EscapeString(typed)) {
		t.Errorf("a form of an older session: %d", code)
	}
	// A form another site posts is refused without its text on the page.
	code, body, _ = post(t, c, n.base+"/tools/new", form, "Origin", "https://evil.example")
	if code != 403 || strings.Contains(body, html.EscapeString(typed)) {
		t.Errorf("a form of another site: %d, its text shown %v", code, strings.Contains(body, html.EscapeString(typed)))
	}
}

// TestCookiesSecureBehindAProxy checks that the pages' cookies are Secure
// when a reverse proxy in front of the node says that the browser came over
// TLS, as they are over the node's own: the README tells operators without
// --http-tls-cert to put one there.
func TestCookiesSecureBehindAProxy(t *testing.T) {
	n := startNode(t)
	for _, tc := range []struct {
		header []string
		secure bool
	}{
		{nil, false},
		{[]string{"X-Forwarded-Proto", "https"}, true},
		{[]string{"X-Forwarded-Proto", "HTTPS, http"}, true},
		{[]string{"X-Forwarded-Proto", "http"}, false},
		{[]string{"Forwarded", `for=192.0.2.60;proto=https;by=203.0.113.43`}, true},
		{[]string{"Forwarded", `for=192.0.2.60;proto="https", for=10.0.0.1;proto=http`}, true},
		{[]string{"Forwarded", `for=192.0.2.60;proto=http`}, false},
	} {
		for _, path := range []string{"/signin", "/?lang=fr"} {
			_, _, resp := get(t, client(t), n.base+path, tc.header...)
			cookies := resp.Cookies()
			if len(cookies) == 0 {
				t.Fatalf("GET %s set no cookie", path)
			}
			for _, ck := range cookies {
				if ck.Secure != tc.secure {
					t.Errorf("GET %s with %q: cookie %s Secure=%v, want %v", path, tc.header, ck.Name, ck.Secure, tc.secure)
				}
			}
		}
	}
}

// TestSignInBehindAProxyThatRewritesHost signs in through a reverse proxy
// that sends the node its own address as Host and the browser's in
// X-Forwarded-Host (nginx's proxy_pass by default, Go's
// httputil.ReverseProxy with SetURL): the browser's Origin names the
// proxy's host, and every form was refused as another site's, sign-in
// included. A form from another site is still refused.
func TestSignInBehindAProxyThatRewritesHost(t *testing.T) {
	n := startNode(t)
	target, err := url.Parse(n.base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.SetXForwarded()
	}})
	defer proxy.Close()
	for _, tc := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"a browser", []string{"Origin", proxy.URL, "Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
		{"a browser without Sec-Fetch-Site", []string{"Origin", proxy.URL}, http.StatusSeeOther},
		{"another site's page", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"another site's page, without Sec-Fetch-Site", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"another site's page naming this one's host", []string{"Origin", proxy.URL, "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
	} {
		c := client(t)
		_, page, _ := get(t, c, proxy.URL+"/signin")
		code, body, _ := post(t, c, proxy.URL+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {testToken}, "next": {"/"}}, tc.headers...)
		if code != tc.want {
			i := strings.Index(body, "<main")
			t.Errorf("sign-in through the proxy from %s: %d, want %d\n%.400s", tc.name, code, tc.want, body[max(i, 0):])
		}
	}
}
