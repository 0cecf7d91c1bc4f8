package harvest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t testing.TB) *storage.Store {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := storage.Open(context.Background(), storage.Options{
		Path: filepath.Join(t.TempDir(), "catalog.db"), Origin: "fr", Key: key, Logger: quietLog(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func entry(id, name, short string) *catalogv1.HarvestEntry {
	return &catalogv1.HarvestEntry{SourceId: id, Where: id + ".yml", Tool: &catalogv1.Tool{
		DisplayName:   name,
		Descriptions:  map[string]*catalogv1.Description{"en": {ShortDescription: short}},
		RepositoryUrl: "https://git.example.org/" + id,
	}}
}

func request(name string, complete bool, entries ...*catalogv1.HarvestEntry) *catalogv1.ImportHarvestRequest {
	return &catalogv1.ImportHarvestRequest{
		Source:   &catalogv1.HarvestSource{Name: name, Kind: KindPubliccode, Location: "/srv/" + name},
		Entries:  entries,
		Complete: complete,
	}
}

// counts is a run's counts as one comparable value.
func counts(r *catalogv1.HarvestRun) string {
	return fmt.Sprintf("created %d updated %d unchanged %d deleted %d rejected %d kept %d",
		r.GetCreated(), r.GetUpdated(), r.GetUnchanged(), r.GetDeleted(), r.GetRejected(), r.GetKeptHandEdits())
}

func mustImport(t *testing.T, im *Importer, req *catalogv1.ImportHarvestRequest, want string) *catalogv1.HarvestRun {
	t.Helper()
	run, err := im.Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got := counts(run); got != want {
		t.Fatalf("run: %s, want %s (rejected: %v)", got, want, run.GetRejectedEntries())
	}
	return run
}

func headSeq(t *testing.T, s *storage.Store) int64 {
	t.Helper()
	c, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range c {
		if o.Origin == "fr" {
			return o.HeadSeq
		}
	}
	return 0
}

func getTool(t *testing.T, s *storage.Store, id string) *catalogv1.Tool {
	t.Helper()
	m, err := s.Get(context.Background(), storage.KindTool, "fr", id)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*catalogv1.Tool)
}

// TestImportIdempotent checks that a source harvested twice unchanged
// writes nothing the second time, and that records carry provenance.
func TestImportIdempotent(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	req := request("city", true, entry("a", "Décidim Ville", "Participation"), entry("b", "Budget", "Participatory budgets"))
	mustImport(t, im, req, "created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	seq := headSeq(t, s)
	mustImport(t, im, req, "created 0 updated 0 unchanged 2 deleted 0 rejected 0 kept 0")
	if got := headSeq(t, s); got != seq {
		t.Errorf("an unchanged source moved the head seq from %d to %d", seq, got)
	}
	tool := getTool(t, s, "decidim-ville")
	p := tool.GetProvenance()
	if p.GetKind() != catalogv1.ProvenanceKind_PROVENANCE_KIND_HARVESTED || p.GetSource() != "city" || p.GetSourceId() != "a" ||
		p.GetSourceUrl() != "/srv/city" || p.GetHarvestTime() == nil {
		t.Errorf("provenance = %v", p)
	}
}

// TestImportChangedEntryUpdates checks that an entry that changed updates
// its record, and only that one.
func TestImportChangedEntryUpdates(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	mustImport(t, im, request("city", true, entry("a", "Alpha", "First"), entry("b", "Beta", "Second")), "created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	mustImport(t, im, request("city", true, entry("a", "Alpha", "First, better"), entry("b", "Beta", "Second")), "created 0 updated 1 unchanged 1 deleted 0 rejected 0 kept 0")
	if got := getTool(t, s, "alpha").GetDescriptions()["en"].GetShortDescription(); got != "First, better" {
		t.Errorf("after the update the description is %q", got)
	}
}

// TestImportDeletesOnlyWhenComplete checks that an entry gone from the
// source is deleted when the source was read completely, and kept when it
// was not, or when it was rejected, or when a rejected entry cannot be
// identified.
func TestImportDeletesOnlyWhenComplete(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	mustImport(t, im, request("city", true, entry("a", "Alpha", "First"), entry("b", "Beta", "Second"), entry("c", "Gamma", "Third")),
		"created 3 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")

	partial := request("city", false, entry("a", "Alpha", "First"))
	partial.ReadError = "fetch: 503 Service Unavailable"
	run := mustImport(t, im, partial, "created 0 updated 0 unchanged 1 deleted 0 rejected 0 kept 0")
	if run.GetComplete() || run.GetError() == "" {
		t.Errorf("an incomplete read reported complete=%v error=%q", run.GetComplete(), run.GetError())
	}

	unidentified := request("city", true, entry("a", "Alpha", "First"))
	unidentified.Rejected = []*catalogv1.RejectedEntry{{Where: "broken.yml", Findings: []*catalogv1.Finding{{Message: "not YAML"}}}}
	mustImport(t, im, unidentified, "created 0 updated 0 unchanged 1 deleted 0 rejected 1 kept 0")

	rejectedB := request("city", true, entry("a", "Alpha", "First"))
	rejectedB.Rejected = []*catalogv1.RejectedEntry{{SourceId: "b", Where: "b.yml", Findings: []*catalogv1.Finding{{Key: "name", Message: "is required"}}}}
	mustImport(t, im, rejectedB, "created 0 updated 0 unchanged 1 deleted 1 rejected 1 kept 0")
	if _, err := s.Get(ctx, storage.KindTool, "fr", "beta"); err != nil {
		t.Errorf("the tool of a rejected entry was deleted: %v", err)
	}
	if _, err := s.Get(ctx, storage.KindTool, "fr", "gamma"); err == nil {
		t.Error("the tool of an entry gone from a complete source is still there")
	}
}

// TestImportHandEdits checks that a tool edited by hand since its last
// harvest keeps the edit, unless the source is authoritative.
func TestImportHandEdits(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	mustImport(t, im, request("city", true, entry("a", "Alpha", "From the source")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")

	edited := getTool(t, s, "alpha")
	edited.Descriptions["en"].ShortDescription = "Edited by hand"
	if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpReplace, ID: "alpha", Resource: edited}}); err != nil {
		t.Fatal(err)
	}
	changed := request("city", true, entry("a", "Alpha", "Changed at the source"))
	mustImport(t, im, changed, "created 0 updated 0 unchanged 0 deleted 0 rejected 0 kept 1")
	if got := getTool(t, s, "alpha").GetDescriptions()["en"].GetShortDescription(); got != "Edited by hand" {
		t.Errorf("a non-authoritative source overwrote a hand edit: %q", got)
	}
	// Gone from the source: the hand-edited tool stays.
	mustImport(t, im, request("city", true), "created 0 updated 0 unchanged 0 deleted 0 rejected 0 kept 1")
	if _, err := s.Get(ctx, storage.KindTool, "fr", "alpha"); err != nil {
		t.Errorf("a hand-edited tool was deleted with its entry: %v", err)
	}

	// An authoritative source wins.
	mustImport(t, im, request("registry", true, entry("x", "Xylo", "From the registry")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	x := getTool(t, s, "xylo")
	x.DisplayName = "Xylo (local name)"
	if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpReplace, ID: "xylo", Resource: x}}); err != nil {
		t.Fatal(err)
	}
	auth := request("registry", true, entry("x", "Xylo", "From the registry"))
	auth.Source.Authoritative = true
	mustImport(t, im, auth, "created 0 updated 1 unchanged 0 deleted 0 rejected 0 kept 0")
	if got := getTool(t, s, "xylo").GetDisplayName(); got != "Xylo" {
		t.Errorf("an authoritative source left the hand edit: %q", got)
	}
	x = getTool(t, s, "xylo")
	x.DisplayName = "Edited again"
	if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpReplace, ID: "xylo", Resource: x}}); err != nil {
		t.Fatal(err)
	}
	gone := request("registry", true)
	gone.Source.Authoritative, gone.Source.AllowEmpty = true, true // the registry dropped its one entry (see TestEmptySourceDeletesNothing)
	mustImport(t, im, gone, "created 0 updated 0 unchanged 0 deleted 1 rejected 0 kept 0")
}

// TestImportRejectsInvalidTools checks that an entry whose tool fails the
// catalog's checks is rejected with the checks' reasons, and that the
// others are imported.
func TestImportRejectsInvalidTools(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	bad := entry("bad", "Bad", "ok")
	bad.Tool.License = "Not A License"
	bad.Tool.LandingUrl = "ftp://example.org"
	run := mustImport(t, im, request("city", true, entry("good", "Good", "ok"), bad), "created 1 updated 0 unchanged 0 deleted 0 rejected 1 kept 0")
	r := run.GetRejectedEntries()[0]
	keys := map[string]bool{}
	for _, f := range r.GetFindings() {
		keys[f.GetKey()] = true
	}
	if r.GetSourceId() != "bad" || r.GetWhere() != "bad.yml" || !keys["tool.license"] || !keys["tool.landing_url"] {
		t.Errorf("rejected entry = %v", r)
	}
}

// TestImportRefusesBadRequests checks requests that cannot run at all.
func TestImportRefusesBadRequests(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	for name, req := range map[string]*catalogv1.ImportHarvestRequest{
		"no name":      {Source: &catalogv1.HarvestSource{Kind: KindSILL}},
		"unknown kind": {Source: &catalogv1.HarvestSource{Name: "x", Kind: "rss"}},
		"duplicate":    request("city", true, entry("a", "A", "a"), entry("a", "B", "b")),
		"no source id": request("city", true, entry("", "A", "a")),
	} {
		if _, err := im.Import(context.Background(), req); !IsRequestError(err) {
			t.Errorf("%s: err = %v, want a RequestError", name, err)
		}
	}
	if n := headSeq(t, s); n != 0 {
		t.Errorf("refused requests wrote %d records", n)
	}
}

// TestImportIDs checks how harvested tools are named: by their name, with
// a stable suffix when the name is taken.
func TestImportIDs(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	mustImport(t, im, request("one", true, entry("a", "Démarches Simplifiées", "x")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	mustImport(t, im, request("two", true, entry("a", "Démarches Simplifiées", "x"), entry("b", "42", "y")), "created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	getTool(t, s, "demarches-simplifiees")
	want := idCandidates("Démarches Simplifiées", "two", "a")[1]
	getTool(t, s, want)
	getTool(t, s, "t-42")
}

// TestHarvestRunsReported checks that every run is kept and listed, newest
// first, and by source.
func TestHarvestRunsReported(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	first := mustImport(t, im, request("city", true, entry("a", "Alpha", "x")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	mustImport(t, im, request("other", true, entry("b", "Beta", "y")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	third := mustImport(t, im, request("city", true, entry("a", "Alpha", "x")), "created 0 updated 0 unchanged 1 deleted 0 rejected 0 kept 0")
	runs, err := s.HarvestRuns(ctx, "city", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].GetName() != third.GetName() || runs[1].GetName() != first.GetName() {
		t.Fatalf("runs of city = %v", runs)
	}
	if !proto.Equal(runs[0], third) {
		t.Errorf("stored report differs from the returned one:\n%v\n%v", runs[0], third)
	}
	all, err := s.HarvestRuns(ctx, "", 10)
	if err != nil || len(all) != 3 {
		t.Fatalf("all runs: %d, %v", len(all), err)
	}
}

// TestImportEntryThatComesAndGoes checks that an entry that leaves its
// source and comes back, again and again, always finds a free tool id (the
// tombstones keep the ones it had), and the run goes through.
func TestImportEntryThatComesAndGoes(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	emptied := request("city", true)
	emptied.Source.AllowEmpty = true // see TestEmptySourceDeletesNothing
	for range 5 {
		mustImport(t, im, request("city", true, entry("a", "Alpha", "x")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
		getTool(t, s, "alpha") // its own id, back: its tombstone was its own
		mustImport(t, im, emptied, "created 0 updated 0 unchanged 0 deleted 1 rejected 0 kept 0")
	}
	// Another entry of the same name does not take a's tombstone's id: a
	// peer that missed the delete could take one tool for the other.
	mustImport(t, im, request("city", true, entry("b", "Alpha", "y")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	mustImport(t, im, request("city", true, entry("a", "Alpha", "x"), entry("b", "Alpha", "y")), "created 1 updated 0 unchanged 1 deleted 0 rejected 0 kept 0")
	if got := getTool(t, s, "alpha"); got.GetProvenance().GetSourceId() != "a" {
		t.Errorf("the tool alpha is entry %q's, want a's", got.GetProvenance().GetSourceId())
	}
}

// TestImportEntryThatComesAndGoesForAYear: an entry that leaves its
// source and comes back always finds its id, however often: a source
// harvested every hour whose export drops one entry every other run (a
// status toggled, a row filtered out) does that 4,380 times a year. Each
// return took a new id and left a tombstone, replicated to every member,
// and after 1,003 the entry found no free id, for good.
func TestImportEntryThatComesAndGoesForAYear(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	emptied := request("city", true)
	emptied.Source.AllowEmpty = true
	const cycles = 1100
	for i := range cycles {
		run, err := im.Import(t.Context(), request("city", true, entry("a", "Alpha", "x")))
		if err != nil {
			t.Fatal(err)
		}
		if run.GetCreated() != 1 {
			t.Fatalf("return %d of the entry: %s; rejected: %v", i+1, counts(run), run.GetRejectedEntries())
		}
		if _, err := im.Import(t.Context(), emptied); err != nil {
			t.Fatal(err)
		}
	}
	counted, err := s.Counts(t.Context())
	if err != nil || len(counted) != 1 || counted[0].Tombstones != 1 {
		t.Errorf("after %d returns: %+v, %v; want one tombstone", cycles, counted, err)
	}
}

// TestImportRelistedHandEdit checks that a hand-edited tool whose entry
// left the source stays the entry's tool: listed again, it is still the
// hand-edited one, and no second tool is made.
func TestImportRelistedHandEdit(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	mustImport(t, im, request("city", true, entry("a", "Alpha", "x")), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	edited := getTool(t, s, "alpha")
	edited.Descriptions["en"].ShortDescription = "Edited by hand"
	if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpReplace, ID: "alpha", Resource: edited}}); err != nil {
		t.Fatal(err)
	}
	mustImport(t, im, request("city", true), "created 0 updated 0 unchanged 0 deleted 0 rejected 0 kept 1")
	mustImport(t, im, request("city", true, entry("a", "Alpha", "x")), "created 0 updated 0 unchanged 0 deleted 0 rejected 0 kept 1")
	if n := toolCount(t, s); n != 1 {
		t.Errorf("%d tools, want the one hand-edited", n)
	}
}

// TestFailedImportIsReported checks that a run whose import fails still
// leaves a report saying why.
func TestFailedImportIsReported(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the write transaction cannot begin
	if _, err := im.Import(ctx, request("city", true, entry("a", "Alpha", "x"))); err == nil {
		t.Fatal("an import with a cancelled context succeeded")
	}
	runs, err := s.HarvestRuns(context.Background(), "city", 10)
	if err != nil || len(runs) != 1 || runs[0].GetComplete() || runs[0].GetError() == "" {
		t.Fatalf("the failed run's report: %v, %v", runs, err)
	}
}

// TestCommittedImportIsReported stops the catalog at each moment of an
// import the importer reads the clock (the run's start, the harvest's time,
// its end), as a node stopping past its grace, or killed, does: once it is
// opened again, changes are there only with the report that accounts for
// them. The report was saved in a transaction of its own, after the
// harvest's: a stop between the two left tools no report named.
func TestCommittedImportIsReported(t *testing.T) {
	ctx := context.Background()
	for stopAt := 1; stopAt <= 4; stopAt++ {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "catalog.db")
		open := func() *storage.Store {
			s, err := storage.Open(ctx, storage.Options{Path: path, Origin: "fr", Key: key, Logger: quietLog()})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		s := open()
		reads := 0
		clock := func() time.Time {
			if reads++; reads == stopAt {
				s.Close()
			}
			return time.Now()
		}
		_, importErr := NewImporter(s, clock, quietLog()).Import(ctx, request("city", true, entry("a", "Alpha", "x"), entry("b", "Beta", "y")))
		s.Close()
		s = open()
		runs, err := s.HarvestRuns(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if n := toolCount(t, s); n > 0 && (len(runs) != 1 || int64(runs[0].GetCreated()) != n) {
			t.Errorf("stopped at the clock's read %d (the import: %v): %d tools, reports %v", stopAt, importErr, n, runs)
		}
		s.Close()
	}
}

// TestHarvestAfterRecordsGivenBack wipes a node's catalog, its key kept,
// and has a peer give its records back: harvesting the same source again
// finds the tools its harvests wrote, by the entry hash each carries,
// rather than create them again under other ids, and keeps the one edited
// by hand since, and those deleted by hand, edited before or not (their
// tombstones carry the harvest's mark). An entry the source dropped, and its harvest deleted,
// is created again when the source lists it again, as without the wipe.
func TestHarvestAfterRecordsGivenBack(t *testing.T) {
	ctx := context.Background()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	fr := openCatalog(t, "fr", key)
	im := NewImporter(fr, nil, quietLog())
	source := request("city", true, entry("a", "Alpha", "From the source"), entry("b", "Beta", "From the source"),
		entry("c", "Gamma", "From the source"), entry("d", "Delta", "From the source"), entry("e", "Epsilon", "From the source"))
	mustImport(t, im, source, "created 5 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	editByHand := func(id string) {
		t.Helper()
		edited := getTool(t, fr, id)
		edited.Descriptions["en"].ShortDescription = "Edited by hand"
		edited.Provenance.EntrySeq = edited.GetSeq() // as an edit through the API marks it
		if _, err := fr.Apply(ctx, []storage.Write{{Op: storage.OpReplace, ID: id, Resource: edited}}); err != nil {
			t.Fatal(err)
		}
	}
	editByHand("epsilon")
	for _, id := range []string{"gamma", "epsilon"} {
		if _, err := fr.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: id}}); err != nil {
			t.Fatal(err)
		}
	}
	dropped := request("city", true, entry("a", "Alpha", "From the source"), entry("b", "Beta", "From the source"),
		entry("c", "Gamma", "From the source"), entry("e", "Epsilon", "From the source"))
	mustImport(t, im, dropped, "created 0 updated 0 unchanged 2 deleted 1 rejected 0 kept 2")
	editByHand("beta")
	// A copy of alpha made through the API says where alpha comes from,
	// without the harvest's mark: it must not take alpha's place.
	copied := getTool(t, fr, "alpha")
	copied.DisplayName, copied.Provenance.EntryHash, copied.Provenance.EntrySeq = "Alpha, a copy", nil, 0
	if _, err := fr.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "alpha-copy", Resource: copied}}); err != nil {
		t.Fatal(err)
	}
	_, deKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	de := openCatalog(t, "de", deKey)
	copyOrigin(t, fr, de)

	wiped := openCatalog(t, "fr", key)
	copyOrigin(t, de, wiped)
	again := NewImporter(wiped, nil, quietLog())
	// Alpha unchanged, beta, gamma and epsilon kept as edited and deleted
	// by hand, delta created again, under another id (its tombstone keeps
	// its own).
	mustImport(t, again, source, "created 1 updated 0 unchanged 1 deleted 0 rejected 0 kept 3")
	if got := getTool(t, wiped, "beta").GetDescriptions()["en"].GetShortDescription(); got != "Edited by hand" {
		t.Errorf("the hand edit given back was overwritten: %q", got)
	}
	if n, _, err := wiped.Facets(ctx, storage.Query{Kind: storage.KindTool}); err != nil || n != 4 {
		t.Errorf("%d tools after the harvest, %v; want the 3 given back and delta", n, err)
	}
	for _, id := range []string{"gamma", "epsilon"} {
		if _, err := wiped.Get(ctx, storage.KindTool, "fr", id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s, deleted by hand, after the harvest: %v; want not found", id, err)
		}
	}
	// The next change at the source updates the tool the harvest wrote,
	// not the copy.
	changed := request("city", true, entry("a", "Alpha", "Changed at the source"), entry("b", "Beta", "From the source"),
		entry("c", "Gamma", "From the source"), entry("d", "Delta", "From the source"), entry("e", "Epsilon", "From the source"))
	mustImport(t, again, changed, "created 0 updated 1 unchanged 1 deleted 0 rejected 0 kept 3")
	if got := getTool(t, wiped, "alpha").GetDescriptions()["en"].GetShortDescription(); got != "Changed at the source" {
		t.Errorf("alpha after the change at the source: %q", got)
	}
	if got := getTool(t, wiped, "alpha-copy").GetDisplayName(); got != "Alpha, a copy" {
		t.Errorf("the copy after the change at the source: %q", got)
	}
}

// TestHarvestAfterRestoreFromOlderCopy restores a node's catalog from a
// copy older than a harvest that deleted a tool whose entry its source
// dropped, and has a peer give it the tombstone: the entry is forgotten
// there too (the tombstone carries the harvest's forgetting), and listed
// again, it is created again, as on the node that never lost anything.
func TestHarvestAfterRestoreFromOlderCopy(t *testing.T) {
	ctx := context.Background()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	both := request("city", true, entry("a", "Alpha", "From the source"), entry("d", "Delta", "From the source"))
	fr := openCatalog(t, "fr", key)
	mustImport(t, NewImporter(fr, nil, quietLog()), both, "created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	older := openCatalog(t, "fr", key) // the copy the node is restored from, made now
	copyOrigin(t, fr, older)
	mustImport(t, NewImporter(fr, nil, quietLog()), request("city", true, entry("a", "Alpha", "From the source")),
		"created 0 updated 0 unchanged 1 deleted 1 rejected 0 kept 0")
	_, deKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	de := openCatalog(t, "de", deKey)
	copyOrigin(t, fr, de)
	copyOrigin(t, de, older)
	for name, s := range map[string]*storage.Store{"the node": fr, "the restored node": older} {
		run, err := NewImporter(s, nil, quietLog()).Import(ctx, both)
		if got, want := counts(run), "created 1 updated 0 unchanged 1 deleted 0 rejected 0 kept 0"; err != nil || got != want {
			t.Errorf("%s, the dropped entry listed again: %s, %v; want %s", name, got, err, want)
		}
	}
}

// openCatalog opens a catalog of origin, signed with key, in a folder of
// the test's.
func openCatalog(t *testing.T, origin string, key ed25519.PrivateKey) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), storage.Options{Path: filepath.Join(t.TempDir(), "catalog.db"), Origin: origin, Key: key, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// copyOrigin applies to to what from holds of fr above to's head, as a
// pull would.
func copyOrigin(t *testing.T, from, to *storage.Store) {
	t.Helper()
	ctx := context.Background()
	wms, err := to.Watermarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := from.ReadPages(ctx, storage.PullSpec{Watermarks: map[string]int64{"fr": wms["fr"]}}, func(p *federationv1.OriginPage) error {
		_, err := to.ApplyPage(ctx, p)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestReportOfManyRejections imports a source of 20,000 broken entries:
// the report counts them all and lists as many as fit in its bound, so
// that it stays servable (a report of megabytes failed every later list
// of reports).
func TestReportOfManyRejections(t *testing.T) {
	s := openStore(t)
	req := request("city", true, entry("a", "Alpha", "x"))
	for i := range 20_000 {
		req.Rejected = append(req.Rejected, &catalogv1.RejectedEntry{SourceId: fmt.Sprintf("broken-%05d", i), Where: fmt.Sprintf("broken-%05d.yml", i),
			Findings: []*catalogv1.Finding{{Key: "legal.license", Message: "not an SPDX expression"}}})
	}
	run := mustImport(t, NewImporter(s, nil, quietLog()), req, "created 1 updated 0 unchanged 0 deleted 0 rejected 20000 kept 0")
	if n := len(run.GetRejectedEntries()); n == 0 || n >= 20_000 || proto.Size(run) > 2*maxReportedRejectionBytes {
		t.Errorf("the report lists %d rejected entries in %d bytes", n, proto.Size(run))
	}
	if got := run.GetRejectedEntries()[0].GetSourceId(); got != "broken-00000" {
		t.Errorf("the first rejected entry listed: %q", got)
	}
}

// TestSourcesThatDropNothing: sources that still list a tool, but that a
// reader cannot take as a list of them, delete nothing: a SILL file
// holding null (not the empty list), and a code.json release whose
// repositoryURL, its tool's source id, is no longer text.
func TestSourcesThatDropNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	harvest := func(src Source) (*catalogv1.ImportHarvestRequest, *catalogv1.HarvestRun) {
		t.Helper()
		req := Read(ctx, src, ReadOptions{})
		run, err := im.Import(ctx, req)
		if err != nil {
			t.Fatalf("import: %v (read error %q)", err, req.GetReadError())
		}
		return req, run
	}

	sill := filepath.Join(t.TempDir(), "sill.json")
	if err := os.WriteFile(sill, readFile(t, corpus(t, "sill/sill.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Source{Location: sill, Authoritative: true}.Resolve()
	if err != nil || src.Kind != KindSILL {
		t.Fatalf("%v %q", err, src.Kind)
	}
	if _, run := harvest(src); run.GetCreated() == 0 {
		t.Fatalf("the SILL: %s", counts(run))
	}
	if err := os.WriteFile(sill, []byte("null"), 0o644); err != nil {
		t.Fatal(err)
	}
	if req, run := harvest(src); req.GetComplete() || run.GetDeleted() > 0 || !strings.Contains(req.GetReadError(), "null") {
		t.Errorf("a SILL file holding null: complete %v, read error %q; %s", req.GetComplete(), req.GetReadError(), counts(run))
	}

	codeJSON := filepath.Join(t.TempDir(), "code.json")
	write := func(repo string) {
		t.Helper()
		doc := `{"agency": "HHS", "releases": [{"name": "Grants tool", "repositoryURL": ` + repo + `, "description": "Manages grant applications for the agency",
			"permissions": {"licenses": [{"name": "MIT"}], "usageType": "openSource"}}]}`
		if err := os.WriteFile(codeJSON, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err = Source{Location: codeJSON}.Resolve()
	if err != nil || src.Kind != KindCodeJSON {
		t.Fatalf("%v %q", err, src.Kind)
	}
	write(`"https://github.com/hhs/grants"`)
	if _, run := harvest(src); run.GetCreated() != 1 {
		t.Fatalf("code.json: %s", counts(run))
	}
	write(`["https://github.com/hhs/grants"]`)
	if _, run := harvest(src); run.GetDeleted() != 0 || run.GetRejected() != 1 || run.GetRejectedEntries()[0].GetSourceId() != "" {
		t.Errorf("a release whose repositoryURL is an array: %s, %v; want it rejected without an id, and its tool kept", counts(run), run.GetRejectedEntries())
	}
}

// TestCSVIdNotUTF8: a CSV row whose id holds a stray byte that is not
// UTF-8 is rejected, naming its column, and the run is imported and
// reported whole, the other rows with it; no tool is deleted for the row.
func TestCSVIdNotUTF8(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	path := filepath.Join(t.TempDir(), "outils.csv")
	write := func(data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Source{Location: path, Columns: map[string]string{"id": "id", "display_name": "Nom", "descriptions.fr.short_description": "Description"}}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	write("id,Nom,Description\n1,Décidim,Démocratie participative\n2,Other,Un autre outil\n")
	if run, err := im.Import(ctx, Read(ctx, src, ReadOptions{})); err != nil || run.GetCreated() != 2 {
		t.Fatalf("first run: %s, %v", counts(run), err)
	}
	write("id,Nom,Description\n1,Décidim,Démocratie participative\n2\xff,Other,Un autre outil\n")
	run, err := im.Import(ctx, Read(ctx, src, ReadOptions{}))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if got := counts(run); got != "created 0 updated 0 unchanged 1 deleted 0 rejected 1 kept 0" {
		t.Errorf("run: %s", got)
	}
	if f := run.GetRejectedEntries()[0].GetFindings()[0]; f.GetKey() != "id" || !strings.Contains(f.GetMessage(), "not UTF-8") {
		t.Errorf("the row's finding: %v", f)
	}
	if runs, err := s.HarvestRuns(ctx, src.Name, 10); err != nil || len(runs) != 2 {
		t.Errorf("the reports: %d, %v", len(runs), err)
	}
}

// TestImportRequestChecked: a request that cannot be run is refused
// whole, naming the field, before anything is written: a start time out of
// time's range, a source named with a URL's password, a source id that is
// not UTF-8 (which no reader gives).
func TestImportRequestChecked(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	for _, tc := range []struct {
		name, field string
		change      func(*catalogv1.ImportHarvestRequest)
	}{
		{"a start time out of range", "start_time", func(r *catalogv1.ImportHarvestRequest) { r.StartTime = &timestamppb.Timestamp{Seconds: 1e15} }},
		{"a source named with a password", "source.name", func(r *catalogv1.ImportHarvestRequest) {
			r.Source.Name = "publiccode:https://oauth2:s3cret@git.example.org/x.git"
		}},
		{"a source id not UTF-8", "entries[1].source_id", func(r *catalogv1.ImportHarvestRequest) { r.Entries[1].SourceId = "https://git.example.org/\xff" }},
		{"a location not UTF-8", "source.location", func(r *catalogv1.ImportHarvestRequest) { r.Source.Location = "/srv/\xff" }},
		{"a mapping of too many columns", "source.columns", func(r *catalogv1.ImportHarvestRequest) {
			r.Source.Columns = map[string]string{}
			for i := range 1001 {
				r.Source.Columns[fmt.Sprintf("f%d", i)] = "c"
			}
		}},
		{"a column of a kilobyte and more", "source.columns", func(r *catalogv1.ImportHarvestRequest) {
			r.Source.Columns = map[string]string{"display_name": strings.Repeat("x", 1001)}
		}},
		{"a column not UTF-8", `source.columns["display_name"]`, func(r *catalogv1.ImportHarvestRequest) {
			r.Source.Columns = map[string]string{"display_name": "Nom \xff"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := request("city", true, entry("https://git.example.org/a", "App A", "The first app"), entry("https://git.example.org/b", "App B", "The second app"))
			tc.change(req)
			_, err := im.Import(ctx, req)
			var re *RequestError
			if !errors.As(err, &re) || re.Field != tc.field {
				t.Errorf("%v; want a RequestError on %s", err, tc.field)
			}
		})
	}
	if head := headSeq(t, s); head != 0 {
		t.Errorf("the refused requests wrote up to seq %d", head)
	}
}

// TestStrayBytesRejectTheirEntryOnly: a stray byte that is not UTF-8 (a
// file of mixed encodings) in an entry's tool rejects that entry, naming
// the field, and the others are imported; one in what the report only
// quotes (an entry's where, a reader's finding) is written as U+FFFD.
func TestStrayBytesRejectTheirEntryOnly(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	req := request("city", true, entry("https://git.example.org/a", "App A", "The first app"), entry("https://git.example.org/b", "App B", "The second app"),
		entry("https://git.example.org/c", "App C", "The third app"))
	req.Entries[0].Tool.LandingUrl = "https://a.example.org/\xff"
	req.Entries[1].Where = "row \xff"
	req.Rejected = []*catalogv1.RejectedEntry{{SourceId: "https://git.example.org/d", Where: "x", Findings: []*catalogv1.Finding{{Message: "quotes \xff"}}}}
	run, err := im.Import(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := counts(run); got != "created 2 updated 0 unchanged 0 deleted 0 rejected 2 kept 0" {
		t.Errorf("run: %s", got)
	}
	saved, err := s.HarvestRuns(ctx, "city", 1)
	if err != nil || len(saved) != 1 {
		t.Fatalf("the report: %v, %v", saved, err)
	}
	var keys []string
	for _, r := range saved[0].GetRejectedEntries() {
		for _, f := range r.GetFindings() {
			keys = append(keys, f.GetKey())
			if !utf8.ValidString(f.GetMessage()) {
				t.Errorf("a finding saved not UTF-8: %q", f.GetMessage())
			}
		}
	}
	if !slices.Contains(keys, "tool.landing_url") {
		t.Errorf("the findings' keys: %v", keys)
	}
}

// TestSourceCredentialsNotPublished: a private repository harvested with
// a token in its URL: neither the tools' provenance, which every node
// holds, nor the public report, nor the source's name carry it.
func TestSourceCredentialsNotPublished(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	const secret = "glpat-s3cretT0ken"
	src, err := Source{Location: "https://oauth2:" + secret + "@git.example.org/city/catalog.git"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(src.Name, secret) || src.Name != "publiccode:https://git.example.org/city/catalog.git" {
		t.Errorf("the source's name: %q", src.Name)
	}
	req := request("city", true, entry("https://git.example.org/city/app", "City app", "The city's app"))
	req.Source = src.Proto()
	if strings.Contains(req.GetSource().GetLocation(), secret) {
		t.Errorf("the request's location: %q", req.GetSource().GetLocation())
	}
	req.Source.Location = "https://oauth2:" + secret + "@git.example.org/city/catalog.git" // as another client may send it
	run, err := im.Import(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := getTool(t, s, "city-app").GetProvenance().GetSourceUrl(); got != "https://git.example.org/city/catalog.git" {
		t.Errorf("the tool's provenance.source_url is %q", got)
	}
	if got := run.GetSource().GetLocation(); strings.Contains(got, secret) {
		t.Errorf("the report's source.location is %q", got)
	}
	// A file fetched with the token, and refused: its where, in the
	// public report, is the URL without it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "publiccodeYmlVersion: [\n") }))
	defer srv.Close()
	fetched := Read(ctx, Source{Name: "file", Kind: KindPubliccode, Location: strings.Replace(srv.URL, "://", "://oauth2:"+secret+"@", 1) + "/publiccode.yml"}, ReadOptions{})
	run, err = im.Import(ctx, fetched)
	if err != nil || len(run.GetRejectedEntries()) != 1 || run.GetRejectedEntries()[0].GetWhere() != srv.URL+"/publiccode.yml" {
		t.Errorf("a file refused: %v, %v", run.GetRejectedEntries(), err)
	}
	// A user name is taken out where it stands before a host, not
	// wherever its word is.
	if failed := Read(ctx, Source{Name: "x", Kind: KindPubliccode, Location: "ssh://git@127.0.0.1:1/city/catalog.git"}, ReadOptions{}); !strings.Contains(failed.GetReadError(), "catalog.git") {
		t.Errorf("a failed clone as git: %q", failed.GetReadError())
	}
	// A clone that fails says so without the token.
	failed := Read(ctx, Source{Name: "x", Kind: KindPubliccode, Location: "https://oauth2:" + secret + "@127.0.0.1:1/city/catalog.git"}, ReadOptions{})
	if failed.GetComplete() || failed.GetReadError() == "" || strings.Contains(failed.GetReadError(), secret) {
		t.Errorf("a failed clone: complete %v, error %q", failed.GetComplete(), failed.GetReadError())
	}
}

// TestLongRepositoryURLImported: a publiccode.yml whose url, its source id,
// is 400 characters long is imported: a tool's repository URL may be 2,048.
func TestLongRepositoryURLImported(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	long := "https://git.example.org/city/" + strings.Repeat("a", 370) + ".git"
	var out []string
	for _, line := range strings.Split(string(readFile(t, corpus(t, "publiccode/v0/valid/valid.minimal.yml"))), "\n") {
		if strings.HasPrefix(line, "url:") {
			line = `url: "` + long + `"`
		}
		out = append(out, line)
	}
	path := filepath.Join(t.TempDir(), "publiccode.yml")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Source{Location: path}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	run, err := im.Import(ctx, Read(ctx, src, ReadOptions{}))
	if err != nil || run.GetCreated() != 1 {
		t.Errorf("%s, %v: %v", counts(run), err, run.GetRejectedEntries())
	}
}

func TestWithoutSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"https://gitlab.example.org/api/v4/projects/1/repository/files/sill.json/raw?ref=main&private_token=glpat-abc": "https://gitlab.example.org/api/v4/projects/1/repository/files/sill.json/raw?ref=main&private_token=…",
		"fetch https://s3.example.org/b/sill.json?X-Amz-Credential=AK%2F1&X-Amz-Signature=f00d: 403 Forbidden":         "fetch https://s3.example.org/b/sill.json?X-Amz-Credential=…&X-Amz-Signature=… 403 Forbidden",
		"https://x.blob.example.net/c/code.json?sv=2022&sig=abc%3D#top":                                                "https://x.blob.example.net/c/code.json?sv=2022&sig=…#top",
		"https://example.org/sill.json?api_key=k1&format=json&access_token=t1":                                         "https://example.org/sill.json?api_key=…&format=json&access_token=…",
		"https://example.org/sill.json?token=…":                                                                        "https://example.org/sill.json?token=…",
		"https://example.org/search?q=token&page=2":                                                                    "https://example.org/search?q=token&page=2",
		"https://example.org/keys.json?monkey=1":                                                                       "https://example.org/keys.json?monkey=1",
		"https://api.example.org/tools.json?client_id=ogp&client_secret=S3CRET":                                        "https://api.example.org/tools.json?client_id=ogp&client_secret=…",
		"https://s3.example.org/b/tools.csv?access_key=S3CRET&secret_key=S3CRET":                                       "https://s3.example.org/b/tools.csv?access_key=…&secret_key=…",
		"https://api.example.org/export.csv#access_token=S3CRET":                                                       "https://api.example.org/export.csv#access_token=…",
		// A bare key names a document as often as it is one (a legacy
		// Google spreadsheet): kept, so that two sheets stay two sources.
		"https://docs.google.com/spreadsheet/pub?key=0AkCityA&output=csv": "https://docs.google.com/spreadsheet/pub?key=0AkCityA&output=csv",
		"https://oauth2:glpat-x@git.example.org/city/catalog.git":         "https://git.example.org/city/catalog.git",
		"git+https://u:p@ss@git.example.org/r.git":                        "git+https://git.example.org/r.git",
		"fatal: unable to access 'https://u:tok@host/r.git/': 403":        "fatal: unable to access 'https://host/r.git/': 403",
		"https://git.example.org/people/@me/r.git":                        "https://git.example.org/people/@me/r.git",
		"contact: mailto:a@b.org, https://example.org?u=a@b":              "contact: mailto:a@b.org, https://example.org?u=a@b",
		"/srv/catalogs/city": "/srv/catalogs/city",
		"two: http://a:b@one.example/ and ftp://c@two.example/ done": "two: http://one.example/ and ftp://two.example/ done",
	} {
		if got := WithoutSecrets(in); got != want {
			t.Errorf("WithoutSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSourceNamedWithTokenAdopted: a source harvested before its name was
// made without its location's token (a node before 2026-12-04) is the
// same source after: its first run under the new name creates nothing
// again, and takes the token out of its tools and its reports.
func TestSourceNamedWithTokenAdopted(t *testing.T) {
	const secret = "glpat-s3cret"
	for _, loc := range []string{
		"https://oauth2:" + secret + "@git.example.org/city/catalog.git",
		"https://git.example.org/api/v4/projects/7/repository/files/publiccode.yml/raw?ref=main&private_token=" + secret,
	} {
		t.Run(loc, func(t *testing.T) { sourceNamedWithTokenAdopted(t, loc, secret) })
	}
}

func sourceNamedWithTokenAdopted(t *testing.T, loc, secret string) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	// As a node before the change named, imported and reported it.
	old := &catalogv1.HarvestSource{Name: KindPubliccode + ":" + loc, Kind: KindPubliccode, Location: loc}
	es := []*catalogv1.HarvestEntry{entry("https://git.example.org/city/app", "City app", "The city's app")}
	in, _, _ := im.prepareEntries(ctx, old, es)
	in[0].tool.Provenance.SourceUrl = loc
	var c catalogv1.HarvestRun
	if _, err := s.ApplyHarvest(ctx, old.GetName(), func(tx *storage.HarvestTx) (storage.HarvestPlan, error) {
		c = catalogv1.HarvestRun{}
		return plan(tx, old, in, map[string]bool{es[0].GetSourceId(): true}, true, timestamppb.Now(), &c)
	}); err != nil || c.GetCreated() != 1 {
		t.Fatalf("the old import: %s, %v", counts(&c), err)
	}
	if _, err := s.SaveHarvestRun(ctx, &catalogv1.HarvestRun{Source: old, Created: 1, Complete: true}); err != nil {
		t.Fatal(err)
	}

	src, err := Source{Location: loc, Kind: KindPubliccode}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	run, err := im.Import(ctx, &catalogv1.ImportHarvestRequest{Source: src.Proto(), Complete: true, Entries: es})
	if err != nil {
		t.Fatal(err)
	}
	if got := counts(run); got != "created 0 updated 1 unchanged 0 deleted 0 rejected 0 kept 0" {
		t.Errorf("the source's first run under its new name: %s", got)
	}
	tool := getTool(t, s, "city-app")
	if p := tool.GetProvenance(); strings.Contains(p.GetSource()+p.GetSourceUrl(), secret) {
		t.Errorf("the tool's provenance: %v", p)
	}
	runs, err := s.HarvestRuns(ctx, "", 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("the reports: %d, %v", len(runs), err)
	}
	for _, r := range runs {
		if r.GetSource().GetName() != src.Name || strings.Contains(r.GetSource().GetLocation(), secret) {
			t.Errorf("a report: %v", r.GetSource())
		}
	}
}

// TestEmptySourceDeletesNothing: a source read whole that lists nothing,
// where it made tools, is taken for a broken export (a CSV of its header
// alone, an empty SILL list) and deletes none of them, saying so; one
// that says it may be empty deletes them.
func TestEmptySourceDeletesNothing(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	mustImport(t, im, request("city", true, entry("a", "Alpha", "x"), entry("b", "Beta", "y")), "created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	run, err := im.Import(ctx, request("city", true))
	if err != nil || counts(run) != "created 0 updated 0 unchanged 0 deleted 0 rejected 0 kept 0" || !strings.Contains(run.GetError(), "broken export") {
		t.Errorf("an empty source: %s, %q, %v", counts(run), run.GetError(), err)
	}
	if n := toolCount(t, s); n != 2 {
		t.Errorf("%d tools left, want 2", n)
	}
	// A source that still lists one of them deletes the other, as ever.
	mustImport(t, im, request("city", true, entry("a", "Alpha", "x")), "created 0 updated 0 unchanged 1 deleted 1 rejected 0 kept 0")
	emptied := request("city", true)
	emptied.Source.AllowEmpty = true
	mustImport(t, im, emptied, "created 0 updated 0 unchanged 0 deleted 1 rejected 0 kept 0")
	if n := toolCount(t, s); n != 0 {
		t.Errorf("%d tools left, want none", n)
	}
}

// TestHandDeletedIDTakenByAnAPITool: a harvested tool deleted by hand, and
// its id taken since by a tool typed in through the API (which makes ids
// from names, tombstones' too): no run of the source, authoritative or
// not, listing the entry or dropping it, replaces or deletes that tool,
// which no harvest wrote. An authoritative source brings its entry back
// under another id.
func TestHandDeletedIDTakenByAnAPITool(t *testing.T) {
	ctx := context.Background()
	for _, authoritative := range []bool{false, true} {
		s := openStore(t)
		im := NewImporter(s, nil, quietLog())
		req := func(entries ...*catalogv1.HarvestEntry) *catalogv1.ImportHarvestRequest {
			r := request("registry", true, entries...)
			r.Source.Authoritative = authoritative
			return r
		}
		mustImport(t, im, req(entry("x", "Alpha", "From the registry"), entry("y", "Beta", "From the registry")), "created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
		if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: "alpha"}}); err != nil {
			t.Fatal(err)
		}
		mine := &catalogv1.Tool{DisplayName: "Alpha", Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Our own Alpha, typed in"}},
			Provenance: &catalogv1.Provenance{Kind: catalogv1.ProvenanceKind_PROVENANCE_KIND_MANUAL}}
		if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "alpha", Resource: mine}}); err != nil {
			t.Fatal(err)
		}
		ours := func(when string) {
			t.Helper()
			got, err := s.Get(ctx, storage.KindTool, "fr", "alpha")
			if err != nil || got.(*catalogv1.Tool).GetDescriptions()["en"].GetShortDescription() != "Our own Alpha, typed in" {
				t.Errorf("authoritative %v, %s: the tool typed in through the API: %v, %v", authoritative, when, got, err)
			}
		}
		run, err := im.Import(ctx, req(entry("x", "Alpha", "From the registry, changed"), entry("y", "Beta", "From the registry")))
		if err != nil {
			t.Fatal(err)
		}
		ours("the source listing its entry, changed")
		if authoritative && (run.GetUpdated() != 1 || toolCount(t, s) != 3) {
			t.Errorf("an authoritative source listing its entry again: %s, %d tools, want it back under another id", counts(run), toolCount(t, s))
		}
		if _, err := im.Import(ctx, req(entry("y", "Beta", "From the registry"))); err != nil {
			t.Fatal(err)
		}
		ours("the source dropping its entry")
	}
}

// TestRespelledSourceID: an entry whose id changes only in spelling (the
// repository URL's case, spaces around it) is the same entry: its tool,
// edited by hand or not, is not made a second time, nor deleted and made
// again under another id. Such ids were two entries.
func TestRespelledSourceID(t *testing.T) {
	ctx := context.Background()
	for _, edited := range []bool{false, true} {
		s := openStore(t)
		im := NewImporter(s, nil, quietLog())
		mustImport(t, im, request("city", true, entry("https://github.com/Decidim/decidim", "Decidim", "x"), entry("  consul ", "Consul", "y")),
			"created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
		if edited {
			tool := getTool(t, s, "decidim")
			tool.Descriptions["en"].ShortDescription = "Edited by hand"
			if _, err := s.Apply(ctx, []storage.Write{{Op: storage.OpReplace, ID: "decidim", Resource: tool}}); err != nil {
				t.Fatal(err)
			}
		}
		respelled := request("city", true, entry("https://github.com/decidim/decidim.git", "Decidim", "x"), entry("consul", "Consul", "y"))
		for run := range 2 {
			got, err := im.Import(ctx, respelled)
			if err != nil {
				t.Fatal(err)
			}
			if got.GetCreated() != 0 || got.GetDeleted() != 0 || toolCount(t, s) != 2 {
				t.Errorf("edited %v, run %d of the respelled ids: %s, %d tools", edited, run+1, counts(got), toolCount(t, s))
			}
		}
		if tool := getTool(t, s, "decidim"); edited != (tool.GetDescriptions()["en"].GetShortDescription() == "Edited by hand") {
			t.Errorf("edited %v: the tool now %v", edited, tool.GetDescriptions()["en"])
		}
	}
}

// TestReportErrorBounded: a source's read error can be long (a folder's
// joins every file's): the report keeps its first 16 KiB and says how
// much it leaves out, as it bounds its rejected entries, so that a list
// of reports fits a client's message.
func TestReportErrorBounded(t *testing.T) {
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	req := request("folder", false, entry("a", "Alpha", "x"))
	req.ReadError = strings.Repeat("a file could not be read; ", 40_000) // 1 MB
	run, err := im.Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := s.HarvestRuns(context.Background(), "folder", 1)
	if err != nil || len(saved) != 1 {
		t.Fatalf("saved reports: %v, %v", saved, err)
	}
	for _, r := range []*catalogv1.HarvestRun{run, saved[0]} {
		if n := len(r.GetError()); n > 17<<10 || !strings.HasPrefix(r.GetError(), "a file could not be read") || !strings.HasSuffix(r.GetError(), "more bytes)") {
			t.Errorf("a report's error of %d bytes, ending %q", n, r.GetError()[max(0, n-40):])
		}
	}
}

// TestReportsKeptScrubbed: the reports an earlier version kept with the
// credentials of a source's location (a source given its own name, which
// no run renames) lose them, and the others are left as they are.
func TestReportsKeptScrubbed(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	const secret = "glpat-s3cret"
	dirty := &catalogv1.HarvestRun{Source: &catalogv1.HarvestSource{Name: "named", Kind: KindSILL, Location: "https://example.org/sill.json?access_token=" + secret}, Complete: false,
		Error: "fetch https://example.org/sill.json?access_token=" + secret + ": 404 Not Found"}
	clean := &catalogv1.HarvestRun{Source: &catalogv1.HarvestSource{Name: "other", Kind: KindSILL, Location: "https://example.org/other.json"}, Complete: true, Created: 3}
	for _, r := range []*catalogv1.HarvestRun{dirty, clean} {
		if _, err := s.SaveHarvestRun(ctx, r); err != nil { // as an earlier version saved them
			t.Fatal(err)
		}
	}
	if n, err := im.ScrubReports(ctx); err != nil || n != 1 {
		t.Fatalf("ScrubReports: %d, %v; want 1", n, err)
	}
	runs, err := s.HarvestRuns(ctx, "", 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("the reports: %v, %v", runs, err)
	}
	for _, r := range runs {
		if strings.Contains(r.String(), secret) || (r.GetSource().GetName() == "other" && r.GetCreated() != 3) {
			t.Errorf("a report: %v", r)
		}
	}
	if n, err := im.ScrubReports(ctx); err != nil || n != 0 {
		t.Errorf("ScrubReports again: %d, %v; want 0", n, err)
	}
}

// TestSourcesOfOneNameOnceScrubbedNotAdopted: two sources an earlier
// version harvested, whose names differ only in a credential, are not both
// adopted under the name they now share (a run of one would delete the
// other's tools): the run is refused, saying to name the source.
func TestSourcesOfOneNameOnceScrubbedNotAdopted(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	for _, c := range []struct{ token, id, name string }{{"glpat-a", "https://git.example.org/a", "Alpha"}, {"glpat-b", "https://git.example.org/b", "Beta"}} {
		loc := "https://git.example.org/api/v4/projects/7/repository/files/publiccode.yml/raw?private_token=" + c.token
		old := &catalogv1.HarvestSource{Name: KindPubliccode + ":" + loc, Kind: KindPubliccode, Location: loc}
		es := []*catalogv1.HarvestEntry{entry(c.id, c.name, "A tool")}
		in, _, _ := im.prepareEntries(ctx, old, es)
		var run catalogv1.HarvestRun
		if _, err := s.ApplyHarvest(ctx, old.GetName(), func(tx *storage.HarvestTx) (storage.HarvestPlan, error) {
			run = catalogv1.HarvestRun{}
			return plan(tx, old, in, map[string]bool{c.id: true}, true, timestamppb.Now(), &run)
		}); err != nil || run.GetCreated() != 1 {
			t.Fatalf("the old import: %s, %v", counts(&run), err)
		}
	}
	src, err := Source{Location: "https://git.example.org/api/v4/projects/7/repository/files/publiccode.yml/raw?private_token=glpat-a", Kind: KindPubliccode}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Import(ctx, &catalogv1.ImportHarvestRequest{Source: src.Proto(), Complete: true, Entries: []*catalogv1.HarvestEntry{entry("https://git.example.org/a", "Alpha", "A tool")}}); err == nil || !strings.Contains(err.Error(), "give this one a name of its own") {
		t.Errorf("the run under the name both share: %v", err)
	}
	for _, id := range []string{"alpha", "beta"} {
		if _, err := s.Get(ctx, storage.KindTool, "fr", id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}
