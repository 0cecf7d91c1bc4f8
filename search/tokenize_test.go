package search

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// referenceTokens is appendTokens' rule applied one rune at a time, with
// nothing worked out in advance: what the fast paths must agree with.
func referenceTokens(s string) []string {
	var out []string
	var tok []byte
	var prev string // the last character of a spaceless run, while in one
	inRun := false
	flush := func() {
		if len(tok) > 0 {
			out = append(out, string(tok))
			tok = tok[:0]
		}
	}
	endRun := func() {
		if inRun {
			out = append(out, prev)
			inRun = false
		}
	}
	for _, r := range s {
		if spaceless(r) {
			f, ok := foldRune(nil, r)
			switch {
			case ok && len(f) > 0:
				flush()
				for _, c := range string(f) { // each character it folds to
					if inRun {
						out = append(out, prev+string(c))
					}
					prev, inRun = string(c), true
				}
			case !ok:
				endRun()
				flush()
			}
			continue
		}
		if f, ok := foldRune(nil, r); inRun && ok && len(f) == 0 {
			continue // a combining mark in a run: part of it, dropped
		}
		endRun()
		var ok bool
		tok, ok = foldRune(tok, r)
		if !ok {
			flush()
		}
	}
	endRun()
	flush()
	return out
}

// FuzzTokens checks Tokens against referenceTokens. Its seeds, and the
// random texts of TestTokensMatchReference, run with every go test.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{
		"Décidim: e-Petitions, 2024!", "ÉDUCATION Œuvre naïve façade", "Cafe\u0301 (decomposed)",
		"Участие граждан", "v2.0_beta", "ABCdef123GHI", "\xff\xfeinvalid\xc3", "ǅungla Ǉ", "x\u0308y",
		"开放政府数据平台", "電子請願システム", "Go语言", "ระบบร้องเรียน",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Tokens(s), referenceTokens(s); !slices.Equal(got, want) {
			t.Errorf("Tokens(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestTokensMatchReference checks Tokens against referenceTokens on random
// texts mixing the classes of characters appendTokens treats apart: ASCII
// letters of both cases, digits and separators, Latin letters with
// diacritics, other scripts, combining marks and invalid UTF-8.
func TestTokensMatchReference(t *testing.T) {
	pieces := []string{"a", "Z", "q", "M", "7", "0", " ", "-", "_", ".", "\t", "é", "Ç", "ß", "ø", "Ł", "ǅ",
		"ж", "Щ", "中", "国", "の", "カ", "ｶ", "ﾞ", "ー", "\u3099", "\U000E0100", "ก", "\u0e34", "฿", "ໝ", "ຫ", "ゟ", "ά", "\u0301", "\u0308", "\u20dd", "①", "\xff", "\xc3", "İ", "ﬁ"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := Tokens(s), referenceTokens(s); !slices.Equal(got, want) {
			t.Fatalf("Tokens(%q) = %q, want %q", s, got, want)
		}
	}
	// The reference treats every rune alike; check that it is the rule
	// the package documents for ASCII.
	for c := rune(0); c < utf8.RuneSelf; c++ {
		got := referenceTokens(string(c))
		if keep := unicode.IsLetter(c) || unicode.IsDigit(c); keep != (len(got) == 1) || keep && got[0] != string(unicode.ToLower(c)) {
			t.Errorf("%q gives the tokens %q", c, got)
		}
	}
}
