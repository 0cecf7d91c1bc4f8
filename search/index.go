// Package search is the node's search index: full text ranked by BM25,
// facet filters and counts, and the other sort orders of the API, over the
// live records of one kind.
//
// It lives in memory. Package storage rebuilds it from the SQLite file when
// it opens, and puts every committed write in it, in commit order; a search
// then costs a pass over the postings of its words, tens of nanoseconds a
// match, and touches SQLite only to read the page of records it returns.
// SQLite's FTS5, which this replaces, spent microseconds scoring each match,
// over 100 ms for a word most tools contain.
package search

import (
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// NumFields is the number of full-text fields of a Doc.
const NumFields = 3

// Doc is what the index holds of one record. The index copies the strings
// of a Doc it keeps, so that a Doc's strings may share the memory of a
// larger buffer (a record decoded without copies) without the index
// keeping that buffer.
type Doc struct {
	// Fields are the record's texts by field (a field may have several,
	// such as a description per language); a word found in field i counts
	// Weights[i] times (see New).
	Fields [NumFields][]string
	// Facets are the values the record can be filtered and counted by.
	Facets []FacetValue
	// SortName, CreateTime, UpdateTime and Score are the keys of the
	// orders other than relevance.
	SortName               string
	CreateTime, UpdateTime int64
	Score                  int64
	// Group, when set, names what the record is one copy of (the same
	// software catalogued twice): a search that collapses groups returns
	// only the best record of each.
	Group string
}

// FacetValue is one filterable value of a record, such as category "it".
type FacetValue struct{ Facet, Value string }

// Analyzed is a Doc broken into tokens, ready for Put on the Index that
// analyzed it. Analyze is the costly part of indexing: callers run it
// before taking any lock, on as many cores as they like.
type Analyzed struct {
	terms []termFreq
	// vocab is the dictionary's tokens by number as Analyze numbered
	// terms, of dictionary generation gen: Update numbers them anew if
	// the dictionary was compacted since.
	vocab                  []string
	gen                    uint32
	length                 uint32 // tokens in all fields
	facets, moreFacets     []FacetValue
	sortName               string
	createTime, updateTime int64
	score                  int64
	group                  string
}

// With returns a copy of a with more facet values and its score and group
// set: what a record owes to other records (its qualification) is known
// only when they are, after its text was analyzed. It keeps facets, which
// the caller must not change afterwards, and replaces those of an earlier
// With.
func (a Analyzed) With(facets []FacetValue, score int64, group string) Analyzed {
	a.moreFacets, a.score, a.group = facets, score, group
	return a
}

// termFreq is how often a term occurs in each field of a record, at most
// 255 (a record repeating a word more than that gains nothing from it).
type termFreq struct {
	term uint32
	tf   [NumFields]uint8
}

// analyzer is Analyze's working memory, reused through a pool.
type analyzer struct {
	buf   []byte   // the record's tokens, end to end
	ends  []uint32 // where each token ends in buf
	field []uint8  // each token's field
	ids   []uint32 // each token's term
	// at[term] is the term's index in terms, valid when seen[term] is call.
	call  uint32
	seen  []uint32
	at    []int32
	terms []termFreq
	// recent are the numbers of the tokens met lately.
	recent recentTokens
}

// Analyze breaks d into the terms of ix's dictionary. The result keeps
// d.Facets (a record's facets are built for it, and copying them cost a
// tenth of analyzing): the caller must not change them afterwards.
func (ix *Index) Analyze(d Doc) Analyzed {
	az, _ := ix.analyzers.Get().(*analyzer)
	if az == nil {
		az = &analyzer{recent: recentTokens{seed: maphash.MakeSeed()}}
	}
	defer ix.analyzers.Put(az)
	az.buf, az.ends, az.field = az.buf[:0], az.ends[:0], az.field[:0]
	for f, texts := range d.Fields {
		for _, text := range texts {
			az.buf, az.ends = appendTokens(az.buf, az.ends, text)
		}
		for len(az.field) < len(az.ends) {
			az.field = append(az.field, uint8(f))
		}
	}
	var vocab []string
	var gen uint32
	az.ids, vocab, gen = ix.dict.resolve(az.buf, az.ends, az.ids[:0], &az.recent)

	// Sized by the tokens as numbered: the dictionary may be compacted
	// meanwhile, and be smaller.
	if n := len(vocab); len(az.seen) < n {
		az.seen, az.at = make([]uint32, n+n/4+64), make([]int32, n+n/4+64)
		az.call = 0
	}
	if az.call == math.MaxUint32 {
		clear(az.seen)
		az.call = 0
	}
	az.call++
	az.terms = az.terms[:0]
	for i, tid := range az.ids {
		if az.seen[tid] != az.call {
			az.seen[tid], az.at[tid] = az.call, int32(len(az.terms))
			az.terms = append(az.terms, termFreq{term: tid})
		}
		if tf := &az.terms[az.at[tid]].tf; tf[az.field[i]] < math.MaxUint8 {
			tf[az.field[i]]++
		}
	}
	return Analyzed{
		terms:      slices.Clone(az.terms),
		vocab:      vocab,
		gen:        gen,
		length:     uint32(len(az.ids)),
		facets:     slices.Clip(d.Facets),   // With appends to a copy
		sortName:   capSortName(d.SortName), // copied into the index by Update; see Doc
		createTime: d.CreateTime,
		updateTime: d.UpdateTime,
		score:      d.Score,
		group:      d.Group,
	}
}

// MaxSortName is the most bytes of a record's sort name the index orders
// by: a page token carries the name of its page's last record, and a
// record relayed by a peer is not validated (display names are at most
// 200 characters where they are). Names alike up to there go by id.
const MaxSortName = 1 << 10

// capSortName is name cut to MaxSortName bytes, at a character's start.
func capSortName(name string) string {
	if len(name) <= MaxSortName {
		return name
	}
	end := MaxSortName
	for end > 0 && !utf8.RuneStart(name[end]) {
		end--
	}
	return name[:end]
}

// dictionary numbers the tokens an index has seen. Analyze numbers the
// tokens of a record outside the index's lock, so that a token no record
// has any more keeps its number until the index compacts its dictionary
// (compactDictLocked), which numbers the tokens left anew as a new
// generation: an Analyzed of an earlier one keeps the tokens it was
// numbered by, and Update numbers them again.
type dictionary struct {
	mu       sync.RWMutex
	gen      uint32 // written under the index's lock too
	ids      map[string]uint32
	tokens   []string
	prefixes map[string][]uint32 // the first 1, 2 and 3 runes of tokens → term ids
	// text holds the tokens' bytes: the strings of tokens, and the keys
	// of ids and prefixes, are on it (see slab).
	text slab[byte]
}

func (d *dictionary) size() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.tokens)
}

// recentTokens caches the numbers of the tokens an analyzer met lately,
// by a hash of their bytes, for a generation of the dictionary: most of a
// record's words are common ones, looked up record after record, and a
// lookup in the map of every token the dictionary holds (hundreds of
// thousands at 100k tools) waited on memory no cache of the processor
// held. A word found here is compared in full: a hash's collision only
// costs a lookup in the map.
type recentTokens struct {
	gen   uint32
	valid bool // for gen
	seed  maphash.Seed
	slots [recentTokenSlots]struct {
		token string // the dictionary's own, "" for none
		id    uint32
	}
}

const recentTokenSlots = 1 << 12

// resolve appends to ids the number of each token in buf (token i ends at
// ends[i]), numbering new ones, looking each up in recent first. It
// returns the dictionary's tokens by number, as far as they go then, and
// their generation.
func (d *dictionary) resolve(buf []byte, ends []uint32, ids []uint32, recent *recentTokens) (_ []uint32, vocab []string, gen uint32) {
	base := len(ids)
	var missing []int
	d.mu.RLock()
	if !recent.valid || recent.gen != d.gen {
		// Numbers of another generation, whose tokens' memory the
		// dictionary let go (see compactDictLocked).
		recent.slots = [recentTokenSlots]struct {
			token string
			id    uint32
		}{}
		recent.gen, recent.valid = d.gen, true
	}
	start := uint32(0)
	for i, end := range ends {
		token := buf[start:end]
		start = end
		slot := &recent.slots[maphash.Bytes(recent.seed, token)&(recentTokenSlots-1)]
		if len(token) > 0 && slot.token == string(token) {
			ids = append(ids, slot.id)
			continue
		}
		id, ok := d.ids[string(token)]
		if !ok {
			missing = append(missing, base+i)
		} else {
			slot.token, slot.id = d.tokens[id], id
		}
		ids = append(ids, id)
	}
	vocab, gen = d.tokens, d.gen
	d.mu.RUnlock()
	if len(missing) == 0 {
		return ids, vocab, gen
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.gen != gen {
		// Compacted since the numbers above were read: all anew.
		missing = missing[:0]
		for i := range ends {
			missing = append(missing, base+i)
		}
	}
	for _, i := range missing {
		start := uint32(0)
		if i > base {
			start = ends[i-base-1]
		}
		ids[i] = d.numberLocked(transientString(buf[start:ends[i-base]]))
	}
	return ids, d.tokens, d.gen
}

// numberLocked is the number of token, which it gives token if it has
// none yet. It keeps a copy of token, whose memory the caller may then
// reuse.
func (d *dictionary) numberLocked(token string) uint32 {
	if id, ok := d.ids[token]; ok {
		return id
	}
	token = getString(&d.text, addString(&d.text, token))
	id := uint32(len(d.tokens))
	d.tokens = append(d.tokens, token)
	d.ids[token] = id
	var short [3]string
	for _, p := range shortPrefixes(short[:0], token) {
		d.prefixes[p] = append(d.prefixes[p], id)
	}
	return id
}

// lookup is the number of token, if it has one.
func (d *dictionary) lookup(token string) (uint32, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	id, ok := d.ids[token]
	return id, ok
}

// withPrefix appends to out the numbers of the tokens that start with
// prefix.
func (d *dictionary) withPrefix(prefix string, out []uint32) []uint32 {
	short := shortPrefixes(nil, prefix)
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, id := range d.prefixes[short[len(short)-1]] {
		if strings.HasPrefix(d.tokens[id], prefix) {
			out = append(out, id)
		}
	}
	return out
}

// Index is the search index of one kind of record, identified by int64 ids.
// It is safe for concurrent use.
type Index struct {
	weights [NumFields]float64

	mu   sync.RWMutex
	docs []docEntry // by slot; a slot is never reused until compact
	// refs and names hold the docs' term and facet numbers and their sort
	// names (see docEntry), and blocks the posting lists' compressed
	// blocks (see postingBlock).
	refs   slab[uint32]
	names  slab[byte]
	blocks slab[byte]
	// What else the index knows of the doc in each slot is in arrays of
	// its own: whether it is live and its length, which searches read
	// for every posting (a small array stays in the processor's cache
	// where docs does not), and likewise the sort keys: ids, the first 8
	// bytes of names (a full comparison only breaks their ties), and
	// times.
	alive   []bool
	docLen  []uint32
	ids     []int64
	nameKey []uint64
	created []int64
	updated []int64
	score   []int64
	group   []uint32 // 0 for none, else the group's number (see groupOf)
	// groupIDs numbers the groups that slots have, from 1; groups holds
	// each one's name (in groupNames) and how many slots have it, by
	// number - 1, and freeGroups the numbers of the groups forgotten, for
	// new ones.
	groupIDs   map[string]uint32
	groups     []groupEntry
	groupNames slab[byte]
	freeGroups []uint32
	slotOf     map[int64]uint32
	live       int         // live docs
	dead       int         // slots of removed docs, until compact
	totalLen   int64       // tokens in live docs
	terms      []termEntry // by term number in dict; shorter until Put grows it
	// liveTerms counts the terms of live docs (df > 0): the others are
	// kept by the dictionary until compactDictLocked.
	liveTerms int
	facetIDs  map[FacetValue]uint32
	facets    []facetEntry

	dict      dictionary
	batch     postingBatch // addPostingsLocked's working memory
	scratch   sync.Pool    // *scratch
	analyzers sync.Pool    // *analyzer
	// refsScratch is appendLocked's working memory.
	refsScratch []uint32
}

// docEntry is what the index keeps of a doc besides the arrays of Index,
// in its slabs: nothing the garbage collector looks into.
type docEntry struct {
	sortName slabRef // in Index.names: in full, to break the ties of nameKey
	refs     slabRef // in Index.refs: the doc's term ids then its facet value ids, to unindex it
	nTerms   uint32
}

// docTerms and docFacets are the term ids and facet value ids of the doc
// in slot, which the caller may renumber in place.
func (ix *Index) docTerms(slot uint32) []uint32 {
	d := &ix.docs[slot]
	return ix.refs.get(d.refs)[:d.nTerms]
}

func (ix *Index) docFacets(slot uint32) []uint32 {
	d := &ix.docs[slot]
	return ix.refs.get(d.refs)[d.nTerms:]
}

// sortName is the sort name of the doc in slot.
func (ix *Index) sortName(slot uint32) string {
	return getString(&ix.names, ix.docs[slot].sortName)
}

// postingBatch is the working memory of addPostingsLocked, kept for the
// next batch: next[t] is zero for every term between batches.
type postingBatch struct {
	next    []int32
	touched []uint32
	sorted  []posting
}

type termEntry struct {
	postings postingList
	df       int32 // live docs with the token
}

type posting struct {
	slot uint32
	tf   [NumFields]uint8
}

type groupEntry struct {
	name  slabRef // in Index.groupNames
	slots int32   // hidden or live
}

type facetEntry struct {
	FacetValue
	slots []uint32 // ascending, like postings
	count int32    // live docs with the value
	// held counts the slots, hidden or live, that have the value: once
	// none has, the value is forgotten (see removeLocked).
	held int32
}

// New returns an empty index whose fields weigh weights in relevance.
func New(weights [NumFields]float64) *Index {
	return &Index{
		weights:  weights,
		slotOf:   map[int64]uint32{},
		facetIDs: map[FacetValue]uint32{},
		groupIDs: map[string]uint32{},
		dict:     dictionary{ids: map[string]uint32{}, prefixes: map[string][]uint32{}},
	}
}

// Len is the number of records in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.live
}

// Count is the number of records in the index that have the facet value
// fv.
func (ix *Index) Count(fv FacetValue) int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if fid, ok := ix.facetIDs[fv]; ok {
		return int(ix.facets[fid].count)
	}
	return 0
}

// Put indexes the record id, replacing what the index held of it.
func (ix *Index) Put(id int64, a Analyzed) {
	ix.Update([]Put{{ID: id, Doc: a}}, nil)
}

// Delete removes the record id from the index, if it is there.
func (ix *Index) Delete(id int64) {
	ix.Update(nil, []int64{id})
}

// A Put is a record for Update to index anew: its id and its analyzed
// text.
type Put struct {
	ID  int64
	Doc Analyzed
}

// Update applies a batch of changes at once, so that no search sees part
// of it: puts, each replacing what the index held of its record (of an id
// put twice, the last), then deletes. It sorts puts by id.
func (ix *Index) Update(puts []Put, deletes []int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// Slots in id order, whatever the caller's.
	slices.SortStableFunc(puts, func(a, b Put) int { return cmp.Compare(a.ID, b.ID) })
	kept := puts[:0]
	for i, p := range puts {
		if i+1 < len(puts) && puts[i+1].ID == p.ID {
			continue
		}
		kept = append(kept, p)
	}
	for i := range kept {
		kept[i].Doc = ix.renumberedLocked(kept[i].Doc)
	}
	ix.reserveLocked(len(kept))
	first := uint32(len(ix.docs))
	for _, p := range kept {
		ix.appendLocked(p.Doc)
	}
	ix.addPostingsLocked(kept, first)
	for i, p := range kept {
		ix.publishLocked(p.ID, first+uint32(i))
	}
	for _, id := range deletes {
		if slot, ok := ix.slotOf[id]; ok {
			ix.removeLocked(slot)
			delete(ix.slotOf, id)
		}
	}
	ix.maybeCompactLocked()
}

// reserveLocked makes room for n more docs. The arrays of docs double:
// growing them as append does, by a quarter once large, copied a big
// index five times its size over, and had it fault in that much fresh
// memory.
func (ix *Index) reserveLocked(n int) {
	if len(ix.docs)+n <= cap(ix.docs) {
		return
	}
	more := max(n, len(ix.docs))
	ix.docs = slices.Grow(ix.docs, more)
	ix.alive, ix.docLen = slices.Grow(ix.alive, more), slices.Grow(ix.docLen, more)
	ix.ids, ix.nameKey = slices.Grow(ix.ids, more), slices.Grow(ix.nameKey, more)
	ix.created, ix.updated = slices.Grow(ix.created, more), slices.Grow(ix.updated, more)
	ix.score, ix.group = slices.Grow(ix.score, more), slices.Grow(ix.group, more)
}

// appendLocked adds a doc in a new slot, hidden: searches skip it and no
// count includes it until publishLocked. Its postings are added apart
// (addPostingsLocked).
func (ix *Index) appendLocked(a Analyzed) {
	slot := uint32(len(ix.docs))
	refs := ix.refsScratch[:0]
	defer func() { ix.refsScratch = refs[:0] }()
	refs = slices.Grow(refs, len(a.terms)+len(a.facets)+len(a.moreFacets))[:len(a.terms)]
	maxTerm := -1
	for i, t := range a.terms {
		refs[i] = t.term
		maxTerm = max(maxTerm, int(t.term))
	}
	if maxTerm >= len(ix.terms) {
		if maxTerm >= cap(ix.terms) {
			// Doubling, as the arrays of docs do: the table grows with
			// every new word, and append grew it by a quarter, copied.
			grown := make([]termEntry, len(ix.terms), max(2*cap(ix.terms), maxTerm+1, 1024))
			copy(grown, ix.terms)
			ix.terms = grown
		}
		ix.terms = ix.terms[:maxTerm+1] // zero entries: nothing was ever written past len
	}
	for _, fvs := range [...][]FacetValue{a.facets, a.moreFacets} {
		for _, fv := range fvs {
			fid, ok := ix.facetIDs[fv]
			if !ok {
				fv = FacetValue{Facet: strings.Clone(fv.Facet), Value: strings.Clone(fv.Value)} // kept; see Doc
				fid = uint32(len(ix.facets))
				ix.facets = append(ix.facets, facetEntry{FacetValue: fv})
				ix.facetIDs[fv] = fid
			}
			fe := &ix.facets[fid]
			if n := len(fe.slots); n > 0 && fe.slots[n-1] == slot {
				continue // the same value twice in one record
			}
			fe.slots = append(fe.slots, slot)
			fe.held++
			refs = append(refs, fid)
		}
	}
	ix.docs = append(ix.docs, docEntry{sortName: addString(&ix.names, a.sortName), refs: ix.refs.add(refs), nTerms: uint32(len(a.terms))})
	ix.alive = append(ix.alive, false)
	ix.docLen = append(ix.docLen, a.length)
	ix.ids = append(ix.ids, 0)
	ix.nameKey = append(ix.nameKey, nameKeyOf(a.sortName))
	ix.created = append(ix.created, a.createTime)
	ix.updated = append(ix.updated, a.updateTime)
	ix.score = append(ix.score, a.score)
	ix.group = append(ix.group, ix.groupOf(a.group))
}

// batchPostingsMin is the number of docs from which addPostingsLocked
// sorts their postings by term first, and batchPostingsMax the most it
// sorts at once, which bounds the memory it keeps for it (a thousand
// records of a hundred words, about a megabyte).
const batchPostingsMin, batchPostingsMax = 32, 1024

// addPostingsLocked adds the postings of puts, appended in slots from
// first on. A posting list is appended to at its end, somewhere in memory
// no cache holds: adding a doc's hundred postings one by one had the
// processor wait on memory for each. A batch's postings are sorted by term
// first (a counting sort, in slot order within each term), so that each
// list is reached once for all its postings of the batch.
func (ix *Index) addPostingsLocked(puts []Put, first uint32) {
	for len(puts) > batchPostingsMax {
		ix.addPostingsLocked(puts[:batchPostingsMax], first)
		puts, first = puts[batchPostingsMax:], first+batchPostingsMax
	}
	if len(puts) < batchPostingsMin {
		for i, p := range puts {
			for _, t := range p.Doc.terms {
				ix.terms[t.term].postings.add(posting{first + uint32(i), t.tf}, &ix.blocks)
			}
		}
		return
	}
	b := &ix.batch
	if len(b.next) < len(ix.terms) {
		b.next = make([]int32, len(ix.terms)+len(ix.terms)/4)
	}
	// Count each term's postings, then give each term its range of sorted:
	// next[t] is where its next posting goes.
	b.touched = b.touched[:0]
	total := 0
	for _, p := range puts {
		for _, t := range p.Doc.terms {
			if b.next[t.term] == 0 {
				b.touched = append(b.touched, t.term)
			}
			b.next[t.term]++
		}
		total += len(p.Doc.terms)
	}
	at := int32(0)
	for _, t := range b.touched {
		n := b.next[t]
		b.next[t] = at
		at += n
	}
	if cap(b.sorted) < total {
		b.sorted = make([]posting, total)
	}
	sorted := b.sorted[:total]
	for i, p := range puts {
		for _, t := range p.Doc.terms {
			sorted[b.next[t.term]] = posting{first + uint32(i), t.tf}
			b.next[t.term]++
		}
	}
	// next[t] is now the end of t's range, and the ranges follow each
	// other in the order of touched.
	start := int32(0)
	for _, t := range b.touched {
		end := b.next[t]
		ix.terms[t].postings.addAll(sorted[start:end], &ix.blocks)
		b.next[t] = 0
		start = end
	}
}

// groupOf numbers a group name for a new slot (appendLocked), which it
// counts in the group until removeLocked: every slot appended is
// published in the same Update, so a group is forgotten only once no
// slot, hidden or live, has it.
func (ix *Index) groupOf(name string) uint32 {
	if name == "" {
		return 0
	}
	g, ok := ix.groupIDs[name]
	if !ok {
		kept := addString(&ix.groupNames, name) // see Doc
		if n := len(ix.freeGroups); n > 0 {
			g = ix.freeGroups[n-1]
			ix.freeGroups = ix.freeGroups[:n-1]
			ix.groups[g-1] = groupEntry{name: kept}
		} else {
			ix.groups = append(ix.groups, groupEntry{name: kept})
			g = uint32(len(ix.groups))
		}
		ix.groupIDs[getString(&ix.groupNames, kept)] = g
	}
	ix.groups[g-1].slots++
	return g
}

// releaseGroupLocked takes a slot out of group g, and forgets the group
// with its last slot: a tool whose software key changes with each
// version, or records written and deleted, would otherwise leave every
// key ever seen in memory.
func (ix *Index) releaseGroupLocked(g uint32) {
	if g == 0 {
		return
	}
	ge := &ix.groups[g-1]
	if ge.slots--; ge.slots == 0 {
		delete(ix.groupIDs, getString(&ix.groupNames, ge.name))
		*ge = groupEntry{}
		ix.freeGroups = append(ix.freeGroups, g)
	}
}

// publishLocked makes the hidden doc in slot the record id, replacing what
// the index held of it.
func (ix *Index) publishLocked(id int64, slot uint32) {
	if old, ok := ix.slotOf[id]; ok {
		ix.removeLocked(old)
	}
	ix.ids[slot], ix.alive[slot] = id, true
	for _, tid := range ix.docTerms(slot) {
		if ix.terms[tid].df++; ix.terms[tid].df == 1 {
			ix.liveTerms++
		}
	}
	for _, fid := range ix.docFacets(slot) {
		ix.facets[fid].count++
	}
	ix.slotOf[id] = slot
	ix.live++
	ix.totalLen += int64(ix.docLen[slot])
}

// keepLive returns the n elements of a per-slot array whose slots are
// live, in slot order: the array as compact renumbers the slots.
func keepLive[T any](s []T, live []bool, n int) []T {
	out := make([]T, 0, n)
	for slot, alive := range live {
		if alive {
			out = append(out, s[slot])
		}
	}
	return out
}

// nameKeyOf is the first 8 bytes of name as a number that orders as they
// do.
func nameKeyOf(name string) uint64 {
	var b [8]byte
	copy(b[:], name)
	return binary.BigEndian.Uint64(b[:])
}

// shortPrefixes appends to out the first 1, 2 and 3 runes of token, as
// far as it has them: a prefix search looks its longest one up, then
// checks the rest. (Given room for 3, it allocates nothing: a
// dictionary numbering a token allocated for them as much as for the
// token.)
func shortPrefixes(out []string, token string) []string {
	for i := range token {
		if i > 0 {
			out = append(out, token[:i])
			if len(out) == 3 {
				return out
			}
		}
	}
	return append(out, token)
}

// removeLocked takes the doc in slot out of every count. Its postings stay
// until compact, skipped because the doc is no longer live.
func (ix *Index) removeLocked(slot uint32) {
	if !ix.alive[slot] {
		return
	}
	for _, tid := range ix.docTerms(slot) {
		if ix.terms[tid].df--; ix.terms[tid].df == 0 {
			ix.liveTerms--
		}
	}
	for _, fid := range ix.docFacets(slot) {
		fe := &ix.facets[fid]
		fe.count--
		if fe.held--; fe.held == 0 {
			// Forgotten at once, not at the next compaction, which a large
			// index waits long for: a peer's record whose values change
			// with each version (a category of a megabyte, say) kept them
			// all. Its number is not taken again until compact.
			delete(ix.facetIDs, fe.FacetValue)
			*fe = facetEntry{}
		}
	}
	ix.live--
	ix.dead++
	ix.totalLen -= int64(ix.docLen[slot])
	ix.docs[slot] = docEntry{}
	ix.alive[slot] = false
	ix.releaseGroupLocked(ix.group[slot])
	ix.group[slot] = 0
}

// compactMin is how many removed docs may wait for compact at least:
// compacting rewrites every posting, so it waits until a good share of them
// point to removed docs.
const compactMin = 1024

func (ix *Index) maybeCompactLocked() {
	if ix.dead >= compactMin && ix.dead >= ix.live/2 {
		ix.compactLocked()
	}
	if unused := ix.dict.size() - ix.liveTerms; unused >= dictCompactMin && unused >= ix.liveTerms {
		ix.compactDictLocked()
	}
}

// dictCompactMin is how many tokens no live doc has the dictionary may
// keep at least. Edits that bring new words leave the old ones behind, and
// so do records analyzed and never put (a peer's page refused after its
// check): each costs a hundred bytes or so of the dictionary, of the
// index's table of terms and of each analyzer's. The dictionary is
// compacted once they are as many as the tokens live docs have, and at
// least this many: compacting costs a pass over every live doc's terms.
const dictCompactMin = 1 << 14

// compactDictLocked drops from the dictionary the tokens no live doc has,
// and numbers those left anew, in the same order, as a new generation
// (see Analyzed.gen). It must run with no hidden doc (between Updates):
// only live docs' terms are renumbered, and the postings of the terms
// dropped, which point only to removed docs, go with them.
func (ix *Index) compactDictLocked() {
	d := &ix.dict
	d.mu.Lock()
	defer d.mu.Unlock()
	renumbered := make([]uint32, len(ix.terms))
	tokens := make([]string, 0, ix.liveTerms)
	terms := make([]termEntry, 0, ix.liveTerms)
	ids := make(map[string]uint32, ix.liveTerms)
	prefixes := map[string][]uint32{}
	var text slab[byte] // of the tokens kept only
	for tid := range ix.terms {
		if ix.terms[tid].df == 0 {
			continue
		}
		id, token := uint32(len(tokens)), getString(&text, addString(&text, d.tokens[tid]))
		renumbered[tid] = id
		tokens, terms = append(tokens, token), append(terms, ix.terms[tid])
		ids[token] = id
		var short [3]string
		for _, p := range shortPrefixes(short[:0], token) {
			prefixes[p] = append(prefixes[p], id)
		}
	}
	for slot, alive := range ix.alive {
		if alive {
			ts := ix.docTerms(uint32(slot))
			for j, tid := range ts {
				ts[j] = renumbered[tid]
			}
		}
	}
	d.tokens, d.ids, d.prefixes, d.text, d.gen = tokens, ids, prefixes, text, d.gen+1
	ix.terms, ix.batch.next = terms, nil
}

// renumberedLocked is a, its terms numbered by the dictionary as it is:
// a was analyzed before the dictionary was last compacted if its
// generation is an earlier one.
func (ix *Index) renumberedLocked(a Analyzed) Analyzed {
	if a.gen == ix.dict.gen || len(a.terms) == 0 {
		return a
	}
	terms := make([]termFreq, len(a.terms)) // a's own may be put again
	ix.dict.mu.Lock()
	for i, t := range a.terms {
		terms[i] = termFreq{term: ix.dict.numberLocked(a.vocab[t.term]), tf: t.tf}
	}
	a.vocab, a.gen = ix.dict.tokens, ix.dict.gen
	ix.dict.mu.Unlock()
	a.terms = terms
	return a
}

// compactLocked drops the slots of removed docs and the facet values no
// live doc has, renumbering what is left in the same order. Terms keep
// their numbers (see dictionary).
func (ix *Index) compactLocked() {
	newSlot := make([]uint32, len(ix.docs))
	n := 0
	for slot, alive := range ix.alive {
		if alive {
			newSlot[slot] = uint32(n)
			n++
		}
	}
	var buf [blockSize]posting
	var blocks slab[byte]
	for tid := range ix.terms {
		te := &ix.terms[tid]
		var ps postingList
		for b := range te.postings.numBlocks() {
			for _, p := range te.postings.block(b, &buf, &ix.blocks) {
				if ix.alive[p.slot] {
					ps.add(posting{newSlot[p.slot], p.tf}, &blocks)
				}
			}
		}
		te.postings = ps
	}
	ix.blocks = blocks
	newFacet := make([]uint32, len(ix.facets))
	facets := make([]facetEntry, 0, len(ix.facets))
	ix.facetIDs = make(map[FacetValue]uint32, len(ix.facets))
	for fid, fe := range ix.facets {
		if fe.count == 0 {
			continue
		}
		slots := make([]uint32, 0, fe.count)
		for _, s := range fe.slots {
			if ix.alive[s] {
				slots = append(slots, newSlot[s])
			}
		}
		fe.slots = slots
		newFacet[fid] = uint32(len(facets))
		ix.facetIDs[fe.FacetValue] = uint32(len(facets))
		facets = append(facets, fe)
	}
	ix.facets = facets
	// The slabs anew, of the live docs only.
	var refs slab[uint32]
	var names slab[byte]
	for slot := range ix.docs {
		if ix.alive[slot] {
			ix.slotOf[ix.ids[slot]] = newSlot[slot]
			fids := ix.docFacets(uint32(slot))
			for j, fid := range fids {
				fids[j] = newFacet[fid]
			}
			d := &ix.docs[slot]
			d.refs, d.sortName = refs.add(ix.refs.get(d.refs)), names.add(ix.names.get(d.sortName))
		}
	}
	ix.refs, ix.names = refs, names
	// The groups' names likewise, of the groups left (their numbers stay).
	var groupNames slab[byte]
	groupIDs := make(map[string]uint32, len(ix.groupIDs))
	for i := range ix.groups {
		if ge := &ix.groups[i]; ge.slots > 0 {
			ge.name = addString(&groupNames, getString(&ix.groupNames, ge.name))
			groupIDs[getString(&groupNames, ge.name)] = uint32(i + 1)
		}
	}
	ix.groupNames, ix.groupIDs = groupNames, groupIDs
	live := ix.alive
	ix.docs, ix.docLen, ix.ids = keepLive(ix.docs, live, n), keepLive(ix.docLen, live, n), keepLive(ix.ids, live, n)
	ix.nameKey, ix.created, ix.updated = keepLive(ix.nameKey, live, n), keepLive(ix.created, live, n), keepLive(ix.updated, live, n)
	ix.score, ix.group, ix.alive = keepLive(ix.score, live, n), keepLive(ix.group, live, n), keepLive(live, live, n)
	ix.dead = 0
}
