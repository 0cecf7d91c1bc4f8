package publiccode

import (
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// isLanguageTag reports whether s is a BCP 47 language tag the way the
// reference parser's strict check has it (RFC 5646): the grammar first,
// which refuses what golang.org/x/text would forgive (en_GB, a 4-letter
// language), then each subtag against the registry as x/text knows it.
// A language that has a two-letter code must be written with it ("en",
// not "eng").
// Unlike the reference, the prefixes that the registry sets for variants
// and extended languages ("nedis" only after "sl") are not checked.
func isLanguageTag(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	lower := strings.ToLower(s)
	if slices.Contains(grandfathered[:], lower) {
		return true
	}
	subtags := strings.Split(lower, "-")
	for _, st := range subtags {
		if st == "" || len(st) > 8 || !isAlnumString(st) {
			return false
		}
	}
	if subtags[0] == "x" {
		return len(subtags) > 1 // private use only
	}
	rest, ok := languageSubtags(subtags)
	if !ok {
		return false
	}
	if len(rest) > 0 && len(rest[0]) == 4 && isAlphaString(rest[0]) {
		if _, err := language.ParseScript(rest[0]); err != nil {
			return false
		}
		rest = rest[1:]
	}
	if len(rest) > 0 && isRegion(rest[0]) {
		if len(rest[0]) == 2 {
			if _, err := language.ParseRegion(rest[0]); err != nil {
				return false
			}
		} else if !isM49(rest[0]) {
			return false
		}
		rest = rest[1:]
	}
	for len(rest) > 0 && isVariant(rest[0]) {
		if _, err := language.ParseVariant(rest[0]); err != nil {
			return false
		}
		rest = rest[1:]
	}
	rest, ok = extensions(rest)
	if !ok {
		return false
	}
	if len(rest) > 0 {
		// Only a private-use part may follow: x-AAA[-BBB...].
		if rest[0] != "x" || len(rest) < 2 {
			return false
		}
	}
	_, err := language.Parse(s)
	return err == nil
}

// languageSubtags reads the primary language (2 or 3 letters, canonical)
// and any extended language subtags (3 letters each, at most 3), and
// returns what follows.
func languageSubtags(subtags []string) ([]string, bool) {
	lang := subtags[0]
	if len(lang) < 2 || len(lang) > 3 || !isAlphaString(lang) {
		// 4 letters are reserved, 5 to 8 only registered: neither is used.
		return nil, false
	}
	base, err := language.ParseBase(lang)
	if err != nil || base.String() != lang {
		return nil, false
	}
	rest := subtags[1:]
	for n := 0; n < 3 && len(rest) > 0 && len(rest[0]) == 3 && isAlphaString(rest[0]); n++ {
		if _, err := language.ParseBase(rest[0]); err != nil {
			return nil, false
		}
		rest = rest[1:]
	}
	return rest, true
}

// extensions reads extension sequences: a singleton other than x, then
// subtags of 2 to 8 characters.
func extensions(rest []string) ([]string, bool) {
	for len(rest) > 0 && len(rest[0]) == 1 && rest[0] != "x" {
		n := 1
		for n < len(rest) && len(rest[n]) >= 2 {
			n++
		}
		if n == 1 {
			return nil, false
		}
		if _, err := language.ParseExtension(strings.Join(rest[:n], "-")); err != nil {
			return nil, false
		}
		rest = rest[n:]
	}
	return rest, true
}

func isRegion(s string) bool {
	return (len(s) == 2 && isAlphaString(s)) || (len(s) == 3 && isDigitString(s))
}

// isVariant: 5 to 8 characters, or 4 starting with a digit.
func isVariant(s string) bool {
	return len(s) >= 5 || (len(s) == 4 && isDigit(s[0]))
}

func isAlnumString(s string) bool { return allBytes(s, isAlnum) }
func isAlphaString(s string) bool { return allBytes(s, isLetter) }
func isDigitString(s string) bool { return allBytes(s, isDigit) }

func allBytes(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}
