package search

import "testing"

// TestPostingList checks a list across many blocks: every posting comes
// back in order, and find finds each slot it holds and none it does not.
func TestPostingList(t *testing.T) {
	for _, n := range []int{0, 1, sealedFirst - 1, sealedFirst, sealedFirst + 1, 3*maxBlock + 17} {
		var l postingList
		for i := range n {
			l.add(posting{slot: uint32(3 * i), tf: [NumFields]uint8{uint8(i)}})
		}
		if l.len() != n {
			t.Fatalf("n=%d: len %d", n, l.len())
		}
		var got []posting
		for b := range l.numBlocks() {
			got = append(got, l.block(b)...)
		}
		if len(got) != n {
			t.Fatalf("n=%d: the blocks hold %d postings", n, len(got))
		}
		for i, p := range got {
			if p.slot != uint32(3*i) || p.tf[0] != uint8(i) {
				t.Fatalf("n=%d: posting %d is %+v", n, i, p)
			}
		}
		for s := range uint32(3*n + 3) {
			p, found := l.find(s)
			if want := s%3 == 0 && s < uint32(3*n); found != want || found && p.slot != s {
				t.Fatalf("n=%d: find(%d) = %+v, %v", n, s, p, found)
			}
		}
	}
}
