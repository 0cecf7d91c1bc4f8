package storage

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

func testKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

// openTest opens a fresh catalog of origin "fr" in a temporary folder, with
// a clock that ticks one second per call.
func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := openAt(t, path, "fr", testKey(1))
	return s, path
}

func openAt(t *testing.T, path, origin string, key ed25519.PrivateKey) *Store {
	t.Helper()
	clock := steppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := Open(context.Background(), Options{Path: path, Origin: origin, Key: key, Now: clock})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// steppingClock is a clock that moves a second at each reading, safe for
// the concurrent readings of the catalog's goroutines.
func steppingClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		start = start.Add(time.Second)
		return start
	}
}

func tool(name, short string) *catalogv1.Tool {
	return &catalogv1.Tool{
		DisplayName:  name,
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: short}},
	}
}

func create(t *testing.T, s *Store, id string, m proto.Message) proto.Message {
	t.Helper()
	out, err := s.Apply(context.Background(), []Write{{Op: OpCreate, ID: id, Resource: m}})
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	return out[0]
}

func names(ms []proto.Message) []string {
	var out []string
	for _, m := range ms {
		switch r := m.(type) {
		case *catalogv1.Tool:
			out = append(out, r.GetName())
		case *catalogv1.UseCase:
			out = append(out, r.GetName())
		}
	}
	return out
}

func TestMigrationsAndClaim(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	var versions []int
	rows, err := s.reader.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	rows.Close()
	all, _ := listMigrations()
	if len(versions) != len(all) || versions[0] != 1 {
		t.Fatalf("applied migrations %v, want all %d", versions, len(all))
	}
	create(t, s, "decidim", tool("Decidim", "Participatory democracy"))
	s.Close()

	// Reopening applies nothing twice and keeps the data.
	s2 := openAt(t, path, "fr", testKey(1))
	if _, err := s2.Get(ctx, KindTool, "fr", "decidim"); err != nil {
		t.Errorf("after reopen: %v", err)
	}
	s2.Close()

	// Another origin, or another key, on the same data folder is refused.
	if _, err := Open(ctx, Options{Path: path, Origin: "de", Key: testKey(1)}); err == nil || !strings.Contains(err.Error(), `belongs to origin "fr"`) {
		t.Errorf("open with origin de: got %v, want refusal naming fr", err)
	}
	if _, err := Open(ctx, Options{Path: path, Origin: "fr", Key: testKey(2)}); err == nil || !strings.Contains(err.Error(), "node key") {
		t.Errorf("open with another key: got %v, want refusal", err)
	}

	// A file from a newer ogpnode is refused rather than misread.
	s3 := openAt(t, path, "fr", testKey(1))
	if _, err := s3.writer.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (999, 'future', 'x')"); err != nil {
		t.Fatal(err)
	}
	s3.Close()
	if _, err := Open(ctx, Options{Path: path, Origin: "fr", Key: testKey(1)}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("open a newer schema: got %v", err)
	}
}

func TestSeqAndSignatures(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a := create(t, s, "a", tool("A", "first")).(*catalogv1.Tool)
	u := create(t, s, "u", &catalogv1.UseCase{Tool: "origins/fr/tools/a", Organization: &catalogv1.Organization{Name: "Paris", Country: "FR"}, Purpose: "x"}).(*catalogv1.UseCase)
	b := create(t, s, "b", tool("B", "second")).(*catalogv1.Tool)
	if got := []int64{a.GetSeq(), u.GetSeq(), b.GetSeq()}; !cmp.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("seqs %v, want 1 2 3 across kinds", got)
	}
	if a.GetName() != "origins/fr/tools/a" || a.GetOrigin() != "fr" || a.GetEtag() == "" || a.GetCreateTime() == nil {
		t.Errorf("output fields not set: %v", a)
	}
	// Every stored record verifies with the node's key and holds the exact
	// resource returned.
	rows, err := s.reader.QueryContext(ctx, "SELECT record, signature FROM records ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var rec, sig []byte
		rows.Scan(&rec, &sig)
		if !envelope.Verify(s.PublicKey(), rec, sig) {
			t.Errorf("record %d does not verify", n)
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d records stored, want 3", n)
	}
}

func TestUpdateAndEtag(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	v1 := create(t, s, "a", tool("A", "first")).(*catalogv1.Tool)

	next := proto.Clone(v1).(*catalogv1.Tool)
	next.DisplayName = "A2"
	out, err := s.Apply(ctx, []Write{{Op: OpReplace, ID: "a", Resource: next, IfEtag: v1.GetEtag()}})
	if err != nil {
		t.Fatal(err)
	}
	v2 := out[0].(*catalogv1.Tool)
	if v2.GetSeq() != 2 || v2.GetEtag() == v1.GetEtag() || !proto.Equal(v2.GetCreateTime(), v1.GetCreateTime()) || proto.Equal(v2.GetUpdateTime(), v1.GetUpdateTime()) {
		t.Errorf("after update: seq %d etag %q create %v update %v", v2.GetSeq(), v2.GetEtag(), v2.GetCreateTime(), v2.GetUpdateTime())
	}

	// A writer that read v1 cannot overwrite v2.
	stale := proto.Clone(v1).(*catalogv1.Tool)
	stale.DisplayName = "lost update"
	if _, err := s.Apply(ctx, []Write{{Op: OpReplace, ID: "a", Resource: stale, IfEtag: v1.GetEtag()}}); !errors.Is(err, ErrStale) {
		t.Errorf("stale update: got %v, want ErrStale", err)
	}
	if _, err := s.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: "a", IfEtag: v1.GetEtag()}}); !errors.Is(err, ErrStale) {
		t.Errorf("stale delete: got %v, want ErrStale", err)
	}
	got, _ := s.Get(ctx, KindTool, "fr", "a")
	want := proto.Clone(v2)
	s.SetQualification(want) // reads qualify tools, writes return them as stored
	if diff := cmp.Diff(got, want, cmpProto()); diff != "" {
		t.Errorf("record after refused writes (-got +want):\n%s", diff)
	}

	if _, err := s.Apply(ctx, []Write{{Op: OpReplace, ID: "nope", Resource: tool("N", "n")}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of a missing record: got %v, want ErrNotFound", err)
	}
	if _, err := s.Apply(ctx, []Write{{Op: OpCreate, ID: "a", Resource: tool("dup", "d")}}); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("create over a live record: got %v, want ErrAlreadyExists", err)
	}
}

func cmpProto() cmp.Option {
	return cmp.Comparer(func(a, b proto.Message) bool { return proto.Equal(a, b) })
}

func TestTombstones(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	create(t, s, "a", tool("Consul", "citizen consultation"))
	if _, err := s.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: "a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, KindTool, "fr", "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after delete: got %v, want ErrNotFound", err)
	}
	if got, _, _ := s.Search(ctx, Query{Kind: KindTool, Text: "consultation", Limit: 10}); len(got) != 0 {
		t.Errorf("search finds a deleted tool: %v", names(got))
	}
	// The tombstone stays: signed, with its own seq.
	var seq int64
	var deleted bool
	var rec, sig []byte
	if err := s.reader.QueryRowContext(ctx, "SELECT seq, deleted, record, signature FROM records WHERE id = 'a'").Scan(&seq, &deleted, &rec, &sig); err != nil {
		t.Fatal(err)
	}
	r, err := envelope.Parse(rec)
	if err != nil || seq != 2 || !deleted || !r.GetDeleted() || r.GetSeq() != 2 || !envelope.Verify(s.PublicKey(), rec, sig) {
		t.Errorf("tombstone: seq %d deleted %v record %v err %v", seq, deleted, r, err)
	}
	if _, err := s.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: "a"}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting a tombstone: got %v, want ErrNotFound", err)
	}
	counts, _ := s.Counts(ctx)
	if diff := cmp.Diff(counts, []OriginCounts{{Origin: "fr", Tombstones: 1, HeadSeq: 2}}); diff != "" {
		t.Errorf("counts (-got +want):\n%s", diff)
	}
	// The id can be taken again, with a new seq and creation time.
	again := create(t, s, "a", tool("Consul", "again")).(*catalogv1.Tool)
	if again.GetSeq() != 3 {
		t.Errorf("recreated seq %d, want 3", again.GetSeq())
	}
}

func TestBatchIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	create(t, s, "taken", tool("T", "t"))
	_, err := s.Apply(ctx, []Write{
		{Op: OpCreate, ID: "new-one", Resource: tool("N", "n")},
		{Op: OpCreate, ID: "taken", Resource: tool("T2", "t")},
	})
	if !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("got %v, want ErrAlreadyExists", err)
	}
	if _, err := s.Get(ctx, KindTool, "fr", "new-one"); !errors.Is(err, ErrNotFound) {
		t.Errorf("first write of a failed batch was stored: %v", err)
	}
	next := create(t, s, "later", tool("L", "l")).(*catalogv1.Tool)
	if next.GetSeq() != 2 {
		t.Errorf("seq after a failed batch is %d, want 2: a failed batch must not use seqs", next.GetSeq())
	}
	if _, err := s.Apply(ctx, []Write{{Op: OpCreate, ID: "x", Resource: tool("X", "x")}, {Op: OpCreate, ID: "x", Resource: tool("X", "x")}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("same id twice in a batch: got %v, want ErrInvalid", err)
	}
	shared := tool("S", "s")
	if _, err := s.Apply(ctx, []Write{{Op: OpCreate, ID: "s1", Resource: shared}, {Op: OpCreate, ID: "s2", Resource: shared}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("one resource for two ids in a batch: got %v, want ErrInvalid", err)
	}
}

// TestCancelledWriteChangesNothing cancels a batch of creates ever later,
// from before it starts to once it has committed: each attempt that fails
// says the context ended, stores nothing and uses no seq.
func TestCancelledWriteChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	ws := numberedCreates(700)
	cancelEverLater(t, func(attempt context.Context) error {
		out, err := s.Apply(attempt, ws)
		if err == nil {
			if got := out[699].(*catalogv1.Tool).GetSeq(); got != 700 {
				t.Fatalf("the last create has seq %d, want 700: failed attempts used seqs", got)
			}
		}
		return err
	}, func(delay time.Duration) {
		if _, err := s.Get(ctx, KindTool, "fr", "t0"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("cancelled after %v: the first create was stored: %v", delay, err)
		}
	})
}

// numberedCreates are the creates of n tools, t0 to t(n-1).
func numberedCreates(n int) []Write {
	ws := make([]Write, n)
	for i := range ws {
		ws[i] = Write{Op: OpCreate, ID: fmt.Sprintf("t%d", i), Resource: tool(fmt.Sprintf("T%d", i), "x")}
	}
	return ws
}

// cancelEverLater runs attempt with a context cancelled ever later, from
// at once to once attempt has gone through, the delays growing by half
// each time so that the attempts stay few however long one takes (a slow
// machine, the race detector). Each attempt that fails must fail with
// context.Canceled, and then unchanged checks what it left; at least one
// must have been cancelled.
func cancelEverLater(t *testing.T, attempt func(context.Context) error, unchanged func(delay time.Duration)) {
	t.Helper()
	cancelled := 0
	for delay := time.Duration(0); ; delay += delay/2 + 50*time.Microsecond {
		ctx, cancel := context.WithCancel(context.Background())
		if delay == 0 {
			cancel() // before the attempt, surely: a timer of none may fire after a quick one
		}
		timer := time.AfterFunc(delay, cancel)
		err := attempt(ctx)
		timer.Stop()
		cancel()
		if err == nil {
			break
		}
		cancelled++
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %v: %v, want context.Canceled", delay, err)
		}
		unchanged(delay)
	}
	if cancelled == 0 {
		t.Error("no attempt was cancelled")
	}
}

func seedSearch(t *testing.T, s *Store) {
	t.Helper()
	tools := map[string]*catalogv1.Tool{
		"decidim": {DisplayName: "Decidim", License: "AGPL-3.0-or-later", Categories: []string{"collaboration"},
			OgpThemes:         []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_PUBLIC_PARTICIPATION, catalogv1.OgpTheme_OGP_THEME_PARTICIPATORY_BUDGETING},
			DevelopmentStatus: "stable", Platforms: []string{"web"}, AvailableLanguages: []string{"en", "es", "ca"},
			Descriptions: map[string]*catalogv1.Description{
				"en": {ShortDescription: "Participatory democracy framework", Features: []string{"participatory budgeting", "debates"}},
				"fr": {ShortDescription: "Plateforme de démocratie participative", Features: []string{"pétitions"}},
			}},
		"consul": {DisplayName: "CONSUL Democracy", License: "AGPL-3.0-only", Categories: []string{"collaboration", "e-signature"},
			OgpThemes:         []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_E_PETITIONS},
			DevelopmentStatus: "stable", Platforms: []string{"web"},
			Descriptions: map[string]*catalogv1.Description{
				"es": {ShortDescription: "Participación ciudadana", LongDescription: "Propuestas ciudadanas y presupuestos participativos"},
			}},
		"udata": {DisplayName: "udata", License: "AGPL-3.0-only OR MIT", Categories: []string{"data-collection"},
			OgpThemes:         []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_OPEN_DATA},
			DevelopmentStatus: "beta", Platforms: []string{"web", "linux"},
			Descriptions: map[string]*catalogv1.Description{
				"fr": {ShortDescription: "Portail de données ouvertes", Features: []string{"moissonnage"}},
			}},
	}
	for _, id := range []string{"decidim", "consul", "udata"} {
		create(t, s, id, tools[id])
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	seedSearch(t, s)
	for _, tc := range []struct {
		name string
		q    Query
		want []string
	}{
		{"name", Query{Text: "decidim"}, []string{"origins/fr/tools/decidim"}},
		{"description in another language", Query{Text: "données"}, []string{"origins/fr/tools/udata"}},
		{"without diacritics", Query{Text: "donnees ouvertes"}, []string{"origins/fr/tools/udata"}},
		{"feature", Query{Text: "moissonnage"}, []string{"origins/fr/tools/udata"}},
		// Decidim has more words with the prefix (weighing 5 to 4) in more
		// text (12 tokens to 9): BM25 scores them the same, and a tie goes
		// to the newer record.
		{"prefix", Query{Text: "particip*"}, []string{"origins/fr/tools/consul", "origins/fr/tools/decidim"}},
		{"all words must match", Query{Text: "participatory debates"}, []string{"origins/fr/tools/decidim"}},
		{"query syntax is text", Query{Text: `decidim OR "udata" NEAR(x)`}, nil},
		{"filter by category", Query{Filters: []Filter{{"category", []string{"e-signature", "data-collection"}}}, Order: "name"},
			[]string{"origins/fr/tools/consul", "origins/fr/tools/udata"}},
		{"filter by license id in an expression", Query{Filters: []Filter{{"license", []string{"MIT"}}}}, []string{"origins/fr/tools/udata"}},
		{"filter by theme and language", Query{Filters: []Filter{
			{"ogp_theme", []string{"OGP_THEME_PUBLIC_PARTICIPATION", "OGP_THEME_E_PETITIONS"}},
			{"language", []string{"es"}},
		}, Order: "name"}, []string{"origins/fr/tools/consul", "origins/fr/tools/decidim"}},
		{"text and filter", Query{Text: "particip*", Filters: []Filter{{"development_status", []string{"stable"}}, {"platform", []string{"web"}}, {"origin", []string{"fr"}}}, Order: "name"},
			[]string{"origins/fr/tools/consul", "origins/fr/tools/decidim"}},
		{"newest first by default", Query{}, []string{"origins/fr/tools/udata", "origins/fr/tools/consul", "origins/fr/tools/decidim"}},
		{"oldest first", Query{Order: "create_time"}, []string{"origins/fr/tools/decidim", "origins/fr/tools/consul", "origins/fr/tools/udata"}},
		{"page", Query{Order: "name", Offset: 1, Limit: 1}, []string{"origins/fr/tools/decidim"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Kind = KindTool
			if tc.q.Limit == 0 {
				tc.q.Limit = 10
			}
			got, _, err := s.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(names(got), tc.want); diff != "" {
				t.Errorf("(-got +want):\n%s", diff)
			}
		})
	}
	for _, q := range []Query{{Text: "!!!"}, {Order: "relevance"}, {Order: "price"}, {Filters: []Filter{{"colour", []string{"x"}}}}} {
		q.Kind, q.Limit = KindTool, 10
		if _, _, err := s.Search(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("Search(%+v): got %v, want ErrInvalid", q, err)
		}
	}
}

func TestSearchFollowsUpdates(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	v1 := create(t, s, "a", tool("Alpha", "lobbying register")).(*catalogv1.Tool)
	v2 := proto.Clone(v1).(*catalogv1.Tool)
	v2.Descriptions["en"].ShortDescription = "whistleblowing platform"
	v2.Categories = []string{"whistleblowing"}
	if _, err := s.Apply(ctx, []Write{{Op: OpReplace, ID: "a", Resource: v2}}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Search(ctx, Query{Kind: KindTool, Text: "lobbying", Limit: 10}); len(got) != 0 {
		t.Errorf("old text still found: %v", names(got))
	}
	if got, _, _ := s.Search(ctx, Query{Kind: KindTool, Text: "whistleblowing", Filters: []Filter{{"category", []string{"whistleblowing"}}}, Limit: 10}); len(got) != 1 {
		t.Errorf("new text and category not found: %v", names(got))
	}
}

func TestFacets(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	seedSearch(t, s)
	total, counts, err := s.Facets(ctx, Query{Kind: KindTool, Text: "particip*"})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 {
		t.Errorf("total %d, want 2", total)
	}
	got := map[string]int64{}
	for _, c := range counts {
		got[c.Facet+"="+c.Value] = c.Count
	}
	want := map[string]int64{
		"origin=fr": 2, "category=collaboration": 2, "category=e-signature": 1,
		"ogp_theme=OGP_THEME_PUBLIC_PARTICIPATION": 1, "ogp_theme=OGP_THEME_PARTICIPATORY_BUDGETING": 1, "ogp_theme=OGP_THEME_E_PETITIONS": 1,
		"license=AGPL-3.0-or-later": 1, "license=AGPL-3.0-only": 1,
		"language=en": 1, "language=fr": 1, "language=es": 2, "language=ca": 1,
		"development_status=stable": 2, "platform=web": 2,
		// Both have an OSI-approved license and nothing more of the
		// qualification criteria.
		"criterion=open_license": 2,
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("facet counts (-got +want):\n%s", diff)
	}
	if counts[0].Facet != "origin" {
		t.Errorf("facets start with %q, want origin", counts[0].Facet)
	}
	total, _, err = s.Facets(ctx, Query{Kind: KindTool, Filters: []Filter{{"platform", []string{"linux"}}}})
	if err != nil || total != 1 {
		t.Errorf("facets with a filter: total %d, err %v", total, err)
	}
}

func TestUseCaseSearch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i, org := range []string{"Ville de Paris", "Madrid City Council"} {
		create(t, s, fmt.Sprintf("uc-%d", i), &catalogv1.UseCase{
			Tool:         "origins/fr/tools/decidim",
			Organization: &catalogv1.Organization{Name: org, Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: []string{"FR", "ES"}[i]},
			Purpose:      "participatory budget", Commitments: []string{"FR0034"}, Status: catalogv1.UseCaseStatus_USE_CASE_STATUS_ACTIVE,
		})
	}
	got, _, err := s.Search(ctx, Query{Kind: KindUseCase, Text: "paris", Limit: 10})
	if err != nil || len(got) != 1 {
		t.Fatalf("search use cases: %v %v", names(got), err)
	}
	got, _, _ = s.Search(ctx, Query{Kind: KindUseCase, Filters: []Filter{{"country", []string{"ES"}}, {"tool", []string{"origins/fr/tools/decidim"}}}, Limit: 10})
	if diff := cmp.Diff(names(got), []string{"origins/fr/usecases/uc-1"}); diff != "" {
		t.Errorf("(-got +want):\n%s", diff)
	}
	total, _, _ := s.Facets(ctx, Query{Kind: KindUseCase, Filters: []Filter{{"commitment", []string{"FR0034"}}}})
	if total != 2 {
		t.Errorf("use cases with FR0034: %d, want 2", total)
	}
}

// TestSearchAfterReopen checks that the search index, kept in memory, is
// rebuilt from the file: the same searches give the same answers after a
// restart, deleted and replaced versions included.
func TestSearchAfterReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := openAt(t, path, "fr", testKey(1))
	seedSearch(t, s)
	if _, err := s.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: "udata"}}); err != nil {
		t.Fatal(err)
	}
	consul, err := s.Get(ctx, KindTool, "fr", "consul")
	if err != nil {
		t.Fatal(err)
	}
	consul.(*catalogv1.Tool).DisplayName = "Consul Democracy"
	if _, err := s.Apply(ctx, []Write{{Op: OpReplace, ID: "consul", Resource: consul}}); err != nil {
		t.Fatal(err)
	}
	queries := []Query{
		{Kind: KindTool, Text: "particip*", Limit: 10},
		{Kind: KindTool, Text: "democracy", Limit: 10},
		{Kind: KindTool, Text: "donnees", Limit: 10},
		{Kind: KindTool, Order: "name", Limit: 10},
	}
	results := func(s *Store) [][]string {
		var out [][]string
		for _, q := range queries {
			got, _, err := s.Search(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, names(got))
		}
		total, facets, err := s.Facets(ctx, Query{Kind: KindTool})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, []string{fmt.Sprint(total, facets)})
		return out
	}
	before := results(s)
	if before[2] != nil || len(before[3]) != 2 {
		t.Fatalf("before reopening: %q", before)
	}
	s.Close()
	s = openAt(t, path, "fr", testKey(1))
	if diff := cmp.Diff(before, results(s)); diff != "" {
		t.Errorf("after reopening (-before +after):\n%s", diff)
	}
}

// TestSearchDuringWrites runs searches beside batches of writes: each
// search sees a batch whole or not at all (run with -race).
func TestSearchDuringWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range 20 {
			var ws []Write
			for i := range 10 {
				ws = append(ws, Write{Op: OpCreate, ID: fmt.Sprintf("t-%d-%d", b, i), Resource: tool(fmt.Sprintf("Batch%d", b), "concurrent")})
			}
			if _, err := s.Apply(ctx, ws); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for {
		select {
		case <-done:
			total, _, err := s.Facets(ctx, Query{Kind: KindTool, Text: "concurrent"})
			if err != nil || total != 200 {
				t.Errorf("after the writes: %d tools, %v; want 200", total, err)
			}
			return
		default:
		}
		total, _, err := s.Facets(ctx, Query{Kind: KindTool, Text: "concurrent"})
		if err != nil {
			t.Fatal(err)
		}
		if total%10 != 0 {
			t.Fatalf("a search saw %d tools: part of a batch", total)
		}
	}
}

// TestSearchSeesReturnedWrites checks that a write is in search results
// as soon as Apply returns, though the index is updated on a goroutine of
// its own, and that a delete is gone as soon as it returns.
func TestSearchSeesReturnedWrites(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i := range 200 {
		word := fmt.Sprintf("unique%d", i)
		id := fmt.Sprintf("t-%d", i)
		if _, err := s.Apply(ctx, []Write{{Op: OpCreate, ID: id, Resource: tool("Tool "+word, "text")}}); err != nil {
			t.Fatal(err)
		}
		found, _, err := s.Search(ctx, Query{Kind: KindTool, Text: word, Limit: 10})
		if err != nil || len(found) != 1 {
			t.Fatalf("search for %s right after its create: %d results, %v", word, len(found), err)
		}
		if i%2 == 0 {
			if _, err := s.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: id}}); err != nil {
				t.Fatal(err)
			}
			if total, _, err := s.Facets(ctx, Query{Kind: KindTool, Text: word}); err != nil || total != 0 {
				t.Fatalf("facets for %s right after its delete: %d, %v", word, total, err)
			}
		}
	}
}

// TestFilteredRankingMatchesUnfiltered checks that a filter only removes
// results: the ones left keep the order the unfiltered search gives them.
func TestFilteredRankingMatchesUnfiltered(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i, tc := range []struct {
		name, short string
		cats        []string
	}{
		{"Budget Tool", "participatory budgeting with participatory votes", []string{"budgeting"}},
		{"Votes", "participatory", []string{"budgeting"}},
		{"Participatory Hub", "participatory democracy", []string{"collaboration"}},
		{"Other", "a long description that mentions participatory once among many other words", []string{"budgeting"}},
	} {
		tl := tool(tc.name, tc.short)
		tl.Categories = tc.cats
		create(t, s, fmt.Sprintf("t%d", i), tl)
	}
	all, _, err := s.Search(ctx, Query{Kind: KindTool, Text: "participatory", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range all {
		if m.(*catalogv1.Tool).GetCategories()[0] == "budgeting" {
			want = append(want, m.(*catalogv1.Tool).GetName())
		}
	}
	got, _, err := s.Search(ctx, Query{Kind: KindTool, Text: "participatory", Filters: []Filter{{"category", []string{"budgeting"}}}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(names(got), want); diff != "" || len(want) != 3 {
		t.Errorf("filtered ranking (-got +want):\n%s", diff)
	}
}

// TestSearchSeesWhatReadsSaw checks, while another writer commits and
// the tools are requalified again and again (as each day), that a search
// made after a read sees at least what the read saw: a commit is visible
// in the database the moment it ends, and the search must wait for its
// changes from then on, not from when they reach the indexer.
func TestSearchSeesWhatReadsSaw(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	const writes = 300
	writer := make(chan error, 1)
	requalifying := make(chan struct{})
	defer close(requalifying)
	go func() {
		for {
			select {
			case <-requalifying:
				return
			default:
				s.queue(indexBatch{requalify: true})
				s.awaitIndex()
			}
		}
	}()
	go func() {
		for i := range writes {
			if _, err := s.Apply(ctx, []Write{{Op: OpCreate, ID: fmt.Sprintf("t-%d", i), Resource: tool(fmt.Sprintf("Tool %d", i), "text")}}); err != nil {
				writer <- err
				return
			}
		}
		writer <- nil
	}()
	for read := int64(0); read < writes; {
		counts, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		read = 0
		for _, c := range counts {
			read += c.Tools
		}
		searched, _, err := s.Facets(ctx, Query{Kind: KindTool})
		if err != nil {
			t.Fatal(err)
		}
		if searched < read {
			t.Fatalf("a read saw %d tools, the search after it %d", read, searched)
		}
	}
	if err := <-writer; err != nil {
		t.Fatal(err)
	}
}

// TestIndexerKeepsAnnouncedOrder checks that a reader waiting for a write
// announced to the indexer (committing, say) is not let go by a batch the
// indexer queues itself after it, such as a requalification: the indexer
// indexes batches in the order they were announced, and a reader waits
// until as many as were announced when it came are done.
func TestIndexerKeepsAnnouncedOrder(t *testing.T) {
	s, _ := openTest(t)
	create(t, s, "a", tool("A", "first"))
	ix := s.indexer
	slot := s.announceIndex()
	// What awaitIndex does, with its target taken before the
	// requalification is queued.
	ix.mu.Lock()
	target := ix.queued
	ix.mu.Unlock()
	returned := make(chan struct{})
	go func() {
		ix.mu.Lock()
		for ix.done < target {
			ix.cond.Wait()
		}
		ix.mu.Unlock()
		close(returned)
	}()
	s.queue(indexBatch{requalify: true})
	select {
	case <-returned:
		t.Fatal("a reader stopped waiting for a write announced before it and not delivered")
	case <-time.After(200 * time.Millisecond): // the time to look for a wrong return; the requalification takes a millisecond
	}
	s.deliverIndex(slot, nil, nil)
	<-returned
}

// TestCreateOverTombstoneInBatch checks the write path's second attempt: a
// batch of creates whose ids are not looked up first, one of which is the
// id of a tombstone, spread over several chunks of sealing. The create
// takes over the tombstone's row, the others get rows of their own, and a
// catalog that pulls them all from scratch has the same digest.
func TestCreateOverTombstoneInBatch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	create(t, s, "old-0", tool("Old 0", "consultation"))
	createAndDelete(t, s, "old-1")
	create(t, s, "old-2", tool("Old 2", "consultation"))
	var rid int64
	if err := s.reader.QueryRowContext(ctx, "SELECT rid FROM records WHERE id = 'old-1'").Scan(&rid); err != nil {
		t.Fatal(err)
	}
	var batch []Write
	for i := range 150 {
		id := fmt.Sprintf("new-%d", i)
		if i == 100 {
			id = "old-1"
		}
		batch = append(batch, Write{Op: OpCreate, ID: id, Resource: tool(fmt.Sprintf("Tool %d", i), "participation")})
	}
	out, err := s.Apply(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[100].(*catalogv1.Tool); got.GetSeq() != 4+101 || got.GetName() != "origins/fr/tools/old-1" {
		t.Errorf("the create over the tombstone: seq %d, name %s", got.GetSeq(), got.GetName())
	}
	var rows, ridNow int64
	if err := s.reader.QueryRowContext(ctx, "SELECT count(*), max(rid) FILTER (WHERE id = 'old-1') FROM records").Scan(&rows, &ridNow); err != nil {
		t.Fatal(err)
	}
	if rows != 3+149 || ridNow != rid {
		t.Errorf("%d rows, old-1 in row %d; want %d rows, old-1 still in row %d", rows, ridNow, 3+149, rid)
	}
	total, _, err := s.Facets(ctx, Query{Kind: KindTool, Text: "participation"})
	if err != nil || total != 150 {
		t.Errorf("search finds %d new tools, want 150 (%v)", total, err)
	}
	if total, _, _ := s.Facets(ctx, Query{Kind: KindTool, Text: "consultation"}); total != 2 {
		t.Errorf("search finds %d old tools, want 2", total)
	}
	// The digest kept by the writes is the one of the records.
	fresh := openAt(t, filepath.Join(t.TempDir(), "de.db"), "de", testKey(2))
	pull(t, s, fresh, 0)
	if diff := cmp.Diff(digests(t, s, "fr"), digests(t, fresh, "fr"), protocmp.Transform()); diff != "" {
		t.Errorf("digest of fr (-writer +replica):\n%s", diff)
	}
}

// TestHarvestPlanRunsAgain checks a harvest whose plan creates a tool over
// a tombstone: the write transaction starts over with every id looked up,
// the plan runs a second time from nothing, and the marks keep the seqs of
// the writes that committed.
func TestHarvestPlanRunsAgain(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	createAndDelete(t, s, "gone")
	calls := 0
	out, err := s.ApplyHarvest(ctx, "city", func(*HarvestTx) (HarvestPlan, error) {
		calls++
		return HarvestPlan{
			Writes: []Write{
				{Op: OpCreate, ID: "fresh", Resource: tool("Fresh", "f")},
				{Op: OpCreate, ID: "gone", Resource: tool("Back", "b")},
			},
			Marks: []HarvestMark{{SourceID: "a", ID: "fresh", Hash: []byte{1}, Write: 0}, {SourceID: "b", ID: "gone", Hash: []byte{2}, Write: 1}},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("the plan ran %d times, want 2 (the second with every id looked up)", calls)
	}
	for i, id := range []string{"fresh", "gone"} {
		var seq int64
		if err := s.reader.QueryRowContext(ctx, "SELECT seq FROM harvest_entries WHERE source = 'city' AND id = ?", id).Scan(&seq); err != nil {
			t.Fatal(err)
		}
		if got := out[i].(*catalogv1.Tool).GetSeq(); seq != got {
			t.Errorf("%s: the mark keeps seq %d, the tool has %d", id, seq, got)
		}
	}
	if got, err := s.Get(ctx, KindTool, "fr", "gone"); err != nil || got.(*catalogv1.Tool).GetDisplayName() != "Back" {
		t.Errorf("the tool created over the tombstone: %v, %v", got, err)
	}
}

// createAndDelete leaves a tombstone of the tool id.
func createAndDelete(t *testing.T, s *Store, id string) {
	t.Helper()
	create(t, s, id, tool("Deleted "+id, "deleted"))
	if _, err := s.Apply(context.Background(), []Write{{Op: OpDelete, Kind: KindTool, ID: id}}); err != nil {
		t.Fatal(err)
	}
}

// TestCatalogThatCannotBeWrittenRefused checks that a catalog file the
// node cannot write (read-only to its user, or immutable) is refused when
// it is opened, naming the file: SQLite opened it read-only without a
// word, the node started and answered reads, and every write and every
// pull failed.
func TestCatalogThatCannotBeWrittenRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := openAt(t, path, "fr", testKey(1))
	create(t, s, "decidim", tool("Decidim", "Participatory democracy"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Read-only to a user that is not root; immutable for root, whom
	// permissions do not stop.
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
	} else {
		if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
			t.Skipf("cannot make the file immutable here: %v: %s", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
	}
	_, err := Open(ctx, Options{Path: path, Origin: "fr", Key: testKey(1)})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "cannot be written") {
		t.Fatalf("a catalog that cannot be written was opened: %v", err)
	}
}

// TestDiskFullWritesNothing: a write that finds the disk full (here, the
// file at its largest size: SQLite says the same) fails as such, writes
// nothing, and goes through once there is room.
func TestDiskFullWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	create(t, s, "first", tool("First", "x"))
	var pages int64
	if err := s.writer.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	var batch []Write
	for i := range 200 {
		batch = append(batch, Write{Op: OpCreate, ID: fmt.Sprintf("t%d", i), Resource: tool(fmt.Sprintf("Tool %d", i), strings.Repeat("words ", 40))})
	}
	head := func() int64 {
		w, err := s.Watermark(ctx, "fr")
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	before := head()
	if _, err := s.Apply(ctx, batch); !DiskFull(err) {
		t.Fatalf("a write on a full disk: %v, want SQLite's disk full", err)
	}
	if _, err := s.Get(ctx, KindTool, "fr", "t0"); !errors.Is(err, ErrNotFound) || head() != before {
		t.Errorf("the write that failed left t0 (%v) or moved the head from %d to %d", err, before, head())
	}
	if _, err := s.writer.ExecContext(ctx, "PRAGMA max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, batch); err != nil {
		t.Errorf("the write once there is room: %v", err)
	}
}

// TestRefusedBeforeMigrating: a catalog opened under another origin, or
// with another key, is refused before a migration changes it (else the
// ogpnode before could no longer open it), and a peek at the members it
// remembers changes nothing either.
func TestRefusedBeforeMigrating(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := openAt(t, path, "fr", testKey(1))
	if err := s.SavePeer(ctx, Peer{Origin: "de", GossipAddr: "127.0.0.1:7946", GRPCAddr: "127.0.0.1:7400"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// As an earlier version left it: before its last migration.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	schema := func() (v int) {
		t.Helper()
		if err := db.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	latest := schema()
	if _, err := db.Exec("DELETE FROM schema_migrations WHERE version = ?; ALTER TABLE records DROP COLUMN r_x", latest); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		origin string
		key    ed25519.PrivateKey
		says   string
	}{{"de", testKey(1), `belongs to origin "fr"`}, {"fr", testKey(2), "not the one"}} {
		if _, err := Open(ctx, Options{Path: path, Origin: c.origin, Key: c.key}); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("opened as %s: %v, want it refused saying %s", c.origin, err, c.says)
		}
		if v := schema(); v != latest-1 {
			t.Errorf("opened as %s and refused, the catalog is at schema %d, want %d as before", c.origin, v, latest-1)
		}
	}
	if n, err := RememberedMembers(ctx, path); err != nil || n != 1 || schema() != latest-1 {
		t.Errorf("RememberedMembers: %d, %v, schema %d; want 1, and the catalog as it was", n, err, schema())
	}
	db.Close()
	openAt(t, path, "fr", testKey(1)) // its owner migrates it
	if n, err := RememberedMembers(ctx, filepath.Join(t.TempDir(), "none.db")); err != nil || n != 0 {
		t.Errorf("RememberedMembers of no catalog: %d, %v", n, err)
	}
}

// TestCopiedBeforeMigrating: a catalog of an earlier schema is copied as it
// was beside it before the migration, the way back to the ogpnode before;
// a catalog already at the latest schema, or new, is not.
func TestCopiedBeforeMigrating(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := openAt(t, path, "fr", testKey(1))
	create(t, s, "decidim", tool("Decidim", "Participatory democracy"))
	s.Close()
	if _, err := os.Stat(path + ".schema-0"); err == nil {
		t.Errorf("a new catalog copied")
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var latest int
	if err := db.QueryRow("SELECT max(version) FROM schema_migrations").Scan(&latest); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM schema_migrations WHERE version = ?; ALTER TABLE records DROP COLUMN r_x", latest); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, "fr", testKey(1))
	if _, err := s.Get(ctx, KindTool, "fr", "decidim"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	copyPath := fmt.Sprintf("%s.schema-%d", path, latest-1)
	old, err := sql.Open("sqlite", "file:"+copyPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	var version, records int
	if err := old.QueryRow("SELECT max(version), (SELECT count(*) FROM records) FROM schema_migrations").Scan(&version, &records); err != nil || version != latest-1 || records != 1 {
		t.Errorf("the copy: schema %d, %d records (%v); want %d and 1", version, records, err, latest-1)
	}
	openAt(t, path, "fr", testKey(1)).Close() // at the latest schema: no copy
	if entries, _ := filepath.Glob(path + ".schema-*"); len(entries) != 1 {
		t.Errorf("copies: %v", entries)
	}
}

// TestCountsAgreeWithTheRows: the counts of each origin's records (live
// tools and use cases from the search indexes, tombstones the rest of the
// origin's rows) are those of the catalog's rows, after creates, updates,
// deletes, a create again of an id deleted, and a peer's pages with
// tombstones.
func TestCountsAgreeWithTheRows(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	fr := openAt(t, filepath.Join(dir, "fr.db"), "fr", testKey(1))
	de := openAt(t, filepath.Join(dir, "de.db"), "de", testKey(2))
	for _, s := range []*Store{fr, de} {
		if _, err := s.Apply(ctx, numberedCreates(20)); err != nil {
			t.Fatal(err)
		}
		create(t, s, "u1", useCase("origins/fr/tools/t1", catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, "FR"))
		var ws []Write
		for i := range 5 {
			ws = append(ws, Write{Op: OpDelete, Kind: KindTool, ID: fmt.Sprintf("t%d", i)})
		}
		ws = append(ws, Write{Op: OpReplace, ID: "t9", Resource: tool("Nine", "updated")})
		if _, err := s.Apply(ctx, ws); err != nil {
			t.Fatal(err)
		}
		create(t, s, "t2", tool("Two", "again"))
	}
	for _, p := range pages(t, de, fr, 0) {
		if _, err := fr.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := fr.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rows []OriginCounts
	for _, origin := range []string{"de", "fr"} {
		c := OriginCounts{Origin: origin, HeadSeq: 28}
		count := func(where string, args ...any) int64 {
			var n int64
			if err := fr.reader.QueryRowContext(ctx, "SELECT count(*) FROM records WHERE origin = ? AND "+where, append([]any{origin}, args...)...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		c.Tools, c.UseCases, c.Tombstones = count("kind = ? AND deleted = 0", KindTool), count("kind = ? AND deleted = 0", KindUseCase), count("deleted = 1")
		rows = append(rows, c)
	}
	if diff := cmp.Diff(counts, rows); diff != "" {
		t.Errorf("counts (-got +rows):\n%s", diff)
	}
	if want := (OriginCounts{Origin: "fr", Tools: 16, UseCases: 1, Tombstones: 4, HeadSeq: 28}); rows[1] != want {
		t.Errorf("the rows of fr: %+v, want %+v", rows[1], want)
	}
}
