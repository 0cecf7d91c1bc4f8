package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/ogptoolbox/federation/search"
	"google.golang.org/protobuf/proto"
)

// Get returns the live record of kind k named by origin and id, with its
// etag set, or an error wrapping ErrNotFound.
func (s *Store) Get(ctx context.Context, k Kind, origin, id string) (proto.Message, error) {
	var rec, sig []byte
	err := s.reader.QueryRowContext(ctx,
		"SELECT record, signature FROM records WHERE origin = ? AND kind = ? AND id = ? AND deleted = 0",
		origin, int64(k), id).Scan(&rec, &sig)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", ResourceName(k, origin, id), ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", ResourceName(k, origin, id), err)
	}
	m, err := decodeStored(rec, sig)
	if err != nil {
		return nil, err
	}
	s.SetQualification(m)
	return m, nil
}

// decodeStored decodes a stored record's resource and sets its etag.
func decodeStored(rec, sig []byte) (proto.Message, error) {
	m, err := decodeResource(rec)
	if err != nil {
		return nil, err
	}
	setEtag(m, Etag(sig))
	return m, nil
}

// OriginCounts are the records held of one origin.
type OriginCounts struct {
	Origin     string
	Tools      int64
	UseCases   int64
	Tombstones int64
	HeadSeq    int64
}

// Counts returns the records held per origin, sorted by origin. The head
// is the highest seq held: above the watermark too, while an origin is
// pulled again from the start (see ResetWatermark), where the watermark
// fell to 0 and no record went.
func (s *Store) Counts(ctx context.Context) ([]OriginCounts, error) {
	// The live records are the search indexes' (once they hold every
	// write committed), the rest of an origin's rows tombstones: the
	// origin's digest counts its rows. Counting the rows in SQLite read
	// the whole table, a quarter of a second at 100,000 records, at each
	// call of the public GET /v1/node and each scrape of /metrics. The
	// two agree when no write was announced to the indexer between them
	// (each is, before it commits): else they are read again.
	var out []OriginCounts
	for attempt := 0; ; attempt++ {
		last := attempt == maxCountsAttempts
		if last {
			// Writes go on: the last read holds them out, for as long
			// as the indexer takes to catch up and the read lasts.
			if err := s.writeLock.lock(ctx); err != nil {
				return nil, fmt.Errorf("count records: wait for the writes: %w", err)
			}
		}
		before := s.awaitIndexed()
		var err error
		out, err = s.readCounts(ctx)
		if last {
			s.writeLock.Unlock()
		}
		if err != nil {
			return nil, err
		}
		if last || s.indexAnnounced() == before {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Origin < out[j].Origin })
	return out, nil
}

// maxCountsAttempts bounds Counts' reads beside a stream of writes, after
// which it reads holding the writes out: its counts were off by the
// writes of an instant (creates counted as tombstones).
const maxCountsAttempts = 4

// readCounts reads each origin's counts: its head and rows from the
// catalog, its live records from the indexes.
func (s *Store) readCounts(ctx context.Context) ([]OriginCounts, error) {
	rows, err := s.reader.QueryContext(ctx, `
		SELECT o.origin, MAX(o.head_seq, COALESCE(`+lastSeqOfOrigin+`, 0)), o.record_count FROM origins o`)
	if err != nil {
		return nil, fmt.Errorf("count records: %w", err)
	}
	defer rows.Close()
	var out []OriginCounts
	for rows.Next() {
		var c OriginCounts
		var held int64
		if err := rows.Scan(&c.Origin, &c.HeadSeq, &held); err != nil {
			return nil, fmt.Errorf("count records: %w", err)
		}
		of := search.FacetValue{Facet: "origin", Value: c.Origin}
		c.Tools, c.UseCases = int64(s.tools.Count(of)), int64(s.useCases.Count(of))
		c.Tombstones = max(held-c.Tools-c.UseCases, 0)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count records: %w", err)
	}
	return out, nil
}
