package storage

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"

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

// Op is what a Write does.
type Op int

// The operations of a Write.
const (
	// OpCreate creates a record; it fails with ErrAlreadyExists if a live one
	// has the id. A tombstone's id can be taken again.
	OpCreate Op = iota + 1
	// OpReplace replaces a live record; it fails with ErrNotFound otherwise.
	OpReplace
	// OpDelete replaces a live record with a tombstone.
	OpDelete
)

// A Write is one change to the node's own catalog.
type Write struct {
	Op Op
	// ID is the record's id within its origin and kind.
	ID string
	// Kind of the record; for OpCreate and OpReplace it is taken from
	// Resource.
	Kind Kind
	// Resource is the new version (a *catalogv1.Tool or *catalogv1.UseCase)
	// for OpCreate and OpReplace. The store takes it rather than copy it
	// (a copy cost a tenth of a create, and every caller builds the
	// resource for the write): it sets its output-only fields (name,
	// origin, seq, times, etag) and, once the write has committed, keeps
	// it for the search index and returns it. From Apply on, the caller
	// must not change it; after a failed Apply it may write it again. Each
	// write of a batch needs a resource of its own.
	Resource proto.Message
	// IfEtag, when set, makes an OpReplace or OpDelete fail with ErrStale
	// unless the record's current etag is this one.
	IfEtag string
}

// Etag is the version tag of a stored record: it changes with every write.
func Etag(signature []byte) string {
	if len(signature) > 8 {
		signature = signature[:8]
	}
	return hex.EncodeToString(signature)
}

// Apply makes the writes in one transaction, all or none: each takes the
// next seq of the node's origin, is signed with the node's key and indexed
// for search. It returns the stored resources (nil for deletes), in the order
// of the writes: the writes' own, which nobody may change (see
// Write.Resource).
func (s *Store) Apply(ctx context.Context, writes []Write) ([]proto.Message, error) {
	if len(writes) == 0 {
		return nil, nil
	}
	prepared, err := s.prepare(writes)
	if err != nil {
		return nil, err
	}
	return s.writeTx(ctx, func(*sql.Tx) ([]pending, func([]pending) error, error) { return prepared, nil, nil })
}

// writeTx runs one write transaction: plan, inside the transaction, gives
// the writes (checked by prepare) and optionally a function that writes
// more in the same transaction once they have their seqs. A plan that
// returns no writes and no function commits nothing.
//
// Creates are not looked up first: their ids are new nearly always, and
// looking a batch's ids up cost about a quarter of inserting them, on the
// path that every write waits for. A create whose id is taken (by a
// live record, or by a tombstone, whose row the create takes over) fails
// its insert; the transaction is then rolled back and run again with
// every id looked up.
//
// A write that fails once ctx has ended returns ctx's error, whichever
// statement the rollback made fail (rowError). While the node's own
// writes are held (HoldOwnWrites), it waits first.
func (s *Store) writeTx(ctx context.Context, plan func(*sql.Tx) ([]pending, func([]pending) error, error)) ([]proto.Message, error) {
	if held := s.ownWritesHeld.Load(); held != nil {
		if err := held.wait(ctx); err != nil {
			return nil, err
		}
	}
	out, err := s.writeTxOnce(ctx, plan, false)
	if errors.Is(err, errCreateTaken) {
		out, err = s.writeTxOnce(ctx, plan, true)
	}
	return out, rowError(ctx, err)
}

// errCreateTaken is a create's insert failing on the record's id.
var errCreateTaken = errors.New("write: a create's id is taken")

// writeTxOnce is writeTx, with every id looked up or only those of
// replaces and deletes.
func (s *Store) writeTxOnce(ctx context.Context, plan func(*sql.Tx) ([]pending, func([]pending) error, error), lookUpCreates bool) ([]proto.Message, error) {
	// Writes reach the search index in the order they commit.
	if err := s.writeLock.lock(ctx); err != nil {
		return nil, fmt.Errorf("write: wait for the writes before: %w", err)
	}
	defer s.writeLock.Unlock()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("write: begin: %w", err)
	}
	defer tx.Rollback()
	prepared, also, err := plan(tx)
	if err != nil {
		return nil, err
	}
	if len(prepared) == 0 && also == nil {
		return nil, nil
	}
	st, err := prepareStatements(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer st.close()

	var head int64
	if err := st.head.QueryRowContext(ctx, s.origin).Scan(&head); err != nil {
		return nil, fmt.Errorf("write: read head seq: %w", err)
	}
	keys := make([]recordKey, 0, len(prepared))
	for _, p := range prepared {
		if p.Op != OpCreate || lookUpCreates {
			keys = append(keys, recordKey{p.Kind, p.ID})
		}
	}
	current, err := lookupCurrent(ctx, tx, s.origin, keys)
	if err != nil {
		return nil, err
	}
	now := timestamppb.New(s.now())
	for i := range prepared {
		p := &prepared[i]
		if err := s.resolve(p, current[recordKey{p.Kind, p.ID}], head+int64(i)+1, now); err != nil {
			return nil, err
		}
	}
	if err := s.sealAndStore(ctx, st, prepared, !lookUpCreates); err != nil {
		return nil, err
	}
	if len(prepared) > 0 {
		if _, err := st.setHead.ExecContext(ctx, head+int64(len(prepared)), s.origin); err != nil {
			return nil, fmt.Errorf("write: advance head seq: %w", err)
		}
		d, err := readDigest(ctx, tx, s.origin)
		if err != nil {
			return nil, err
		}
		for _, p := range prepared {
			if cur := current[recordKey{p.Kind, p.ID}]; cur != nil {
				d.remove(p.Kind, p.ID, cur.seq, cur.sig)
			}
			d.add(p.Kind, p.ID, p.rec.GetSeq(), p.signature[:])
		}
		if err := writeDigest(ctx, tx, s.origin, d); err != nil {
			return nil, err
		}
	}
	if also != nil {
		if err := also(prepared); err != nil {
			return nil, err
		}
	}
	analyzed := s.analyzeAside(prepared)
	slot := s.announceIndex()
	if err := s.commitWrite(tx); err != nil {
		s.deliverIndex(slot, nil, nil)
		<-analyzed // the caller may write the resources again
		return nil, fmt.Errorf("write: commit: %w", err)
	}
	for i := range prepared {
		// Its rid alone: the analysis, on other cores, writes the rest.
		if prepared[i].rid != 0 { // a record replaced, or deleted: see checkpointer.erased
			s.checkpoints.erased()
			break
		}
	}
	if len(prepared) == 0 { // what also wrote: marks, a harvest's report
		s.deliverIndex(slot, nil, nil)
		s.checkpoints.committed()
		return nil, nil
	}
	changes := make([]indexChange, len(prepared))
	for i := range prepared {
		p := &prepared[i]
		changes[i] = indexChange{kind: p.Kind, rid: p.rid}
		if p.resource != nil {
			changes[i].put, changes[i].resource, changes[i].link = &p.analyzed, p.resource, &p.link
		}
	}
	out := make([]proto.Message, len(prepared))
	for i := range prepared {
		// Not a copy of prepared[i]: the analysis is writing to it.
		if r := prepared[i].resource; r != nil {
			out[i] = r
		}
	}
	// The analysis and the indexer read the resources: the caller may
	// read them, nobody may change them.
	s.deliverIndex(slot, changes, analyzed)
	s.notifyChanged()
	return out, nil
}

// pending is a Write on its way into the catalog.
type pending struct {
	Write
	// resource is the caller's resource, output fields set: seal sets
	// them, on the cores that sign, from the times resolve sets.
	resource               proto.Message
	createTime, updateTime *timestamppb.Timestamp
	rec                    *federationv1.Record
	signed                 *federationv1.SignedRecord
	// signature is signed's, kept for the origin's digest once signed's
	// buffer is reused (see sealAndStore).
	signature [ed25519.SignatureSize]byte
	rid       int64 // existing row, 0 for a new one
	wasLive   bool
	analyzed  search.Analyzed // the new version, for the search index
	link      toolLink        // the new version's, for a tool
	// byHarvest marks a harvest's own write (see ApplyHarvest): its
	// deletes forget the entry, and their tombstones say so rather than
	// carry the harvest's mark (see harvestForgetMarkOf).
	byHarvest bool
}

// prepare checks the writes, before the transaction takes the write lock.
func (s *Store) prepare(writes []Write) ([]pending, error) {
	out := make([]pending, len(writes))
	seen := make(map[recordKey]bool, len(writes))
	taken := make(map[proto.Message]bool, len(writes))
	for i, w := range writes {
		p := pending{Write: w}
		switch w.Op {
		case OpCreate, OpReplace:
			k, err := kindOf(w.Resource)
			if err != nil {
				return nil, err
			}
			p.Kind = k
		case OpDelete:
			if _, err := newResource(w.Kind); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: write %d: unknown operation %d", ErrInvalid, i, w.Op)
		}
		if !envelope.ValidID(w.ID) {
			return nil, fmt.Errorf("%w: invalid id %q", ErrInvalid, w.ID)
		}
		key := recordKey{p.Kind, w.ID}
		if seen[key] {
			return nil, fmt.Errorf("%w: %s is written twice in one batch", ErrInvalid, ResourceName(p.Kind, s.origin, w.ID))
		}
		seen[key] = true
		if w.Resource != nil {
			// Apply takes the resource and sets its name and seq: one
			// message cannot be two records.
			if taken[w.Resource] {
				return nil, fmt.Errorf("%w: write %d (%s) passes the resource of an earlier write of the batch", ErrInvalid, i, ResourceName(p.Kind, s.origin, w.ID))
			}
			taken[w.Resource] = true
		}
		out[i] = p
	}
	return out, nil
}

// recordKey names a record of the node's origin.
type recordKey struct {
	kind Kind
	id   string
}

// currentRow is the stored row of a record.
type currentRow struct {
	rid      int64
	seq      int64
	deleted  bool
	rec, sig []byte
}

// lookupCurrent reads the stored rows of origin's records named by keys,
// with a few queries rather than one per record.
func lookupCurrent(ctx context.Context, tx *sql.Tx, origin string, keys []recordKey) (map[recordKey]*currentRow, error) {
	const perQuery = 500 // bound variables
	byKind := map[Kind][]string{}
	for _, k := range keys {
		byKind[k.kind] = append(byKind[k.kind], k.id)
	}
	out := map[recordKey]*currentRow{}
	for kind, ids := range byKind {
		for start := 0; start < len(ids); start += perQuery {
			chunk := ids[start:min(start+perQuery, len(ids))]
			args := []any{origin, int64(kind)}
			for _, id := range chunk {
				args = append(args, id)
			}
			// All three columns of the (origin, kind, id) index, so that
			// each id is one lookup.
			rows, err := tx.QueryContext(ctx, "SELECT id, rid, seq, deleted, record, signature FROM records WHERE origin = ? AND kind = ? AND id IN (?"+
				strings.Repeat(", ?", len(chunk)-1)+")", args...)
			if err != nil {
				return nil, fmt.Errorf("write: read current records: %w", err)
			}
			for rows.Next() {
				k := recordKey{kind: kind}
				var r currentRow
				if err := rows.Scan(&k.id, &r.rid, &r.seq, &r.deleted, &r.rec, &r.sig); err != nil {
					rows.Close()
					return nil, fmt.Errorf("write: read current records: %w", err)
				}
				out[k] = &r
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return nil, fmt.Errorf("write: read current records: %w", err)
			}
		}
	}
	return out, nil
}

// resolve checks a write against the record it replaces (cur, nil if there
// is none), then fills in the new version's output fields and builds its
// record.
func (s *Store) resolve(p *pending, cur *currentRow, seq int64, now *timestamppb.Timestamp) error {
	// The name, for errors only: built for every write, on the writer's
	// path, it was an allocation each for nothing.
	name := func() string { return ResourceName(p.Kind, s.origin, p.ID) }
	var (
		deleted        bool
		oldRec, oldSig []byte
		existing       = cur != nil
	)
	p.rid = 0 // an earlier attempt's insert was rolled back
	if existing {
		p.rid, deleted, oldRec, oldSig = cur.rid, cur.deleted, cur.rec, cur.sig
	}
	p.wasLive = existing && !deleted
	switch p.Op {
	case OpCreate:
		if p.wasLive {
			return fmt.Errorf("%s: %w", name(), ErrAlreadyExists)
		}
	case OpReplace, OpDelete:
		if !p.wasLive {
			return fmt.Errorf("%s: %w", name(), ErrNotFound)
		}
		if p.IfEtag != "" && p.IfEtag != Etag(oldSig) {
			return fmt.Errorf("%s: %w: the record changed since (etag %q, now %q)", name(), ErrStale, p.IfEtag, Etag(oldSig))
		}
	}

	p.rec = &federationv1.Record{Origin: s.origin, Kind: p.Kind, Id: p.ID, Seq: seq, Deleted: p.Op == OpDelete}
	if p.Op == OpDelete {
		if p.Kind != KindTool {
			return nil
		}
		markOf := harvestMarkOf
		if p.byHarvest {
			markOf = harvestForgetMarkOf
		}
		mark, err := markOf(oldRec)
		if err != nil {
			// Deleting is the way out of a record that does not decode:
			// its tombstone goes without a mark.
			s.log.Warn("deleting a tool whose stored version does not decode: its tombstone carries no harvest mark", "tool", name(), "err", err)
		}
		p.rec.Resource = mark
		return nil
	}
	createTime := now
	if p.Op == OpReplace {
		old, err := decodeResource(oldRec)
		if err != nil {
			return fmt.Errorf("write %s: read current version: %w", name(), err)
		}
		if ct := createTimeOf(old); ct != nil { // none: one that was no time (see clearInvalidTimes)
			createTime = ct
		}
	}
	p.createTime, p.updateTime = createTime, now
	return nil
}

// sealAndStore signs the records, on every core, while it stores those
// already sealed: signing costs more than inserting, and they overlap.
// With createsUnchecked (their ids were not looked up), a create whose
// insert fails on its id returns errCreateTaken.
//
// The records of a chunk are sealed into one buffer, which the next chunks
// reuse once the chunk is stored: a fresh buffer for each record had the
// processor wait on memory no cache held. Once stored, a record's bytes
// are gone (p.signed and p.rec.Resource are cleared): SQLite has its copy.
func (s *Store) sealAndStore(ctx context.Context, st *statements, ps []pending, createsUnchecked bool) error {
	const chunk = 64
	type result struct {
		buf *[]byte
		err error
	}
	n := (len(ps) + chunk - 1) / chunk
	sealed := make([]chan result, n)
	todo := make(chan int, n)
	for c := range n {
		sealed[c] = make(chan result, 1) // workers never wait, even if storing fails
		todo <- c
	}
	close(todo)
	for range min(runtime.GOMAXPROCS(0), n) {
		go func() {
			for c := range todo {
				buf, err := s.seal(ps[c*chunk : min((c+1)*chunk, len(ps))])
				sealed[c] <- result{buf, err}
			}
		}()
	}
	// On an error, the workers still sealing write to the caller's
	// resources: Apply returns once they are done.
	waitRest := func(from int) {
		for c := from; c < n; c++ {
			<-sealed[c]
		}
	}
	rowCtx := rowContext(ctx)
	for c := range n {
		r := <-sealed[c]
		if r.err != nil {
			waitRest(c + 1)
			return r.err
		}
		for i := c * chunk; i < min((c+1)*chunk, len(ps)); i++ {
			p := &ps[i]
			if err := st.store(rowCtx, p); err != nil {
				waitRest(c + 1)
				if se := (*sqlite.Error)(nil); createsUnchecked && p.Op == OpCreate && errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
					return fmt.Errorf("%w: %w", errCreateTaken, err)
				}
				return err
			}
			copy(p.signature[:], p.signed.GetSignature())
			p.signed, p.rec.Resource = nil, nil
		}
		*r.buf = (*r.buf)[:0]
		s.sealBuffers.Put(r.buf)
	}
	return nil
}

// sealRoom is the room seal gives each record of a chunk in its buffer: a
// tool of the usual size takes a few kilobytes (a larger one gets a buffer
// of its own).
const sealRoom = 4 << 10

// seal sets the output fields of the records' resources, and marshals and
// signs the records, the resources' into the returned buffer.
func (s *Store) seal(ps []pending) (*[]byte, error) {
	buf, _ := s.sealBuffers.Get().(*[]byte)
	if want := len(ps) * sealRoom; buf == nil || cap(*buf) < want {
		// A write of one record, the API's usual, takes a buffer of
		// its size, not a chunk's.
		b := make([]byte, 0, want)
		buf = &b
	}
	for i := range ps {
		p := &ps[i]
		var sr *federationv1.SignedRecord
		var err error
		if p.Op == OpDelete {
			sr, err = envelope.Seal(p.rec, s.key)
		} else {
			p.resource = p.Write.Resource
			setOutputFields(p.resource, ResourceName(p.Kind, s.origin, p.ID), s.origin, p.rec.GetSeq(), p.createTime, p.updateTime)
			sr, *buf, err = envelope.SealResource(*buf, p.rec, p.resource, s.key)
		}
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", ResourceName(p.Kind, s.origin, p.ID), err)
		}
		ps[i].signed = sr
		if p.resource != nil {
			// Before the analysis reads the resource on another goroutine.
			setEtag(p.resource, Etag(sr.GetSignature()))
		}
	}
	return buf, nil
}

// analyzeForIndex is what the search index and the links need of a new
// version of a record of origin: its analyzed text and, for a tool, its
// link (zero for a use case).
func (s *Store) analyzeForIndex(k Kind, origin string, m proto.Message) (search.Analyzed, toolLink) {
	a := s.indexOf(k).Analyze(s.searchDoc(origin, m))
	if t, ok := m.(*catalogv1.Tool); ok {
		return a, linkOf(t)
	}
	return a, toolLink{}
}

// analyzeAside analyzes the new versions for the search index, and links
// the tools, on goroutines of their own; the returned channel is closed
// when they are done. The writer starts it as the transaction commits:
// committing keeps one core busy and leaves the others idle, and nothing
// in the analysis needs the commit. The indexer waits for it.
func (s *Store) analyzeAside(ps []pending) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// On every core but the commit's.
		onCores(min((len(ps)+63)/64, max(runtime.GOMAXPROCS(0)-1, 1)), len(ps), func(i int) {
			p := &ps[i]
			if p.resource == nil {
				return
			}
			p.analyzed, p.link = s.analyzeForIndex(p.Kind, s.origin, p.resource)
		})
	}()
	return done
}

func setOutputFields(m proto.Message, name, origin string, seq int64, createTime, updateTime *timestamppb.Timestamp) {
	switch r := m.(type) {
	case *catalogv1.Tool:
		r.Name, r.Origin, r.Seq, r.Deleted, r.Etag = name, origin, seq, false, ""
		r.CreateTime, r.UpdateTime = createTime, updateTime
		// Each node computes it from what it holds, when it reads the
		// record: it is no part of what the origin signs (an update
		// starts from the record as read, which has it).
		r.Qualification = nil
	case *catalogv1.UseCase:
		r.Name, r.Origin, r.Seq, r.Deleted, r.Etag = name, origin, seq, false, ""
		r.CreateTime, r.UpdateTime = createTime, updateTime
	}
}

func setEtag(m proto.Message, etag string) {
	switch r := m.(type) {
	case *catalogv1.Tool:
		r.Etag = etag
	case *catalogv1.UseCase:
		r.Etag = etag
	}
}

func createTimeOf(m proto.Message) *timestamppb.Timestamp {
	switch r := m.(type) {
	case *catalogv1.Tool:
		return r.GetCreateTime()
	case *catalogv1.UseCase:
		return r.GetCreateTime()
	}
	return nil
}

// statements are the write path's prepared statements, for one transaction.
type statements struct {
	tx            *sql.Tx
	head, setHead *sql.Stmt
	insertRecord  *sql.Stmt
	updateRecord  *sql.Stmt
	closers       []*sql.Stmt
}

func prepareStatements(ctx context.Context, tx *sql.Tx) (*statements, error) {
	st := &statements{}
	var firstErr error
	prep := func(q string) *sql.Stmt {
		if firstErr != nil {
			return nil
		}
		s, err := tx.PrepareContext(ctx, q)
		if err != nil {
			firstErr = fmt.Errorf("write: prepare %q: %w", q, err)
			return nil
		}
		st.closers = append(st.closers, s)
		return s
	}
	st.head = prep("SELECT head_seq FROM origins WHERE origin = ?")
	st.setHead = prep("UPDATE origins SET head_seq = ? WHERE origin = ?")
	st.insertRecord = prep("INSERT INTO records (origin, kind, id, seq, deleted, record, signature, r_x) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
	st.updateRecord = prep("UPDATE records SET seq = ?, deleted = ?, record = ?, signature = ?, r_x = ? WHERE rid = ?")
	if firstErr != nil {
		st.close()
		return nil, firstErr
	}
	return st, nil
}

func (st *statements) close() {
	for _, s := range st.closers {
		s.Close()
	}
}

// store writes a sealed record, setting p.rid for a new row. It runs its
// statement with rowCtx, rowContext of the transaction's context (writeTx
// reports that context's end).
func (st *statements) store(rowCtx context.Context, p *pending) error {
	rec, sig, rx := p.signed.GetRecord(), p.signed.GetSignature(), p.signed.GetRX()
	if p.rid == 0 {
		res, err := st.insertRecord.ExecContext(rowCtx, p.rec.GetOrigin(), int64(p.Kind), p.ID, p.rec.GetSeq(), p.rec.GetDeleted(), rec, sig, rx)
		if err != nil {
			return fmt.Errorf("write %s: %w", p.ID, err)
		}
		if p.rid, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("write %s: %w", p.ID, err)
		}
	} else if _, err := st.updateRecord.ExecContext(rowCtx, p.rec.GetSeq(), p.rec.GetDeleted(), rec, sig, rx, p.rid); err != nil {
		return fmt.Errorf("write %s: %w", p.ID, err)
	}
	return nil
}

// rowContext is ctx for a statement a transaction runs once per record,
// without its cancellation. For a call whose context can be cancelled,
// modernc.org/sqlite starts a goroutine that watches it and installs a
// progress handler, which costs more than inserting the row. The
// transaction, begun with ctx, still ends when ctx does: database/sql rolls
// it back, and the next statement fails.
func rowContext(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// rowError is the error of a statement in a transaction begun with ctx:
// when ctx has ended, ctx's own error too, since the transaction's
// rollback made the statement fail with a less telling one
// (sql.ErrTxDone, or "statement is closed"). Both stay in the chain, so
// that a refusal or an invalid write that met a cancellation is still
// seen as one.
func rowError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && err != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return err
}

// decodeResource decodes the resource inside stored record bytes.
func decodeResource(recordBytes []byte) (proto.Message, error) {
	_, m, err := decodeRecord(recordBytes)
	return m, err
}

// decodeRecord decodes stored record bytes and the resource inside,
// without the timestamps of it that are none (clearInvalidTimes).
func decodeRecord(recordBytes []byte) (*federationv1.Record, proto.Message, error) {
	rec, m, err := decodeStoredRecord(recordBytes)
	if err == nil {
		clearInvalidTimes(m)
	}
	return rec, m, err
}

// clearInvalidTimes leaves out, and names, the timestamps of a resource
// that are none (past the year 9999, or of nanoseconds out of range).
// Nodes before 2026-12-03 took them, and stored them; JSON has no text for
// one, and every REST answer that held the record (a listing of every
// tool) failed: served without them, the record is read and listed.
func clearInvalidTimes(m proto.Message) (cleared []string) {
	drop := func(name string, ts **timestamppb.Timestamp) {
		if *ts != nil && (*ts).CheckValid() != nil {
			*ts = nil
			cleared = append(cleared, name)
		}
	}
	switch r := m.(type) {
	case *catalogv1.Tool:
		drop("create_time", &r.CreateTime)
		drop("update_time", &r.UpdateTime)
		if r.Provenance != nil {
			drop("provenance.harvest_time", &r.Provenance.HarvestTime)
		}
	case *catalogv1.UseCase:
		drop("create_time", &r.CreateTime)
		drop("update_time", &r.UpdateTime)
	}
	return cleared
}

// decodeStoredRecord decodes stored record bytes and the resource inside,
// as they are.
func decodeStoredRecord(recordBytes []byte) (*federationv1.Record, proto.Message, error) {
	rec, err := envelope.Parse(recordBytes)
	if err != nil {
		return nil, nil, err
	}
	m, err := newResource(rec.GetKind())
	if err != nil {
		return nil, nil, err
	}
	if err := protodecode.Unmarshal(rec.GetResource(), m); err != nil {
		return nil, nil, fmt.Errorf("decode %s/%s: %w", rec.GetOrigin(), rec.GetId(), err)
	}
	return rec, m, nil
}
