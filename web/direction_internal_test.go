package web

import "testing"

// TestDirectionOf: the direction of text in a language. Languages of a
// right-to-left script are rtl: those whose tag names no script CLDR's
// likely subtags give (Dari, "prs", an OGP member's), or that name
// Arabic's Nastaliq form ("ur-Aran"), as "fa" and "ur" are; a language of
// such a script written in another (Sindhi in Devanagari) is not.
func TestDirectionOf(t *testing.T) {
	for lang, want := range map[string]string{
		"ar": "rtl", "ar-MA": "rtl", "he": "rtl", "iw": "rtl", "fa": "rtl", "prs": "rtl", "ur": "rtl", "ur-Aran": "rtl",
		"ku-Arab": "rtl", "ckb": "rtl", "ps": "rtl", "yi": "rtl", "dv": "rtl", "az-Arab": "rtl",
		"fr": "auto", "en": "auto", "sd-Deva": "auto", "ar-Latn": "auto", "az": "auto", "und": "auto", "": "auto", "not a tag!": "auto",
	} {
		if got := directionOf(lang); got != want {
			t.Errorf("directionOf(%q) = %q, want %q", lang, got, want)
		}
	}
}
