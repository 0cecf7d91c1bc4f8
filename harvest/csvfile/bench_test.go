package csvfile

import (
	"strings"
	"testing"
)

// BenchmarkWideRow reads a file whose last row is 100,000 cells (one
// rejected for them): each cell's column in characters was counted from
// its line's start, which took 10 s for 200 KB; its cost must grow with
// the row, not its square.
func BenchmarkWideRow(b *testing.B) {
	data := []byte("id,display_name,desc\n1,Name,A description\n" + "2,Wide,A row too wide" + strings.Repeat(",é", 100000) + "\n")
	m := Mapping{"id": "id", "display_name": "display_name", "descriptions.en.short_description": "desc"}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if entries, rejected, err := Parse(b.Context(), data, m); err != nil || len(entries) != 1 || len(rejected) != 1 {
			b.Fatalf("%d entries, %d rejected, %v", len(entries), len(rejected), err)
		}
	}
}
