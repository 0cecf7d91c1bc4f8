package storage

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
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
	// for OpCreate and OpReplace. The store sets its output-only fields
	// (name, origin, seq, times, etag): the caller's copy is not changed.
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
// of the writes.
func (s *Store) Apply(ctx context.Context, writes []Write) ([]proto.Message, error) {
	if len(writes) == 0 {
		return nil, nil
	}
	prepared, err := s.prepare(writes)
	if err != nil {
		return nil, err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("write: begin: %w", err)
	}
	defer tx.Rollback()
	st, err := prepareStatements(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer st.close()

	var head int64
	if err := st.head.QueryRowContext(ctx, s.origin).Scan(&head); err != nil {
		return nil, fmt.Errorf("write: read head seq: %w", err)
	}
	now := timestamppb.New(s.now())
	for i := range prepared {
		p := &prepared[i]
		if err := s.resolve(ctx, st, p, head+int64(i)+1, now); err != nil {
			return nil, err
		}
	}
	if err := s.seal(prepared); err != nil {
		return nil, err
	}
	for i := range prepared {
		if err := st.store(ctx, &prepared[i]); err != nil {
			return nil, err
		}
	}
	if _, err := st.setHead.ExecContext(ctx, head+int64(len(prepared)), s.origin); err != nil {
		return nil, fmt.Errorf("write: advance head seq: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("write: commit: %w", err)
	}
	out := make([]proto.Message, len(prepared))
	for i, p := range prepared {
		if p.resource != nil {
			setEtag(p.resource, Etag(p.signed.GetSignature()))
			out[i] = p.resource
		}
	}
	return out, nil
}

// pending is a Write on its way into the catalog.
type pending struct {
	Write
	resource proto.Message // the caller's resource, cloned, output fields set
	rec      *federationv1.Record
	signed   *federationv1.SignedRecord
	rid      int64 // existing row, 0 for a new one
	wasLive  bool
	index    indexEntry
}

// prepare checks the writes and clones their resources, before the
// transaction takes the write lock.
func (s *Store) prepare(writes []Write) ([]pending, error) {
	out := make([]pending, len(writes))
	seen := make(map[string]bool, len(writes))
	for i, w := range writes {
		p := pending{Write: w}
		switch w.Op {
		case OpCreate, OpReplace:
			k, err := kindOf(w.Resource)
			if err != nil {
				return nil, err
			}
			p.Kind = k
			p.resource = proto.Clone(w.Resource)
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
		key := fmt.Sprint(p.Kind, "/", w.ID)
		if seen[key] {
			return nil, fmt.Errorf("%w: %s is written twice in one batch", ErrInvalid, ResourceName(p.Kind, s.origin, w.ID))
		}
		seen[key] = true
		out[i] = p
	}
	return out, nil
}

// resolve checks a write against the record it replaces, then fills in the
// new version's output fields and builds its record.
func (s *Store) resolve(ctx context.Context, st *statements, p *pending, seq int64, now *timestamppb.Timestamp) error {
	name := ResourceName(p.Kind, s.origin, p.ID)
	var (
		deleted  bool
		oldRec   []byte
		oldSig   []byte
		existing bool
	)
	err := st.lookup.QueryRowContext(ctx, s.origin, int64(p.Kind), p.ID).Scan(&p.rid, &deleted, &oldRec, &oldSig)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("write %s: %w", name, err)
	default:
		existing = true
	}
	p.wasLive = existing && !deleted
	switch p.Op {
	case OpCreate:
		if p.wasLive {
			return fmt.Errorf("%s: %w", name, ErrAlreadyExists)
		}
	case OpReplace, OpDelete:
		if !p.wasLive {
			return fmt.Errorf("%s: %w", name, ErrNotFound)
		}
		if p.IfEtag != "" && p.IfEtag != Etag(oldSig) {
			return fmt.Errorf("%s: %w: the record changed since (etag %q, now %q)", name, ErrStale, p.IfEtag, Etag(oldSig))
		}
	}

	p.rec = &federationv1.Record{Origin: s.origin, Kind: p.Kind, Id: p.ID, Seq: seq, Deleted: p.Op == OpDelete}
	if p.Op == OpDelete {
		return nil
	}
	createTime := now
	if p.Op == OpReplace {
		old, err := decodeResource(oldRec)
		if err != nil {
			return fmt.Errorf("write %s: read current version: %w", name, err)
		}
		createTime = createTimeOf(old)
	}
	setOutputFields(p.resource, name, s.origin, seq, createTime, now)
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(p.resource)
	if err != nil {
		return fmt.Errorf("write %s: marshal: %w", name, err)
	}
	p.rec.Resource = b
	p.index = indexOf(s.origin, p.resource)
	return nil
}

// seal signs the records, spreading large batches over the cores: signing
// costs more than inserting.
func (s *Store) seal(ps []pending) error {
	workers := runtime.GOMAXPROCS(0)
	if len(ps) < 64 || workers < 2 {
		workers = 1
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ps); i += workers {
				sr, err := envelope.Seal(ps[i].rec, s.key)
				if err != nil {
					errs[w] = err
					return
				}
				ps[i].signed = sr
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func setOutputFields(m proto.Message, name, origin string, seq int64, createTime, updateTime *timestamppb.Timestamp) {
	switch r := m.(type) {
	case *catalogv1.Tool:
		r.Name, r.Origin, r.Seq, r.Deleted, r.Etag = name, origin, seq, false, ""
		r.CreateTime, r.UpdateTime = createTime, updateTime
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
	lookup        *sql.Stmt
	insertRecord  *sql.Stmt
	updateRecord  *sql.Stmt
	perKind       map[Kind]*kindStatements
	closers       []*sql.Stmt
}

type kindStatements struct {
	deleteRow, deleteTerms, deleteText *sql.Stmt
	insertRow, insertTerm, insertText  *sql.Stmt
}

func prepareStatements(ctx context.Context, tx *sql.Tx) (*statements, error) {
	st := &statements{perKind: map[Kind]*kindStatements{}}
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
	st.lookup = prep("SELECT rid, deleted, record, signature FROM records WHERE origin = ? AND kind = ? AND id = ?")
	st.insertRecord = prep("INSERT INTO records (origin, kind, id, seq, deleted, record, signature) VALUES (?, ?, ?, ?, ?, ?, ?)")
	st.updateRecord = prep("UPDATE records SET seq = ?, deleted = ?, record = ?, signature = ? WHERE rid = ?")
	for _, k := range []Kind{KindTool, KindUseCase} {
		t := tablesOf(k)
		st.perKind[k] = &kindStatements{
			deleteRow:   prep("DELETE FROM " + t.rows + " WHERE rid = ?"),
			deleteTerms: prep("DELETE FROM " + t.terms + " WHERE rid = ?"),
			deleteText:  prep("DELETE FROM " + t.fts + " WHERE rowid = ?"),
			insertRow:   prep("INSERT INTO " + t.rows + " (rid, sort_name, create_time, update_time) VALUES (?, ?, ?, ?)"),
			insertTerm:  prep("INSERT INTO " + t.terms + " (facet, value, rid) VALUES (?, ?, ?)"),
			insertText:  prep("INSERT INTO " + t.fts + " (rowid, name, description, features) VALUES (?, ?, ?, ?)"),
		}
	}
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

// store writes a sealed record and replaces its index entries.
func (st *statements) store(ctx context.Context, p *pending) error {
	rec, sig := p.signed.GetRecord(), p.signed.GetSignature()
	if p.rid == 0 {
		res, err := st.insertRecord.ExecContext(ctx, p.rec.GetOrigin(), int64(p.Kind), p.ID, p.rec.GetSeq(), p.rec.GetDeleted(), rec, sig)
		if err != nil {
			return fmt.Errorf("write %s: %w", p.ID, err)
		}
		if p.rid, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("write %s: %w", p.ID, err)
		}
	} else if _, err := st.updateRecord.ExecContext(ctx, p.rec.GetSeq(), p.rec.GetDeleted(), rec, sig, p.rid); err != nil {
		return fmt.Errorf("write %s: %w", p.ID, err)
	}
	return st.reindex(ctx, p.Kind, p.rid, p.wasLive, p.resource != nil, p.index)
}

// reindex replaces the search entries of row rid: it removes the old ones if
// the record was live and adds the new ones if it still is.
func (st *statements) reindex(ctx context.Context, k Kind, rid int64, wasLive, isLive bool, e indexEntry) error {
	ks := st.perKind[k]
	if wasLive {
		for _, s := range []*sql.Stmt{ks.deleteRow, ks.deleteTerms, ks.deleteText} {
			if _, err := s.ExecContext(ctx, rid); err != nil {
				return fmt.Errorf("unindex record %d: %w", rid, err)
			}
		}
	}
	if !isLive {
		return nil
	}
	if _, err := ks.insertRow.ExecContext(ctx, rid, e.sortName, e.createTime, e.updateTime); err != nil {
		return fmt.Errorf("index record %d: %w", rid, err)
	}
	for _, t := range e.terms {
		if _, err := ks.insertTerm.ExecContext(ctx, t.facet, t.value, rid); err != nil {
			return fmt.Errorf("index record %d: %w", rid, err)
		}
	}
	if _, err := ks.insertText.ExecContext(ctx, rid, e.text[0], e.text[1], e.text[2]); err != nil {
		return fmt.Errorf("index record %d: %w", rid, err)
	}
	return nil
}

// decodeResource decodes the resource inside stored record bytes.
func decodeResource(recordBytes []byte) (proto.Message, error) {
	rec, err := envelope.Parse(recordBytes)
	if err != nil {
		return nil, err
	}
	m, err := newResource(rec.GetKind())
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(rec.GetResource(), m); err != nil {
		return nil, fmt.Errorf("decode %s/%s: %w", rec.GetOrigin(), rec.GetId(), err)
	}
	return m, nil
}
