package storage

import (
	"slices"
	"testing"
)

// TestRidSets checks the sets the links keep by key: removing a rid keeps
// the others, removing one not there changes nothing, and an emptied set
// is gone from the map.
func TestRidSets(t *testing.T) {
	m := map[string]ridSet{}
	for _, rid := range []int64{3, 1, 2} {
		addTo(m, "k", rid)
	}
	addTo(m, "", 9)
	sorted := func(k string) []int64 { return slices.Sorted(slices.Values(m[k])) }
	if got := sorted("k"); !slices.Equal(got, []int64{1, 2, 3}) || len(m) != 1 {
		t.Fatalf("after adding 3 1 2, and 9 under no key: %v (%d keys)", got, len(m))
	}
	removeFrom(m, "k", 3)
	removeFrom(m, "k", 7)
	removeFrom(m, "other", 1)
	if got := sorted("k"); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("after removing 3, and rids not there: %v", got)
	}
	addTo(m, "k", 3)
	removeFrom(m, "k", 1)
	if got := sorted("k"); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("after adding 3 again and removing 1: %v", got)
	}
	removeFrom(m, "k", 2)
	removeFrom(m, "k", 3)
	if _, ok := m["k"]; ok {
		t.Errorf("an emptied set stays in the map: %v", m)
	}
}
