package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/ogptoolbox/federation/node"
)

// TestSignInLockoutBehindAProxy: behind a TLS reverse proxy the node
// trusts (--trusted-proxies: every request from its address, the reader's
// in X-Forwarded-For, as nginx's proxy_set_header X-Forwarded-For
// $remote_addr gives it), a stranger's wrong tokens lock out the
// stranger's address, not the point of contact's: every reader had the
// proxy's address, and six wrong tokens of anyone's locked the point of
// contact out. Without --trusted-proxies, the header is anyone's word, and
// the proxy's address counts.
func TestSignInLockoutBehindAProxy(t *testing.T) {
	n := startNodeIn(t, filepath.Join(t.TempDir(), "data"), func(c *node.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
	target, err := url.Parse(n.base)
	if err != nil {
		t.Fatal(err)
	}
	// The proxy says whom it forwards; here, whom the test says the
	// reader is (its readers are all on this machine).
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.SetXForwarded() // the host the reader asked for, for the node's same-origin check
		r.Out.Header.Set("X-Forwarded-For", r.In.Header.Get("X-Test-Reader"))
	}})
	defer proxy.Close()
	signIn := func(c *http.Client, token, reader string) int {
		_, page, _ := get(t, c, proxy.URL+"/signin")
		code, _, _ := post(t, c, proxy.URL+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {token}, "next": {"/"}},
			"Origin", proxy.URL, "X-Test-Reader", reader)
		return code
	}
	stranger := client(t)
	for range 6 {
		signIn(stranger, "a-wrong-guess-0123456789", "203.0.113.66")
	}
	if code := signIn(stranger, "a-wrong-guess-0123456789", "203.0.113.66"); code != http.StatusTooManyRequests {
		t.Errorf("the stranger's next wrong token: %d, want %d", code, http.StatusTooManyRequests)
	}
	if code := signIn(client(t), testToken, "198.51.100.7"); code != http.StatusSeeOther {
		t.Errorf("the point of contact's right token, after a stranger's 6 wrong ones through the proxy: %d, want %d", code, http.StatusSeeOther)
	}

	// No proxy trusted: a stranger naming itself anew at each guess is
	// locked out all the same.
	untrusting := startNode(t)
	direct := client(t)
	for i := range 6 {
		_, page, _ := get(t, direct, untrusting.base+"/signin")
		code, _, _ := post(t, direct, untrusting.base+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {"a-wrong-guess-0123456789"}, "next": {"/"}},
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		if i == 5 && code != http.StatusTooManyRequests {
			t.Errorf("the sixth wrong token of a stranger naming itself anew, no proxy trusted: %d, want %d", code, http.StatusTooManyRequests)
		}
	}
}
