package qualify

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// joinAnd joins items for a sentence: "a", "a and b", "a, b and c".
func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// sentence makes a sentence of clauses: the first capitalised, all joined
// with ", and ", a full stop at the end.
func sentence(clauses ...string) string {
	s := strings.Join(clauses, ", and ")
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:] + "."
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
