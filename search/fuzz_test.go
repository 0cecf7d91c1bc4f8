package search

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParseText: a query's parse never panics; a query refused is a
// QueryError, and one taken has phrases, each of a word.
func FuzzParseText(f *testing.F) {
	for _, s := range []string{
		"democratie participative", "part*", "part *", "开放政府数据平台", "政府*", "中 国 人 民 大",
		"a b c d e f g h i j k l m n o p q r s t u v w x y z a b c d e f g", "ระบบร้องเรียน", "\xff*", "*", "",
		"電子請願システム budget*", "Straße ﬁnances ǅ", "x\u0308y*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := parseText(s)
		if err != nil {
			if qe := (*QueryError)(nil); !errors.As(err, &qe) {
				t.Fatalf("parseText(%q): %T %v, not a QueryError", s, err, err)
			}
			return
		}
		if len(ps) == 0 {
			t.Fatalf("parseText(%q) taken with no phrase", s)
		}
		for _, p := range ps {
			if p.token == "" || !utf8.ValidString(p.token) {
				t.Fatalf("phrase %q of %q", p.token, s)
			}
		}
	})
}

// FuzzSortKeyIdempotent: SortKey folds letters as tokens are; folding a
// folded key again changes nothing.
func FuzzSortKeyIdempotent(f *testing.F) {
	for _, s := range []string{"Écrivons", "Zeste", "STRASSE", "Straße", "ﬁnances", "ǅungla", "ΔΙΑΦΑΝΕΙΑΣ", "Ｄ", "½", "İstanbul", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if k := SortKey(s); SortKey(k) != k {
			t.Fatalf("SortKey(%q) = %q, SortKey of that = %q", s, k, SortKey(k))
		}
	})
}
