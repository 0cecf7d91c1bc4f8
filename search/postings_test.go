package search

import (
	"math/rand/v2"
	"testing"
)

// TestPostingList checks a list across many blocks, built a posting at a
// time and in runs of any length: every posting comes back in order, and
// find finds each slot it holds and none it does not.
func TestPostingList(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	build := map[string]func(ps []posting) postingList{
		"add": func(ps []posting) (l postingList) {
			for _, p := range ps {
				l.add(p)
			}
			return l
		},
		"addAll": func(ps []posting) (l postingList) {
			for len(ps) > 0 {
				k := min(len(ps), 1+rng.IntN(3*sealedFirst))
				if rng.IntN(4) == 0 {
					k = min(len(ps), 1+rng.IntN(2*maxBlock))
				}
				l.addAll(ps[:k])
				ps = ps[k:]
			}
			return l
		},
	}
	for _, n := range []int{0, 1, sealedFirst - 1, sealedFirst, sealedFirst + 1, 3*maxBlock + 17} {
		ps := make([]posting, n)
		for i := range ps {
			ps[i] = posting{slot: uint32(3 * i), tf: [NumFields]uint8{uint8(i)}}
		}
		for how, b := range build {
			l := b(ps)
			if l.len() != n {
				t.Fatalf("%s, n=%d: len %d", how, n, l.len())
			}
			var got []posting
			for b := range l.numBlocks() {
				got = append(got, l.block(b)...)
			}
			if len(got) != n {
				t.Fatalf("%s, n=%d: the blocks hold %d postings", how, n, len(got))
			}
			for i, p := range got {
				if p.slot != uint32(3*i) || p.tf[0] != uint8(i) {
					t.Fatalf("%s, n=%d: posting %d is %+v", how, n, i, p)
				}
			}
			for s := range uint32(3*n + 3) {
				p, found := l.find(s)
				if want := s%3 == 0 && s < uint32(3*n); found != want || found && p.slot != s {
					t.Fatalf("%s, n=%d: find(%d) = %+v, %v", how, n, s, p, found)
				}
			}
		}
	}
}
