package search

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPostingList checks a list across many blocks, built a posting at a
// time and in runs of any length, with gaps between slots of every varint
// length and counts of every encoding: every posting comes back as it was
// added, in order, and find finds each slot the list holds and none it
// does not.
func TestPostingList(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var blocks slab[byte] // the lists' (see Index.blocks)
	build := map[string]func(ps []posting) postingList{
		"add": func(ps []posting) (l postingList) {
			for _, p := range ps {
				l.add(p, &blocks)
			}
			return l
		},
		"addAll": func(ps []posting) (l postingList) {
			for len(ps) > 0 {
				k := min(len(ps), 1+rng.IntN(3*blockSize))
				if rng.IntN(4) == 0 {
					k = min(len(ps), 1+rng.IntN(100*blockSize))
				}
				l.addAll(ps[:k], &blocks)
				ps = ps[k:]
			}
			return l
		},
	}
	gaps := []uint32{1, 2, 127, 128, 129, 16_384}
	bigGaps := []uint32{70_000, 3_000_000} // now and then, so that slots stay 32 bits
	for _, n := range []int{0, 1, blockSize - 1, blockSize, blockSize + 1, 300*blockSize + 17} {
		ps := make([]posting, n)
		holds := map[uint32]posting{}
		slot := uint32(rng.IntN(3))
		for i := range ps {
			if i > 0 {
				if rng.IntN(100) == 0 {
					slot += bigGaps[rng.IntN(len(bigGaps))]
				} else {
					slot += gaps[rng.IntN(len(gaps))]
				}
			}
			tf := [NumFields]uint8{uint8(1 + rng.IntN(3)), uint8(rng.IntN(4)), uint8(rng.IntN(3))}
			if rng.IntN(5) == 0 {
				tf[rng.IntN(NumFields)] = uint8(4 + rng.IntN(252))
			}
			ps[i] = posting{slot: slot, tf: tf}
			holds[slot] = ps[i]
		}
		for how, b := range build {
			l := b(ps)
			if l.len() != n {
				t.Fatalf("%s, n=%d: len %d", how, n, l.len())
			}
			var got []posting
			var buf [blockSize]posting
			for b := range l.numBlocks() {
				got = append(got, l.block(b, &buf, &blocks)...)
			}
			if !slices.Equal(got, ps) {
				t.Fatalf("%s, n=%d: the blocks hold other postings than were added", how, n)
			}
			for _, p := range ps {
				for _, s := range []uint32{p.slot - 1, p.slot, p.slot + 1} {
					got, found := l.find(s, &blocks)
					want, holds := holds[s]
					if found != holds || got != want {
						t.Fatalf("%s, n=%d: find(%d) = %+v, %v", how, n, s, got, found)
					}
				}
			}
		}
	}
}
