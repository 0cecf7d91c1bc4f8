package validate

import (
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// TestCredentialsNotQuotedAnyShape checks URLs whose credentials a
// parser might miss: no scheme, a password holding "/", "#" or "?", a
// publisher's URI.
func TestCredentialsNotQuotedAnyShape(t *testing.T) {
	for _, tc := range []struct{ field, url, secret string }{
		{"repo", "//bob:s3cret@example.org/x", "s3cret"},          // no scheme: no "://"
		{"repo", "https://bob:s3c/ret@example.org/x", "ret"},      // unescaped "/" in the password
		{"repo", "https://bob:s3c#ret@example.org/x", "ret"},      // unescaped "#" in the password
		{"repo", "https://bob:s3c?ret@example.org/x", "ret"},      // unescaped "?" in the password
		{"publisher", "//bob:s3cret@example.org/x", "s3cret"},     // not an absolute URI
		{"publisher", "https://bob:s3cret@example.org", "s3cret"}, // taken before
	} {
		tool := validTool()
		if tc.field == "repo" {
			tool.RepositoryUrl = tc.url
		} else {
			tool.Publisher = &catalogv1.Publisher{Name: "P", Uri: tc.url}
		}
		var v Violations
		Tool(&v, "tool", tool)
		if len(v.List) == 0 {
			t.Errorf("%s %s: taken", tc.field, tc.url)
		}
		for _, x := range v.List {
			if strings.Contains(x.Description, tc.secret) {
				t.Errorf("%s %s: the violation quotes %s: %s", tc.field, tc.url, tc.secret, x.Description)
			}
		}
	}
}
