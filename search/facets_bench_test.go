package search

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkFacetsOfAlternatives100k: at 100,000 records, the facets of a
// query that filters the 7 facets of tools by alternatives (one anonymous
// GET /v1/tools:facets, or a web search page) against the facets of the
// same query without them: they cost a match each when each filter was
// left out in turn (6.6 times), one pass now (ratio).
func BenchmarkFacetsOfAlternatives100k(b *testing.B) {
	ix := New(testWeights)
	rng := rand.New(rand.NewPCG(1, 2))
	facets := []string{"origin", "category", "ogp_theme", "license", "language", "development_status", "platform"}
	for i := range 100_000 {
		var fs []FacetValue
		for _, f := range facets {
			for range 3 {
				fs = append(fs, FacetValue{f, fmt.Sprint(rng.IntN(40))})
			}
		}
		ix.Put(int64(i+1), ix.Analyze(randomDoc(rng)).With(fs, 0, fmt.Sprint("g", rng.IntN(60_000))))
	}
	var values []string
	for v := 1; v < 40; v++ {
		values = append(values, fmt.Sprint(v))
	}
	filtered := Query{Text: "open", Collapse: true}
	for _, f := range facets {
		filtered.Filters = append(filtered.Filters, Filter{Facet: f, Values: values, Alternatives: true})
	}
	took := func(q Query) time.Duration {
		start := time.Now()
		if _, _, err := ix.Facets(q); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var plain, alt time.Duration
	b.ResetTimer()
	for range b.N {
		plain += took(Query{Text: "open", Collapse: true})
		alt += took(filtered)
	}
	b.ReportMetric(float64(alt.Microseconds())/float64(b.N)/1000, "ms/facets-filtered")
	b.ReportMetric(float64(plain.Microseconds())/float64(b.N)/1000, "ms/facets")
	b.ReportMetric(float64(alt)/float64(plain), "ratio")
}
