package sill

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkRejectedOnOneLine reads a SILL file written on one line, as the
// SILL is published (minified), of 20,000 records that all lack their
// name: each finding is located in the file. Locating each from the start
// of the file made the read grow with the square of the file (2 min 11 s
// for 100,000 such records); its cost must grow with the file.
func BenchmarkRejectedOnOneLine(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	const n = 20_000
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id":"%d","i":"","fr-desc":"Logiciel"}`, i+1)
	}
	sb.WriteString("]")
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, rejected, err := Parse(b.Context(), data); err != nil || len(rejected) != n {
			b.Fatalf("%d rejected, %v", len(rejected), err)
		}
	}
}
