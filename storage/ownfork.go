package storage

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"slices"

	"github.com/ogptoolbox/federation/envelope"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// An OwnFork gathers what a peer holds of the node's own origin, page by
// page from the start (Add), for RepairOwnFork. A fork of the node's own
// origin is two histories of it: the node lost records of its origin
// (restored from an older copy, say) and, no peer giving them back in
// time, wrote again at their seqs. Peers hold the records they had of
// those seqs, refuse the node's (see RefusedForked and Fork), and their
// watermarks stand past them: neither side can pull the other's.
type OwnFork struct {
	s    *Store
	next int64 // where the next page must start
	// head is the last seq the peer's records reach: only the node's key
	// signs them, so the peer cannot make it up.
	head int64
	// held is every record the peer holds, by its seq and signature.
	held map[recordKey]heldVersion
	// other holds the records the catalog held otherwise when they came
	// (another version, or none), whole: those RepairOwnFork may take
	// back.
	other map[recordKey]replicated
	// forked says the peer holds, at a seq, another record than the
	// catalog does.
	forked bool
}

type heldVersion struct {
	seq int64
	sig [ed25519.SignatureSize]byte
}

// NewOwnFork starts gathering a peer's records of the node's own origin.
func (s *Store) NewOwnFork() *OwnFork {
	return &OwnFork{s: s, held: map[recordKey]heldVersion{}, other: map[recordKey]replicated{}}
}

// Add takes the next page of the peer's records of the node's origin,
// checked by CheckPage (so verified with the node's own key), in the
// order the peer sent them from seq 0. It refuses a page of another
// origin or that does not start where the last ended; the fork is then
// not to be repaired from this peer's pages.
func (f *OwnFork) Add(ctx context.Context, cp *CheckedPage) error {
	s := f.s
	switch {
	case cp.Origin() != s.origin:
		return refused(cp.Origin(), RefusedMalformed, "a page of origin %q among those of this node's own", cp.Origin())
	case cp.AfterSeq() != f.next:
		return refused(cp.Origin(), RefusedGap, "the page starts after seq %d, where the one before ended at %d", cp.AfterSeq(), f.next)
	}
	keys := make([]recordKey, len(cp.recs))
	for i, r := range cp.recs {
		keys[i] = recordKey{r.rec.GetKind(), r.rec.GetId()}
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("compare the records of this node's origin a peer holds: %w", err)
	}
	current, err := lookupCurrent(ctx, tx, s.origin, keys)
	if err != nil {
		tx.Rollback()
		return fmt.Errorf("compare the records of this node's origin a peer holds: %w", err)
	}
	atSeq, err := signaturesAt(ctx, tx, s.origin, cp.AfterSeq(), cp.ThroughSeq())
	tx.Rollback()
	if err != nil {
		return fmt.Errorf("compare the records of this node's origin a peer holds: %w", err)
	}
	for i, r := range cp.recs {
		k := keys[i]
		if prev, ok := f.held[k]; ok && prev.seq >= r.rec.GetSeq() {
			continue // an older version of a record sent already: the newer counts
		}
		var v heldVersion
		v.seq = r.rec.GetSeq()
		copy(v.sig[:], r.signed.GetSignature())
		f.held[k] = v
		if sig, ok := atSeq[v.seq]; ok && !bytes.Equal(sig, v.sig[:]) {
			f.forked = true
		}
		if cur := current[k]; cur != nil && cur.seq == v.seq && bytes.Equal(cur.sig, v.sig[:]) {
			delete(f.other, k)
			continue
		}
		f.other[k] = r
	}
	f.next = cp.ThroughSeq()
	f.head = max(f.head, cp.ThroughSeq())
	return nil
}

// Forked reports whether the peer's records, so far, show a fork: a
// record at a seq where the catalog holds another. Without one, the peer
// may only lack records (it lost some), and repairs itself by pulling.
func (f *OwnFork) Forked() bool { return f.forked }

// signaturesAt reads the signatures of origin's records with after < seq
// <= through, by seq.
func signaturesAt(ctx context.Context, tx *sql.Tx, origin string, after, through int64) (map[int64][]byte, error) {
	rows, err := tx.QueryContext(ctx, "SELECT seq, signature FROM records WHERE origin = ? AND seq > ? AND seq <= ?", origin, after, through)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]byte{}
	for rows.Next() {
		var seq int64
		var sig []byte
		if err := rows.Scan(&seq, &sig); err != nil {
			return nil, err
		}
		out[seq] = sig
	}
	return out, rows.Err()
}

// RepairOwnFork joins the two histories of the node's own origin that f
// found, by writing again, at new seqs past every seq the peer holds,
// every record of the node's origin the peer cannot pull as the catalog
// holds it:
//
//   - each record the catalog holds at a seq up to the peer's head,
//     other than the peer's: the peer's watermark stands past it, or it
//     holds another record at that seq;
//   - each record the peer holds at a higher seq than the catalog's
//     version, or of an id the catalog does not hold: a write the catalog
//     lost, which it takes back.
//
// Of a record both hold at one seq, otherwise, the catalog's version
// stays: written after the catalog lost the other, it is the later. Each
// version is written again as it was (the same resource and times, or
// the same tombstone), signed at its new seq. The node's head moves past
// the peer's, so that its later writes reach the peer too. The peer,
// pulling these, holds what the catalog holds; so does any other peer
// that held either history, once repaired the same way if it held
// records this peer did not. It returns how many records it wrote.
func (s *Store) RepairOwnFork(ctx context.Context, f *OwnFork) (int, error) {
	written := 0
	_, err := s.writeTx(ctx, func(tx *sql.Tx) ([]pending, func([]pending) error, error) {
		written = 0
		if _, err := tx.ExecContext(ctx, "UPDATE origins SET head_seq = MAX(head_seq, ?) WHERE origin = ?", f.head, s.origin); err != nil {
			return nil, nil, fmt.Errorf("repair the fork of this node's origin: move its head: %w", err)
		}
		type restate struct {
			from int64 // the seq of the version written again
			p    pending
		}
		var todo []restate
		decided := map[recordKey]bool{}
		rows, err := tx.QueryContext(ctx, "SELECT kind, id, seq, deleted, record, signature FROM records WHERE origin = ? AND seq <= ?", s.origin, f.head)
		if err != nil {
			return nil, nil, fmt.Errorf("repair the fork of this node's origin: %w", err)
		}
		for rows.Next() {
			var k recordKey
			var cur currentRow
			if err := rows.Scan(&k.kind, &k.id, &cur.seq, &cur.deleted, &cur.rec, &cur.sig); err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("repair the fork of this node's origin: %w", err)
			}
			theirs, ok := f.held[k]
			if ok && theirs.seq == cur.seq && bytes.Equal(theirs.sig[:], cur.sig) {
				continue // the same
			}
			if ok && theirs.seq > cur.seq {
				continue // the peer's is the later: taken back below
			}
			decided[k] = true
			p, err := restateHeld(k, &cur)
			if err != nil {
				rows.Close()
				return nil, nil, fmt.Errorf("repair the fork of this node's origin: %s: %w", ResourceName(k.kind, s.origin, k.id), err)
			}
			todo = append(todo, restate{cur.seq, p})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("repair the fork of this node's origin: %w", err)
		}
		// The peer's versions the catalog may lack: it holds none of the
		// id, an earlier one (up to the peer's head, so met above), or a
		// later one, past the peer's head, which the peer will pull.
		var lost []recordKey
		for k := range f.other {
			if !decided[k] {
				lost = append(lost, k)
			}
		}
		current, err := lookupCurrent(ctx, tx, s.origin, lost)
		if err != nil {
			return nil, nil, err
		}
		for _, k := range lost {
			theirs := f.other[k]
			if cur := current[k]; cur != nil && (cur.seq > theirs.rec.GetSeq() || bytes.Equal(cur.sig, theirs.signed.GetSignature())) {
				continue
			}
			todo = append(todo, restate{theirs.rec.GetSeq(), restateGiven(&theirs)})
		}
		// In the order of the seqs they leave.
		slices.SortFunc(todo, func(a, b restate) int { return cmp.Compare(a.from, b.from) })
		ps := make([]pending, len(todo))
		for i := range todo {
			ps[i] = todo[i].p
		}
		written = len(ps)
		// A function to run even with nothing to write, so that the
		// head's move commits.
		return ps, func(done []pending) error { return markRestated(ctx, tx, done) }, nil
	})
	if err != nil {
		return 0, err
	}
	return written, nil
}

// restateHeld is the write of the catalog's version cur of k again.
func restateHeld(k recordKey, cur *currentRow) (pending, error) {
	p := pending{Write: Write{Op: OpReplace, Kind: k.kind, ID: k.id}, restate: true}
	if cur.deleted {
		rec, err := envelope.Parse(cur.rec)
		if err != nil {
			return pending{}, err
		}
		p.Op, p.tombstone = OpDelete, rec.GetResource()
		return p, nil
	}
	m, err := decodeResource(cur.rec)
	if err != nil {
		return pending{}, err
	}
	p.Resource = m
	return p, nil
}

// restateGiven is the write of a peer's version r again.
func restateGiven(r *replicated) pending {
	p := pending{Write: Write{Op: OpReplace, Kind: r.rec.GetKind(), ID: r.rec.GetId(), Resource: r.resource}, restate: true}
	if r.rec.GetDeleted() {
		p.Op, p.Resource, p.tombstone = OpDelete, nil, r.rec.GetResource()
	}
	return p
}

// markRestated keeps the harvests' entries of the tools written again at
// their new seqs, as markHarvested does for records given back.
func markRestated(ctx context.Context, tx *sql.Tx, done []pending) error {
	recs := make([]replicated, len(done))
	for i, p := range done {
		recs[i] = replicated{
			rec:      &federationv1.Record{Origin: p.rec.GetOrigin(), Kind: p.Kind, Id: p.ID, Seq: p.rec.GetSeq(), Deleted: p.Op == OpDelete, Resource: p.tombstone},
			resource: p.resource,
		}
	}
	return markHarvested(ctx, tx, recs)
}
