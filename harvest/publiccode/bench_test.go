package publiccode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkParse reads every valid file of the corpus, one per iteration
// in turn, and reports files per second (one core). The harvester's goal
// is 10,000 files at 1,000 files/s or more on 2 cores, end to end, so
// Parse must stay well under a millisecond for a typical file.
func BenchmarkParse(b *testing.B) {
	corpus := corpusDir(b)
	var files [][]byte
	for _, folder := range []string{"valid", "valid_with_warnings"} {
		for _, rel := range corpusFiles(b, corpus, folder) {
			data, err := os.ReadFile(filepath.Join(corpus, "v0", rel))
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, data)
		}
	}
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	b.SetBytes(size / int64(len(files)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if res := Parse(files[i%len(files)], "bench"); res.Entry == nil {
			b.Fatalf("file %d rejected: %v", i%len(files), res.Errors)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkManyWrongTypes refuses a file of 5,000 values of the wrong type
// (57 KB), each named by the key on its line: it took 4 s when each was
// looked up in the whole tree; its cost must grow with the file, not its
// square.
func BenchmarkManyWrongTypes(b *testing.B) {
	file := []byte(strings.Replace(fullFile, "usedBy:\n", "usedBy:\n"+strings.Repeat("  - a: b\n", 5000), 1))
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		if res := Parse(file, "many.yml"); res.Entry != nil || len(res.Errors) < 5000 {
			b.Fatalf("%d findings", len(res.Errors))
		}
	}
}
