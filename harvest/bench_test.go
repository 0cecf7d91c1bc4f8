package harvest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// BenchmarkHarvestFolder10k harvests a folder of 10,000 publiccode.yml
// files (each the corpus's full valid.yml with its own name and
// repository) into an empty catalog: reading and parsing the files on
// every core, then importing them in one transaction (signing, storing,
// indexing). The project's goal is at least 1,000 files/s.
func BenchmarkHarvestFolder10k(b *testing.B) {
	const n = 10_000
	dir := b.TempDir()
	base := string(readFile(b, corpus(b, "publiccode/v0/valid/valid.yml")))
	for i := range n {
		sub := filepath.Join(dir, "tool"+strconv.Itoa(i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "publiccode.yml"), []byte(variant(b, base, i)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	src, err := Source{Location: dir}.Resolve()
	if err != nil {
		b.Fatal(err)
	}
	var readTime, importTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := openStore(b)
		im := NewImporter(s, nil, quietLog())
		b.StartTimer()
		start := time.Now()
		req := Read(context.Background(), src, ReadOptions{})
		mid := time.Now()
		run, err := im.Import(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		importTime += time.Since(mid)
		readTime += mid.Sub(start)
		if run.GetCreated() != n {
			b.Fatalf("created %d of %d (rejected %d: %v)", run.GetCreated(), n, run.GetRejected(), run.GetRejectedEntries()[:min(3, len(run.GetRejectedEntries()))])
		}
	}
	total := readTime + importTime
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "files/s")
	b.ReportMetric(float64(n*b.N)/readTime.Seconds(), "read-files/s")
	b.ReportMetric(float64(n*b.N)/importTime.Seconds(), "import-files/s")
}
