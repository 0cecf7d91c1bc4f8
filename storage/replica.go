package storage

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/protodecode"
	"github.com/ogptoolbox/federation/search"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Reasons a page from a peer is refused, as RefusedError.Reason.
const (
	RefusedOwnOrigin    = "own_origin"    // records of this node's own origin under another key
	RefusedBadOrigin    = "bad_origin"    // not an origin name
	RefusedUntrusted    = "untrusted"     // an origin the trust list does not name
	RefusedKeyMismatch  = "key_mismatch"  // another key than the one pinned or trusted
	RefusedGap          = "gap"           // the page starts after the watermark
	RefusedStale        = "stale"         // the page starts before the watermark: a replay
	RefusedSeqOrder     = "seq_order"     // seqs not increasing within the page's run
	RefusedMalformed    = "malformed"     // a record that does not parse or agree with its page
	RefusedBadSignature = "bad_signature" // a record its origin's key does not verify
	RefusedForked       = "forked"        // the node's own records, other than those it wrote at the same seqs
	RefusedUnasked      = "unasked"       // a page of an origin the pull did not ask for
)

// RefusedError is a page from a peer that the catalog refused whole: none of
// it was applied and the origin's watermark did not move.
type RefusedError struct {
	Origin string
	Reason string // one of the Refused* constants
	Detail string
	// OtherKey says the page came signed under a valid key other than the
	// one this node holds for its origin (pinned at first sight, or
	// trusted): a relay may hold the origin under that key as honestly as
	// this node holds it under its own (the first to show it to one of
	// them was an impostor, or two nodes ran with the origin), so the
	// page is no sign of a faulty relay (RefusedKeyMismatch).
	OtherKey bool
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("page of origin %q refused (%s): %s", e.Origin, e.Reason, e.Detail)
}

func refused(origin, reason, format string, args ...any) error {
	return &RefusedError{Origin: origin, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// otherKey is the refusal of a page of origin signed under key, which is
// not the key this node holds for it (see RefusedError.OtherKey).
func otherKey(origin string, key []byte, detail string) error {
	return &RefusedError{Origin: origin, Reason: RefusedKeyMismatch, Detail: detail, OtherKey: len(key) == ed25519.PublicKeySize}
}

// underOtherKey is the refusal of page, under key, which is not the key
// this node holds for its origin, once its records are checked under that
// key: a page that is no origin's records under any key (records that are
// no records, signatures that do not verify) is refused as such, and ends
// the pull, rather than excused as another node's view of the origin.
func (s *Store) underOtherKey(page *federationv1.OriginPage, key ed25519.PublicKey, detail string) error {
	if _, err := s.checkPage(page, key); err != nil {
		return err
	}
	return otherKey(page.GetOrigin(), key, detail)
}

// noRecords is a page of no records under whatever key: it shows nothing
// of the key its sender holds the origin under (whose records are signed
// with held), and changes nothing.
func noRecords(page *federationv1.OriginPage, held ed25519.PublicKey) *CheckedPage {
	return &CheckedPage{page: page, key: held, through: page.GetAfterSeq()}
}

// Watermarks returns, for each origin the catalog holds records of (its
// own included), the seq up to which it holds every record.
func (s *Store) Watermarks(ctx context.Context) (map[string]int64, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT origin, head_seq FROM origins")
	if err != nil {
		return nil, fmt.Errorf("read watermarks: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var o string
		var w int64
		if err := rows.Scan(&o, &w); err != nil {
			return nil, fmt.Errorf("read watermarks: %w", err)
		}
		out[o] = w
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read watermarks: %w", err)
	}
	return out, nil
}

// Watermark is the seq up to which the catalog holds every record of
// origin (0 for an origin it holds none of): what Watermarks gives for it,
// without reading the others.
func (s *Store) Watermark(ctx context.Context, origin string) (int64, error) {
	var w int64
	err := s.reader.QueryRowContext(ctx, "SELECT head_seq FROM origins WHERE origin = ?", origin).Scan(&w)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read the watermark of %s: %w", origin, err)
	}
	return w, nil
}

// PullSpec says which records a peer asks for (see
// federationv1.PullRequest).
type PullSpec struct {
	Watermarks   map[string]int64
	AllOrigins   bool
	Exclude      []string
	MaxPageBytes int
}

// DefaultPageBytes and MaxPageBytes bound the pages ReadPages makes.
const (
	DefaultPageBytes = 1 << 20
	MaxPageBytes     = 4 << 20
)

// MaxPageRecords is the most records a page can hold: ReadPages ends a page
// once its records, signatures and x coordinates of R pass MaxPageBytes,
// and each record brings a signature of 64 bytes. A receiver refuses a
// page of more, before it spends memory on each: a page of empty records
// costs two bytes a record to send, and a few hundred to hold once decoded
// and checked.
const MaxPageRecords = MaxPageBytes/ed25519.SignatureSize + 1

// lastSeqOfOrigin is, in a query of the origins table as o, the seq of the
// last record the catalog holds of o's origin (records_by_seq finds it):
// above its watermark for an origin pulled again from the start.
const lastSeqOfOrigin = "(SELECT MAX(seq) FROM records r WHERE r.origin = o.origin)"

// ReadPages calls emit with the pages of records spec asks for, origin by
// origin (sorted), each page read by one statement, from one snapshot of
// the catalog. It stops at emit's first error and returns it.
//
// The origins to read, and up to which seq, are those of the first
// statement; no snapshot is held while emit sends a page, which takes as
// long as the caller takes to read it: a snapshot held across a pull kept
// the write-ahead log from starting over (with members pulling back to
// back, it grew by everything written), and a checkpoint that waited for
// it held the node's writes. A record replaced (or deleted) meanwhile at a
// seq not sent yet is not sent: its new version, above the seqs read, is
// the next pull's, as if it had been replaced before this pull began.
func (s *Store) ReadPages(ctx context.Context, spec PullSpec, emit func(*federationv1.OriginPage) error) error {
	limit := spec.MaxPageBytes
	if limit <= 0 || limit > MaxPageBytes {
		limit = DefaultPageBytes
		if spec.MaxPageBytes > MaxPageBytes {
			limit = MaxPageBytes
		}
	}
	type held struct {
		origin string
		key    []byte
		head   int64
	}
	// Up to the origin's last record: above its watermark too, for an
	// origin the catalog pulls again from the start to repair a
	// divergence (see ResetWatermark). Those records may be older than
	// the origin's, or miss some, but they are signed, and the caller's
	// digests then find what they lack; served only up to the watermark,
	// two relays repairing an origin at once, whose node is gone, each
	// waited for the other's records, which neither served, for good.
	rows, err := s.reader.QueryContext(ctx, "SELECT origin, public_key, MAX(head_seq, COALESCE("+lastSeqOfOrigin+", 0)) FROM origins o ORDER BY origin")
	if err != nil {
		return fmt.Errorf("read pages: %w", err)
	}
	var origins []held
	for rows.Next() {
		var h held
		if err := rows.Scan(&h.origin, &h.key, &h.head); err != nil {
			rows.Close()
			return fmt.Errorf("read pages: %w", err)
		}
		origins = append(origins, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read pages: %w", err)
	}

	excluded := map[string]bool{}
	for _, o := range spec.Exclude {
		excluded[o] = true
	}
	for _, h := range origins {
		from, asked := spec.Watermarks[h.origin]
		if excluded[h.origin] || (!asked && !spec.AllOrigins) || from >= h.head {
			continue
		}
		if err := s.readOrigin(ctx, h.origin, h.key, from, h.head, limit, emit); err != nil {
			return err
		}
	}
	return nil
}

// readOrigin emits the records of origin with from < seq <= head as pages
// of about limit bytes, each read by a statement of its own. Each page
// ends at its last record, as every page does: an end past it would be a
// claim no record signed, which the receiver does not take (see
// CheckPage), and a page of none tells it nothing.
func (s *Store) readOrigin(ctx context.Context, origin string, key []byte, from, head int64, limit int, emit func(*federationv1.OriginPage) error) error {
	for after := from; ; {
		page, more, err := s.readOriginPage(ctx, origin, key, after, head, limit)
		if err != nil {
			return err
		}
		if len(page.Records) > 0 {
			if err := emit(page); err != nil {
				return err
			}
		}
		if !more || len(page.Records) == 0 {
			return nil
		}
		after = page.ThroughSeq
	}
}

// readOriginPage reads the records of origin with after < seq <= head, up
// to about limit bytes (one at least): a page, and whether records are
// left after it.
//
// It reads through the driver rather than database/sql: the driver hands
// each blob in a slice of its own, which the page keeps, where Rows.Scan
// copies it once more (into a []byte, or out of a RawBytes, which the next
// row may overwrite). A served page was a third of the pull's garbage in
// those copies. (TestPageBlobsAreTheirOwn holds the driver to it.)
func (s *Store) readOriginPage(ctx context.Context, origin string, key []byte, after, head int64, limit int) (page *federationv1.OriginPage, more bool, err error) {
	page = &federationv1.OriginPage{Origin: origin, PublicKey: key, AfterSeq: after}
	conn, err := s.reader.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("read pages of %s: %w", origin, err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		rows, err := queryDriver(ctx, dc, "SELECT seq, record, signature, r_x FROM records WHERE origin = ? AND seq > ? AND seq <= ? ORDER BY seq", origin, after, head)
		if err != nil {
			return err
		}
		defer rows.Close()
		size := 0
		row := make([]driver.Value, 4)
		for {
			// The driver's rows do not watch ctx, as database/sql's did.
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := rows.Next(row); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			seq, ok := row[0].(int64)
			if !ok {
				return fmt.Errorf("a record's seq is %T", row[0])
			}
			rec, _ := row[1].([]byte)
			sig, _ := row[2].([]byte)
			rx, _ := row[3].([]byte)
			if len(page.Records) > 0 && size+len(rec)+len(sig)+len(rx) > limit {
				more = true // this record is the next page's
				return nil
			}
			sr := &federationv1.SignedRecord{Record: rec, Signature: sig}
			if len(rx) > 0 { // written before the x coordinates were kept: none
				sr.RX = rx
			}
			page.Records = append(page.Records, sr)
			page.ThroughSeq = seq
			size += len(rec) + len(sig) + len(rx)
		}
	})
	if err != nil {
		return nil, false, fmt.Errorf("read pages of %s: %w", origin, err)
	}
	return page, more, nil
}

// queryDriver runs query with args on dc, a connection of the driver, for
// a reader that keeps the values the rows hand it (see readOriginPage).
func queryDriver(ctx context.Context, dc any, query string, args ...any) (driver.Rows, error) {
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("the SQLite driver's connection (%T) prepares no statement with a context", dc)
	}
	st, err := prep.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	q, ok := st.(driver.StmtQueryContext)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("the SQLite driver's statement (%T) runs no query with a context", st)
	}
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := q.QueryContext(ctx, named)
	if err != nil {
		st.Close()
		return nil, err
	}
	return stmtRows{Rows: rows, stmt: st}, nil
}

// stmtRows are rows that close their statement with them.
type stmtRows struct {
	driver.Rows
	stmt driver.Stmt
}

func (r stmtRows) Close() error {
	return errors.Join(r.Rows.Close(), r.stmt.Close())
}

// replicated is a record of a page, checked.
type replicated struct {
	rec      *federationv1.Record
	signed   *federationv1.SignedRecord
	resource proto.Message // nil for a tombstone
	analyzed search.Analyzed
	link     toolLink // of a tool
	rid      int64
	wasLive  bool
	skip     bool // the catalog holds a newer version
}

// ApplyPage applies a page of records that a peer sent, whole or not at
// all: every record must parse, belong to the page's origin and run, be
// signed by the origin's key (the one trusted, else the one pinned at first
// sight, else the page's, which is then pinned; the node's own key for its
// own records, which peers give back when its catalog lost them), and the
// page must start at the catalog's watermark for the origin (its head, for
// its own records). On success the watermark moves to
// the seq of the page's last record (which is its through_seq but on pages
// of nodes of earlier versions) and ApplyPage returns how many records
// changed the catalog; a page of no records changes nothing; a refused page
// returns a *RefusedError and changes nothing.
func (s *Store) ApplyPage(ctx context.Context, page *federationv1.OriginPage) (int, error) {
	cp, err := s.CheckPage(ctx, page)
	if err != nil {
		return 0, err
	}
	return s.ApplyChecked(ctx, cp)
}

// A CheckedPage is a page whose records parsed, are in order, verify with
// the origin's key and decode: what ApplyPage does before it takes the write
// lock. A puller checks the next pages, each on a core, while the store
// applies this one.
type CheckedPage struct {
	page    *federationv1.OriginPage
	key     ed25519.PublicKey
	recs    []replicated
	through int64 // the last record's seq: the watermark once applied
}

// Origin is the origin of the page's records.
func (cp *CheckedPage) Origin() string { return cp.page.GetOrigin() }

// AfterSeq is the seq the page starts after: the watermark it needs.
func (cp *CheckedPage) AfterSeq() int64 { return cp.page.GetAfterSeq() }

// ThroughSeq is the seq of the page's last record (AfterSeq for a page of
// none), to which the origin's watermark moves once it is applied: not
// the page's through_seq where that says more (see CheckPage).
func (cp *CheckedPage) ThroughSeq() int64 { return cp.through }

// CheckPage does the checks of ApplyPage that need no write transaction.
// A page that fails them returns a *RefusedError; the
// catalog is not touched either way. The checks that depend on the
// catalog's state (the pinned key, the watermark) are made again by
// ApplyChecked.
func (s *Store) CheckPage(ctx context.Context, page *federationv1.OriginPage) (*CheckedPage, error) {
	origin := page.GetOrigin()
	switch {
	case !envelope.ValidOrigin(origin):
		return nil, refused(origin, RefusedBadOrigin, "not an origin name")
	case page.GetThroughSeq() < page.GetAfterSeq():
		return nil, refused(origin, RefusedSeqOrder, "the page runs from %d back to %d", page.GetAfterSeq(), page.GetThroughSeq())
	case len(page.GetRecords()) > MaxPageRecords:
		return nil, refused(origin, RefusedMalformed, "%d records, more than a page holds (%d)", len(page.GetRecords()), MaxPageRecords)
	}
	key := ed25519.PublicKey(page.GetPublicKey())
	if origin == s.origin {
		// The node's own records, above its head: those it signed before
		// its catalog lost them (wiped, or restored from an older copy),
		// which peers kept. Only its own key verifies them, and a page
		// must start at its head, so a peer can give back only what the
		// node signed and no longer holds, never replace what it holds.
		own := s.PublicKey()
		if len(key) != 0 && !own.Equal(key) {
			// Only records that verify under the key the page claims
			// show that the federation holds the origin under it; a
			// page of none shows nothing, and changes nothing.
			if len(page.GetRecords()) == 0 {
				return &CheckedPage{page: page, key: own, through: page.GetAfterSeq()}, nil
			}
			if _, err := s.checkPage(page, key); err != nil {
				return nil, err
			}
			return nil, refused(origin, RefusedOwnOrigin, "records of this node's origin signed under another key than its own (%x)", []byte(key))
		}
		key = own
	} else if s.trusted != nil {
		t, ok := s.trusted[origin]
		if !ok {
			return nil, refused(origin, RefusedUntrusted, "the trust list does not name this origin")
		}
		if len(key) != 0 && !t.Equal(key) {
			if len(page.GetRecords()) == 0 {
				return noRecords(page, t), nil
			}
			return nil, s.underOtherKey(page, key, "the page's key is not the trusted one")
		}
		key = t
	}
	if len(key) != ed25519.PublicKeySize {
		return nil, refused(origin, RefusedKeyMismatch, "no valid public key for the origin (%d bytes)", len(key))
	}
	// Compare with the pinned key now, so as not to verify a page for
	// nothing; the write transaction checks again.
	pinned, err := s.PinnedKey(ctx, origin)
	if err != nil {
		return nil, err
	}
	if pinned != nil && !pinned.Equal(key) {
		if len(page.GetRecords()) == 0 {
			return noRecords(page, pinned), nil
		}
		return nil, s.underOtherKey(page, key, "signed with another key than the one pinned for the origin")
	}
	recs, err := s.checkPage(page, key)
	if err != nil {
		return nil, err
	}
	// The watermark moves to the last record's seq, whatever the page's
	// end says: past it, the end would be the peer's word alone, and a
	// watermark past the origin's head shuts out its next records, here
	// and wherever this node relays them. Nodes of this version end their
	// pages at their last record; those of earlier versions could end a
	// page at their head, past the records, or send none.
	through := page.GetAfterSeq()
	if len(recs) > 0 {
		through = recs[len(recs)-1].rec.GetSeq()
	}
	return &CheckedPage{page: page, key: key, recs: recs, through: through}, nil
}

// ApplyChecked applies a page CheckPage passed, as ApplyPage does. Once
// ctx has ended, it returns ctx's error, whichever statement the rollback
// made fail (rowError).
func (s *Store) ApplyChecked(ctx context.Context, cp *CheckedPage) (int, error) {
	n, err := s.applyChecked(ctx, cp)
	return n, rowError(ctx, err)
}

func (s *Store) applyChecked(ctx context.Context, cp *CheckedPage) (int, error) {
	page, key, recs, origin := cp.page, cp.key, cp.recs, cp.page.GetOrigin()
	if len(recs) == 0 {
		// Nothing to apply, and no watermark to move (nor a key to pin)
		// on the peer's word alone.
		return 0, nil
	}
	for i := range recs { // what an earlier, failed, attempt found out
		recs[i].rid, recs[i].wasLive, recs[i].skip = 0, false, false
	}
	if err := s.writeLock.lock(ctx); err != nil {
		return 0, fmt.Errorf("apply page of %s: wait for the writes before: %w", origin, err)
	}
	defer s.writeLock.Unlock()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("apply page of %s: %w", origin, err)
	}
	defer tx.Rollback()
	var watermark int64
	var stored []byte
	err = tx.QueryRowContext(ctx, "SELECT head_seq, public_key FROM origins WHERE origin = ?", origin).Scan(&watermark, &stored)
	pinned := stored != nil // the key is pinned once this commits
	switch {
	case errors.Is(err, sql.ErrNoRows):
		pinned = true
		if _, err := tx.ExecContext(ctx, "INSERT INTO origins (origin, public_key, head_seq) VALUES (?, ?, 0)", origin, []byte(key)); err != nil {
			return 0, fmt.Errorf("apply page of %s: pin key: %w", origin, err)
		}
	case err != nil:
		return 0, fmt.Errorf("apply page of %s: %w", origin, err)
	case stored != nil && !bytes.Equal(stored, key):
		return 0, otherKey(origin, key, "signed with another key than the one pinned for the origin")
	}
	switch {
	case page.GetAfterSeq() > watermark:
		return 0, refused(origin, RefusedGap, "the page starts after seq %d, but this node holds the origin only up to %d", page.GetAfterSeq(), watermark)
	case page.GetAfterSeq() < watermark:
		if origin == s.origin {
			if err := ownForked(ctx, tx, recs, watermark); err != nil {
				return 0, err
			}
		}
		return 0, refused(origin, RefusedStale, "the page starts after seq %d, but this node holds the origin up to %d already", page.GetAfterSeq(), watermark)
	}

	// Most records of a page are new to the catalog, as when a node
	// catches up: each is inserted at once, the insert's own look in the
	// (origin, kind, id) index finding that it is, and only a record the
	// catalog holds already, by an earlier page or earlier in this one,
	// is read and updated. Looking every record up first cost as much
	// again as the inserts.
	ins, err := tx.PrepareContext(ctx, "INSERT INTO records (origin, kind, id, seq, deleted, record, signature, r_x) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin, kind, id) DO NOTHING")
	if err != nil {
		return 0, fmt.Errorf("apply page of %s: %w", origin, err)
	}
	defer ins.Close()
	var cur, upd *sql.Stmt // prepared at the first record held already
	defer func() {
		for _, st := range []*sql.Stmt{cur, upd} {
			if st != nil {
				st.Close()
			}
		}
	}()
	d, err := readDigest(ctx, tx, origin)
	if err != nil {
		return 0, err
	}
	applied, replaced := 0, false
	rowCtx := rowContext(ctx)
	for i := range recs {
		r := &recs[i]
		kind, id := r.rec.GetKind(), r.rec.GetId()
		res, err := ins.ExecContext(rowCtx, origin, int64(kind), id, r.rec.GetSeq(), r.rec.GetDeleted(), r.signed.GetRecord(), r.signed.GetSignature(), r.signed.GetRX())
		if err != nil {
			if err := s.forkAtSeq(rowCtx, tx, r, err); err != nil {
				return 0, err
			}
			r.skip = true // the origin's other record of this seq, held, stays
			continue
		}
		inserted, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("apply page of %s: %w", origin, err)
		}
		if inserted == 1 {
			if r.rid, err = res.LastInsertId(); err != nil {
				return 0, fmt.Errorf("apply page of %s: %w", origin, err)
			}
		} else {
			if cur == nil {
				if cur, err = tx.PrepareContext(ctx, "SELECT rid, seq, deleted, signature FROM records WHERE origin = ? AND kind = ? AND id = ?"); err != nil {
					return 0, fmt.Errorf("apply page of %s: %w", origin, err)
				}
				if upd, err = tx.PrepareContext(ctx, "UPDATE records SET seq = ?, deleted = ?, record = ?, signature = ?, r_x = ? WHERE rid = ?"); err != nil {
					return 0, fmt.Errorf("apply page of %s: %w", origin, err)
				}
			}
			var held currentRow
			if err := cur.QueryRowContext(rowCtx, origin, int64(kind), id).Scan(&held.rid, &held.seq, &held.deleted, &held.sig); err != nil {
				return 0, fmt.Errorf("apply page of %s: read the record held: %w", origin, err)
			}
			if held.seq >= r.rec.GetSeq() {
				if held.seq == r.rec.GetSeq() && !bytes.Equal(held.sig, r.signed.GetSignature()) {
					s.sawFork(Fork{Origin: origin, Seq: held.seq, Held: RecordName{Kind: kind, ID: id}, Sent: RecordName{Kind: kind, ID: id}})
				}
				r.skip = true // held already, or a newer version
				continue
			}
			if _, err := upd.ExecContext(rowCtx, r.rec.GetSeq(), r.rec.GetDeleted(), r.signed.GetRecord(), r.signed.GetSignature(), r.signed.GetRX(), held.rid); err != nil {
				if err := s.forkAtSeq(rowCtx, tx, r, err); err != nil {
					return 0, err
				}
				r.skip = true
				continue
			}
			d.remove(kind, id, held.seq, held.sig)
			r.rid, r.wasLive, replaced = held.rid, !held.deleted, true
		}
		d.add(kind, id, r.rec.GetSeq(), r.signed.GetSignature())
		applied++
	}
	if origin == s.origin {
		if err := markHarvested(ctx, tx, recs); err != nil {
			return 0, err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE origins SET head_seq = ? WHERE origin = ?", cp.through, origin); err != nil {
		return 0, fmt.Errorf("apply page of %s: advance watermark: %w", origin, err)
	}
	if err := writeDigest(ctx, tx, origin, d); err != nil {
		return 0, err
	}
	slot := s.announceIndex()
	if err := s.commitWrite(tx); err != nil {
		s.deliverIndex(slot, nil, nil)
		return 0, fmt.Errorf("apply page of %s: commit: %w", origin, err)
	}
	if replaced {
		s.checkpoints.erased() // a peer's update or delete: see checkpointer.erased
	}
	if pinned {
		s.pins.Store(origin, slices.Clone(key))
	}
	var changes []indexChange
	for i := range recs {
		r := &recs[i]
		switch {
		case r.skip:
		case r.resource != nil:
			changes = append(changes, indexChange{kind: r.rec.GetKind(), rid: r.rid, put: &r.analyzed, resource: r.resource, link: &r.link})
		case r.wasLive:
			changes = append(changes, indexChange{kind: r.rec.GetKind(), rid: r.rid})
		}
	}
	s.deliverIndex(slot, changes, nil)
	s.notifyChanged()
	return applied, nil
}

// ownForked reports, as a RefusedForked error, a record of the node's own
// origin, given back by a peer, at a seq up to head where the catalog
// holds another record: the node wrote after its catalog lost records of
// its origin that peers held (restored from an older copy, say), and its
// writes took their seqs. The two histories cannot be joined: peers keep
// theirs, and will not take the node's records of those seqs.
func ownForked(ctx context.Context, tx *sql.Tx, recs []replicated, head int64) error {
	for i := range recs {
		r := &recs[i]
		if r.rec.GetSeq() > head {
			break
		}
		var held []byte
		err := tx.QueryRowContext(ctx, "SELECT signature FROM records WHERE origin = ? AND seq = ?", r.rec.GetOrigin(), r.rec.GetSeq()).Scan(&held)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("compare the records given back: %w", err)
		case !bytes.Equal(held, r.signed.GetSignature()):
			return refused(r.rec.GetOrigin(), RefusedForked, "a peer holds another record of this node's origin at seq %d than the one the node wrote: the node wrote after its catalog lost records of its origin that peers hold, and its records of those seqs will not reach them", r.rec.GetSeq())
		}
	}
	return nil
}

// markHarvested rebuilds what the catalog knows of its harvests from the
// node's own tools that a peer gave back, the catalog having lost them: a
// tool that carries a harvest's mark (Provenance.entry_hash) is marked as
// the harvest marked it, with the entry's hash and the seq of the version
// the harvest wrote (Provenance.entry_seq, or the tool's own seq), so that
// the next harvest of its source finds it rather than create it again
// under another id, and tells an edit by hand since from its own write.
//
// The tombstone of a harvested tool deleted by hand carries the mark (see
// harvestMarkOf): the entry is marked with the seq of the harvest's
// version, below the tombstone's, and the next harvest takes the tool for
// deleted by hand rather than create it again.
func markHarvested(ctx context.Context, tx *sql.Tx, recs []replicated) error {
	for i := range recs {
		r := &recs[i]
		t, ok := r.resource.(*catalogv1.Tool)
		if r.rec.GetDeleted() && r.rec.GetKind() == federationv1.RecordKind_RECORD_KIND_TOOL && len(r.rec.GetResource()) > 0 {
			// A mark that does not decode marks nothing: the records
			// still come back.
			t = &catalogv1.Tool{}
			ok = proto.Unmarshal(r.rec.GetResource(), t) == nil
		}
		p := t.GetProvenance()
		if !r.skip && ok && r.rec.GetDeleted() && harvestForgotten(p) {
			// Deleted by a harvest, which forgot the entry: so does a
			// catalog restored from a copy older than that.
			if _, err := tx.ExecContext(ctx, "DELETE FROM harvest_entries WHERE source = ? AND source_id = ? AND id = ? AND seq < ?",
				p.GetSource(), p.GetSourceId(), r.rec.GetId(), r.rec.GetSeq()); err != nil {
				return fmt.Errorf("forget the harvested entry of the tool %s given back: %w", r.rec.GetId(), err)
			}
			continue
		}
		if r.skip || !ok || !harvestMarked(p) {
			continue
		}
		seq := p.GetEntrySeq()
		switch {
		case r.rec.GetDeleted() && (seq <= 0 || seq >= r.rec.GetSeq()):
			continue // a mark that could not tell the delete from the harvest's write
		case seq <= 0 || seq > r.rec.GetSeq():
			seq = r.rec.GetSeq()
		}
		if _, err := tx.ExecContext(ctx, markEntry, p.GetSource(), p.GetSourceId(), r.rec.GetId(), seq, p.GetEntryHash()); err != nil {
			return fmt.Errorf("mark the harvested tool %s given back: %w", r.rec.GetId(), err)
		}
	}
	return nil
}

// forkAtSeq looks at the failed insert or update, with err, of a
// replicated record r: when the catalog holds another record of its
// origin at its seq, both signed by the origin (see Fork), the fork is
// noted and forkAtSeq returns nil, and the record is to be skipped.
// Otherwise it returns the apply's error. (ApplyChecked adds the
// context's error when it has ended.)
func (s *Store) forkAtSeq(ctx context.Context, tx *sql.Tx, r *replicated, err error) error {
	origin, seq := r.rec.GetOrigin(), r.rec.GetSeq()
	if se := (*sqlite.Error)(nil); !errors.As(err, &se) || se.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		return fmt.Errorf("apply page of %s: %w", origin, err)
	}
	var held RecordName
	var kind int64
	switch err := tx.QueryRowContext(ctx, "SELECT kind, id FROM records WHERE origin = ? AND seq = ?", origin, seq).Scan(&kind, &held.ID); {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("apply page of %s: seq %d refused as another record's, which the catalog does not hold", origin, seq)
	case err != nil:
		return fmt.Errorf("apply page of %s: read the record of seq %d: %w", origin, seq, err)
	}
	held.Kind = Kind(kind)
	s.sawFork(Fork{Origin: origin, Seq: seq, Held: held, Sent: RecordName{Kind: r.rec.GetKind(), ID: r.rec.GetId()}})
	return nil
}

// Fork is two records an origin signed at one seq, the catalog holding
// one and a peer sending the other: the origin wrote again after its
// catalog was restored from a copy older than the records it had sent
// (or it signs what it likes). No pull can join the two histories: each
// node keeps the record it got first, and the seq's other record never
// reaches it. They agree again on a record once the origin writes it
// again (a newer seq wins everywhere); a record the origin lost stays
// where it is.
type Fork struct {
	Origin     string
	Seq        int64
	Held, Sent RecordName // the record the catalog holds at Seq, and the peer's
}

// RecordName names a record within its origin.
type RecordName struct {
	Kind Kind
	ID   string
}

// sawFork keeps the first fork of each origin met since the catalog
// opened, and logs it.
func (s *Store) sawFork(f Fork) {
	if _, known := s.forks.LoadOrStore(f.Origin, f); known {
		return
	}
	s.log.Error("an origin signed two records at one seq: its catalog was restored from a copy older than the records it had sent, and it wrote again; this node keeps the record it holds, and the federation will differ on that seq until the origin writes the record again",
		"origin", f.Origin, "seq", f.Seq, "held", f.Held.ID, "held_kind", f.Held.Kind.String(), "sent", f.Sent.ID, "sent_kind", f.Sent.Kind.String())
}

// ForkOf is the first fork of origin the catalog met since it opened (see
// Fork), if any: a divergence of origin's records from a peer's then
// proves nothing against the peer, and a pull from the start meets the
// fork again (package sync makes one at most every hour, for records lost
// since).
func (s *Store) ForkOf(origin string) (Fork, bool) {
	f, ok := s.forks.Load(origin)
	if !ok {
		return Fork{}, false
	}
	return f.(Fork), true
}

// TrustedOrigins is the origins of the trust list, sorted, the node's own
// left out; nil when the node has no trust list and takes every origin.
func (s *Store) TrustedOrigins() []string {
	if s.trusted == nil {
		return nil
	}
	out := make([]string, 0, len(s.trusted))
	for o := range s.trusted {
		if o != s.origin {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}

// Accepts reports whether the catalog takes the records a member of origin
// announces: those of any other origin, or, with a trust list, of those it
// names. (The node's own records come from itself; peers only give back
// those it lost, which its head, not their news, shows.)
func (s *Store) Accepts(origin string) bool {
	if origin == s.origin {
		return false
	}
	if s.trusted != nil {
		_, ok := s.trusted[origin]
		return ok
	}
	return true
}

// Trusts reports whether the node's trust list names origin, and takes its
// records (false without a trust list).
func (s *Store) Trusts(origin string) bool {
	return s.trusted != nil && s.Accepts(origin)
}

// OriginKey is the key a member of origin must show: the trust list's,
// for an origin it names, else the key pinned (nil while none is).
func (s *Store) OriginKey(ctx context.Context, origin string) (ed25519.PublicKey, error) {
	if key, ok := s.trusted[origin]; ok {
		return key, nil
	}
	return s.PinnedKey(ctx, origin)
}

// PinKey pins key for origin's records, when none is pinned yet and the
// catalog takes the origin's records: a member's signed announcement of
// its own origin pins it so, before a page of another member's could pin
// the key that member holds the origin under (an impostor's, or one the
// origin had before). It does nothing for an origin pinned already.
func (s *Store) PinKey(ctx context.Context, origin string, key ed25519.PublicKey) error {
	if !s.Accepts(origin) || len(key) != ed25519.PublicKeySize {
		return nil
	}
	if pinned, err := s.PinnedKey(ctx, origin); err != nil || pinned != nil {
		return err
	}
	if err := s.writeLock.lock(ctx); err != nil {
		return fmt.Errorf("pin the key of %s: %w", origin, err)
	}
	defer s.writeLock.Unlock()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pin the key of %s: %w", origin, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "INSERT INTO origins (origin, public_key, head_seq) VALUES (?, ?, 0) ON CONFLICT (origin) DO NOTHING", origin, []byte(key))
	if err != nil {
		return fmt.Errorf("pin the key of %s: %w", origin, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // a page pinned one meanwhile, or the row holds none (see applyChecked)
	}
	if err := writeDigest(ctx, tx, origin, digest{}); err != nil {
		return err
	}
	if err := s.commitWrite(tx); err != nil {
		return fmt.Errorf("pin the key of %s: %w", origin, err)
	}
	s.checkpoints.committed()
	s.pins.Store(origin, slices.Clone(key))
	return nil
}

// PinnedKey is the key pinned for origin's records, nil if none is yet. It
// reads no catalog: every key pinned is in memory (see Store.pins).
func (s *Store) PinnedKey(_ context.Context, origin string) (ed25519.PublicKey, error) {
	if key, ok := s.pins.Load(origin); ok {
		return key.(ed25519.PublicKey), nil
	}
	return nil, nil
}

// loadPins reads every key pinned into pins, as the catalog opens.
func (s *Store) loadPins(ctx context.Context) error {
	rows, err := s.writer.QueryContext(ctx, "SELECT origin, public_key FROM origins WHERE public_key IS NOT NULL")
	if err != nil {
		return fmt.Errorf("read the keys pinned: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var origin string
		var key []byte
		if err := rows.Scan(&origin, &key); err != nil {
			return fmt.Errorf("read the keys pinned: %w", err)
		}
		s.pins.Store(origin, ed25519.PublicKey(key))
	}
	return rows.Err()
}

// checkPage parses, checks and verifies a page's records, and analyzes them
// for the search index: a large page on every core, in chunks.
func (s *Store) checkPage(page *federationv1.OriginPage, key ed25519.PublicKey) ([]replicated, error) {
	origin := page.GetOrigin()
	recs := make([]replicated, len(page.GetRecords()))
	prev := page.GetAfterSeq()
	for i, sr := range page.GetRecords() {
		// The record's id and resource are the page's bytes: what the
		// index and the links keep of them, they copy.
		rec, err := envelope.ParseAliasing(sr.GetRecord())
		if err != nil {
			return nil, refused(origin, RefusedMalformed, "record %d: %v", i, err)
		}
		switch {
		case rec.GetOrigin() != origin:
			return nil, refused(origin, RefusedMalformed, "record %d is of origin %q", i, rec.GetOrigin())
		case rec.GetSeq() <= prev:
			return nil, refused(origin, RefusedSeqOrder, "record %d has seq %d, not above %d", i, rec.GetSeq(), prev)
		case rec.GetSeq() > page.GetThroughSeq():
			return nil, refused(origin, RefusedSeqOrder, "record %d has seq %d, past the page's end %d", i, rec.GetSeq(), page.GetThroughSeq())
		}
		prev = rec.GetSeq()
		recs[i] = replicated{rec: rec, signed: sr}
	}
	verifier, err := envelope.NewVerifier(key)
	if err != nil {
		return nil, refused(origin, RefusedKeyMismatch, "%v", err)
	}
	// Chunks of records, each verified as one batch and then decoded, go
	// to a worker per core. The larger the batch, the less each signature
	// costs: 12.2 µs at 256 records of a catalog's size, 11.0 at 1,024, a
	// third of verifying them one by one. A page of the default size holds
	// about 800 records: one chunk, on one core. A puller checks two such
	// pages at once, beside the write of the one before, which keeps the
	// cores busy.
	const maxChunk = 1024
	chunks := (len(recs) + maxChunk - 1) / maxChunk
	chunk := (len(recs) + max(chunks, 1) - 1) / max(chunks, 1) // as even as can be
	errs := make([]error, chunks)
	onCores(chunks, chunks, func(c int) {
		first := c * chunk
		errs[c] = s.checkRecords(origin, verifier, recs[first:min(first+chunk, len(recs))], first)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err // the first refusal in the page, with its reason
		}
	}
	return recs, nil
}

// checkRecords verifies the signatures of records, as a batch, then
// decodes their resources, which must name the records they are in; first
// is the index of recs[0] in its page, for the refusal's detail.
func (s *Store) checkRecords(origin string, verifier *envelope.Verifier, recs []replicated, first int) error {
	records, sigs, rxs := make([][]byte, len(recs)), make([][]byte, len(recs)), make([][]byte, len(recs))
	for i, r := range recs {
		records[i], sigs[i], rxs[i] = r.signed.GetRecord(), r.signed.GetSignature(), r.signed.GetRX()
	}
	if bad := verifier.VerifyAll(records, sigs, rxs); bad >= 0 {
		return refused(origin, RefusedBadSignature, "record %d (seq %d): the signature does not verify with the origin's key", first+bad, recs[bad].rec.GetSeq())
	}
	// The x coordinates of R kept and served are those checked (or
	// computed), not what the peer sent.
	for i := range recs {
		recs[i].signed.RX = rxs[i]
	}
	for i := range recs {
		if err := s.decodeRecord(origin, &recs[i]); err != nil {
			// Name the record in the refusal's detail.
			if re := (*RefusedError)(nil); errors.As(err, &re) {
				re.Detail = fmt.Sprintf("record %d (seq %d): %s", first+i, recs[i].rec.GetSeq(), re.Detail)
			}
			return err
		}
	}
	return nil
}

// decodeRecord decodes a verified record's resource, which must name the
// record it is in, and analyzes it for the search index.
func (s *Store) decodeRecord(origin string, r *replicated) error {
	if r.rec.GetDeleted() {
		return nil
	}
	m, err := newResource(r.rec.GetKind())
	if err != nil {
		return refused(origin, RefusedMalformed, "%v", err)
	}
	// A tool's strings stay in the page's bytes, as the record's do: the
	// index and the links copy what they keep of them
	// (TestIndexKeepsNoReplicatedBytes). A use case is kept whole by the
	// links, so it gets strings of its own.
	decode := protodecode.Unmarshal
	if r.rec.GetKind() == federationv1.RecordKind_RECORD_KIND_TOOL {
		decode = protodecode.UnmarshalAliasing
	}
	res := r.rec.GetResource()
	if limit := maxMessages(len(res)); protodecode.Messages(res, m, limit) > limit {
		return refused(origin, RefusedMalformed, "the resource of %d bytes holds more than %d messages: no record the catalog takes is made so", len(res), limit)
	}
	if err := decode(res, m); err != nil {
		return refused(origin, RefusedMalformed, "the resource does not decode: %v", err)
	}
	if err := checkTimes(m); err != nil {
		return refused(origin, RefusedMalformed, "%v", err)
	}
	name, recOrigin, seq := resourceIdentity(m)
	if want := ResourceName(r.rec.GetKind(), origin, r.rec.GetId()); name != want || recOrigin != origin || seq != r.rec.GetSeq() {
		return refused(origin, RefusedMalformed, "the resource says it is %s (origin %q, seq %d), the record %s (seq %d)", name, recOrigin, seq, want, r.rec.GetSeq())
	}
	r.resource = m
	r.analyzed, r.link = s.analyzeForIndex(r.rec.GetKind(), origin, m)
	return nil
}

// checkTimes says which timestamp of a peer's resource is none: past the
// year 9999, or of nanoseconds out of range. JSON has no text for one,
// and every REST answer that held the record (a listing of every tool
// among them) failed, on every node: such a record is malformed, as one
// of a string that is not UTF-8 is.
func checkTimes(m proto.Message) error {
	var times []*timestamppb.Timestamp
	var names []string
	switch r := m.(type) {
	case *catalogv1.Tool:
		times = []*timestamppb.Timestamp{r.GetCreateTime(), r.GetUpdateTime(), r.GetProvenance().GetHarvestTime()}
		names = []string{"create_time", "update_time", "provenance.harvest_time"}
	case *catalogv1.UseCase:
		times = []*timestamppb.Timestamp{r.GetCreateTime(), r.GetUpdateTime()}
		names = []string{"create_time", "update_time"}
	}
	for i, ts := range times {
		if ts == nil {
			continue
		}
		if err := ts.CheckValid(); err != nil {
			return fmt.Errorf("the resource's %s is not a time: %v", names[i], err)
		}
	}
	return nil
}

// maxMessages is the most messages (nested ones and map entries) a
// resource of size bytes from a peer may hold. A message costs a hundred
// bytes and more once decoded, and an empty one two on the wire: a peer's
// tool of a million empty contacts, 2 MB, decoded to 120 MB, and a pull
// holds a few pages at once. A message of a record the API takes holds at
// least a field (a description's short text, a contact's name): four
// bytes and more with its tag and length, and a record holds a few
// hundred at most (lists of 100 items); the slack covers the tiny ones.
func maxMessages(size int) int { return size/4 + 64 }

// resourceIdentity is the name, origin and seq a resource states.
func resourceIdentity(m proto.Message) (name, origin string, seq int64) {
	switch r := m.(type) {
	case *catalogv1.Tool:
		return r.GetName(), r.GetOrigin(), r.GetSeq()
	case *catalogv1.UseCase:
		return r.GetName(), r.GetOrigin(), r.GetSeq()
	}
	return "", "", 0
}
