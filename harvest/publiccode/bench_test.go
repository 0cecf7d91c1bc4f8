package publiccode

import (
	"os"
	"path/filepath"
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
