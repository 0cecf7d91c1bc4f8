package publiccode

import (
	"strings"
	"testing"

	"golang.org/x/text/language"
)

func TestIsLanguageTag(t *testing.T) {
	for s, want := range map[string]bool{
		"en": true, "it": true, "pt-BR": true, "en-GB": true, "sl-IT-nedis": true,
		"zh-Hant-TW": true, "es-419": true, "de-DE-1996": true, "i-klingon": true,
		"x-private": true, "en-x-custom": true, "en-u-ca-gregory": true, "iw": true,
		"en_GB": false, "hr_HR": false, "xxx": false, "eng": false, "engl": false,
		"english": false, "": false, "en-": false, "-en": false, "en--GB": false,
		"no such language": false, "en-Abcd": false, "es-999": false, "en-GB-x": false,
		"x": false, "en-a": false, "en-toolongsubtag": false,
	} {
		if got := isLanguageTag(s); got != want {
			t.Errorf("isLanguageTag(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCountryTable(t *testing.T) {
	codes := strings.Fields(iso3166)
	if len(codes) != 249 || len(iso3166) != 249*3-1 {
		t.Fatalf("%d codes in a table of %d bytes, want 249 codes three bytes apart", len(codes), len(iso3166))
	}
	for i, c := range codes {
		r, err := language.ParseRegion(c)
		if err != nil || !r.IsCountry() || r.String() != c {
			t.Errorf("%s is not a country for x/text (%v)", c, err)
		}
		if i > 0 && codes[i-1] >= c {
			t.Errorf("%s is out of order", c)
		}
		if !isCountry(c) {
			t.Errorf("isCountry(%s) is false", c)
		}
	}
	for _, c := range []string{"UK", "EU", "XK", "YU", "ZZ", "it", "I", "ITA", " D"} {
		if isCountry(c) {
			t.Errorf("isCountry(%q) is true", c)
		}
	}
}

func TestChecks(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) string
		good  []string
		bad   []string
	}{
		{"url", checkURL,
			[]string{"https://github.com/a/b.git", "git://example.org/x", "ssh://git@example.org/x.git", "file:///srv/repo", "HTTPS://EXAMPLE.ORG"},
			[]string{"foobar", "", "github.com/a/b", "https://", "git@github.com:a/b.git"}},
		{"http url", checkHTTPURL,
			[]string{"https://example.org", "http://example.org/a?b#c", "HTTP://EXAMPLE.ORG"},
			[]string{"ftp://example.org", "example.org", "https://", "???", "mailto:a@example.org"}},
		{"date", checkDate,
			[]string{"2017-04-15", "2024-02-29"},
			[]string{"", "2017-4-15", "2023-02-29", "2011-01-01 20:04:05", "15/04/2017"}},
		{"email", checkEmail,
			[]string{"a@example.org", "first.last+tag@sub.example.co.uk"},
			[]string{"not_an_email", "a@b", "A <a@example.org>", "a@example.1", "a@-x.org", "@example.org", "a@@example.org"}},
		{"mime", checkMIME,
			[]string{"text/plain", "application/vnd.oasis.opendocument.text", " image/svg+xml "},
			[]string{"foobar", "text/", "/plain", "text/pl ain", "a/b/c"}},
		{"organisation uri", checkOrganisationURI,
			[]string{"https://www.comune.roma.it", "urn:x-italian-pa:pcm", "urn:x-foobar:my-organization", "URN:ISBN:0451450523"},
			[]string{"pcm", "1", "urn:x-italian-pa:", "urn:urn:x", "urn:-x:y", "urn:x:", "urn:x:a b", "//example.org"}},
		{"supports id", checkSupportsID,
			[]string{"alias:gdpr", "alias:io", "https://eur-lex.europa.eu/eli/reg/2016/679/oj", "urn:iso:std:iso:27001"},
			[]string{"alias:nonexistent", "alias:", "gdpr", "not a uri", "/relative", ""}},
	}
	for _, tc := range tests {
		for _, s := range tc.good {
			if msg := tc.check(s); msg != "" {
				t.Errorf("%s %q: %s", tc.name, s, msg)
			}
		}
		for _, s := range tc.bad {
			if tc.check(s) == "" {
				t.Errorf("%s %q: accepted", tc.name, s)
			}
		}
	}
}

func TestCheckFile(t *testing.T) {
	for s, want := range map[string]bool{
		"img/logo.svg": true, "logo.PNG": true, "https://example.org/logo.svgz?raw=1": true,
		"/logo.png": false, "file:///logo.png": false, "file:logo.png": false, "logo.mpg": false, "logo": false,
	} {
		if got := checkFile(s, ".svg", ".svgz", ".png") == ""; got != want {
			t.Errorf("checkFile(%q) ok = %v, want %v", s, got, want)
		}
	}
}

func TestCheckLength(t *testing.T) {
	// Five characters, seven code points: counted as five.
	s := "e\u0301e\u0301abc"
	if msg := checkLength(s, 0, 5); msg != "" {
		t.Errorf("checkLength(%q, 0, 5): %s", s, msg)
	}
	if checkLength(s, 6, 0) == "" {
		t.Errorf("checkLength(%q, 6, 0) accepted", s)
	}
}
