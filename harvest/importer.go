package harvest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/internal/finding"
	"github.com/ogptoolbox/federation/internal/clip"
	"github.com/ogptoolbox/federation/storage"
	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Importer imports what was read from sources into the node's own origin,
// through the catalog's write path: harvested tools are signed and
// replicate like any other.
type Importer struct {
	store *storage.Store
	now   func() time.Time
	log   *slog.Logger
}

// NewImporter returns an Importer writing to store. now may be nil (the
// clock).
func NewImporter(store *storage.Store, now func() time.Time, log *slog.Logger) *Importer {
	if now == nil {
		now = time.Now
	}
	return &Importer{store: store, now: now, log: log.With("component", "harvest")}
}

// RequestError is an import request that cannot be run as it stands (no
// source name, an unknown kind, duplicate source ids); nothing is written.
type RequestError struct{ Field, Reason string }

func (e *RequestError) Error() string { return e.Field + ": " + e.Reason }

// Import runs one harvest of the request's source: it writes the tools
// that are new or changed, deletes the ones the source no longer lists
// when it was read completely, keeps hand edits unless the source is
// authoritative, all in one transaction, then saves and returns the run's
// report. Entries whose tool fails the catalog's checks are rejected with
// the checks' reasons and change nothing.
func (im *Importer) Import(ctx context.Context, req *catalogv1.ImportHarvestRequest) (*catalogv1.HarvestRun, error) {
	if err := checkRequest(req); err != nil {
		return nil, err
	}
	src := req.GetSource()
	start := req.GetStartTime()
	if start == nil {
		start = timestamppb.New(im.now())
	}
	run := &catalogv1.HarvestRun{
		Source:    proto.Clone(src).(*catalogv1.HarvestSource),
		StartTime: start,
		Complete:  req.GetComplete() && req.GetReadError() == "",
		Error:     req.GetReadError(),
	}
	if !req.GetComplete() && run.Error == "" {
		run.Error = "the source was not read completely"
	}
	run.RejectedEntries = append(run.RejectedEntries, req.GetRejected()...)

	// Entries the source lists but that were rejected keep their tools:
	// they are not gone from the source.
	listed := map[string]bool{}
	unidentified := 0
	for _, r := range req.GetRejected() {
		if r.GetSourceId() != "" {
			listed[r.GetSourceId()] = true
		} else {
			unidentified++
		}
	}
	// A rejected entry that cannot be identified may be one whose tool is
	// here: deleting what the source seems to have dropped could then
	// delete it.
	mayDelete := run.Complete && unidentified == 0
	if run.Complete && !mayDelete {
		run.Error = fmt.Sprintf("%d rejected entries could not be identified, so no tool was deleted", unidentified)
	}
	for _, e := range req.GetEntries() {
		listed[e.GetSourceId()] = true
	}
	entries, rejected, err := im.prepareEntries(ctx, src, req.GetEntries())
	var report *catalogv1.HarvestRun
	if err == nil {
		run.RejectedEntries = append(run.RejectedEntries, rejected...)
		run.WarnedEntries = warnedEntries(req.GetEntries(), rejected)
		report, err = im.apply(ctx, src, run, entries, listed, mayDelete)
	}
	if err != nil {
		// Nothing was written; the run is still reported.
		err = fmt.Errorf("harvest %s: %w", src.GetName(), err)
		run.Complete, run.Error = false, err.Error()
		run.Rejected = int32(len(run.RejectedEntries))
		run.RejectedEntries = reportedRejections(run.RejectedEntries)
		run.WarnedEntries = nil // nothing was imported
		run.EndTime = timestamppb.New(im.now())
		run = scrubbed(run)
		if _, saveErr := im.store.SaveHarvestRun(context.WithoutCancel(ctx), run); saveErr != nil {
			im.log.Error("save the report of a failed harvest", "source", src.GetName(), "err", saveErr)
		}
		return nil, err
	}
	said := []any{"source", src.GetName(), "created", report.Created, "updated", report.Updated,
		"unchanged", report.Unchanged, "deleted", report.Deleted, "rejected", report.Rejected,
		"kept_hand_edits", report.KeptHandEdits, "complete", report.Complete}
	if report.GetError() != "" { // why it is incomplete, or deleted nothing
		said = append(said, "err", report.GetError())
	}
	im.log.Info("harvested", said...)
	return report, nil
}

// apply writes the prepared entries of src, and its report, in
// one transaction, and returns the report.
func (im *Importer) apply(ctx context.Context, src *catalogv1.HarvestSource, run *catalogv1.HarvestRun, entries []incoming, listed map[string]bool, mayDelete bool) (*catalogv1.HarvestRun, error) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].sourceID < entries[j].sourceID })
	harvestTime := timestamppb.New(im.now())
	var report *catalogv1.HarvestRun
	_, err := im.store.ApplyHarvest(ctx, src.GetName(), func(tx *storage.HarvestTx) (storage.HarvestPlan, error) {
		var counts catalogv1.HarvestRun // a retried plan starts again
		p, err := plan(tx, src, entries, listed, mayDelete, harvestTime, &counts)
		if err != nil {
			return p, err
		}
		// The report commits with the harvest: a node stopped between
		// the two would leave changes no report accounts for.
		report = finished(run, &counts, im.now())
		p.Report = report
		return p, nil
	})
	return report, err
}

// finished is the report of run once the catalog took it: counts are
// what the plan wrote and refused, end the time it ended.
func finished(run, counts *catalogv1.HarvestRun, end time.Time) *catalogv1.HarvestRun {
	out := proto.Clone(run).(*catalogv1.HarvestRun)
	// The catalog's own refusals first: a report lists as many as fit.
	out.RejectedEntries = append(counts.RejectedEntries, out.RejectedEntries...)
	out.Created, out.Updated, out.Unchanged = counts.Created, counts.Updated, counts.Unchanged
	out.Deleted, out.KeptHandEdits = counts.Deleted, counts.KeptHandEdits
	if counts.Error != "" {
		out.Error = counts.Error
	}
	out.Rejected = int32(len(out.RejectedEntries))
	out.RejectedEntries = reportedRejections(out.RejectedEntries)
	out.WarnedEntries = withoutRejected(out.WarnedEntries, counts.RejectedEntries) // the plan refused some too
	out.Warned = int32(len(out.WarnedEntries))
	out.WarnedEntries = reportedRejections(out.WarnedEntries)
	out.EndTime = timestamppb.New(end)
	return scrubbed(out)
}

// warnedEntries are the entries of es imported with warnings (what their
// reader left out of their tool), each with them, but for those rejected.
func warnedEntries(es []*catalogv1.HarvestEntry, rejected []*catalogv1.RejectedEntry) []*catalogv1.RejectedEntry {
	var out []*catalogv1.RejectedEntry
	for _, e := range es {
		if len(e.GetWarnings()) > 0 {
			out = append(out, &catalogv1.RejectedEntry{SourceId: e.GetSourceId(), Where: e.GetWhere(), Findings: e.GetWarnings()})
		}
	}
	return withoutRejected(out, rejected)
}

// withoutRejected is warned without the entries rejected lists.
func withoutRejected(warned, rejected []*catalogv1.RejectedEntry) []*catalogv1.RejectedEntry {
	if len(warned) == 0 || len(rejected) == 0 {
		return warned
	}
	refused := map[string]bool{}
	for _, r := range rejected {
		refused[r.GetSourceId()] = true
	}
	return slices.DeleteFunc(slices.Clone(warned), func(w *catalogv1.RejectedEntry) bool { return refused[w.GetSourceId()] })
}

// maxReportedRejectionBytes bounds the rejected entries a harvest's report
// lists: a source of thousands of broken entries would otherwise make a
// report, kept and served with the others, of megabytes (more than a
// gRPC client takes by default). The report still counts them all.
const maxReportedRejectionBytes = 256 << 10

// reportedRejections is the first of rejected that fit in
// maxReportedRejectionBytes.
func reportedRejections(rejected []*catalogv1.RejectedEntry) []*catalogv1.RejectedEntry {
	size := 0
	for i, r := range rejected {
		if size += proto.Size(r); size > maxReportedRejectionBytes {
			return rejected[:i]
		}
	}
	return rejected
}

// incoming is an entry ready to be written.
type incoming struct {
	sourceID string
	tool     *catalogv1.Tool
	hash     []byte
}

// checkRequest refuses requests that cannot be run at all.
func checkRequest(req *catalogv1.ImportHarvestRequest) error {
	if err := checkSource(req.GetSource()); err != nil {
		return err
	}
	if t := req.GetStartTime(); t != nil {
		if err := t.CheckValid(); err != nil {
			return &RequestError{"start_time", "is not a time: " + err.Error()}
		}
	}
	seen := map[string]bool{}
	for i, e := range req.GetEntries() {
		switch id := e.GetSourceId(); {
		case strings.TrimSpace(id) == "":
			return &RequestError{fmt.Sprintf("entries[%d].source_id", i), "is required"}
		case !utf8.ValidString(id):
			// The readers give none (JSON and YAML are UTF-8, a CSV
			// row's id is checked): an entry that cannot be named.
			return &RequestError{fmt.Sprintf("entries[%d].source_id", i), "holds a byte that is not UTF-8"}
		case seen[id]:
			return &RequestError{fmt.Sprintf("entries[%d].source_id", i), fmt.Sprintf("%q is listed twice", id)}
		default:
			seen[id] = true
		}
	}
	return nil
}

// maxColumns and maxColumnName bound a source's column mapping, which its
// every report keeps: a spreadsheet's mapping is a few dozen fields.
const (
	maxColumns    = 1000
	maxColumnName = 1000 // a form's export heads its columns with questions
)

// checkSource refuses a source an import cannot name (its name is in
// every report and every tool's provenance, which every node publishes) or
// whose mapping its reports cannot keep.
func checkSource(src *catalogv1.HarvestSource) error {
	if strings.TrimSpace(src.GetName()) == "" {
		return &RequestError{"source.name", "is required"}
	}
	if len(src.GetName()) > 300 {
		return &RequestError{"source.name", "is longer than 300 characters"}
	}
	if WithoutSecrets(src.GetName()) != src.GetName() {
		return &RequestError{"source.name", "holds a URL's credentials (a user name or password, a token or key in its query), which every node would publish: name the source without them"}
	}
	if !IsKind(src.GetKind()) {
		return &RequestError{"source.kind", fmt.Sprintf("%q is not one of %s", src.GetKind(), strings.Join(Kinds(), ", "))}
	}
	if len(src.GetColumns()) > maxColumns {
		return &RequestError{"source.columns", fmt.Sprintf("maps %d fields, more than the %d a source may", len(src.GetColumns()), maxColumns)}
	}
	for field, column := range src.GetColumns() {
		if len(field) > maxColumnName || len(column) > maxColumnName {
			return &RequestError{"source.columns", fmt.Sprintf("has a field or column name longer than %d bytes", maxColumnName)}
		}
	}
	if field := invalidUTF8(src.ProtoReflect(), "source"); field != "" {
		return &RequestError{field, "holds a byte that is not UTF-8"}
	}
	return nil
}

// invalidUTF8 is the path of the first string of m, at path, that is not
// UTF-8, or "": such a string cannot be written.
func invalidUTF8(m protoreflect.Message, path string) string {
	found := ""
	eachString(m, path, func(at, s string) (string, bool) {
		if !utf8.ValidString(s) {
			found = at
			return s, false
		}
		return s, true
	})
	return found
}

// eachString calls f with each string of m, and its path from path
// ("entries[2].tool.descriptions[\"en\"].short_description"), in its
// fields, lists, maps (keys and values) and the messages they hold, and
// sets the string, but a map's key, to what f returns. It stops, and
// reports false, once f says so.
func eachString(m protoreflect.Message, path string, f func(path, s string) (string, bool)) bool {
	at := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	// visit visits a value of descriptor vd at where, and sets it anew
	// through set.
	visit := func(vd protoreflect.FieldDescriptor, where string, v protoreflect.Value, set func(protoreflect.Value)) bool {
		switch {
		case vd.Kind() == protoreflect.StringKind:
			s, more := f(where, v.String())
			if s != v.String() {
				set(protoreflect.ValueOfString(s))
			}
			return more
		case vd.Message() != nil:
			return eachString(v.Message(), where, f)
		}
		return true
	}
	more := true
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := at(string(fd.Name()))
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; more && i < l.Len(); i++ {
				more = visit(fd, fmt.Sprintf("%s[%d]", name, i), l.Get(i), func(nv protoreflect.Value) { l.Set(i, nv) })
			}
		case fd.IsMap():
			mp := v.Map()
			mp.Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if _, more = f(name, k.String()); more {
					where := fmt.Sprintf("%s[%q]", name, strings.ToValidUTF8(k.String(), "?"))
					more = visit(fd.MapValue(), where, mv, func(nv protoreflect.Value) { mp.Set(k, nv) })
				}
				return more
			})
		default:
			more = visit(fd, name, v, func(nv protoreflect.Value) { m.Set(fd, nv) })
		}
		return more
	})
	return more
}

// adoptNameWithSecrets gives the source named name what earlier runs
// wrote under its name with a URL's credentials (as names were made from
// locations with them, their user name and password and then their
// query's tokens and keys, until 2026-12-04): without it, the source's
// first run under its new name would create every tool again. Its tools are
// then written again (their provenance names the source), which takes the
// token out of them, and its reports lose it too. It returns the entries.
func adoptNameWithSecrets(tx *storage.HarvestTx, name string) (map[string]storage.HarvestedEntry, error) {
	sources, err := tx.Sources()
	if err != nil {
		return nil, err
	}
	var olds []string
	for _, old := range sources {
		if old != name && WithoutSecrets(old) == name {
			olds = append(olds, old)
		}
	}
	switch {
	case len(olds) == 1:
		if err := tx.Adopt(olds[0], scrubReport); err != nil {
			return nil, err
		}
	case len(olds) > 1:
		// Two sources of an earlier version that differ only in a
		// credential: adopting both under one name, a run of one would
		// delete the other's tools. Neither is, and the source's tools
		// are made anew under its name; the operator names each.
		return nil, fmt.Errorf("%d sources harvested by an earlier version are named %s once their credentials are taken out: give this one a name of its own (--name, or name: in the configuration), so that it keeps its tools apart", len(olds), name)
	}
	return tx.Entries()
}

// ScrubReports makes every report kept fit to publish (scrubReport): an
// earlier version kept, in the reports of a source given its own name,
// the credentials of its location's query, which this one takes out of
// every report it writes. It returns how many reports it wrote again; the
// node calls it at start.
func (im *Importer) ScrubReports(ctx context.Context) (int, error) {
	return im.store.RewriteHarvestReports(ctx, func(run *catalogv1.HarvestRun) bool {
		before := proto.Clone(run)
		scrubReport(run)
		return !proto.Equal(before, run)
	})
}

// scrubbed is a copy of run made fit to publish and to save (see
// scrubReport); run keeps the caller's rejected entries as they are.
func scrubbed(run *catalogv1.HarvestRun) *catalogv1.HarvestRun {
	run = proto.Clone(run).(*catalogv1.HarvestRun)
	scrubReport(run)
	return run
}

// scrubReport makes every text of a run's report fit to publish and to
// save: without a URL's credentials (a rejected file's where
// may be the location it was fetched from, with its token; the source's
// location), and in UTF-8 (a reader's finding may quote a stray byte of
// the file).
func scrubReport(run *catalogv1.HarvestRun) {
	eachString(run.ProtoReflect(), "", func(_, s string) (string, bool) { return strings.ToValidUTF8(WithoutSecrets(s), "\uFFFD"), true })
	run.Error = clip.Bytes(run.Error, maxReportErrorBytes)
}

// maxReportErrorBytes bounds a report's error, as its rejected entries
// are: a folder's read error joins every file's, and a list of reports
// holds fifty of a source, which must fit a client's message.
const maxReportErrorBytes = 16 << 10

// prepareEntries prepares every entry, on every core, keeping their order.
// It returns ctx's error, and nothing else, when ctx ends first: a source
// of 400,000 entries takes seconds, which a stopping node does not wait.
func (im *Importer) prepareEntries(ctx context.Context, src *catalogv1.HarvestSource, es []*catalogv1.HarvestEntry) ([]incoming, []*catalogv1.RejectedEntry, error) {
	ins := make([]incoming, len(es))
	rejects := make([]*catalogv1.RejectedEntry, len(es))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(es); i += workers {
				if (i/workers)%1024 == 0 && ctx.Err() != nil {
					return
				}
				ins[i], rejects[i] = im.prepareEntry(src, es[i])
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var entries []incoming
	var rejected []*catalogv1.RejectedEntry
	for i := range es {
		if rejects[i] != nil {
			rejected = append(rejected, rejects[i])
		} else {
			entries = append(entries, ins[i])
		}
	}
	return entries, rejected, nil
}

// prepareEntry gives an entry's tool its provenance and checks it as the
// API checks a create.
func (im *Importer) prepareEntry(src *catalogv1.HarvestSource, e *catalogv1.HarvestEntry) (incoming, *catalogv1.RejectedEntry) {
	if e.GetTool() == nil {
		return incoming{}, &catalogv1.RejectedEntry{SourceId: e.GetSourceId(), Where: e.GetWhere(),
			Findings: []*catalogv1.Finding{{Message: "the entry has no tool"}}}
	}
	t := proto.Clone(e.GetTool()).(*catalogv1.Tool)
	t.Name, t.CreateTime, t.UpdateTime, t.Origin, t.Seq, t.Deleted, t.Etag, t.Qualification = "", nil, nil, "", 0, false, "", nil
	t.Provenance = &catalogv1.Provenance{
		Kind:      catalogv1.ProvenanceKind_PROVENANCE_KIND_HARVESTED,
		Source:    src.GetName(),
		SourceUrl: WithoutSecrets(src.GetLocation()),
		SourceId:  e.GetSourceId(),
	}
	var v validate.Violations
	validate.Tool(&v, "tool", t)
	if len(v.List) > 0 {
		r := &catalogv1.RejectedEntry{SourceId: e.GetSourceId(), Where: e.GetWhere()}
		for _, f := range v.List {
			r.Findings = append(r.Findings, &catalogv1.Finding{Key: f.Field, Message: f.Description})
		}
		return incoming{}, r
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(t)
	if err != nil {
		f := &catalogv1.Finding{Message: "cannot encode the tool: " + err.Error()}
		if field := invalidUTF8(t.ProtoReflect(), "tool"); field != "" {
			// A stray byte of a file of mixed encodings, which the
			// encoding refuses without naming where.
			f = &catalogv1.Finding{Key: field, Message: "holds a byte that is not UTF-8: is the file's encoding mixed?"}
		}
		return incoming{}, &catalogv1.RejectedEntry{SourceId: e.GetSourceId(), Where: e.GetWhere(), Findings: []*catalogv1.Finding{f}}
	}
	h := sha256.Sum256(b)
	return incoming{sourceID: e.GetSourceId(), tool: t, hash: h[:]}, nil
}

// plan decides, inside the write transaction, what the run writes.
func plan(tx *storage.HarvestTx, src *catalogv1.HarvestSource, entries []incoming, listed map[string]bool,
	mayDelete bool, harvestTime *timestamppb.Timestamp, counts *catalogv1.HarvestRun) (storage.HarvestPlan, error) {
	known, err := tx.Entries()
	if err != nil {
		return storage.HarvestPlan{}, err
	}
	// The plan runs again when its first attempt's writes fail (a
	// tombstone's id met): it changes a copy of listed, not what the
	// next attempt starts from.
	listed = maps.Clone(listed)
	if len(known) == 0 {
		if known, err = adoptNameWithSecrets(tx, src.GetName()); err != nil {
			return storage.HarvestPlan{}, err
		}
	}
	// One read of every record the run may touch or whose id it may take.
	var ids []string
	for _, k := range known {
		ids = append(ids, k.ID)
	}
	for _, e := range entries {
		if _, ok := known[e.sourceID]; !ok {
			ids = append(ids, idCandidates(e.tool.GetDisplayName(), src.GetName(), e.sourceID)...)
		}
	}
	heads, err := tx.Heads(storage.KindTool, ids)
	if err != nil {
		return storage.HarvestPlan{}, err
	}
	taken := newTakenIDs()
	taken.add(heads)

	var p storage.HarvestPlan
	write := func(e incoming, id string, op storage.Op) {
		t := proto.Clone(e.tool).(*catalogv1.Tool)
		t.Provenance.HarvestTime = harvestTime
		// What the catalog marks of the entry travels with the record:
		// a node that lost its catalog gets it back from peers.
		t.Provenance.EntryHash = e.hash
		p.Writes = append(p.Writes, storage.Write{Op: op, ID: id, Resource: t})
		p.Marks = append(p.Marks, storage.HarvestMark{SourceID: e.sourceID, ID: id, Hash: e.hash, Write: len(p.Writes) - 1})
	}
	// create writes e under an id of its own, free in the catalog, and
	// counts it in *count; an entry every id of whose name is taken is
	// rejected (listed, so rejecting it deletes nothing).
	create := func(e incoming, count *int32) error {
		id, err := freeID(tx, idCandidates(e.tool.GetDisplayName(), src.GetName(), e.sourceID), taken, entryKey(src.GetName(), e.sourceID))
		if err != nil {
			return err
		}
		if id == "" {
			counts.RejectedEntries = append(counts.RejectedEntries, &catalogv1.RejectedEntry{SourceId: e.sourceID,
				Findings: []*catalogv1.Finding{{Message: "no free tool id: every id made from its name is taken"}}})
			return nil
		}
		taken.take(id)
		write(e, id, storage.OpCreate)
		*count++
		return nil
	}
	respelled := respelledEntries(known, entries, listed)
	for _, e := range entries {
		k, ok := known[e.sourceID]
		if old, re := respelled[e.sourceID]; re {
			k, ok = known[old], true
		}
		if !ok {
			if err := create(e, &counts.Created); err != nil {
				return storage.HarvestPlan{}, err
			}
			continue
		}
		head, exists := heads[k.ID]
		handEdited := exists && head.Seq != k.Seq
		// The entry's tool deleted by hand, and its id taken since by a
		// tool no harvest wrote: that tool is someone else's, never the
		// entry's to replace.
		idTaken := handEdited && !head.Deleted && !head.IsEntry(k.SourceID)
		switch {
		case handEdited && !src.GetAuthoritative():
			counts.KeptHandEdits++
		case idTaken: // an authoritative source brings its entry back, under another id
			// Ids of its name were looked up for new entries only: one
			// may be a live tool's, or a tombstone's.
			if err := taken.lookUp(tx, idCandidates(e.tool.GetDisplayName(), src.GetName(), e.sourceID)); err != nil {
				return storage.HarvestPlan{}, err
			}
			if err := create(e, &counts.Updated); err != nil {
				return storage.HarvestPlan{}, err
			}
		case !handEdited && exists && bytes.Equal(k.Hash, e.hash):
			counts.Unchanged++
		case exists && !head.Deleted:
			write(e, k.ID, storage.OpReplace)
			counts.Updated++
		default: // gone from the catalog (deleted by an authoritative source's own run, or a wiped file): bring it back
			write(e, k.ID, storage.OpCreate)
			counts.Updated++
		}
		if k.SourceID != e.sourceID && len(p.Marks) > 0 && p.Marks[len(p.Marks)-1].SourceID == e.sourceID {
			// Written under its new spelling: the old one goes.
			p.Marks = append(p.Marks, storage.HarvestMark{SourceID: k.SourceID, Write: -1, Forget: true})
		}
	}
	if !mayDelete {
		return p, nil
	}
	gone := make([]string, 0)
	for sid := range known {
		if !listed[sid] {
			gone = append(gone, sid)
		}
	}
	sort.Strings(gone)
	if len(listed) == 0 && !src.GetAllowEmpty() {
		// A source read whole that lists nothing, where it made tools
		// the run would delete: more likely an export that broke (an
		// empty file, a header alone) than a catalog that dropped them
		// all. Nothing is deleted, unless the source says it may be
		// empty.
		n := 0
		for _, sid := range gone {
			k := known[sid]
			if head, ok := heads[k.ID]; ok && !head.Deleted && (head.Seq == k.Seq || src.GetAuthoritative()) {
				n++
			}
		}
		if n > 0 {
			counts.Error = fmt.Sprintf("the source lists no entry, where it made %d tools: taken for a broken export, none was deleted (if it is empty on purpose, harvest it with --allow-empty, or allow_empty)", n)
			return p, nil
		}
	}
	for _, sid := range gone {
		k := known[sid]
		head, exists := heads[k.ID]
		switch {
		case exists && head.Seq != k.Seq && !head.Deleted && !head.IsEntry(sid):
			// Its id taken by a tool no harvest wrote, since the entry's
			// was deleted by hand: nothing of the entry is left to delete.
		case exists && head.Seq != k.Seq && !src.GetAuthoritative():
			// Edited or deleted by hand since: the person who did owns it
			// now. The entry stays known, so that the source listing it
			// again finds the same tool, still theirs.
			if !head.Deleted {
				counts.KeptHandEdits++
			}
			continue
		case exists && !head.Deleted:
			p.Writes = append(p.Writes, storage.Write{Op: storage.OpDelete, Kind: storage.KindTool, ID: k.ID})
			counts.Deleted++
		}
		p.Marks = append(p.Marks, storage.HarvestMark{SourceID: sid, ID: k.ID, Write: -1, Forget: true})
	}
	return p, nil
}

// takenIDs are the ids of tools a harvest cannot take for a new entry:
// those a record has, and those the run gave. A tombstone a harvest left
// when its source stopped listing an entry is the entry's to take again
// when the source lists it again (forgotten): an entry that came and went
// took a new id, and left a tombstone, at each return, and after a
// thousand found none free.
type takenIDs struct {
	taken     map[string]bool
	forgotten map[string]string // by id, the entry (entryKey) whose tombstone it is
}

func newTakenIDs() *takenIDs {
	return &takenIDs{taken: map[string]bool{}, forgotten: map[string]string{}}
}

// entryKey names a source's entry in takenIDs.forgotten.
func entryKey(source, sourceID string) string { return source + "\x00" + sourceID }

// add marks taken the ids of heads.
func (t *takenIDs) add(heads map[string]storage.RecordHead) {
	for id, h := range heads {
		t.taken[id] = true
		if source, sourceID := h.ForgottenEntry(); source != "" {
			t.forgotten[id] = entryKey(source, sourceID)
		}
	}
}

// take marks id given by the run.
func (t *takenIDs) take(id string) {
	t.taken[id] = true
	delete(t.forgotten, id)
}

// lookUp marks taken those of ids a record has.
func (t *takenIDs) lookUp(tx *storage.HarvestTx, ids []string) error {
	heads, err := tx.Heads(storage.KindTool, ids)
	if err != nil {
		return err
	}
	t.add(heads)
	return nil
}

// freeFor reports whether entry may take id.
func (t *takenIDs) freeFor(id, entry string) bool {
	return !t.taken[id] || t.forgotten[id] == entry
}

// freeID is the first of candidates the entry may take (see takenIDs),
// else the second candidate numbered (-2, -3...): an entry the source
// dropped for another's id since, must still find one. It returns "" when
// even the numbered ids are all taken.
func freeID(tx *storage.HarvestTx, candidates []string, taken *takenIDs, entry string) (string, error) {
	if id := chooseID(candidates, taken, entry); id != "" {
		return id, nil
	}
	const perRound, rounds = 50, 20
	for r := range rounds {
		more := make([]string, perRound)
		for i := range more {
			more[i] = fmt.Sprintf("%s-%d", candidates[1], 2+r*perRound+i)
		}
		if err := taken.lookUp(tx, more); err != nil {
			return "", err
		}
		if id := chooseID(more, taken, entry); id != "" {
			return id, nil
		}
	}
	return "", nil
}

// idCandidates are the ids a new harvested tool may take, best first: its
// name as a slug ("Démarches simplifiées" gives "demarches-simplifiees"),
// then the slug with a suffix that the source and entry determine, so a
// rerun picks the same id.
func idCandidates(displayName, source, sourceID string) []string {
	slug := envelope.IDFrom(displayName, 50)
	if slug == "" {
		slug = "tool"
	}
	h := sha256.Sum256([]byte(source + "\x00" + sourceID))
	suffix := strings.ToLower(base32.StdEncoding.EncodeToString(h[:]))
	candidates := []string{slug, slug + "-" + suffix[:6], slug + "-" + suffix[:12]}
	if rest, ok := strings.CutPrefix(slug, "t-"); ok {
		// The id earlier versions made of a name whose first digit
		// came after another character ("«2030 Agenda»" gave
		// t--2030-agenda): an entry they harvested, which left its
		// source, takes back its own tombstone's id (see chooseID).
		candidates = append(candidates, strings.TrimRight(("t--" + rest)[:min(len(rest)+3, 50)], "-"))
	}
	return candidates
}

// chooseID is the first candidate entry may take: no record has it, or
// the tombstone of entry's own tool (another's tombstone's id is not
// reused: a peer that missed the delete could confuse the two). An id of
// two hyphens in a row, which only earlier versions made, is taken back
// as its tombstone's, never anew; and first, being the entry's own.
func chooseID(candidates []string, taken *takenIDs, entry string) string {
	for _, c := range candidates {
		if strings.Contains(c, "--") && taken.taken[c] && taken.forgotten[c] == entry {
			return c
		}
	}
	for _, c := range candidates {
		if !strings.Contains(c, "--") && taken.freeFor(c, entry) && envelope.ValidID(c) {
			return c
		}
	}
	return ""
}

// IsRequestError reports whether err is a request Import refused.
func IsRequestError(err error) bool {
	var re *RequestError
	return errors.As(err, &re)
}

// respelledEntries finds the entries whose source id changed only in its
// spelling since the last run ("github.com/Decidim/decidim" and then
// "github.com/decidim/decidim", the same repository, or spaces around an
// id): each is the known entry of its old spelling, which no entry of the
// run has (a rejected one may: a second file of the repository, spelled
// the old way, rejected as the first's duplicate), rather than a new entry
// whose tool would be made anew (and the old one deleted). It returns new
// spelling → old, and marks the old spellings listed: their tools are not
// gone. A known entry that a rejected entry of the run names in another
// spelling is listed too: rejected entries keep their tools.
func respelledEntries(known map[string]storage.HarvestedEntry, entries []incoming, listed map[string]bool) map[string]string {
	accepted := make(map[string]bool, len(entries))
	for _, e := range entries {
		accepted[e.sourceID] = true
	}
	// Sorted, so that of two known spellings of one form the first is
	// taken, whatever the map's order.
	byForm := map[string]string{}
	for _, sid := range slices.Sorted(maps.Keys(known)) {
		if form := finding.IDForm(sid); !accepted[sid] && byForm[form] == "" {
			byForm[form] = sid
		}
	}
	out := map[string]string{}
	for _, e := range entries {
		if _, ok := known[e.sourceID]; ok {
			continue
		}
		form := finding.IDForm(e.sourceID)
		if old, ok := byForm[form]; ok {
			out[e.sourceID] = old
			listed[old] = true
			delete(byForm, form)
		}
	}
	rejectedForms := map[string]bool{}
	for sid := range listed {
		if !accepted[sid] {
			rejectedForms[finding.IDForm(sid)] = true
		}
	}
	for form, sid := range byForm {
		if rejectedForms[form] {
			listed[sid] = true
		}
	}
	return out
}
