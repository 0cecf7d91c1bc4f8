package clip

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"0123456789abc", 10, "0123456789… (3 more bytes)"},
		{"aé" + strings.Repeat("x", 8), 2, "a… (10 more bytes)"}, // é is two bytes: not cut within
	} {
		got := Bytes(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("Bytes(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Bytes(%q, %d) = %q, not UTF-8", tc.in, tc.max, got)
		}
	}
}
