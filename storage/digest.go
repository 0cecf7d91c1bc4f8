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

// digest sums up an origin's records: how many, the XOR of recordHash over
// them, and the XOR of signedRecordHash. XOR makes it independent of order
// and cheap to keep up to date: a write XORs out the version it replaces
// and XORs in the new one.
//
// The first hash is what nodes compared before the second: it names each
// version of a record by its kind, id and seq, which an origin's writes
// make unique, except when the origin wrote again after its catalog was
// restored from a copy older than the records it had sent. Two versions
// of one seq then hash alike, and a node holding one and a node holding
// the other would never find out. The signed hash counts the signature
// too; nodes compare it when both send it (see OriginDigest.signed_hash).
type digest struct {
	count       int64
	xor, signed [sha256.Size]byte
}

// recordHash is the hash of a version of a record, by its name and seq.
func recordHash(kind Kind, id string, seq int64) [sha256.Size]byte {
	var buf [80]byte
	return sha256.Sum256(appendRecordName(buf[:0], kind, id, seq))
}

// signedRecordHash is the hash of a version of a record, with its signature
// (which tells apart two records signed at one seq).
func signedRecordHash(kind Kind, id string, seq int64, signature []byte) [sha256.Size]byte {
	var buf [160]byte
	b := appendRecordName(buf[:0], kind, id, seq)
	b = binary.AppendUvarint(b, uint64(len(signature)))
	return sha256.Sum256(append(b, signature...))
}

func appendRecordName(b []byte, kind Kind, id string, seq int64) []byte {
	b = binary.AppendUvarint(b, uint64(kind))
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	return binary.AppendUvarint(b, uint64(seq))
}

func (d *digest) add(kind Kind, id string, seq int64, signature []byte) {
	h, sh := recordHash(kind, id, seq), signedRecordHash(kind, id, seq, signature)
	for i := range d.xor {
		d.xor[i] ^= h[i]
		d.signed[i] ^= sh[i]
	}
	d.count++
}

func (d *digest) remove(kind Kind, id string, seq int64, signature []byte) {
	d.add(kind, id, seq, signature) // XOR is its own inverse
	d.count -= 2
}

// readDigest reads origin's digest in tx.
func readDigest(ctx context.Context, tx *sql.Tx, origin string) (digest, error) {
	var d digest
	var b, sb []byte
	if err := tx.QueryRowContext(ctx, "SELECT record_count, digest, signed_digest FROM origins WHERE origin = ?", origin).Scan(&d.count, &b, &sb); err != nil {
		return d, fmt.Errorf("read digest of %s: %w", origin, err)
	}
	copy(d.xor[:], b)
	copy(d.signed[:], sb)
	return d, nil
}

func writeDigest(ctx context.Context, tx *sql.Tx, origin string, d digest) error {
	if _, err := tx.ExecContext(ctx, "UPDATE origins SET record_count = ?, digest = ?, signed_digest = ? WHERE origin = ?", d.count, d.xor[:], d.signed[:], origin); err != nil {
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
	rows, err := tx.QueryContext(ctx, "SELECT origin FROM origins WHERE digest IS NULL OR signed_digest IS NULL")
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
		rows, err := tx.QueryContext(ctx, "SELECT kind, id, seq, signature FROM records WHERE origin = ?", o)
		if err != nil {
			return fmt.Errorf("compute digest of %s: %w", o, err)
		}
		for rows.Next() {
			var kind Kind
			var id string
			var seq int64
			var signature []byte
			if err := rows.Scan(&kind, &id, &seq, &signature); err != nil {
				rows.Close()
				return fmt.Errorf("compute digest of %s: %w", o, err)
			}
			d.add(kind, id, seq, signature)
		}
		rows.Close()
		if err := writeDigest(ctx, tx, o, d); err != nil {
			return err
		}
	}
	return s.commitWrite(tx)
}

// Digests describes what the catalog holds of each origin, all of them
// when origins is empty, sorted by origin.
func (s *Store) Digests(ctx context.Context, origins []string) ([]*federationv1.OriginDigest, error) {
	return s.digests(ctx, origins, "head_seq")
}

// PeerDigests is Digests as peers compare them: an origin the catalog
// pulls again from the start (see ResetWatermark), whose records go past
// its watermark, is described at watermark 0. Its count and hashes are
// those of every record it holds, above the watermark too: a peer that
// holds the origin up to the same watermark must not take the difference
// for records it lost, nor blame this node for not sending them. (At 0, a
// peer waiting for records of its own origin still sees how many.)
func (s *Store) PeerDigests(ctx context.Context, origins []string) ([]*federationv1.OriginDigest, error) {
	return s.digests(ctx, origins, "CASE WHEN "+lastSeqOfOrigin+" > head_seq THEN 0 ELSE head_seq END")
}

func (s *Store) digests(ctx context.Context, origins []string, watermark string) ([]*federationv1.OriginDigest, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT origin, "+watermark+", record_count, digest, signed_digest, public_key FROM origins o")
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
		if err := rows.Scan(&d.Origin, &d.Watermark, &d.Count, &d.Hash, &d.SignedHash, &d.PublicKey); err != nil {
			return nil, fmt.Errorf("digests: %w", err)
		}
		if d.Origin == s.origin {
			d.PublicKey = s.PublicKey()
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
