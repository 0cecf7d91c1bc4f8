package storage

import (
	"context"
	"fmt"
	"slices"
	"testing"
)

// TestRidSets checks the sets the links keep by key: removing a rid keeps
// the others, removing one not there changes nothing, and an emptied set
// is gone from the map.
func TestRidSets(t *testing.T) {
	m := map[string]ridSet{}
	for _, rid := range []int64{3, 1, 2} {
		addTo(m, "k", rid)
	}
	addTo(m, "", 9)
	sorted := func(k string) []int64 { return slices.Sorted(m[k].all()) }
	if got := sorted("k"); !slices.Equal(got, []int64{1, 2, 3}) || len(m) != 1 {
		t.Fatalf("after adding 3 1 2, and 9 under no key: %v (%d keys)", got, len(m))
	}
	removeFrom(m, "k", 3)
	removeFrom(m, "k", 7)
	removeFrom(m, "other", 1)
	if got := sorted("k"); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("after removing 3, and rids not there: %v", got)
	}
	addTo(m, "k", 3)
	removeFrom(m, "k", 1)
	if got := sorted("k"); !slices.Equal(got, []int64{2, 3}) {
		t.Fatalf("after adding 3 again and removing 1: %v", got)
	}
	removeFrom(m, "k", 2)
	removeFrom(m, "k", 3)
	if _, ok := m["k"]; ok {
		t.Errorf("an emptied set stays in the map: %v", m)
	}
}

// TestUseCaseByLandingURLWalksItsSoftwareOnce: the records of one software
// share its landing page (every member's Decidim gives decidim.org). A use
// case naming that URL requalifies each record once: the links walked the
// whole software for each record with that landing URL, n² rids for n
// records (69 MiB of them at 3,000).
func TestUseCaseByLandingURLWalksItsSoftwareOnce(t *testing.T) {
	const n = 3000
	l := newLinks()
	for rid := range int64(n) {
		l.setTool(rid+1, toolLink{name: fmt.Sprintf("origins/fr/tools/d%d", rid+1), key: "github.com/decidim/decidim", landing: "decidim.org"})
	}
	if got := l.setUseCase(n+1, localGov("https://decidim.org/", "FR")); len(got) > 2*n {
		t.Errorf("a use case naming the landing URL of a software of %d records gives %d rids to requalify, want each record once or twice", n, len(got))
	}
	if got := l.setUseCase(n+2, localGov("origins/fr/tools/d1", "FR")); len(got) > 2*n {
		t.Errorf("a use case naming a record of a software of %d records gives %d rids to requalify", n, len(got))
	}
	// A landing URL two software share: each is walked.
	l.setTool(n+3, toolLink{name: "origins/fr/tools/fork", key: "github.com/city/decidim-fork", landing: "decidim.org"})
	got := l.setUseCase(n+4, localGov("https://decidim.org/", "FR"))
	if !slices.Contains(got, 1) || !slices.Contains(got, n) || !slices.Contains(got, n+3) {
		t.Errorf("a use case naming a landing URL two software share: %d rids, not every record of both", len(got))
	}
}

// TestOwnerPagesAreNoSoftware: two different tools of one organisation
// whose repository URL is the organisation's page on its forge (GitHub's
// /orgs/NAME, GitLab's /groups/NAME), not a repository, are two software:
// neither is served as used through the other's use case, both are listed
// one record per software, and neither's adoption holds the other.
func TestOwnerPagesAreNoSoftware(t *testing.T) {
	for _, owner := range []string{"https://github.com/orgs/etalab/repositories", "https://gitlab.com/groups/etalab/-/shared"} {
		t.Run(owner, func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTest(t)
			a := tool("Pétitions", "The national petitions site")
			a.RepositoryUrl, a.LandingUrl = owner, "https://petitions.example.fr"
			create(t, s, "petitions", a)
			b := tool("Budget", "A participatory budget site")
			b.RepositoryUrl, b.LandingUrl = owner, "https://budget.example.fr"
			create(t, s, "budget", b)
			create(t, s, "ministry", localGov("origins/fr/tools/petitions", "FR"))

			if servedUsed(t, s, "fr", "budget") {
				t.Errorf("budget is served as used by an administration through the use case of petitions")
			}
			found, total, err := s.Search(ctx, Query{Kind: KindTool, CollapseDuplicates: true, Limit: 10})
			if err != nil || len(found) != 2 || total != 2 {
				t.Errorf("collapse_duplicates lists %v (total %d), want both tools: %v", names(found), total, err)
			}
			ad, err := s.Adoption(ctx, "fr", "budget")
			if err != nil {
				t.Fatal(err)
			}
			if len(ad.Tools) != 1 || len(ad.UseCases) != 0 {
				t.Errorf("adoption of budget: software %q, %d tools, %d use cases", ad.Software, len(ad.Tools), len(ad.UseCases))
			}
		})
	}
}

// TestUseCaseNamingAToolWithSpaces: a peer's use case is not validated,
// and may name its tool with spaces around: it counts for the tool, as
// identity.RefersTo says.
func TestUseCaseNamingAToolWithSpaces(t *testing.T) {
	l := newLinks()
	l.setTool(1, toolLink{name: "origins/fr/tools/d", key: "github.com/decidim/decidim"})
	if got := l.setUseCase(2, localGov(" origins/fr/tools/d\n", "FR")); !slices.Contains(got, 1) {
		t.Errorf("a use case naming the tool with spaces around requalifies %v, not the tool", got)
	}
	if got := l.useCasesOf(toolLink{name: "origins/fr/tools/d", key: "github.com/decidim/decidim"}); len(got) != 1 {
		t.Errorf("the tool's use cases: %d, want the one naming it with spaces", len(got))
	}
}
