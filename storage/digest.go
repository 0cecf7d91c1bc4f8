package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"sort"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// digest sums up an origin's records: how many, and the XOR of recordHash
// over them. XOR makes it independent of order and cheap to keep up to
// date: a write XORs out the version it replaces and XORs in the new one.
type digest struct {
	count int64
	xor   [sha256.Size]byte
}

// recordHash is the hash of a version of a record.
func recordHash(kind Kind, id string, seq int64) [sha256.Size]byte {
	var buf [80]byte
	b := binary.AppendUvarint(buf[:0], uint64(kind))
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	b = binary.AppendUvarint(b, uint64(seq))
	return sha256.Sum256(b)
}

func (d *digest) add(kind Kind, id string, seq int64) {
	h := recordHash(kind, id, seq)
	for i := range d.xor {
		d.xor[i] ^= h[i]
	}
	d.count++
}

func (d *digest) remove(kind Kind, id string, seq int64) {
	d.add(kind, id, seq) // XOR is its own inverse
	d.count -= 2
}

// readDigest reads origin's digest in tx.
func readDigest(ctx context.Context, tx *sql.Tx, origin string) (digest, error) {
	var d digest
	var b []byte
	if err := tx.QueryRowContext(ctx, "SELECT record_count, digest FROM origins WHERE origin = ?", origin).Scan(&d.count, &b); err != nil {
		return d, fmt.Errorf("read digest of %s: %w", origin, err)
	}
	copy(d.xor[:], b)
	return d, nil
}

func writeDigest(ctx context.Context, tx *sql.Tx, origin string, d digest) error {
	if _, err := tx.ExecContext(ctx, "UPDATE origins SET record_count = ?, digest = ? WHERE origin = ?", d.count, d.xor[:], origin); err != nil {
		return fmt.Errorf("write digest of %s: %w", origin, err)
	}
	return nil
}

// computeDigests fills in the digests not computed yet (catalogs from
// before they were kept), from the records.
func (s *Store) computeDigests(ctx context.Context) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("compute digests: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT origin FROM origins WHERE digest IS NULL")
	if err != nil {
		return fmt.Errorf("compute digests: %w", err)
	}
	var origins []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			rows.Close()
			return fmt.Errorf("compute digests: %w", err)
		}
		origins = append(origins, o)
	}
	rows.Close()
	for _, o := range origins {
		var d digest
		rows, err := tx.QueryContext(ctx, "SELECT kind, id, seq FROM records WHERE origin = ?", o)
		if err != nil {
			return fmt.Errorf("compute digest of %s: %w", o, err)
		}
		for rows.Next() {
			var kind Kind
			var id string
			var seq int64
			if err := rows.Scan(&kind, &id, &seq); err != nil {
				rows.Close()
				return fmt.Errorf("compute digest of %s: %w", o, err)
			}
			d.add(kind, id, seq)
		}
		rows.Close()
		if err := writeDigest(ctx, tx, o, d); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Digests describes what the catalog holds of each origin, all of them
// when origins is empty, sorted by origin.
func (s *Store) Digests(ctx context.Context, origins []string) ([]*federationv1.OriginDigest, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT origin, head_seq, record_count, digest FROM origins")
	if err != nil {
		return nil, fmt.Errorf("digests: %w", err)
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, o := range origins {
		want[o] = true
	}
	var out []*federationv1.OriginDigest
	for rows.Next() {
		d := &federationv1.OriginDigest{}
		if err := rows.Scan(&d.Origin, &d.Watermark, &d.Count, &d.Hash); err != nil {
			return nil, fmt.Errorf("digests: %w", err)
		}
		if len(want) == 0 || want[d.Origin] {
			out = append(out, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("digests: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Origin < out[j].Origin })
	return out, nil
}
