package jsonpos

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLocatorAgreesWithLineColumn checks that a Locator gives every offset
// (where a character starts, as a key does) of documents of long and short lines, with characters of one to four
// bytes across its blocks' edges, the line and column LineColumn gives.
func TestLocatorAgreesWithLineColumn(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "{\"k\":1}", "é", "€", "𝄞", "\n", ",", " ", "\r\n"}
	for _, size := range []int{0, 1, 100, runeBlock - 1, runeBlock, 3*runeBlock + 17, 40_000} {
		for _, newlines := range []bool{true, false} {
			var b strings.Builder
			for b.Len() < size {
				p := pieces[r.IntN(len(pieces))]
				if !newlines && strings.Contains(p, "\n") {
					continue
				}
				b.WriteString(p)
			}
			data := []byte(b.String())
			l := NewLocator(data)
			for off := -1; off <= len(data)+1; off++ {
				if off > 0 && off < len(data) && !utf8.RuneStart(data[off]) {
					continue // inside a character: no key starts there
				}
				line, col := l.LineColumn(off)
				wantLine, wantCol := LineColumn(data, off)
				if line != wantLine || col != wantCol {
					t.Fatalf("a document of %d bytes (newlines %v), offset %d: line %d, column %d; want %d, %d", len(data), newlines, off, line, col, wantLine, wantCol)
				}
			}
		}
	}
}
