package search

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestSlab checks the slab's bookkeeping: values come back as added,
// those larger than an eighth of a chunk each in a chunk of their own
// without ending the chunk being filled, and a value got cannot be
// appended to over its neighbour.
func TestSlab(t *testing.T) {
	var s slab[uint32]
	var refs []slabRef
	var want [][]uint32
	sizes := []int{3, 0, 1, slabChunk/8 + 1, 5}
	for range 8 {
		sizes = append(sizes, slabChunk/8)
	}
	sizes = append(sizes, 2)
	for i, n := range sizes {
		vals := make([]uint32, n)
		for j := range vals {
			vals[j] = uint32(i<<20 | j)
		}
		refs, want = append(refs, s.add(vals)), append(want, vals)
	}
	for i, r := range refs {
		if got := s.get(r); !slices.Equal(got, want[i]) {
			t.Fatalf("value %d: %d values back, want %d", i, len(got), len(want[i]))
		}
	}
	// 3, 1, 5 and seven eighths of a chunk share the first chunk;
	// slabChunk/8+1 has one of its own; the eighth eighth does not fit in
	// the first, and starts a third, where 2 follows it.
	if len(s.chunks) != 3 || refs[0].chunk != 0 || refs[4].chunk != 0 || refs[11].chunk != 0 ||
		refs[3].chunk != 1 || refs[12].chunk != 2 || refs[13].chunk != 2 {
		t.Errorf("%d chunks, values in chunks %v", len(s.chunks), refs)
	}
	first := s.get(refs[0])
	_ = append(first, 99)
	if got := s.get(refs[2]); got[0] != 2<<20 {
		t.Errorf("appending to a value got wrote over the next: %v", got)
	}
	var b slab[byte]
	r := addString(&b, "décidim")
	if got := getString(&b, r); got != "décidim" || getString(&b, addString(&b, "")) != "" {
		t.Errorf("strings back: %q", got)
	}
}

// TestCompactKeepsNamesHandedOut checks what the index's slabs promise:
// compacting builds them anew of the live docs only (what removed docs
// held is let go), and a sort name returned earlier, which shares a
// slab's memory, stays as it was through the compaction and the writes
// after it.
func TestCompactKeepsNamesHandedOut(t *testing.T) {
	ix := New(testWeights)
	const n = 3 * compactMin
	for i := range n {
		put(ix, int64(i+1), doc(fmt.Sprintf("Outil %05d", i), "participation citoyenne", "pétitions", "category=it"))
	}
	page, _, err := ix.Search(Query{Order: ByName, Limit: 10})
	if err != nil || len(page) != 10 || page[0].Name != "outil 00000" {
		t.Fatalf("first page by name: %v %v", page, err)
	}
	before := slices.Clone(page)
	names := make([]string, len(page))
	for i, c := range page {
		names[i] = strings.Clone(c.Name)
	}
	namesBytes := func() (n int) {
		for _, c := range ix.names.chunks {
			n += len(c)
		}
		return n
	}
	held := namesBytes()
	// Removing all but the first 100 compacts the index.
	var gone []int64
	for i := 100; i < n; i++ {
		gone = append(gone, int64(i+1))
	}
	ix.Update(nil, gone)
	if ix.dead != 0 {
		t.Fatalf("%d removed docs left after deleting most: the index did not compact", ix.dead)
	}
	if got, want := namesBytes(), 100*len("outil 00000"); got != want {
		t.Errorf("names' slab holds %d bytes after compacting (%d before), want %d: the live docs' names only", got, held, want)
	}
	for i := range n {
		put(ix, int64(n+i+1), doc(fmt.Sprintf("Zzz %05d", i), "budget participatif", "votes", "category=other"))
	}
	for i, c := range before {
		if c.Name != names[i] {
			t.Fatalf("name %d handed out before compacting is now %q, was %q", i, c.Name, names[i])
		}
	}
	page, _, err = ix.Search(Query{Order: ByName, Limit: 200})
	if err != nil || len(page) != 200 || page[0].Name != "outil 00000" || page[99].Name != "outil 00099" || page[100].Name != "zzz 00000" {
		t.Fatalf("by name after compacting and writing: %d records, %v", len(page), err)
	}
	if got := search(t, ix, Query{Text: "participation", Order: ByName}); len(got) != 100 {
		t.Errorf("%d records found by a word of the docs kept, want 100", len(got))
	}
}
