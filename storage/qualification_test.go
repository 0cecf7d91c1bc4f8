package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

func criterionMet(t *testing.T, tool *catalogv1.Tool, id string) bool {
	t.Helper()
	for _, c := range tool.GetQualification().GetCriteria() {
		if c.GetId() == id {
			return c.GetMet()
		}
	}
	t.Fatalf("%s has no criterion %s: %v", tool.GetName(), id, tool.GetQualification())
	return false
}

func useCase(tool string, kind catalogv1.OrganizationKind, country string) *catalogv1.UseCase {
	return &catalogv1.UseCase{Tool: tool, Purpose: "Consultations",
		Organization: &catalogv1.Organization{Name: "City of " + country, Kind: kind, Country: country}}
}

func localGov(tool, country string) *catalogv1.UseCase {
	return useCase(tool, catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, country)
}

// servedUsed reports whether the tool origin/id is served as used by an
// administration.
func servedUsed(t *testing.T, s *Store, origin, id string) bool {
	t.Helper()
	m, err := s.Get(context.Background(), KindTool, origin, id)
	if err != nil {
		t.Fatal(err)
	}
	return criterionMet(t, m.(*catalogv1.Tool), "used_by_administration")
}

// TestQualificationFollowsUseCases checks that a tool's qualification, as
// served and as searched, changes when use cases of its software come and
// go, whether they name the tool, a duplicate of it, or its repository.
func TestQualificationFollowsUseCases(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	decidim := tool("Decidim", "Participatory democracy")
	decidim.RepositoryUrl, decidim.License = "https://github.com/decidim/decidim", "AGPL-3.0-or-later"
	create(t, s, "decidim", decidim)
	dup := tool("Decidim (city fork)", "The same software")
	dup.RepositoryUrl = "https://github.com/Decidim/decidim.git"
	create(t, s, "decidim-city", dup)
	create(t, s, "other", tool("Other", "Something else"))

	used := func(id string) bool {
		m, err := s.Get(ctx, KindTool, "fr", id)
		if err != nil {
			t.Fatal(err)
		}
		return criterionMet(t, m.(*catalogv1.Tool), "used_by_administration")
	}
	searchUsed := func() []string {
		found, _, err := s.Search(ctx, Query{Kind: KindTool, Filters: []Filter{{"criterion", []string{"used_by_administration"}}}, Order: "name", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return names(found)
	}
	if used("decidim") || len(searchUsed()) != 0 {
		t.Fatal("used by an administration before any use case")
	}

	// A use case of the duplicate counts for both records of the software.
	create(t, s, "paris", useCase("origins/fr/tools/decidim-city", catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, "FR"))
	if !used("decidim") || !used("decidim-city") || used("other") {
		t.Errorf("after a use case of the duplicate: decidim %v, decidim-city %v, other %v", used("decidim"), used("decidim-city"), used("other"))
	}
	if got := searchUsed(); !slices.Equal(got, []string{"origins/fr/tools/decidim", "origins/fr/tools/decidim-city"}) {
		t.Errorf("search for used tools: %v", got)
	}
	if _, err := s.Apply(ctx, []Write{{Op: OpDelete, Kind: KindUseCase, ID: "paris"}}); err != nil {
		t.Fatal(err)
	}
	if used("decidim") || len(searchUsed()) != 0 {
		t.Errorf("still used after the use case was deleted: %v", searchUsed())
	}

	// A use case naming the repository by URL; a civil-society one does
	// not count.
	create(t, s, "madrid", useCase("http://www.github.com/decidim/decidim/", catalogv1.OrganizationKind_ORGANIZATION_KIND_NATIONAL_GOVERNMENT, "ES"))
	create(t, s, "ngo", useCase("origins/fr/tools/other", catalogv1.OrganizationKind_ORGANIZATION_KIND_CIVIL_SOCIETY, "FR"))
	if got := searchUsed(); !slices.Equal(got, []string{"origins/fr/tools/decidim", "origins/fr/tools/decidim-city"}) {
		t.Errorf("search for used tools after a use case by URL: %v", got)
	}

	// Collapsing keeps one record of the software.
	all, _, err := s.Search(ctx, Query{Kind: KindTool, Order: "score", Desc: true, CollapseDuplicates: true, Limit: 10})
	if err != nil || len(all) != 2 || names(all)[0] != "origins/fr/tools/decidim" {
		t.Errorf("collapsed by score: %v, %v", names(all), err)
	}

	// The adoption view: both records and every use case of the software.
	a, err := s.Adoption(ctx, "fr", "decidim-city")
	if err != nil {
		t.Fatal(err)
	}
	var tools, useCases []string
	for _, x := range a.Tools {
		tools = append(tools, x.GetName())
	}
	for _, u := range a.UseCases {
		useCases = append(useCases, u.GetName())
	}
	if a.Software != "github.com/decidim/decidim" || !slices.Equal(tools, []string{"origins/fr/tools/decidim", "origins/fr/tools/decidim-city"}) ||
		!slices.Equal(useCases, []string{"origins/fr/usecases/madrid"}) {
		t.Errorf("adoption: %s %v %v", a.Software, tools, useCases)
	}

	// The links are rebuilt when the catalog opens again.
	s.Close()
	reopened := openAt(t, path, "fr", testKey(1))
	found, _, err := reopened.Search(ctx, Query{Kind: KindTool, Filters: []Filter{{"criterion", []string{"used_by_administration"}}}, Order: "name", Limit: 10})
	if err != nil || len(found) != 2 {
		t.Errorf("after reopening: %v, %v", names(found), err)
	}
}

// TestToolJoiningItsSoftware checks that a tool arriving after a use case
// that names it, as replication may bring them, requalifies the tools
// already held of the same software, in search as well.
func TestToolJoiningItsSoftware(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	decidim := tool("Decidim", "Participatory democracy")
	decidim.RepositoryUrl = "https://github.com/decidim/decidim"
	create(t, s, "decidim", decidim)
	create(t, s, "lyon", useCase("origins/fr/tools/late-fork", catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, "FR"))
	searchUsed := func() []string {
		found, _, err := s.Search(ctx, Query{Kind: KindTool, Filters: []Filter{{"criterion", []string{"used_by_administration"}}}, Order: "name", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return names(found)
	}
	if got := searchUsed(); len(got) != 0 {
		t.Fatalf("used before the tool the use case names exists: %v", got)
	}
	fork := tool("Decidim (late fork)", "The same software")
	fork.RepositoryUrl = "https://github.com/decidim/decidim.git"
	create(t, s, "late-fork", fork)
	if got := searchUsed(); !slices.Equal(got, []string{"origins/fr/tools/decidim", "origins/fr/tools/late-fork"}) {
		t.Errorf("search for used tools once the fork arrived: %v", got)
	}
	// A tool no use case names joins and leaves without changing the
	// others' (nor requalifying them); the one a use case names leaves
	// with its use case.
	another := tool("Decidim (another)", "The same software")
	another.RepositoryUrl = "https://github.com/decidim/decidim"
	create(t, s, "another", another)
	if got := searchUsed(); !slices.Equal(got, []string{"origins/fr/tools/decidim", "origins/fr/tools/another", "origins/fr/tools/late-fork"}) {
		t.Errorf("search for used tools once another joined: %v", got)
	}
	for _, id := range []string{"another", "late-fork"} {
		if _, err := s.Apply(ctx, []Write{{Op: OpDelete, Kind: KindTool, ID: id}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := searchUsed(); len(got) != 0 {
		t.Errorf("used once the tool the use case names left its software: %v", got)
	}
}

// TestRequalifiedWhenUseCasesChange checks which tools the links give to
// requalify when a tool joins or leaves its software: the others only if
// use cases name it (by name or landing URL), which they then gain or
// lose; none if not, however large the software.
func TestRequalifiedWhenUseCasesChange(t *testing.T) {
	l := newLinks()
	for rid := range int64(100) {
		l.setTool(rid+1, toolLink{name: fmt.Sprintf("origins/fr/tools/t%d", rid+1), key: "github.com/decidim/decidim"})
	}
	l.setUseCase(1000, useCase("origins/fr/tools/t1", catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, "FR"))
	l.setUseCase(1001, useCase("https://decidim.example.org", catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, "FR"))
	if got := l.setTool(101, toolLink{name: "origins/fr/tools/t101", key: "github.com/decidim/decidim"}); len(got) != 0 {
		t.Errorf("a tool no use case names joining a software of 100 gives %d to requalify", len(got))
	}
	if got := l.removeTool(101); len(got) != 0 {
		t.Errorf("a tool no use case names leaving gives %d to requalify", len(got))
	}
	if got := l.setTool(102, toolLink{name: "origins/fr/tools/t102", key: "github.com/decidim/decidim", landing: "decidim.example.org"}); len(got) != 100 {
		t.Errorf("a tool a use case names by landing URL joining a software of 100 gives %d to requalify, want 100", len(got))
	}
	if got := l.removeTool(1); len(got) != 100 {
		t.Errorf("the tool a use case names leaving a software of 101 gives %d to requalify, want 100", len(got))
	}
}

// TestRequalifyAll checks that the daily requalification brings the
// index's criteria up to date with the date: a release grows old.
func TestRequalifyAll(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "catalog.db"), Origin: "fr", Key: testKey(1), Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// More tools than one chunk of the requalification.
	const n = requalifyChunkSize + 100
	writes := make([]Write, n)
	for i := range writes {
		kept := tool(fmt.Sprintf("Kept %d", i), "Maintained")
		kept.Maintenance = &catalogv1.Maintenance{Type: "internal"}
		kept.ReleaseDate = "2024-01-15"
		writes[i] = Write{Op: OpCreate, ID: fmt.Sprintf("kept-%d", i), Resource: kept}
	}
	if _, err := s.Apply(ctx, writes); err != nil {
		t.Fatal(err)
	}
	maintained := func() int64 {
		total, _, err := s.Facets(ctx, Query{Kind: KindTool, Filters: []Filter{{"criterion", []string{"maintained"}}}})
		if err != nil {
			t.Fatal(err)
		}
		return total
	}
	if got := maintained(); got != n {
		t.Fatalf("%d tools released this year are maintained, want %d", got, n)
	}
	mu.Lock()
	now = now.AddDate(3, 0, 0)
	mu.Unlock()
	s.queue(indexBatch{requalify: true}) // what the daily ticker does
	// The first chunk is done before the next search; the rest follows.
	if got := maintained(); got > n-requalifyChunkSize {
		t.Errorf("after the first chunk, %d tools still count as maintained", got)
	}
	deadline := time.Now().Add(30 * time.Second)
	for maintained() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("three years on, %d tools still count as maintained", maintained())
		}
		time.Sleep(10 * time.Millisecond) // a poll interval
	}
}

// TestAdoptionOfALargeSoftware reads the adoption of a software of many
// records: every record listed (their rids are read in chunks: SQLite
// takes at most 32,766 variables a statement, and one statement of them
// all failed above that), each qualified, at a cost in allocations that
// grows with the records, not their square (each record's qualification
// walked the whole software for its use cases).
func TestAdoptionOfALargeSoftware(t *testing.T) {
	adoption := func(n int) (*Adoption, float64) {
		ctx := context.Background()
		s, _ := openTest(t)
		writes := make([]Write, 0, n+1)
		for i := range n {
			tl := tool(fmt.Sprintf("Decidim %d", i), "Participatory democracy")
			tl.RepositoryUrl = "https://github.com/decidim/decidim"
			tl.LandingUrl = fmt.Sprintf("https://decidim-%d.example.org", i)
			writes = append(writes, Write{Op: OpCreate, ID: fmt.Sprintf("d%d", i), Resource: tl})
		}
		writes = append(writes, Write{Op: OpCreate, ID: "u", Resource: useCase("origins/fr/tools/d1", catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, "FR")})
		if _, err := s.Apply(ctx, writes); err != nil {
			t.Fatal(err)
		}
		a, err := s.Adoption(ctx, "fr", "d0")
		if err != nil {
			t.Fatalf("adoption of a software of %d records: %v", n, err)
		}
		return a, testing.AllocsPerRun(1, func() { s.Adoption(ctx, "fr", "d0") })
	}
	small, smallAllocs := adoption(300)
	large, largeAllocs := adoption(1200)
	if len(small.Tools) != 300 || len(large.Tools) != 1200 || len(large.UseCases) != 1 {
		t.Fatalf("adoption lists %d and %d tools, %d use cases", len(small.Tools), len(large.Tools), len(large.UseCases))
	}
	for _, tl := range large.Tools {
		if !criterionMet(t, tl, "used_by_administration") {
			t.Fatalf("%s is not used by an administration, through the use case of its software", tl.GetName())
		}
	}
	if largeAllocs > 8*smallAllocs {
		t.Errorf("4 times the records took %.1f times the allocations (%.0f, %.0f)", largeAllocs/smallAllocs, smallAllocs, largeAllocs)
	}
}

// TestAppStorePagesAreTwoSoftware: two apps whose landing pages are store
// pages, told apart only by their query, are two software: not collapsed
// into one, and a use case of one does not qualify the other. The query was
// dropped from every key.
func TestAppStorePagesAreTwoSoftware(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a := tool("Pétitions", "The national petitions app")
	a.LandingUrl = "https://play.google.com/store/apps/details?id=fr.gouv.petitions"
	create(t, s, "petitions", a)
	b := tool("Budget", "A city's participatory budget app")
	b.LandingUrl = "https://play.google.com/store/apps/details?id=es.madrid.presupuestos&utm_source=ogp"
	create(t, s, "budget", b)
	create(t, s, "ministry", useCase("origins/fr/tools/petitions", catalogv1.OrganizationKind_ORGANIZATION_KIND_NATIONAL_GOVERNMENT, "FR"))

	m, err := s.Get(ctx, KindTool, "fr", "budget")
	if err != nil {
		t.Fatal(err)
	}
	if criterionMet(t, m.(*catalogv1.Tool), "used_by_administration") {
		t.Errorf("budget is used by an administration through the use case of another app: %v", m.(*catalogv1.Tool).GetQualification())
	}
	found, total, err := s.Search(ctx, Query{Kind: KindTool, CollapseDuplicates: true, Limit: 10})
	if err != nil || len(found) != 2 || total != 2 {
		t.Errorf("collapsed search: %v (total %d), %v", names(found), total, err)
	}
	ad, err := s.Adoption(ctx, "fr", "budget")
	if err != nil || len(ad.Tools) != 1 || len(ad.UseCases) != 0 {
		t.Errorf("adoption of budget: software %q, %d tools, %d use cases, %v", ad.Software, len(ad.Tools), len(ad.UseCases), err)
	}
}

// TestIndexRequalifiedWhenTheDayChanges checks that the criteria the index
// filters, counts and orders by follow the qualification each tool is
// served with, worked out for the day of the read: a release that turns
// two years old at midnight UTC stops meeting "maintained" then, in the
// index too. The index requalified every 24 hours from the node's start,
// and disagreed with the tools it listed for up to a day.
func TestIndexRequalifiedWhenTheDayChanges(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "catalog.db"), Origin: "fr", Key: testKey(1), Now: clock, dayCheckEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tl := tool("Decidim", "participatory democracy")
	tl.Maintenance = &catalogv1.Maintenance{Type: "community"}
	tl.ReleaseDate = "2024-03-10" // two years old on 2026-03-10 (met), more on 2026-03-11 (not met)
	create(t, s, "decidim", tl)
	maintained := Query{Kind: KindTool, Filters: []Filter{{criterionFacet, []string{"maintained"}}}, Limit: 10}
	if _, total, err := s.Search(ctx, maintained); err != nil || total != 1 {
		t.Fatalf("on the day of the write, criterion=maintained: %d, %v; want 1", total, err)
	}
	mu.Lock()
	now = now.Add(13 * time.Hour) // 2026-03-11 01:00 UTC: the next day
	mu.Unlock()
	m, err := s.Get(ctx, KindTool, "fr", "decidim")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.(*catalogv1.Tool).GetQualification().GetCriteria() {
		if c.GetId() == "maintained" && c.GetMet() {
			t.Fatalf("the test's dates are wrong: maintained is still met: %s", c.GetReason())
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, total, err := s.Search(ctx, maintained)
		if err != nil {
			t.Fatal(err)
		}
		_, counts, err := s.Facets(ctx, Query{Kind: KindTool})
		if err != nil {
			t.Fatal(err)
		}
		counted := int64(0)
		for _, c := range counts {
			if c.Facet == criterionFacet && c.Value == "maintained" {
				counted = c.Count
			}
		}
		if total == 0 && counted == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the next day, criterion=maintained matches %d tool(s) and its facet counts %d; the tool served says maintained is not met", total, counted)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
