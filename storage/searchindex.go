package storage

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/ogptoolbox/federation/search"
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

// buildIndexes fills the search indexes from the live records, decoding
// them on every core.
func (s *Store) buildIndexes(ctx context.Context) error {
	start := time.Now()
	s.tools, s.useCases = search.New(fieldWeights()), search.New(fieldWeights())
	rows, err := s.reader.QueryContext(ctx, "SELECT rid, record FROM records WHERE deleted = 0")
	if err != nil {
		return fmt.Errorf("build search index: %w", err)
	}
	defer rows.Close()

	type stored struct {
		rid    int64
		record []byte
	}
	todo := make(chan stored, 256)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range todo {
				rec, m, err := decodeRecord(r.record)
				if err != nil {
					errMu.Lock()
					firstErr = errors.Join(firstErr, fmt.Errorf("record %d: %w", r.rid, err))
					errMu.Unlock()
					continue
				}
				s.indexOf(rec.GetKind()).Put(r.rid, s.indexOf(rec.GetKind()).Analyze(searchDoc(rec.GetOrigin(), m)))
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
	s.log.Info("built search index", "tools", s.tools.Len(), "use_cases", s.useCases.Len(), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// indexChange is a committed change to a record, for the search index: its
// new version, or its removal when put is nil.
type indexChange struct {
	kind Kind
	rid  int64
	put  *search.Analyzed
}

// indexer puts committed changes in the search indexes on a goroutine of
// its own, in commit order, so that a writer can start its next batch (the
// signing and analysis, which take most of a write's time) while the
// previous one is indexed. Searches wait for every change committed before
// they started: a write is in search results as soon as it returns.
type indexer struct {
	mu      sync.Mutex
	cond    *sync.Cond
	pending [][]indexChange
	queued  uint64 // batches handed to the indexer
	done    uint64 // batches in the indexes
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
			for len(ix.pending) == 0 && !ix.closed {
				ix.cond.Wait()
			}
			batches := ix.pending
			ix.pending = nil
			closed := ix.closed
			ix.mu.Unlock()
			for _, b := range batches {
				s.reindex(b)
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

// queueReindex hands committed changes to the indexer. Callers hold
// writeMu, so batches are queued in commit order.
func (s *Store) queueReindex(changes []indexChange) {
	ix := s.indexer
	ix.mu.Lock()
	ix.pending = append(ix.pending, changes)
	ix.queued++
	ix.cond.Broadcast()
	ix.mu.Unlock()
}

// awaitIndex returns once every change committed before the call is in the
// search indexes.
func (s *Store) awaitIndex() {
	ix := s.indexer
	ix.mu.Lock()
	target := ix.queued
	for ix.done < target {
		ix.cond.Wait()
	}
	ix.mu.Unlock()
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

// reindex applies committed changes to the search indexes, a batch per
// kind, so that a search sees all of a kind's changes or none.
func (s *Store) reindex(changes []indexChange) {
	puts := map[Kind]map[int64]search.Analyzed{}
	deletes := map[Kind][]int64{}
	for _, c := range changes {
		if puts[c.kind] == nil {
			puts[c.kind] = map[int64]search.Analyzed{}
		}
		if c.put != nil {
			puts[c.kind][c.rid] = *c.put
		} else {
			deletes[c.kind] = append(deletes[c.kind], c.rid)
		}
	}
	for k, kindPuts := range puts {
		s.indexOf(k).Update(kindPuts, deletes[k])
	}
}
