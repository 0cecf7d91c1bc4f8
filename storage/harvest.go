package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/proto"
)

// HarvestedEntry is what the catalog knows of one entry of a harvested
// source.
type HarvestedEntry struct {
	SourceID string
	// ID is the tool the entry became, in the node's origin.
	ID string
	// Seq is the seq of the version the harvest wrote: a record whose seq
	// is higher now was changed by someone else since.
	Seq int64
	// Hash identifies the entry as the source gave it last.
	Hash []byte
}

// RecordHead is where a record of the node's origin stands.
type RecordHead struct {
	Seq     int64
	Deleted bool
	rec     []byte // the stored record, for IsEntry
}

// IsEntry reports whether a live tool is still the one a harvest made of
// the entry sourceID: its provenance, which only harvests write, names the
// entry. One that does not took the id since the entry's tool was deleted
// by hand (a tool written through the API, whose id is made from its name,
// may take a tombstone's).
func (h RecordHead) IsEntry(sourceID string) bool {
	m, err := decodeResource(h.rec)
	if err != nil {
		return true // it was the entry's when it last decoded: leave it to the rules for hand edits
	}
	t, ok := m.(*catalogv1.Tool)
	return ok && t.GetProvenance().GetSourceId() == sourceID
}

// ForgottenEntry is, for a tombstone a harvest left when its source no
// longer listed the tool's entry, the source and the entry; "" for any
// other record.
func (h RecordHead) ForgottenEntry() (source, sourceID string) {
	if !h.Deleted || len(h.rec) == 0 {
		return "", ""
	}
	_, m, err := decodeStoredRecord(h.rec)
	t, ok := m.(*catalogv1.Tool)
	if err != nil || !ok || !harvestForgotten(t.GetProvenance()) {
		return "", ""
	}
	return t.GetProvenance().GetSource(), t.GetProvenance().GetSourceId()
}

// HarvestTx is a harvest's view of the catalog from inside its write
// transaction: what it reads there cannot change before its writes commit.
type HarvestTx struct {
	ctx    context.Context
	tx     *sql.Tx
	origin string
	source string
}

// Entries returns what earlier runs of the source wrote, by source id.
func (h *HarvestTx) Entries() (map[string]HarvestedEntry, error) {
	rows, err := h.tx.QueryContext(h.ctx, "SELECT source_id, id, seq, hash FROM harvest_entries WHERE source = ?", h.source)
	if err != nil {
		return nil, fmt.Errorf("read harvest entries of %s: %w", h.source, err)
	}
	defer rows.Close()
	out := map[string]HarvestedEntry{}
	for rows.Next() {
		var e HarvestedEntry
		if err := rows.Scan(&e.SourceID, &e.ID, &e.Seq, &e.Hash); err != nil {
			return nil, fmt.Errorf("read harvest entries of %s: %w", h.source, err)
		}
		out[e.SourceID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read harvest entries of %s: %w", h.source, err)
	}
	return out, nil
}

// Heads returns where the records of kind k with these ids stand, live or
// tombstones; ids without a record are absent.
func (h *HarvestTx) Heads(k Kind, ids []string) (map[string]RecordHead, error) {
	keys := make([]recordKey, len(ids))
	for i, id := range ids {
		keys[i] = recordKey{k, id}
	}
	current, err := lookupCurrent(h.ctx, h.tx, h.origin, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]RecordHead, len(current))
	for key, row := range current {
		out[key.id] = RecordHead{Seq: row.seq, Deleted: row.deleted, rec: row.rec}
	}
	return out, nil
}

// HarvestPlan is what one harvest run writes.
type HarvestPlan struct {
	Writes []Write
	// Marks update what the catalog knows of the source's entries.
	Marks []HarvestMark
	// Report, when set, is the run's report, saved as SaveHarvestRun
	// saves one, in the same transaction: no node stopped between the two
	// leaves changes that no report accounts for. Its Name is set once
	// saved.
	Report *catalogv1.HarvestRun
}

// HarvestMark records one entry of a source after the run.
type HarvestMark struct {
	SourceID string
	// ID is the tool the entry is.
	ID   string
	Hash []byte
	// Write is the index in the plan's Writes of the write that made the
	// entry's current version, whose seq the mark keeps. Entries the run
	// wrote nothing for need no mark.
	Write int
	// Forget drops the entry instead (the source no longer lists it);
	// Write is then ignored.
	Forget bool
}

// ApplyHarvest runs one harvest of source in a single write transaction:
// plan reads the catalog through the HarvestTx and returns the writes and
// marks, which are committed together, all or none. It returns the stored
// resources, as Apply does. plan may be called a second time, in a new
// transaction, when a create's id turns out to be taken (see writeTx):
// each call must start from nothing.
func (s *Store) ApplyHarvest(ctx context.Context, source string, plan func(*HarvestTx) (HarvestPlan, error)) ([]proto.Message, error) {
	return s.writeTx(ctx, func(tx *sql.Tx) ([]pending, func([]pending) error, error) {
		p, err := plan(&HarvestTx{ctx: ctx, tx: tx, origin: s.origin, source: source})
		if err != nil {
			return nil, nil, err
		}
		var prepared []pending
		if len(p.Writes) > 0 {
			if prepared, err = s.prepare(p.Writes); err != nil {
				return nil, nil, err
			}
			for i := range prepared {
				prepared[i].byHarvest = true
			}
		}
		for _, m := range p.Marks {
			if !m.Forget && (m.Write < 0 || m.Write >= len(p.Writes)) {
				return nil, nil, fmt.Errorf("harvest %s: entry %s marks write %d of %d", source, m.SourceID, m.Write, len(p.Writes))
			}
		}
		if len(p.Marks) == 0 && p.Report == nil {
			return prepared, nil, nil
		}
		return prepared, func(done []pending) error {
			if err := saveMarks(ctx, tx, source, p.Marks, done); err != nil {
				return err
			}
			if p.Report != nil {
				name, err := insertHarvestRun(ctx, tx, p.Report)
				if err != nil {
					return err
				}
				p.Report.Name = name
			}
			return nil
		}, nil
	})
}

// markEntry records what an entry of a source became: (source,
// source_id, id, seq, hash).
const markEntry = `INSERT INTO harvest_entries (source, source_id, id, seq, hash) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (source, source_id) DO UPDATE SET id = excluded.id, seq = excluded.seq, hash = excluded.hash`

func saveMarks(ctx context.Context, tx *sql.Tx, source string, marks []HarvestMark, done []pending) error {
	upsert, err := tx.PrepareContext(ctx, markEntry)
	if err != nil {
		return fmt.Errorf("harvest %s: %w", source, err)
	}
	defer upsert.Close()
	forget, err := tx.PrepareContext(ctx, "DELETE FROM harvest_entries WHERE source = ? AND source_id = ?")
	if err != nil {
		return fmt.Errorf("harvest %s: %w", source, err)
	}
	defer forget.Close()
	for _, m := range marks {
		if m.Forget {
			if _, err := forget.ExecContext(ctx, source, m.SourceID); err != nil {
				return fmt.Errorf("harvest %s: forget entry %s: %w", source, m.SourceID, err)
			}
			continue
		}
		if _, err := upsert.ExecContext(ctx, source, m.SourceID, m.ID, done[m.Write].rec.GetSeq(), m.Hash); err != nil {
			return fmt.Errorf("harvest %s: mark entry %s: %w", source, m.SourceID, err)
		}
	}
	return nil
}

// harvestMarkOf is what the tombstone of a tool deleted by hand carries,
// given the record of its live version: nothing for a tool no harvest
// wrote, else a tool of the harvest's mark only (its source, the entry's
// id and hash, and the seq of the version the harvest wrote), so that a
// node that lost its catalog, given its records back, knows the entry was
// deleted by hand and does not create it again (see markHarvested).
func harvestMarkOf(live []byte) ([]byte, error) {
	t, err := harvestedTool(live)
	if t == nil {
		return nil, err
	}
	p := t.GetProvenance()
	entrySeq := p.GetEntrySeq()
	if entrySeq <= 0 {
		entrySeq = t.GetSeq() // the harvest's own version
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(&catalogv1.Tool{Provenance: &catalogv1.Provenance{
		Kind: p.GetKind(), Source: p.GetSource(), SourceId: p.GetSourceId(), EntryHash: p.GetEntryHash(), EntrySeq: entrySeq}})
}

// harvestForgetMarkOf is what the tombstone of a tool a harvest deleted
// carries, given the record of its live version: nothing for a tool no
// harvest wrote, else a tool of the harvest's source and entry alone (no
// hash), so that a node restored from a copy older than the deletion,
// given the tombstone back, forgets the entry as the harvest did (see
// markHarvested), and creates it again if its source lists it again.
func harvestForgetMarkOf(live []byte) ([]byte, error) {
	t, err := harvestedTool(live)
	if t == nil {
		return nil, err
	}
	p := t.GetProvenance()
	return proto.MarshalOptions{Deterministic: true}.Marshal(&catalogv1.Tool{Provenance: &catalogv1.Provenance{
		Kind: p.GetKind(), Source: p.GetSource(), SourceId: p.GetSourceId()}})
}

// harvestedTool decodes the record of a tool's live version: the tool if a
// harvest marked it, else nil.
func harvestedTool(live []byte) (*catalogv1.Tool, error) {
	m, err := decodeResource(live)
	if err != nil {
		return nil, err
	}
	if t, ok := m.(*catalogv1.Tool); ok && harvestMarked(t.GetProvenance()) {
		return t, nil
	}
	return nil, nil
}

// harvestForgotten reports whether p, on a tombstone, says a harvest
// deleted the tool and forgot its entry (see harvestForgetMarkOf).
func harvestForgotten(p *catalogv1.Provenance) bool {
	return len(p.GetEntryHash()) == 0 && p.GetSource() != "" && p.GetSourceId() != ""
}

// harvestMarked reports whether p carries a harvest's mark: the source and
// entry a harvest wrote the tool from, and the entry's hash.
func harvestMarked(p *catalogv1.Provenance) bool {
	return len(p.GetEntryHash()) > 0 && p.GetSource() != "" && p.GetSourceId() != ""
}

// Sources returns the names of the sources earlier runs wrote entries of.
func (h *HarvestTx) Sources() ([]string, error) {
	rows, err := h.tx.QueryContext(h.ctx, "SELECT DISTINCT source FROM harvest_entries ORDER BY source")
	if err != nil {
		return nil, fmt.Errorf("read harvested sources: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read harvested sources: %w", err)
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// Adopt makes what earlier runs of the source named from wrote this
// source's, and its reports too, each rewritten by rewrite first. An entry
// this source holds already stays the old name's.
func (h *HarvestTx) Adopt(from string, rewrite func(*catalogv1.HarvestRun)) error {
	if _, err := h.tx.ExecContext(h.ctx, "UPDATE OR IGNORE harvest_entries SET source = ? WHERE source = ?", h.source, from); err != nil {
		return fmt.Errorf("adopt the entries of %s: %w", from, err)
	}
	reports, err := readReports(h.ctx, h.tx, "SELECT run, report FROM harvest_runs WHERE source = ?", from)
	if err != nil {
		return fmt.Errorf("adopt the reports of %s: %w", from, err)
	}
	for n, b := range reports {
		run := &catalogv1.HarvestRun{}
		if err := proto.Unmarshal(b, run); err != nil {
			return fmt.Errorf("adopt harvest report %d: %w", n, err)
		}
		rewrite(run)
		if b, err = proto.Marshal(run); err != nil {
			return fmt.Errorf("adopt harvest report %d: %w", n, err)
		}
		if _, err := h.tx.ExecContext(h.ctx, "UPDATE harvest_runs SET source = ?, report = ? WHERE run = ?", h.source, b, n); err != nil {
			return fmt.Errorf("adopt harvest report %d: %w", n, err)
		}
	}
	return nil
}

// readReports reads the reports query selects in tx, by run.
func readReports(ctx context.Context, tx *sql.Tx, query string, args ...any) (map[int64][]byte, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	reports := map[int64][]byte{}
	for rows.Next() {
		var (
			n int64
			b []byte
		)
		if err := rows.Scan(&n, &b); err != nil {
			return nil, err
		}
		reports[n] = b
	}
	return reports, rows.Err()
}

// keptHarvestRuns is how many reports of each source the catalog keeps.
const keptHarvestRuns = 50

// SaveHarvestRun keeps the report of a harvest run, naming it
// harvests/{n}, and forgets the source's oldest reports beyond the last
// 50. It returns the report with its name.
func (s *Store) SaveHarvestRun(ctx context.Context, run *catalogv1.HarvestRun) (*catalogv1.HarvestRun, error) {
	run = proto.Clone(run).(*catalogv1.HarvestRun)
	if err := s.writeLock.lock(ctx); err != nil {
		return nil, fmt.Errorf("save harvest report: wait for the writes before: %w", err)
	}
	defer s.writeLock.Unlock()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("save harvest report: %w", err)
	}
	defer tx.Rollback()
	name, err := insertHarvestRun(ctx, tx, run)
	if err != nil {
		return nil, err
	}
	if err := s.commitWrite(tx); err != nil {
		return nil, fmt.Errorf("save harvest report: %w", err)
	}
	s.checkpoints.committed()
	run.Name = name
	return run, nil
}

// RewriteHarvestReports passes every report kept to rewrite, and writes
// again, in one transaction, those it changed (it says so), keeping their
// sources and names. It returns how many it wrote.
func (s *Store) RewriteHarvestReports(ctx context.Context, rewrite func(*catalogv1.HarvestRun) bool) (int, error) {
	if err := s.writeLock.lock(ctx); err != nil {
		return 0, fmt.Errorf("rewrite harvest reports: wait for the writes before: %w", err)
	}
	defer s.writeLock.Unlock()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("rewrite harvest reports: %w", err)
	}
	defer tx.Rollback()
	reports, err := readReports(ctx, tx, "SELECT run, report FROM harvest_runs")
	if err != nil {
		return 0, fmt.Errorf("rewrite harvest reports: %w", err)
	}
	changed := map[int64][]byte{}
	for n, b := range reports {
		run := &catalogv1.HarvestRun{}
		if err := proto.Unmarshal(b, run); err != nil {
			continue // served as an error where it is read, as before
		}
		if !rewrite(run) {
			continue
		}
		if changed[n], err = proto.Marshal(run); err != nil {
			return 0, fmt.Errorf("rewrite harvest report %d: %w", n, err)
		}
	}
	for n, b := range changed {
		if _, err := tx.ExecContext(ctx, "UPDATE harvest_runs SET report = ? WHERE run = ?", b, n); err != nil {
			return 0, fmt.Errorf("rewrite harvest report %d: %w", n, err)
		}
	}
	if len(changed) == 0 {
		return 0, nil
	}
	if err := s.commitWrite(tx); err != nil {
		return 0, fmt.Errorf("rewrite harvest reports: %w", err)
	}
	s.checkpoints.committed()
	return len(changed), nil
}

// insertHarvestRun saves run in tx, as SaveHarvestRun does, and returns
// its name.
func insertHarvestRun(ctx context.Context, tx *sql.Tx, run *catalogv1.HarvestRun) (string, error) {
	source := run.GetSource().GetName()
	if source == "" {
		return "", fmt.Errorf("%w: a harvest report needs its source's name", ErrInvalid)
	}
	unnamed := proto.Clone(run).(*catalogv1.HarvestRun)
	unnamed.Name = ""
	b, err := proto.Marshal(unnamed)
	if err != nil {
		return "", fmt.Errorf("save harvest report: %w", err)
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO harvest_runs (source, report) VALUES (?, ?)", source, b)
	if err != nil {
		return "", fmt.Errorf("save harvest report: %w", err)
	}
	n, err := res.LastInsertId()
	if err != nil {
		return "", fmt.Errorf("save harvest report: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM harvest_runs WHERE source = ? AND run NOT IN
		(SELECT run FROM harvest_runs WHERE source = ? ORDER BY run DESC LIMIT ?)`, source, source, keptHarvestRuns); err != nil {
		return "", fmt.Errorf("save harvest report: forget old reports: %w", err)
	}
	return "harvests/" + strconv.FormatInt(n, 10), nil
}

// HarvestRuns returns the last reports, newest first: of one source, or of
// all when source is empty; at most limit, and none past the first that
// takes their bytes past 2 MiB (reportsReadBytes).
func (s *Store) HarvestRuns(ctx context.Context, source string, limit int) ([]*catalogv1.HarvestRun, error) {
	q := []string{"SELECT run, report FROM harvest_runs"}
	var args []any
	if source != "" {
		q = append(q, "WHERE source = ?")
		args = append(args, source)
	}
	q = append(q, "ORDER BY run DESC LIMIT ?")
	args = append(args, limit)
	return s.harvestRuns(ctx, strings.Join(q, " "), args...)
}

// LastHarvestRuns returns the last report of each source, newest first:
// a source harvested every second does not hide the others. It stops as
// HarvestRuns does.
func (s *Store) LastHarvestRuns(ctx context.Context, limit int) ([]*catalogv1.HarvestRun, error) {
	return s.harvestRuns(ctx, `SELECT run, report FROM harvest_runs
		WHERE run IN (SELECT MAX(run) FROM harvest_runs GROUP BY source) ORDER BY run DESC LIMIT ?`, limit)
}

// reportsReadBytes bounds the reports one call reads: they stop at the
// first that takes their bytes past it, which an answer of the API holds
// no more of (2 MiB); 200 reports of half a megabyte each were read whole.
const reportsReadBytes = 2 << 20

// harvestRuns returns the reports query selects (their run and report), in
// its order, up to the first past reportsReadBytes.
func (s *Store) harvestRuns(ctx context.Context, query string, args ...any) ([]*catalogv1.HarvestRun, error) {
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read harvest reports: %w", err)
	}
	defer rows.Close()
	var out []*catalogv1.HarvestRun
	read := 0
	for read <= reportsReadBytes && rows.Next() {
		var (
			n int64
			b []byte
		)
		if err := rows.Scan(&n, &b); err != nil {
			return nil, fmt.Errorf("read harvest reports: %w", err)
		}
		run := &catalogv1.HarvestRun{}
		if err := proto.Unmarshal(b, run); err != nil {
			return nil, fmt.Errorf("read harvest report %d: %w", n, err)
		}
		run.Name = "harvests/" + strconv.FormatInt(n, 10)
		out = append(out, run)
		read += len(b)
	}
	return out, rows.Err()
}
