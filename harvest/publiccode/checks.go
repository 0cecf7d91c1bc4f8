package publiccode

import (
	"fmt"
	"net/mail"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ogptoolbox/federation/validate"
	"github.com/rivo/uniseg"
)

// The value checks of the standard, each as the reference parser makes it
// (its v0 validators, go-playground/validator's url, http_url, email,
// iso3166_1_alpha2 and urn_rfc2141 among them), returning what is wrong
// for people, or "" when the value is fine.

// graphemes counts what a person sees as characters: the standard's
// lengths are counted this way ("👦🏽" is one character, not two runes).
func graphemes(s string) int { return uniseg.GraphemeClusterCount(s) }

// clip shortens a value quoted in a message.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// checkURL is the reference's url_url: an absolute URL with a scheme and
// something after it (a host, or an opaque part as in mailto:), or a
// file: URL.
func checkURL(s string) string {
	ls := strings.ToLower(s)
	if strings.HasPrefix(ls, "file:/") {
		if _, err := url.ParseRequestURI(ls); err == nil {
			return ""
		}
	}
	u, err := url.Parse(ls)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Fragment == "" && u.Opaque == "") {
		return fmt.Sprintf("%q is not a valid URL (such as https://example.org/project.git)", clip(s))
	}
	return ""
}

// checkHTTPURL is the reference's url_http_url: an http or https URL with
// a host.
func checkHTTPURL(s string) string {
	if checkURL(s) == "" {
		if u, err := url.Parse(strings.ToLower(s)); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
			return ""
		}
	}
	return fmt.Sprintf("%q is not an http or https URL", clip(validate.WithoutCredentials(s)))
}

// checkDate wants YYYY-MM-DD, the only date form the standard allows.
func checkDate(s string) string {
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return fmt.Sprintf("%q is not a date of the form YYYY-MM-DD", clip(s))
	}
	return ""
}

// checkEmail wants a bare address (no display name) whose domain is a
// dotted host name ending in a letter, as the reference's e-mail pattern
// does; net/mail parses the local part, so what passes is also what the
// catalog takes. The finding does not quote the address, a person's: the
// reports of a source are public, and kept after the entry is gone.
func checkEmail(s string) string {
	const bad = "is not an e-mail address (one of the form name@example.org)"
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return bad
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	labels := strings.Split(strings.TrimSuffix(domain, "."), ".")
	if len(labels) < 2 {
		return bad
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' || strings.ContainsAny(l, "[]") {
			return bad
		}
	}
	tld := labels[len(labels)-1]
	if isDigit(tld[0]) || isDigit(tld[len(tld)-1]) {
		return bad
	}
	return ""
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }

// checkMIME wants a media type of the form type/subtype (RFC 6838), as the
// reference's pattern does; surrounding spaces are allowed.
func checkMIME(s string) string {
	t, sub, ok := strings.Cut(strings.Trim(s, " "), "/")
	if ok && mimePart(t, "!#$&^_-") && mimePart(sub, "!#$&^_.+-") {
		return ""
	}
	return fmt.Sprintf("%q is not a MIME type such as text/csv", clip(s))
}

// mimePart is a name of 1 to 127 characters: a letter or digit, then
// letters, digits or the given punctuation.
func mimePart(s, punct string) bool {
	if s == "" || len(s) > 127 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) && !strings.ContainsRune(punct, rune(s[i])) {
			return false
		}
	}
	return true
}

// checkOrganisationURI is the reference's organisation_uri: an absolute
// URI with a host (a web site), or a URN. urn:x-italian-pa:CODE names an
// Italian public administration by its iPA code, which must be in the iPA
// register (case ignored), as the reference checks it.
func checkOrganisationURI(s string) string {
	u, err := url.ParseRequestURI(s)
	switch {
	case err != nil:
	case strings.EqualFold(u.Scheme, "urn"):
		if !isURN(s) {
			break
		}
		if code, ok := cutPrefixFold(u.Opaque, "x-italian-pa:"); ok {
			if code == "" {
				return fmt.Sprintf("%q names no Italian public administration: write urn:x-italian-pa:[codiceIPA]", clip(s))
			}
			if !isIPACode(code) {
				return fmt.Sprintf("%q names no Italian public administration: %q is not an iPA code in %s; write urn:x-italian-pa:[codiceIPA]", clip(s), clip(code), ipaSource)
			}
		}
		return ""
	case u.Host != "":
		return ""
	}
	return fmt.Sprintf("%q is not a valid URI: give the organisation's web site (https://...) or a URN (urn:...)", clip(s))
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// isURN checks the syntax of RFC 2141: urn:NID:NSS, the namespace id of 1
// to 32 letters, digits and hyphens not starting with a hyphen (and not
// "urn"), the namespace-specific string of URN characters and %-escapes.
func isURN(s string) bool {
	rest, ok := cutPrefixFold(s, "urn:")
	if !ok {
		return false
	}
	nid, nss, ok := strings.Cut(rest, ":")
	if !ok || nid == "" || len(nid) > 32 || nid[0] == '-' || strings.EqualFold(nid, "urn") || nss == "" {
		return false
	}
	for i := 0; i < len(nid); i++ {
		if !isAlnum(nid[i]) && nid[i] != '-' {
			return false
		}
	}
	for i := 0; i < len(nss); i++ {
		c := nss[i]
		switch {
		case isAlnum(c) || strings.IndexByte("()+,-.:=@;$_!*'/?#", c) >= 0:
		case c == '%' && i+2 < len(nss) && isHex(nss[i+1]) && isHex(nss[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

// checkSupportsID wants a known alias (alias:gdpr) or an absolute URI.
func checkSupportsID(s string) string {
	if name, ok := strings.CutPrefix(s, "alias:"); ok {
		if _, known := aliasName(name); !known {
			return fmt.Sprintf("%q is not a known alias: use one of %s, or the URI of the standard", clip(s), strings.Join(aliasList(), ", "))
		}
		return ""
	}
	// The reference's uri check: what is before any fragment must be an
	// absolute URI.
	base, _, _ := strings.Cut(s, "#")
	if _, err := url.ParseRequestURI(base); err != nil || base == "" || strings.HasPrefix(base, "/") {
		return fmt.Sprintf("%q is neither a known alias (alias:gdpr) nor an absolute URI", clip(s))
	}
	return ""
}

// checkCountry wants an ISO 3166-1 alpha-2 code, all upper case or (as
// the deprecated form) all lower case.
func checkCountry(s string) (msg string, lower bool) {
	up := strings.ToUpper(s)
	if (s == up || s == strings.ToLower(s)) && isCountry(up) {
		return "", s != up
	}
	return fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code such as IT or DE", clip(s)), false
}

// isCountry reports whether c is an upper-case ISO 3166-1 alpha-2 code.
func isCountry(c string) bool {
	if len(c) != 2 {
		return false
	}
	for i := 0; i+1 < len(iso3166); i += 3 {
		if iso3166[i:i+2] == c {
			return true
		}
	}
	return false
}

// checkFile checks a logo, screenshot or authors file: a path relative to
// the repository's root or an http(s) URL, with one of exts (any, when
// exts is empty). The reference then looks for the file, in the
// repository or on the network: that is not done here.
func checkFile(s string, exts ...string) string {
	switch {
	case strings.HasPrefix(s, "/"):
		return fmt.Sprintf("%q is an absolute path: give a path relative to the repository's root, or an http(s) URL", clip(s))
	case strings.HasPrefix(strings.ToLower(s), "file:"):
		return fmt.Sprintf("%q is a file: URL: give a path relative to the repository's root, or an http(s) URL", clip(s))
	case len(exts) == 0:
		return ""
	}
	p := s
	if u, err := url.ParseRequestURI(s); err == nil {
		p = u.Path
	}
	if !slices.Contains(exts, strings.ToLower(path.Ext(p))) {
		return fmt.Sprintf("%q has an unsupported file extension: use %s", clip(s), strings.Join(exts, ", "))
	}
	return ""
}

// checkLength counts s in characters (grapheme clusters), as the
// reference does; max or min 0 means no bound.
func checkLength(s string, min, max int) string {
	n := graphemes(s)
	switch {
	case max > 0 && n > max:
		return fmt.Sprintf("is %d characters long, more than the %d the standard allows", n, max)
	case n < min:
		return fmt.Sprintf("is %d characters long, less than the %d the standard asks for", n, min)
	}
	return ""
}

// isScope reports whether s is in the standard's scope list.
func isScope(s string) bool { return slices.Contains(scopes[:], s) }
