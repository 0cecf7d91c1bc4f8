// Package textfit fits the text of harvested sources into the catalog's
// description fields: a one-line short description of at most 150
// characters and a long one of at most 10,000, cut at word boundaries,
// nothing lost that fits.
package textfit

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the catalog's description fields, as package validate checks
// them.
const (
	MaxShortDescription = 150
	MaxLongDescription  = 10000
)

// Describe splits a source's description into the catalog's one-line short
// description and, when that line does not hold the whole text, the full
// text as the long description. The short line is the text's first line,
// cut at a word boundary with "…" when it is longer than the catalog
// allows; nothing is lost, since the long description then keeps the whole
// text (cut only past its own, much larger, limit).
func Describe(text string) (short, long string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", ""
	}
	first, _, _ := strings.Cut(text, "\n")
	short = Shorten(OneLine(first), MaxShortDescription)
	if short == OneLine(text) {
		return short, ""
	}
	return short, Shorten(text, MaxLongDescription)
}

// OneLine collapses every run of white space, line breaks included, into
// one space.
func OneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Shorten returns s if it has at most max characters, else its beginning
// cut at a word boundary (or mid-word when the first half of the text has
// no space) and ended with "…", at most max characters in all.
func Shorten(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	keep := max - 1 // room for the ellipsis
	cut := keep
	if !unicode.IsSpace(r[keep]) { // the cut would split a word
		for i := keep - 1; i > keep/2; i-- {
			if unicode.IsSpace(r[i]) {
				cut = i
				break
			}
		}
	}
	out := strings.TrimRightFunc(string(r[:cut]), func(c rune) bool {
		return unicode.IsSpace(c) || strings.ContainsRune(",;:-–—", c)
	})
	if out == "" {
		out = string(r[:keep])
	}
	return out + "…"
}
