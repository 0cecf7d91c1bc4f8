// Package clip bounds texts a node keeps or shows that quote what others
// sent (a harvested file's read errors, a peer's refused page): cut at a
// byte length, at a character's start, saying how much was left out.
package clip

import (
	"fmt"
	"unicode/utf8"
)

// Bytes is s if it holds at most max bytes, else its first max bytes or
// fewer, cut at a character's start, followed by how many bytes it leaves
// out.
func Bytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	end := max
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:end], len(s)-end)
}
