package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/search"
	"google.golang.org/protobuf/proto"
)

// fieldWeights are the relevance weights of the full-text fields: a word
// in a name counts most, then in descriptions, then in features.
func fieldWeights() [search.NumFields]float64 { return [search.NumFields]float64{10, 2, 1} }

func (s *Store) indexOf(k Kind) *search.Index {
	if k == KindUseCase {
		return s.useCases
	}
	return s.tools
}

// buildIndexes fills the search indexes and the links from the live
// records, decoding them on every core. A tool's qualification needs every
// use case linked, so tools reach the index last.
func (s *Store) buildIndexes(ctx context.Context) error {
	start := time.Now()
	s.tools, s.useCases = search.New(fieldWeights()), search.New(fieldWeights())
	s.links = newLinks()
	rows, err := s.reader.QueryContext(ctx, "SELECT rid, record FROM records WHERE deleted = 0")
	if err != nil {
		return fmt.Errorf("build search index: %w", err)
	}
	defer rows.Close()

	type stored struct {
		rid    int64
		record []byte
	}
	type tool struct {
		rid      int64
		analyzed search.Analyzed
		input    *catalogv1.Tool
		link     toolLink
	}
	todo := make(chan stored, 256)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		tools    []tool
		// The records of other origins with a time that is none, said
		// once for all (their origins alone can write them anew).
		othersTimeless int
		firstTimeless  string
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range todo {
				rec, m, err := decodeStoredRecord(r.record)
				if err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, fmt.Errorf("record %d: %w", r.rid, err))
					mu.Unlock()
					continue
				}
				if cleared := clearInvalidTimes(m); cleared != nil {
					mu.Lock()
					if rec.GetOrigin() == s.origin {
						s.log.Error("a record of this origin holds a time that is none (written by an earlier version): served without it, and written anew without it once the node's writes go ahead, as peers refuse it",
							"record", ResourceName(Kind(rec.GetKind()), rec.GetOrigin(), rec.GetId()), "fields", cleared)
						if s.timeless == nil {
							s.timeless = map[recordKey]int64{}
						}
						s.timeless[recordKey{Kind(rec.GetKind()), rec.GetId()}] = rec.GetSeq()
					} else if othersTimeless++; othersTimeless == 1 {
						firstTimeless = ResourceName(Kind(rec.GetKind()), rec.GetOrigin(), rec.GetId())
					}
					mu.Unlock()
				}
				ix := s.indexOf(rec.GetKind())
				a := ix.Analyze(s.searchDoc(rec.GetOrigin(), m))
				switch res := m.(type) {
				case *catalogv1.Tool:
					tl := linkOf(res)
					s.links.loadTool(r.rid, tl)
					mu.Lock()
					tools = append(tools, tool{r.rid, a, qualificationInput(res), tl})
					mu.Unlock()
				case *catalogv1.UseCase:
					s.links.loadUseCase(r.rid, res)
					ix.Put(r.rid, a)
				}
			}
		}()
	}
	for rows.Next() {
		var r stored
		if err = rows.Scan(&r.rid, &r.record); err != nil {
			break
		}
		todo <- r
	}
	close(todo)
	wg.Wait()
	if err == nil {
		err = rows.Err()
	}
	if err = errors.Join(err, firstErr); err != nil {
		return fmt.Errorf("build search index: %w", err)
	}
	if othersTimeless > 0 {
		s.log.Warn("records of other origins hold a time that is none (written by earlier versions): served without it; peers of this version refuse their origins' pages until their nodes, upgraded, write them anew",
			"records", othersTimeless, "first", firstTimeless)
	}
	now, uses := s.now(), s.links.groupUseCases()
	parallel(len(tools), func(i int) {
		t := &tools[i]
		t.analyzed = s.withQualification(t.analyzed, t.input, t.link, uses, now)
	})
	puts := make([]search.Put, len(tools))
	for i, t := range tools {
		puts[i] = search.Put{ID: t.rid, Doc: t.analyzed}
	}
	s.tools.Update(puts, nil)
	s.log.Info("built search index", "tools", s.tools.Len(), "use_cases", s.useCases.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// indexChange is a committed change to a record, for the search index and
// the links: its new version and its analyzed text, or its removal when put
// is nil.
type indexChange struct {
	kind Kind
	rid  int64
	// put, resource and link are the new version's, nil for a delete;
	// put and link may still be being computed until the batch is ready.
	put      *search.Analyzed
	resource proto.Message // read only: the writer hands it to its caller too
	link     *toolLink     // of a tool put, computed beside its analysis
}

// indexer puts committed changes in the search indexes on a goroutine of
// its own, in commit order, so that a writer can start its next batch (the
// signing and analysis, which take most of a write's time) while the
// previous one is indexed. Searches wait for every change committed before
// they started: a write is in search results as soon as it returns.
type indexer struct {
	mu   sync.Mutex
	cond *sync.Cond
	// pending are the batches announced and not yet indexed, in the order
	// they were announced: the indexer takes them in that order and stops
	// at the first not yet delivered, so that done counts a prefix of them
	// and a reader waiting for queued waits for every batch before.
	pending []*indexBatch
	queued  uint64 // batches announced to the indexer
	done    uint64 // batches in the indexes, or dropped once it stopped
	closed  bool
	stopped chan struct{}
}

// startIndexer starts the goroutine that applies queued changes.
func (s *Store) startIndexer() {
	ix := &indexer{stopped: make(chan struct{})}
	ix.cond = sync.NewCond(&ix.mu)
	s.indexer = ix
	go func() {
		defer close(ix.stopped)
		for {
			ix.mu.Lock()
			// Once closed, the indexer still waits for the batches
			// announced: each is delivered, committed or not.
			for !(len(ix.pending) > 0 && ix.pending[0].delivered) && !(ix.closed && len(ix.pending) == 0) {
				ix.cond.Wait()
			}
			n := 0
			for n < len(ix.pending) && ix.pending[n].delivered {
				n++
			}
			batches := ix.pending[:n:n]
			ix.pending = ix.pending[n:]
			closed := ix.closed
			ix.mu.Unlock()
			for _, b := range batches {
				if b.requalify {
					s.requalifyChunk(b.requalifyAfter)
				} else {
					if b.ready != nil {
						<-b.ready
					}
					s.reindex(b.changes)
				}
				// The array behind ix.pending keeps b until appends
				// outgrow it: not its records.
				b.changes = nil
			}
			ix.mu.Lock()
			ix.done += uint64(len(batches))
			ix.cond.Broadcast()
			ix.mu.Unlock()
			if closed && len(batches) == 0 {
				return
			}
		}
	}()
}

// indexBatch is a batch of committed changes, or the order to requalify
// the tools whose rid is above requalifyAfter.
type indexBatch struct {
	delivered      bool // the batch is complete, past its announcement
	dropped        bool // announced once the indexer had stopped
	changes        []indexChange
	ready          <-chan struct{} // closed once the changes are complete; nil if they are
	requalify      bool
	requalifyAfter int64
}

// dayCheckEvery is how often the index looks whether the day changed.
const dayCheckEvery = time.Minute

// requalifyDaily queues a requalification of every tool whenever the day
// (in UTC) changes, until the indexer stops: a tool's qualification
// depends on the date as well as on the records (a release turns two
// years old, a contract ends, at midnight UTC), and the index's must be
// the one each tool is served with, which is worked out for the day of
// the read: else a criterion filter, its facet and the order by score
// disagreed with the tools they listed for up to a day. The day is that of
// the store's clock, looked at every check; on is the day the index was
// built on.
func (s *Store) requalifyDaily(on string, check time.Duration) {
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		select {
		case <-s.indexer.stopped:
			return
		case <-t.C:
			if day := utcDay(s.now()); day != on {
				on = day
				s.queue(indexBatch{requalify: true})
			}
		}
	}
}

// utcDay is the day of t in UTC, as YYYY-MM-DD.
func utcDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// requalifyChunkSize is how much of a requalification of every tool the
// indexer does at once: searches and reads waiting for the indexer wait
// for one chunk, not for the whole catalog.
const requalifyChunkSize = 500

// requalifyChunk puts the live tools after rid after, a chunk of them, in
// the index again with their qualification as of now, and queues the next
// chunk behind whatever was committed meanwhile.
func (s *Store) requalifyChunk(after int64) {
	rows, err := s.reader.Query("SELECT rid, record FROM records WHERE deleted = 0 AND kind = ? AND rid > ? ORDER BY rid LIMIT ?",
		int64(KindTool), after, requalifyChunkSize)
	if err != nil {
		s.log.Error("requalify tools", "err", err)
		return
	}
	type stored struct {
		rid      int64
		record   []byte
		analyzed search.Analyzed
		ok       bool
	}
	var chunk []stored
	for rows.Next() {
		var r stored
		if err := rows.Scan(&r.rid, &r.record); err != nil {
			rows.Close()
			s.log.Error("requalify tools", "err", err)
			return
		}
		chunk = append(chunk, r)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		s.log.Error("requalify tools", "err", err)
		return
	}
	now, uses := s.now(), s.links.groupUseCases()
	parallel(len(chunk), func(i int) {
		r := &chunk[i]
		m, err := decodeResource(r.record)
		if err != nil {
			s.log.Error("requalify tool", "rid", r.rid, "err", err)
			return
		}
		t := m.(*catalogv1.Tool)
		r.analyzed, r.ok = s.withQualification(s.tools.Analyze(s.searchDoc(t.GetOrigin(), t)), t, linkOf(t), uses, now), true
	})
	puts := make([]search.Put, 0, len(chunk))
	for _, r := range chunk {
		if r.ok {
			puts = append(puts, search.Put{ID: r.rid, Doc: r.analyzed})
		}
	}
	s.tools.Update(puts, nil)
	if len(chunk) == requalifyChunkSize {
		s.queue(indexBatch{requalify: true, requalifyAfter: chunk[len(chunk)-1].rid})
	}
}

// announceIndex tells the indexer that a batch of changes is about to
// commit, and returns its place in the indexer's queue. A commit is
// visible to readers the moment it ends, before its changes reach the
// indexer: from the announcement on, searches and reads wait for the
// batch, so that one made after a read that saw the commit sees it too.
// Callers announce just before the commit, and then deliver exactly once:
// the changes, or none if the commit failed.
func (s *Store) announceIndex() *indexBatch {
	ix := s.indexer
	ix.mu.Lock()
	defer ix.mu.Unlock()
	b := &indexBatch{}
	if ix.closed {
		b.dropped = true
	} else {
		ix.pending = append(ix.pending, b)
	}
	ix.queued++
	return b
}

// deliverIndex completes the announced batch slot with its changes. When
// ready is not nil, the changes' analysis and links are still being
// computed: the indexer waits for it to be closed before it reads them.
func (s *Store) deliverIndex(slot *indexBatch, changes []indexChange, ready <-chan struct{}) {
	s.deliver(slot, indexBatch{changes: changes, ready: ready})
}

// queue announces and delivers a batch of the indexer's own, such as a
// requalification.
func (s *Store) queue(b indexBatch) {
	s.deliver(s.announceIndex(), b)
}

// deliver completes the announced batch slot with b. A batch announced
// once the indexer had stopped is counted as done, so that nobody waits
// for it.
func (s *Store) deliver(slot *indexBatch, b indexBatch) {
	ix := s.indexer
	ix.mu.Lock()
	defer ix.mu.Unlock()
	b.delivered, b.dropped = true, slot.dropped
	*slot = b
	if b.dropped {
		ix.done++
	}
	ix.cond.Broadcast()
}

// awaitIndex returns once every change committed before the call is in the
// search indexes.
func (s *Store) awaitIndex() { s.awaitIndexed() }

// awaitIndexed is awaitIndex, returning how many batches were announced
// when it was called: all of them are in the indexes now.
func (s *Store) awaitIndexed() uint64 {
	ix := s.indexer
	ix.mu.Lock()
	defer ix.mu.Unlock()
	target := ix.queued
	for ix.done < target {
		ix.cond.Wait()
	}
	return target
}

// indexAnnounced is how many batches were announced to the indexer: every
// commit that changes records announces one first.
func (s *Store) indexAnnounced() uint64 {
	ix := s.indexer
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.queued
}

// stopIndexer indexes what is queued and stops the indexer.
func (s *Store) stopIndexer() {
	ix := s.indexer
	if ix == nil {
		return
	}
	ix.mu.Lock()
	ix.closed = true
	ix.cond.Broadcast()
	ix.mu.Unlock()
	<-ix.stopped
}

// reindex applies committed changes to the links and the search indexes,
// a batch per kind, so that a search sees all of a kind's changes or none.
// Tools get their qualification here, once the links have the batch, and
// the tools whose qualification a change affects (the use cases of their
// software changed) are reindexed with it.
func (s *Store) reindex(changes []indexChange) {
	now := s.now()
	puts := map[Kind][]search.Put{}
	deletes := map[Kind][]int64{}
	affected := map[int64]bool{}
	for _, c := range changes {
		var hit []int64
		switch r := c.resource.(type) {
		case *catalogv1.Tool:
			hit = s.links.setTool(c.rid, *c.link)
		case *catalogv1.UseCase:
			hit = s.links.setUseCase(c.rid, r)
		default:
			if c.kind == KindTool {
				hit = s.links.removeTool(c.rid)
			} else {
				hit = s.links.removeUseCase(c.rid)
			}
		}
		for _, rid := range hit {
			affected[rid] = true
		}
	}
	// Tools, with their qualification, in the changes and then those the
	// changes requalify: computed on every core, the links being complete.
	type toolPut struct {
		rid      int64
		tool     *catalogv1.Tool
		link     toolLink
		analyzed search.Analyzed
	}
	// A record changed twice in the batch (a page may hold a record's
	// tombstone and its creation again) is indexed as its last change
	// left it: Update puts before it deletes.
	last := make(map[int64]int, len(changes))
	for i, c := range changes {
		last[c.rid] = i
	}
	tools := make([]toolPut, 0, len(changes)+len(affected))
	for i, c := range changes {
		delete(affected, c.rid)
		if last[c.rid] != i {
			continue
		}
		switch r := c.resource.(type) {
		case *catalogv1.Tool:
			tools = append(tools, toolPut{c.rid, r, *c.link, *c.put})
		case *catalogv1.UseCase:
			puts[KindUseCase] = append(puts[KindUseCase], search.Put{ID: c.rid, Doc: *c.put})
		default:
			deletes[c.kind] = append(deletes[c.kind], c.rid)
		}
	}
	for rid := range affected {
		t, err := s.readLiveTool(rid)
		if err != nil {
			s.log.Error("requalify tool", "rid", rid, "err", err)
			continue
		}
		if t != nil {
			tools = append(tools, toolPut{rid, t, linkOf(t), s.tools.Analyze(s.searchDoc(t.GetOrigin(), t))})
		}
	}
	uses := s.links.groupUseCases()
	parallel(len(tools), func(i int) {
		t := &tools[i]
		t.analyzed = s.withQualification(t.analyzed, t.tool, t.link, uses, now)
	})
	puts[KindTool] = make([]search.Put, len(tools))
	for i, t := range tools {
		puts[KindTool][i] = search.Put{ID: t.rid, Doc: t.analyzed}
	}
	for _, k := range []Kind{KindTool, KindUseCase} {
		if len(puts[k]) > 0 || len(deletes[k]) > 0 {
			s.indexOf(k).Update(puts[k], deletes[k])
		}
	}
}

// parallel calls f for 0 to n-1 on every core; small batches stay on one.
func parallel(n int, f func(i int)) {
	onCores((n+63)/64, n, f)
}

// onCores calls f for 0 to n-1 on up to workers goroutines, at most one per
// core, each taking the next i as it finishes one, and returns when all
// are done.
func onCores(workers, n int, f func(i int)) {
	workers = min(workers, runtime.GOMAXPROCS(0))
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// readLiveTool reads the live tool of rid, or nil.
func (s *Store) readLiveTool(rid int64) (*catalogv1.Tool, error) {
	var rec []byte
	err := s.reader.QueryRow("SELECT record FROM records WHERE rid = ? AND deleted = 0 AND kind = ?", rid, int64(KindTool)).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := decodeResource(rec)
	if err != nil {
		return nil, err
	}
	t, _ := m.(*catalogv1.Tool)
	return t, nil
}

// RepairTimes writes anew, at new seqs, the node's own records found at
// open with a time that is none (clearInvalidTimes), without it: peers of
// this version refuse a page that holds one, and so every record of the
// origin written after it. A record changed since the open is left as the
// change made it. It returns how many it wrote; the node calls it once its
// own writes go ahead (OwnWritesDecided).
func (s *Store) RepairTimes(ctx context.Context) (int, error) {
	var writes []Write
	for k, seq := range s.timeless {
		m, err := s.Get(ctx, k.kind, s.origin, k.id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since
		}
		if err != nil {
			return 0, fmt.Errorf("repair times: %w", err)
		}
		var etag string
		switch r := m.(type) {
		case *catalogv1.Tool:
			seq, etag = seq-r.GetSeq(), r.GetEtag()
		case *catalogv1.UseCase:
			seq, etag = seq-r.GetSeq(), r.GetEtag()
		}
		if seq != 0 {
			continue // written since, without the time
		}
		writes = append(writes, Write{Op: OpReplace, Kind: k.kind, ID: k.id, Resource: m, IfEtag: etag})
	}
	// One write each: a record changed meanwhile (ErrStale) is left as
	// the change made it, and does not keep the others from their repair.
	written := 0
	var errs []error
	for _, w := range writes {
		switch _, err := s.Apply(ctx, []Write{w}); {
		case err == nil:
			written++
			delete(s.timeless, recordKey{w.Kind, w.ID})
		case errors.Is(err, ErrStale), errors.Is(err, ErrNotFound):
			delete(s.timeless, recordKey{w.Kind, w.ID})
		default:
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return written, fmt.Errorf("repair times: %w", err)
	}
	return written, nil
}
