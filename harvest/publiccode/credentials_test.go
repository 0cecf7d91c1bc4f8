package publiccode

import (
	"strings"
	"testing"
)

// TestURLFindingsHideCredentials checks that a finding on a URL does
// not quote its credentials: harvest reports are public.
func TestURLFindingsHideCredentials(t *testing.T) {
	for _, msg := range []string{
		fitURL("ftp://bob:s3cret@example.org/x"),
		checkHTTPURL("ftp://bob:s3cret@example.org/x"),
	} {
		if strings.Contains(msg, "s3cret") {
			t.Errorf("quotes the password: %s", msg)
		}
	}
}
