package validate

import (
	"strings"
	"testing"
)

// TestCredentialsNotQuoted checks that a URL refused, for whatever reason,
// is not quoted with its credentials: the violation is answered, logged,
// and kept in public harvest reports.
func TestCredentialsNotQuoted(t *testing.T) {
	for _, tc := range []struct{ url, secret string }{
		{"https://bob:s3cret@example.org:99999/x", "s3cret"},   // refused for its port first, quoted whole
		{"ftp://bob:s3cret@example.org/x", "s3cret"},           // refused for its scheme, quoted whole
		{"https://ghp_T0KEN@github.com/org/repo", "ghp_T0KEN"}, // a token as the user name, kept by Redacted
	} {
		tool := validTool()
		tool.RepositoryUrl = tc.url
		var v Violations
		Tool(&v, "tool", tool)
		if len(v.List) == 0 {
			t.Errorf("%s: taken", tc.url)
		}
		for _, x := range v.List {
			if strings.Contains(x.Description, tc.secret) {
				t.Errorf("%s: the violation quotes %s: %s", tc.url, tc.secret, x.Description)
			}
		}
	}
}

// TestMarksAloneInvisible checks that a name of marks alone (a variation
// selector, a combining grapheme joiner) is refused as holding nothing
// visible.
func TestMarksAloneInvisible(t *testing.T) {
	for _, name := range []string{"\uFE0F", "\u034F", "\u200B\uFE0F"} {
		tool := validTool()
		tool.DisplayName = name
		var v Violations
		Tool(&v, "tool", tool)
		if len(v.List) == 0 {
			t.Errorf("display name %+q (nothing visible) taken", name)
		}
	}
}
