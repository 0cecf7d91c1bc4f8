package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

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
	rows, err := s.reader.QueryContext(ctx, `
		SELECT o.origin, MAX(o.head_seq, COALESCE(`+lastSeqOfOrigin+`, 0)),
		  (SELECT count(*) FROM records r WHERE r.origin = o.origin AND r.kind = ? AND r.deleted = 0),
		  (SELECT count(*) FROM records r WHERE r.origin = o.origin AND r.kind = ? AND r.deleted = 0),
		  (SELECT count(*) FROM records r WHERE r.origin = o.origin AND r.deleted = 1)
		FROM origins o`, int64(KindTool), int64(KindUseCase))
	if err != nil {
		return nil, fmt.Errorf("count records: %w", err)
	}
	defer rows.Close()
	var out []OriginCounts
	for rows.Next() {
		var c OriginCounts
		if err := rows.Scan(&c.Origin, &c.HeadSeq, &c.Tools, &c.UseCases, &c.Tombstones); err != nil {
			return nil, fmt.Errorf("count records: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count records: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Origin < out[j].Origin })
	return out, nil
}
