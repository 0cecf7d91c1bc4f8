package search

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"sort"
	"strings"
)

// Order is the order of search results.
type Order int

// The orders. Relevance is best match first; the others are ascending
// unless Query.Desc. Ties go by record id, in the same direction (newest
// first for relevance).
const (
	ByRelevance Order = iota
	ByName
	ByCreateTime
	ByUpdateTime
	// ByScore orders by Doc.Score.
	ByScore
)

// Query selects records: all the words of Text, and for each filter one of
// its values.
type Query struct {
	Text    string
	Filters []Filter
	Order   Order
	Desc    bool
	// Limit and Offset select the page; a Limit of 0 selects nothing (a
	// search then only counts).
	Limit, Offset int
	// After, when set, keeps only the records that come after it in the
	// order (before Offset counts): the next page after one that ended
	// there, whatever was written since. An offset would skip a record
	// when one before it goes, and repeat one when one comes.
	After *Cursor
	// Collapse keeps only the best record of each group (Doc.Group), in
	// the page and in the total; records without a group all stay.
	Collapse bool
}

// A Cursor is a place in the order of a query: that of the record ID,
// whose sort key was Name (ByName), Value (ByCreateTime, ByUpdateTime,
// ByScore) or Score (ByRelevance, the record's BM25 score then). Search
// returns one with every record it returns.
type Cursor struct {
	ID    int64
	Name  string
	Value int64
	Score float64
}

// A Filter keeps records having one of Values in Facet.
type Filter struct {
	Facet  string
	Values []string
	// Alternatives: the facet's values are alternatives to those chosen
	// (the facet has no other filter), which Facets counts apart.
	Alternatives bool
}

// FacetCount is how many selected records have a facet value.
type FacetCount struct {
	FacetValue
	Count int
}

// The BM25 parameters of SQLite's FTS5, whose ranking this index keeps.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
	// minIDF is the weight of a word in more than half the records, whose
	// BM25 inverse document frequency would be zero or less.
	minIDF = 1e-6
)

// Search returns the page of records q selects, in q's order, each with
// its cursor (Cursor.ID is the record's id), and how many records it
// selects in all (After and Offset aside). Ranking is BM25 as FTS5
// computes it: a word's count in a record is the weighted sum of its
// counts in each field, and a record's length is its tokens in all fields.
func (ix *Index) Search(q Query) (page []Cursor, total int, err error) {
	if q.Order == ByRelevance && q.Text == "" {
		return nil, 0, queryErrorf("ordering by relevance needs words to search for")
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	sc := ix.getScratch()
	defer ix.scratch.Put(sc)
	m, err := ix.matchLocked(q, sc)
	if err != nil {
		return nil, 0, err
	}
	if q.Collapse {
		return ix.collapsed(q, m)
	}
	total = len(m.slots)
	if q.After != nil {
		m = ix.afterLocked(q, m, *q.After)
	}
	k := min(q.Offset+q.Limit, len(m.slots))
	if q.Limit <= 0 || q.Offset >= k {
		return nil, total, nil
	}
	best := topK(len(m.slots), k, ix.better(q, m))
	page = make([]Cursor, 0, k-q.Offset)
	for _, i := range best[q.Offset:] {
		page = append(page, ix.cursorOf(q, m, i))
	}
	return page, total, nil
}

// collapsed is the page of q with only the best record of each group: it
// orders every match, which costs more than a page of a plain search (a
// few milliseconds at 100,000 matches).
func (ix *Index) collapsed(q Query, m matches) ([]Cursor, int, error) {
	order := make([]int, len(m.slots))
	for i := range order {
		order[i] = i
	}
	better := ix.better(q, m)
	sort.Slice(order, func(i, j int) bool { return better(order[i], order[j]) })
	var after func(i int) bool
	if q.After != nil {
		after = ix.comesAfter(q, m, *q.After)
	}
	seen := map[uint32]bool{}
	var page []Cursor
	total, skipped := 0, 0
	for _, i := range order {
		slot := m.slots[i]
		if g := ix.group[slot]; g != 0 {
			if seen[g] {
				continue
			}
			seen[g] = true
		}
		total++
		switch {
		case after != nil && !after(i):
		case skipped < q.Offset:
			skipped++
		case len(page) < q.Limit:
			page = append(page, ix.cursorOf(q, m, i))
		}
	}
	return page, total, nil
}

// cursorOf is the cursor of match i of m in q's order.
func (ix *Index) cursorOf(q Query, m matches, i int) Cursor {
	slot := m.slots[i]
	c := Cursor{ID: ix.ids[slot]}
	switch q.Order {
	case ByName:
		c.Name = ix.sortName(slot)
	case ByCreateTime:
		c.Value = ix.created[slot]
	case ByUpdateTime:
		c.Value = ix.updated[slot]
	case ByScore:
		c.Value = ix.score[slot]
	default:
		c.Score = m.scores[i]
	}
	return c
}

// afterLocked keeps the matches of m that come after c in q's order.
func (ix *Index) afterLocked(q Query, m matches, c Cursor) matches {
	after := ix.comesAfter(q, m, c)
	scoring := q.Order == ByRelevance
	kept := 0
	for i := range m.slots {
		if after(i) {
			m.slots[kept] = m.slots[i]
			if scoring {
				m.scores[kept] = m.scores[i]
			}
			kept++
		}
	}
	m.slots = m.slots[:kept]
	if scoring {
		m.scores = m.scores[:kept]
	}
	return m
}

// comesAfter reports, by index into m, whether a match comes after c in
// q's order, as better orders them: by the sort key, then the id.
func (ix *Index) comesAfter(q Query, m matches, c Cursor) func(i int) bool {
	if q.Order == ByRelevance {
		// Every write changes every score (the records counted, their
		// mean length, each word's frequency): the cursor's record, when
		// it still matches, is placed by its score now, not the one its
		// page saw, which every other record's may have passed.
		if slot, ok := ix.slotOf[c.ID]; ok && ix.alive[slot] {
			if i := slices.Index(m.slots, slot); i >= 0 {
				c.Score = m.scores[i]
			}
		}
		return func(i int) bool {
			if s := m.scores[i]; s != c.Score {
				return s < c.Score
			}
			return ix.ids[m.slots[i]] < c.ID
		}
	}
	var key func(slot uint32) int // the slot's key against c's
	switch q.Order {
	case ByName:
		nameKey := nameKeyOf(c.Name)
		key = func(slot uint32) int {
			if r := cmp.Compare(ix.nameKey[slot], nameKey); r != 0 || nameKey&0xff == 0 {
				return r
			}
			return strings.Compare(ix.sortName(slot), c.Name)
		}
	case ByCreateTime:
		key = func(slot uint32) int { return cmp.Compare(ix.created[slot], c.Value) }
	case ByUpdateTime:
		key = func(slot uint32) int { return cmp.Compare(ix.updated[slot], c.Value) }
	case ByScore:
		key = func(slot uint32) int { return cmp.Compare(ix.score[slot], c.Value) }
	}
	return func(i int) bool {
		slot := m.slots[i]
		r := key(slot)
		if r == 0 {
			r = cmp.Compare(ix.ids[slot], c.ID)
		}
		if q.Desc {
			return r < 0
		}
		return r > 0
	}
}

// Facets counts the records q selects (its order and page aside), in all
// and by facet value, leaving out values no counted record has. The values
// of a facet whose filter holds Alternatives are counted among the records
// the other filters select: what each value has of them, the value chosen
// or not, as a faceted search shows the alternatives to what was chosen
// (counted among the records q selects, a value never chosen with the
// others was not even listed, and one was counted only with them). With
// q.Collapse, groups (Doc.Group) are counted rather than records.
//
// It matches once, without the filters of alternatives, then counts each
// record by the filters of alternatives it fails: none, it counts for
// every value it has (and in the total); one, for the values it has of
// that filter's facet alone; more, for none. (Matching again without each
// filter in turn cost a search a filter.)
func (ix *Index) Facets(q Query) (total int, counts []FacetCount, err error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	sc := ix.getScratch()
	defer ix.scratch.Put(sc)
	q.Order = ByName // no scores needed
	filters := map[string]int{}
	for _, f := range q.Filters {
		filters[f.Facet]++
	}
	// The filters of alternatives, each of a facet of its own: apart[i]
	// is the i-th, and which[fid] the index of the one whose facet value
	// fid is (-1 for none), chosen[fid] whether it is one of its values.
	var apart []Filter
	base := q
	base.Filters = nil
	for _, f := range q.Filters {
		if f.Alternatives && filters[f.Facet] == 1 && len(f.Values) > 0 && len(apart) < maxApart {
			apart = append(apart, f)
		} else {
			base.Filters = append(base.Filters, f)
		}
	}
	m, err := ix.matchLocked(base, sc)
	if err != nil {
		return 0, nil, err
	}
	perValue := make([]int, len(ix.facets))
	if len(apart) == 0 {
		total = ix.tallyLocked(q, m.slots, perValue, nil, nil)
	} else {
		which := make([]int8, len(ix.facets))
		for fid := range which {
			which[fid] = -1
		}
		chosen := make([]bool, len(ix.facets))
		for i, f := range apart {
			for _, v := range f.Values {
				if fid, ok := ix.facetIDs[FacetValue{f.Facet, v}]; ok {
					chosen[fid] = true
				}
			}
			for fid := range ix.facets {
				if ix.facets[fid].Facet == f.Facet {
					which[fid] = int8(i)
				}
			}
		}
		total = ix.tallyLocked(q, m.slots, perValue, func(slot uint32) (failed int8, kept bool) {
			var passed [maxApart]bool
			for _, fid := range ix.docFacets(slot) {
				if chosen[fid] {
					passed[which[fid]] = true
				}
			}
			failed = -1
			for i, ok := range passed[:len(apart)] {
				if !ok {
					if failed >= 0 {
						return 0, false // two failed: counted nowhere
					}
					failed = int8(i)
				}
			}
			return failed, true
		}, which)
	}
	for fid, n := range perValue {
		if n > 0 {
			counts = append(counts, FacetCount{ix.facets[fid].FacetValue, n})
		}
	}
	return total, counts, nil
}

// maxApart is the most filters of alternatives Facets counts apart (a
// record holds which it passes in an array of that size); the facets
// records have are fewer.
const maxApart = 16

// tallyLocked adds to perValue the records of slots by the values they
// have, and returns how many records count in the total; with q.Collapse,
// the groups (Doc.Group) of slots rather than records: a value once for a
// group if a record of it counts for the value, and the records of no
// group each apart, as search collapses them. fails, when set, says which
// filter of alternatives a record fails (-1 for none, or it is not kept
// at all): a record that fails one counts only for the values which gives
// that filter's index, and not in the total.
func (ix *Index) tallyLocked(q Query, slots []uint32, perValue []int, fails func(slot uint32) (failed int8, kept bool), which []int8) int {
	if !q.Collapse {
		n := 0
		for _, slot := range slots {
			failed := int8(-1)
			if fails != nil {
				var kept bool
				if failed, kept = fails(slot); !kept {
					continue
				}
			}
			if failed < 0 {
				n++
			}
			for _, fid := range ix.docFacets(slot) {
				if failed < 0 || which[fid] == failed {
					perValue[fid]++
				}
			}
		}
		return n
	}
	byGroup := slices.Clone(slots)
	slices.SortFunc(byGroup, func(a, b uint32) int { return cmp.Compare(ix.group[a], ix.group[b]) })
	seen := map[uint32]bool{} // the values of the group at hand counted
	n, inTotal := 0, false
	for i, slot := range byGroup {
		g := ix.group[slot]
		if g == 0 || i == 0 || ix.group[byGroup[i-1]] != g {
			clear(seen)
			inTotal = false
		}
		failed := int8(-1)
		if fails != nil {
			var kept bool
			if failed, kept = fails(slot); !kept {
				continue
			}
		}
		if failed < 0 && !inTotal {
			n++
			inTotal = g != 0 // a record of no group counts alone
		}
		for _, fid := range ix.docFacets(slot) {
			if (failed < 0 || which[fid] == failed) && !seen[fid] {
				perValue[fid]++
				if g != 0 {
					seen[fid] = true
				}
			}
		}
	}
	return n
}

// matches are the slots of the records a query selects, with their scores
// when it is ordered by relevance.
type matches struct {
	slots  []uint32
	scores []float64
}

// scratch is per-search working memory as long as the docs: stamps mark
// slots, generation by generation, so that nothing needs clearing.
type scratch struct {
	gen    uint32
	stamp  []uint32  // slot → the generation that last reached it
	freq   []float32 // slot → weighted count of the current phrase
	fstamp []uint32  // slot → the generation of the last filter passed
	// slots and scores hold the matches of the search using the scratch.
	slots  []uint32
	scores []float64
}

func (ix *Index) getScratch() *scratch {
	sc, _ := ix.scratch.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if n := len(ix.docs); len(sc.stamp) < n {
		n += n / 4
		sc.stamp, sc.freq, sc.fstamp = make([]uint32, n), make([]float32, n), make([]uint32, n)
		sc.gen = 0
	}
	return sc
}

// next starts a generation of marks.
func (sc *scratch) next() uint32 {
	if sc.gen == math.MaxUint32 {
		clear(sc.stamp)
		clear(sc.fstamp)
		sc.gen = 0
	}
	sc.gen++
	return sc.gen
}

// resolvedPhrase is a phrase with the terms it matches.
type resolvedPhrase struct {
	phrase
	terms []uint32
	cost  int // postings to read
}

func (ix *Index) matchLocked(q Query, sc *scratch) (matches, error) {
	var phrases []resolvedPhrase
	if q.Text != "" {
		ps, err := parseText(q.Text)
		if err != nil {
			return matches{}, err
		}
		for _, p := range ps {
			rp := resolvedPhrase{phrase: p, terms: ix.termsOfLocked(p)}
			if len(rp.terms) == 0 {
				return matches{}, nil // a word no record has
			}
			for _, tid := range rp.terms {
				rp.cost += ix.terms[tid].postings.len()
			}
			phrases = append(phrases, rp)
		}
		// The rarest word first: it selects the fewest candidates.
		slices.SortStableFunc(phrases, func(a, b resolvedPhrase) int { return cmp.Compare(a.cost, b.cost) })
	}

	filterGen, filtered, ok := ix.filterLocked(q.Filters, sc, len(phrases) == 0)
	if !ok {
		return matches{}, nil
	}
	passes := func(slot uint32) bool { return filterGen == 0 || sc.fstamp[slot] == filterGen }

	if len(phrases) == 0 {
		if filterGen != 0 {
			return matches{slots: filtered}, nil
		}
		slots := make([]uint32, 0, ix.live)
		for slot, alive := range ix.alive {
			if alive {
				slots = append(slots, uint32(slot))
			}
		}
		return matches{slots: slots}, nil
	}

	scoring := q.Order == ByRelevance
	n := float64(ix.live)
	avgLen := float64(ix.totalLen) / max(n, 1)
	var m matches
	for i, p := range phrases {
		df := 0
		switch {
		case i > 0 && len(p.terms) == 1 && len(m.slots)*seekCost(p.cost) < p.cost:
			// Few candidates left, many postings: look each one up.
			te := &ix.terms[p.terms[0]]
			df = int(te.df)
			idf := idfOf(n, df)
			kept := 0
			for j, slot := range m.slots {
				post, found := te.postings.find(slot, &ix.blocks)
				if !found {
					continue
				}
				m.slots[kept] = slot
				if scoring {
					m.scores[kept] = m.scores[j] + ix.bm25(idf, ix.weighted(post.tf), ix.docLen[slot], avgLen)
				}
				kept++
			}
			m.slots = m.slots[:kept]
			if scoring {
				m.scores = m.scores[:kept]
			}
			continue
		}
		// Mark every live record with the phrase, summing its counts (a
		// prefix may match several tokens of one record).
		gen := sc.next()
		var touched []uint32
		if i == 0 {
			touched = sc.slots[:0]
		}
		var buf [blockSize]posting
		for _, tid := range p.terms {
			pl := &ix.terms[tid].postings
			for b := range pl.numBlocks() {
				for _, post := range pl.block(b, &buf, &ix.blocks) {
					if !ix.alive[post.slot] {
						continue
					}
					f := float32(ix.weighted(post.tf))
					if sc.stamp[post.slot] != gen {
						sc.stamp[post.slot] = gen
						sc.freq[post.slot] = f
						df++
						if i == 0 {
							touched = append(touched, post.slot)
						}
					} else {
						sc.freq[post.slot] += f
					}
				}
			}
		}
		idf := idfOf(n, df)
		if i == 0 {
			if len(p.terms) > 1 {
				slices.Sort(touched) // candidates in slot order, whatever the terms' order
			}
			m.slots, m.scores = touched[:0], sc.scores[:0]
			for _, slot := range touched {
				if passes(slot) {
					m.slots = append(m.slots, slot)
					if scoring {
						m.scores = append(m.scores, ix.bm25(idf, float64(sc.freq[slot]), ix.docLen[slot], avgLen))
					}
				}
			}
			continue
		}
		kept := 0
		for j, slot := range m.slots {
			if sc.stamp[slot] != gen {
				continue
			}
			m.slots[kept] = slot
			if scoring {
				m.scores[kept] = m.scores[j] + ix.bm25(idf, float64(sc.freq[slot]), ix.docLen[slot], avgLen)
			}
			kept++
		}
		m.slots = m.slots[:kept]
		if scoring {
			m.scores = m.scores[:kept]
		}
	}
	sc.slots, sc.scores = m.slots, m.scores // keep the grown buffers
	return m, nil
}

// seekCost is about what looking one slot up in n postings costs, in
// postings read: a binary search for its block, which is decoded, then a
// binary search in the block.
func seekCost(n int) int {
	return 4*(1+int(math.Log2(float64(n/blockSize+1)))) + blockSize/2 + 4*int(math.Log2(blockSize))
}

// termsOfLocked are the terms a phrase matches: its token, or every token
// it is a prefix of.
func (ix *Index) termsOfLocked(p phrase) []uint32 {
	live := func(tid uint32) bool { return int(tid) < len(ix.terms) && ix.terms[tid].df > 0 }
	if !p.prefix {
		if tid, ok := ix.dict.lookup(p.token); ok && live(tid) {
			return []uint32{tid}
		}
		return nil
	}
	out := ix.dict.withPrefix(p.token, nil)
	return slices.DeleteFunc(out, func(tid uint32) bool { return !live(tid) })
}

// filterLocked marks the slots that pass every filter with the generation
// it returns (0 if there are no filters). With collect it also returns
// them, in slot order. ok is false when no record can pass.
func (ix *Index) filterLocked(filters []Filter, sc *scratch, collect bool) (gen uint32, passed []uint32, ok bool) {
	prev := uint32(0)
	var active []Filter
	for _, f := range filters {
		if len(f.Values) > 0 {
			active = append(active, f)
		}
	}
	for i, f := range active {
		gen = sc.next()
		last := i == len(active)-1
		for _, v := range f.Values {
			fid, known := ix.facetIDs[FacetValue{f.Facet, v}]
			if !known {
				continue
			}
			for _, slot := range ix.facets[fid].slots {
				if !ix.alive[slot] || sc.fstamp[slot] == gen || (i > 0 && sc.fstamp[slot] != prev) {
					continue
				}
				sc.fstamp[slot] = gen
				if last && collect {
					passed = append(passed, slot)
				}
			}
		}
		prev = gen
	}
	if len(active) == 0 {
		return 0, nil, true
	}
	if collect {
		slices.Sort(passed) // several values: slots in order again
		if len(passed) == 0 {
			return gen, nil, false
		}
	}
	return gen, passed, true
}

func (ix *Index) weighted(tf [NumFields]uint8) float64 {
	var f float64
	for i, n := range tf {
		f += ix.weights[i] * float64(n)
	}
	return f
}

func idfOf(n float64, df int) float64 {
	idf := math.Log((n - float64(df) + 0.5) / (float64(df) + 0.5))
	if idf <= 0 {
		return minIDF
	}
	return idf
}

func (ix *Index) bm25(idf, freq float64, length uint32, avgLen float64) float64 {
	return idf * (freq * (bm25K1 + 1)) / (freq + bm25K1*(1-bm25B+bm25B*float64(length)/avgLen))
}

// better returns the order of q over the matches m, by index into m.
func (ix *Index) better(q Query, m matches) func(a, b int) bool {
	var key func(x, y uint32) int
	switch q.Order {
	case ByName:
		key = func(x, y uint32) int {
			if r := cmp.Compare(ix.nameKey[x], ix.nameKey[y]); r != 0 || ix.nameKey[x]&0xff == 0 {
				return r // differ in 8 bytes, or the names are that short
			}
			return strings.Compare(ix.sortName(x), ix.sortName(y))
		}
	case ByCreateTime:
		key = func(x, y uint32) int { return cmp.Compare(ix.created[x], ix.created[y]) }
	case ByUpdateTime:
		key = func(x, y uint32) int { return cmp.Compare(ix.updated[x], ix.updated[y]) }
	case ByScore:
		key = func(x, y uint32) int { return cmp.Compare(ix.score[x], ix.score[y]) }
	default:
		return func(a, b int) bool {
			if m.scores[a] != m.scores[b] {
				return m.scores[a] > m.scores[b]
			}
			return ix.ids[m.slots[a]] > ix.ids[m.slots[b]]
		}
	}
	return func(a, b int) bool {
		x, y := m.slots[a], m.slots[b]
		r := key(x, y)
		if r == 0 {
			r = cmp.Compare(ix.ids[x], ix.ids[y])
		}
		if q.Desc {
			return r > 0
		}
		return r < 0
	}
}

// topK returns the k best of n items, best first.
func topK(n, k int, better func(a, b int) bool) []int {
	if k >= n/4 { // most of them anyway: sort all
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		sort.Slice(all, func(i, j int) bool { return better(all[i], all[j]) })
		return all[:k]
	}
	h := &worstFirst{better: better, items: make([]int, 0, k+1)}
	for i := range n {
		if len(h.items) < k {
			heap.Push(h, i)
		} else if better(i, h.items[0]) {
			h.items[0] = i
			heap.Fix(h, 0)
		}
	}
	out := make([]int, len(h.items))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(int)
	}
	return out
}

// worstFirst is a heap of items whose top is the worst.
type worstFirst struct {
	better func(a, b int) bool
	items  []int
}

func (h *worstFirst) Len() int           { return len(h.items) }
func (h *worstFirst) Less(i, j int) bool { return h.better(h.items[j], h.items[i]) }
func (h *worstFirst) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *worstFirst) Push(x any)         { h.items = append(h.items, x.(int)) }
func (h *worstFirst) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
