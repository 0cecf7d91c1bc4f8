package web_test

import (
	"net/url"
	"strings"
	"testing"
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
