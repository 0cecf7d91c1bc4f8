package search

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFacetsAgainstBruteForce compares Facets with counts worked out by
// hand from Search's matches, over random indexes (puts, deletes,
// compactions, groups, values repeated), filters of alternatives and not,
// with and without words, collapsed or not.
func TestFacetsAgainstBruteForce(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		ix := New(testWeights)
		type rec struct {
			facets []FacetValue
			group  string
		}
		recs := map[int64]rec{}
		facetNames := []string{"a", "b", "c"}
		for op := 0; op < 40+rng.IntN(600); op++ {
			id := int64(rng.IntN(50))
			if rng.IntN(6) == 0 {
				ix.Delete(id)
				delete(recs, id)
				continue
			}
			var fs []FacetValue
			for _, f := range facetNames {
				for k := rng.IntN(3); k > 0; k-- {
					fv := FacetValue{f, fmt.Sprint(rng.IntN(4))}
					if !slices.Contains(fs, fv) {
						fs = append(fs, fv)
					}
				}
			}
			g := ""
			if rng.IntN(2) == 0 {
				g = fmt.Sprint("g", rng.IntN(6))
			}
			d := randomDoc(rng)
			d.Facets = nil
			a := ix.Analyze(d)
			ix.Put(id, a.With(fs, 0, g))
			recs[id] = rec{fs, g}
		}
		for qi := 0; qi < 30; qi++ {
			q := Query{Order: ByName, Collapse: rng.IntN(2) == 0}
			if rng.IntN(3) == 0 {
				q.Text = randomText(rng, 1)
			}
			for _, f := range facetNames {
				for k := rng.IntN(3); k > 1 || (k == 1 && rng.IntN(2) == 0); k-- {
					vals := []string{fmt.Sprint(rng.IntN(4))}
					if rng.IntN(2) == 0 {
						vals = append(vals, fmt.Sprint(rng.IntN(4)))
					}
					q.Filters = append(q.Filters, Filter{Facet: f, Values: vals, Alternatives: rng.IntN(2) == 0})
				}
			}
			rng.Shuffle(len(q.Filters), func(i, j int) { q.Filters[i], q.Filters[j] = q.Filters[j], q.Filters[i] })
			matched := func(q Query) []int64 {
				q.Collapse, q.Limit, q.Offset = false, 1000, 0
				page, _, err := ix.Search(q)
				if err != nil {
					t.Fatal(err)
				}
				return idsOf(page)
			}
			count := func(ids []int64, has func(rec) bool) int {
				n, groups := 0, map[string]bool{}
				for _, id := range ids {
					r := recs[id]
					if !has(r) {
						continue
					}
					if q.Collapse && r.group != "" {
						if groups[r.group] {
							continue
						}
						groups[r.group] = true
					}
					n++
				}
				return n
			}
			perFacet := map[string]int{}
			for _, f := range q.Filters {
				perFacet[f.Facet]++
			}
			ids := matched(q)
			wantTotal := count(ids, func(rec) bool { return true })
			want := map[string]int{}
			for _, f := range facetNames {
				among := ids
				for i, fl := range q.Filters {
					if fl.Facet == f && fl.Alternatives && perFacet[f] == 1 {
						others := q
						others.Filters = slices.Delete(slices.Clone(q.Filters), i, i+1)
						among = matched(others)
					}
				}
				for v := 0; v < 4; v++ {
					fv := FacetValue{f, fmt.Sprint(v)}
					if n := count(among, func(r rec) bool { return slices.Contains(r.facets, fv) }); n > 0 {
						want[f+"="+fv.Value] = n
					}
				}
			}
			total, counts, err := ix.Facets(q)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, c := range counts {
				got[c.Facet+"="+c.Value] += c.Count
			}
			if total != wantTotal || !maps.Equal(got, want) {
				t.Fatalf("seed %d query %+v:\n total %d want %d\n got  %v\n want %v", seed, q, total, wantTotal, got, want)
			}
			// The collapsed total is Search's.
			sq := q
			sq.Limit = 1
			if _, st, _ := ix.Search(sq); st != total {
				t.Fatalf("seed %d query %+v: Facets total %d, Search total %d", seed, q, total, st)
			}
		}
	}
}
