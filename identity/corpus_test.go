package identity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sillURLs returns the source and web site URLs of the French SILL, a real
// national catalog kept in shared/ beside the module.
func sillURLs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", "sill", "sill.json"))
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	var records []struct {
		Sources string `json:"sources"`
		Website string `json:"website"`
	}
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, r := range records {
		for _, u := range []string{r.Sources, r.Website} {
			if u != "" {
				urls = append(urls, u)
			}
		}
	}
	return urls
}

// Every http(s) URL of a real catalog has a key, and the key is stable.
func TestNormalizeURLOnSILL(t *testing.T) {
	urls := sillURLs(t)
	keyed := 0
	for _, u := range urls {
		got := NormalizeURL(u)
		isHTTP := strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")
		if isHTTP && got == "" && !strings.ContainsAny(u, " )") {
			t.Errorf("NormalizeURL(%q) = \"\", want a key", u)
		}
		if got == "" {
			continue
		}
		keyed++
		if again := NormalizeURL("https://" + got); again != got {
			t.Errorf("NormalizeURL(%q) = %q, not stable: %q", u, got, again)
		}
	}
	if keyed < len(urls)/2 {
		t.Errorf("only %d of %d URLs have a key", keyed, len(urls))
	}
	// Projects that share a gitweb host keep their own keys.
	if a, b := NormalizeURL("https://git.ghostscript.com/?p=mupdf.git"), NormalizeURL("https://git.ghostscript.com/?p=ghostpdl.git"); a == b {
		t.Errorf("two gitweb projects share the key %q", a)
	}
}
