package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// listAll pages through ListTools, calling between(page, token) after each
// page but the last, with its next_page_token, and returns the display
// names seen.
func listAll(t *testing.T, n *testNode, req *catalogv1.ListToolsRequest, between func(page int, token string)) []string {
	t.Helper()
	ctx := context.Background()
	var seen []string
	for page := 0; page < 20; page++ {
		resp, err := n.client.ListTools(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, tl := range resp.GetTools() {
			seen = append(seen, tl.GetDisplayName())
		}
		if resp.GetNextPageToken() == "" {
			return seen
		}
		between(page, resp.GetNextPageToken())
		req.PageToken = resp.GetNextPageToken()
	}
	t.Fatal("paging does not end")
	return nil
}

// createNamedTools creates the tools tool-0 to tool-(count-1), named "Tool
// 0" and so on.
func createNamedTools(t *testing.T, n *testNode, count int) {
	t.Helper()
	for i := range count {
		tl := validTool()
		tl.DisplayName = fmt.Sprintf("Tool %d", i)
		if _, err := n.client.CreateTool(admin(context.Background()), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: fmt.Sprintf("tool-%d", i), Tool: tl}); err != nil {
			t.Fatal(err)
		}
	}
}

func timesSeen(names []string, name string) int {
	n := 0
	for _, x := range names {
		if x == name {
			n++
		}
	}
	return n
}

// TestPaging pages through tools by name, two a page, and checks that a
// page token is refused with another query.
func TestPaging(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	createNamedTools(t, n, 5)
	names := listAll(t, n, &catalogv1.ListToolsRequest{OrderBy: "display_name", PageSize: 2}, func(_ int, token string) {
		// A token is bound to its query.
		other := &catalogv1.ListToolsRequest{OrderBy: "display_name desc", PageSize: 2, PageToken: token}
		if _, err := n.client.ListTools(ctx, other); status.Code(err) != codes.InvalidArgument {
			t.Errorf("token with another query: %v", err)
		}
	})
	if diff := cmp.Diff(names, []string{"Tool 0", "Tool 1", "Tool 2", "Tool 3", "Tool 4"}); diff != "" {
		t.Errorf("pages (-got +want):\n%s", diff)
	}
}

// TestPagingAcrossWrites lists tools two by two while other tools are
// written between pages: a client walking the catalog sees each tool that
// was there all along exactly once. Page tokens held an offset, which
// skipped a tool for each one deleted before it, and repeated one for each
// one updated (in the default order, the last updated first).
func TestPagingAcrossWrites(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	createNamedTools(t, n, 6)
	seen := listAll(t, n, &catalogv1.ListToolsRequest{OrderBy: "display_name", PageSize: 2}, func(page int, _ string) {
		if page == 0 {
			if _, err := n.client.DeleteTool(admin(ctx), &catalogv1.DeleteToolRequest{Name: "origins/fr/tools/tool-0"}); err != nil {
				t.Fatal(err)
			}
			tl := validTool()
			tl.DisplayName = "Tool 00"
			if _, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "tool-00", Tool: tl}); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, want := range []string{"Tool 1", "Tool 2", "Tool 3", "Tool 4", "Tool 5"} {
		if timesSeen(seen, want) != 1 {
			t.Errorf("by name, a tool of page 1 deleted and one written before the page's end: %q seen %d times in %q, want once", want, timesSeen(seen, want), seen)
		}
	}
	seen = listAll(t, n, &catalogv1.ListToolsRequest{PageSize: 2}, func(page int, _ string) {
		if page == 0 {
			if _, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{
				Tool:       &catalogv1.Tool{Name: "origins/fr/tools/tool-2", DevelopmentStatus: "stable"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"development_status"}},
			}); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, want := range []string{"Tool 00", "Tool 1", "Tool 3", "Tool 4", "Tool 5"} {
		if timesSeen(seen, want) != 1 {
			t.Errorf("last updated first, a tool updated after page 1: %q seen %d times in %q, want once", want, timesSeen(seen, want), seen)
		}
	}
}

// TestListNotEndedByADelete lists three tools one a page while another
// request deletes and creates again the first: every answer whose
// total_size says more tools follow carries a next_page_token. A record
// deleted between the index's answer and the read of the page was left
// out of the page, which then looked like the last.
func TestListNotEndedByADelete(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	srv := &catalogServer{store: n.store}
	for _, id := range []string{"a", "b", "c"} {
		tl := validTool()
		tl.DisplayName = "Tool " + id
		if _, err := srv.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: id, Resource: tl}}); err != nil {
			t.Fatal(err)
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			srv.store.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: "a"}})
			tl := validTool()
			tl.DisplayName = "Tool a"
			srv.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "a", Resource: tl}})
		}
	}()
	defer func() { close(stop); <-done }()
	for i := range 5000 {
		resp, err := srv.ListTools(ctx, &catalogv1.ListToolsRequest{OrderBy: "display_name", PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetTotalSize() >= 3 && resp.GetNextPageToken() == "" {
			t.Fatalf("list %d: total_size %d, %d tools, and no next_page_token: the client stops before Tool c", i, resp.GetTotalSize(), len(resp.GetTools()))
		}
	}
}

// TestRelevancePagingAcrossWrites searches one tool a page, by relevance
// (the order of any search with words), while tools the words do not match
// are created between pages, as replication and harvests do: each write
// changes every score, and a listing ended after its first page.
func TestRelevancePagingAcrossWrites(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	create := func(id, name, desc string) {
		t.Helper()
		tl := &catalogv1.Tool{DisplayName: name, Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: desc}}}
		if _, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: id, Tool: tl}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		create("petitions-"+id, "Petitions "+id, "Online petitions for cities")
	}
	for _, id := range []string{"x", "y", "z", "w"} {
		create("budget-"+id, "Budget "+id, "Participatory budgeting")
	}
	seen := listAll(t, n, &catalogv1.ListToolsRequest{Query: "petitions", PageSize: 1}, func(page int, _ string) {
		create(fmt.Sprintf("other-%d", page), "Other", "Open data portal")
	})
	for _, want := range []string{"Petitions a", "Petitions b", "Petitions c"} {
		if timesSeen(seen, want) != 1 {
			t.Errorf("the search for petitions listed %q, want each petition tool once", seen)
			break
		}
	}
}

// TestPagingPastALongName lists tools by name, one a page, past a peer's
// tool of a display name of 5,000 bytes (a peer's records are not
// validated): its page's token carried the whole name, and the node
// refused it as too long, so no listing by name got past that tool.
func TestPagingPastALongName(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	createNamedTools(t, n, 2)
	seed := sha256.Sum256([]byte("zz"))
	key := ed25519.NewKeyFromSeed(seed[:])
	long := &catalogv1.Tool{Name: "origins/zz/tools/long", Origin: "zz", Seq: 1, DisplayName: "A " + strings.Repeat("long name ", 500)}
	b, err := proto.Marshal(long)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := envelope.Seal(&federationv1.Record{Origin: "zz", Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: "long", Seq: 1, Resource: b}, key)
	if err != nil {
		t.Fatal(err)
	}
	page := &federationv1.OriginPage{Origin: "zz", PublicKey: key.Public().(ed25519.PublicKey), ThroughSeq: 1, Records: []*federationv1.SignedRecord{sr}}
	if _, err := n.store.ApplyPage(ctx, page); err != nil {
		t.Fatal(err)
	}
	seen := listAll(t, n, &catalogv1.ListToolsRequest{OrderBy: "display_name", PageSize: 1}, func(int, string) {})
	if len(seen) != 3 || seen[0] != long.DisplayName {
		t.Errorf("listed %d tools by name, want the long one then Tool 0 and Tool 1", len(seen))
	}
}

// TestFilterValues checks a query's filter values: a value repeated makes
// one filter value (100,000 copies, which a request of 1 MiB holds, each
// walked every tool with it under the index's lock, took seconds); more
// than 100 values are refused, naming the field; a license is matched
// whatever its case, as SPDX identifiers are.
func TestFilterValues(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	tl := validTool()
	tl.License = "agpl-3.0-or-later"
	created, err := n.client.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: tl})
	if err != nil {
		t.Fatal(err)
	}
	for _, license := range []string{created.GetLicense(), "AGPL-3.0-or-later", "Agpl-3.0-Or-Later"} {
		resp, err := n.client.ListTools(context.Background(), &catalogv1.ListToolsRequest{License: []string{license}})
		if err != nil || resp.GetTotalSize() != 1 {
			t.Errorf("license=%s (the tool's reads %q): %d tools, %v", license, created.GetLicense(), resp.GetTotalSize(), err)
		}
	}

	repeated := slices.Repeat([]string{"web"}, maxFilterValues)
	resp, err := n.client.ListTools(context.Background(), &catalogv1.ListToolsRequest{Platform: repeated, Criterion: slices.Repeat([]string{"open_license"}, 1000)})
	if err != nil || resp.GetTotalSize() != 1 {
		t.Errorf("one platform and one criterion repeated: %d tools, %v", resp.GetTotalSize(), err)
	}
	many := make([]string, maxFilterValues+1)
	for i := range many {
		many[i] = fmt.Sprintf("platform-%d", i)
	}
	for name, call := range map[string]func() error{
		"ListTools": func() error {
			_, err := n.client.ListTools(context.Background(), &catalogv1.ListToolsRequest{Platform: many})
			return err
		},
		"GetToolFacets": func() error {
			_, err := n.client.GetToolFacets(context.Background(), &catalogv1.GetToolFacetsRequest{Platform: many})
			return err
		},
		"ListUseCases": func() error {
			_, err := n.client.ListUseCases(context.Background(), &catalogv1.ListUseCasesRequest{Commitment: many})
			return err
		},
	} {
		if err := call(); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "at most 100") {
			t.Errorf("%s with %d values of a filter: %v", name, len(many), err)
		}
	}
}

// TestUseCaseQueryWords checks what a use-case query searches besides the
// organisation and the purpose: the tool's id, or its URL's host and path,
// and the commitments; not the words every tool reference holds ("tools",
// "origins", "https"), which matched every use case.
func TestUseCaseQueryWords(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	for id, tool := range map[string]string{"paris": "origins/fr/tools/decidim", "lyon": "https://github.com/decidim/decidim"} {
		if _, err := n.client.CreateUseCase(ctx, &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCaseId: id, UseCase: &catalogv1.UseCase{
			Tool: tool, Purpose: "Budget participatif de la ville", Commitments: []string{"FR0012"},
			Organization: &catalogv1.Organization{Name: "Ville de " + id, Country: "FR", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT},
			Status:       catalogv1.UseCaseStatus_USE_CASE_STATUS_ACTIVE}}); err != nil {
			t.Fatal(err)
		}
	}
	for q, want := range map[string]int64{"tools": 0, "origins": 0, "https": 0, "decidim": 2, "fr0012": 2, "budget": 2, "lyon": 1} {
		resp, err := n.client.ListUseCases(context.Background(), &catalogv1.ListUseCasesRequest{Query: q})
		if err != nil || resp.GetTotalSize() != want {
			t.Errorf("query %q: %d use cases, %v; want %d", q, resp.GetTotalSize(), err, want)
		}
	}
}

// TestOrderByNameIgnoresAccents lists tools by name: an accented or
// otherwise non-ASCII initial sorts with its letter, not after "Z", as a
// byte order of the lowercased names had it ("Écrivons" after "Zeste").
func TestOrderByNameIgnoresAccents(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	for i, name := range []string{"Zeus", "Élan", "alpha", "Öffentlich", "Beta", "Ｄｅｃｉｄｉｍ"} {
		tl := validTool()
		tl.DisplayName = name
		tl.RepositoryUrl = fmt.Sprintf("https://github.com/example/r%d", i)
		if _, err := n.client.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: fmt.Sprintf("t%d", i), Tool: tl}); err != nil {
			t.Fatal(err)
		}
	}
	for order, want := range map[string][]string{
		"display_name":      {"alpha", "Beta", "Ｄｅｃｉｄｉｍ", "Élan", "Öffentlich", "Zeus"},
		"display_name desc": {"Zeus", "Öffentlich", "Élan", "Ｄｅｃｉｄｉｍ", "Beta", "alpha"},
	} {
		var got []string
		req := &catalogv1.ListToolsRequest{OrderBy: order, PageSize: 2}
		for {
			resp, err := n.client.ListTools(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			for _, tl := range resp.GetTools() {
				got = append(got, tl.GetDisplayName())
			}
			if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("order_by=%s gave %q, want %q", order, got, want)
		}
	}
}

// TestFacetSaysHowManyValuesItLeavesOut: a facet lists 100 values at most;
// past them, a client learns how many it did not list, rather than take
// the list for all of them.
func TestFacetSaysHowManyValuesItLeavesOut(t *testing.T) {
	n := startNode(t)
	ctx := admin(context.Background())
	const licenses = 103
	for i := range licenses {
		tl := validTool()
		tl.License = fmt.Sprintf("LicenseRef-agreement-%03d", i)
		if _, err := n.client.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: fmt.Sprintf("tool-%03d", i), Tool: tl}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := n.client.GetToolFacets(context.Background(), &catalogv1.GetToolFacetsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range resp.GetFacets() {
		want := int64(0)
		if f.GetField() == "license" {
			want = licenses - 100
			if len(f.GetValues()) != 100 {
				t.Errorf("the license facet lists %d values, want 100", len(f.GetValues()))
			}
		}
		if f.GetUnlistedValueCount() != want {
			t.Errorf("facet %s: %d values listed, %d said unlisted, want %d", f.GetField(), len(f.GetValues()), f.GetUnlistedValueCount(), want)
		}
	}
}

// TestUseCaseFiltersOfEveryValue: a use case whose status is not known is
// found by status=USE_CASE_STATUS_UNSPECIFIED (the proto's "not known"),
// and counted in the status facet, where the filter found nothing; the
// organisation kind UNSPECIFIED, "never valid in a request", is refused;
// country=UK finds the United Kingdom's use cases, under GB.
func TestUseCaseFiltersOfEveryValue(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	for _, c := range []string{"FR", "GB"} {
		if _, err := n.client.CreateUseCase(admin(ctx), &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCase: &catalogv1.UseCase{
			Tool: "https://github.com/decidim/decidim", Organization: &catalogv1.Organization{Name: "City of " + c, Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: c},
			Purpose: "consultations"}}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := n.client.ListUseCases(ctx, &catalogv1.ListUseCasesRequest{Status: []catalogv1.UseCaseStatus{catalogv1.UseCaseStatus_USE_CASE_STATUS_UNSPECIFIED}})
	if err != nil || r.GetTotalSize() != 2 {
		t.Errorf("status=USE_CASE_STATUS_UNSPECIFIED: %d use cases, %v; want both, whose status is not known", r.GetTotalSize(), err)
	}
	facets, err := n.client.GetUseCaseFacets(ctx, &catalogv1.GetUseCaseFacetsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range facets.GetFacets() {
		if f.GetField() == "status" && (len(f.GetValues()) != 1 || f.GetValues()[0].GetValue() != "USE_CASE_STATUS_UNSPECIFIED" || f.GetValues()[0].GetCount() != 2) {
			t.Errorf("the status facet: %v", f.GetValues())
		}
	}
	_, err = n.client.ListUseCases(ctx, &catalogv1.ListUseCasesRequest{OrganizationKind: []catalogv1.OrganizationKind{catalogv1.OrganizationKind_ORGANIZATION_KIND_UNSPECIFIED}})
	if status.Code(err) != codes.InvalidArgument || !contains(fieldViolations(err), "organization_kind") {
		t.Errorf("organization_kind=ORGANIZATION_KIND_UNSPECIFIED: %v, want INVALID_ARGUMENT naming organization_kind", err)
	}
	r, err = n.client.ListUseCases(ctx, &catalogv1.ListUseCasesRequest{Country: []string{"uk"}})
	if err != nil || r.GetTotalSize() != 1 || r.GetUseCases()[0].GetOrganization().GetCountry() != "GB" {
		t.Errorf("country=uk: %v, %v; want the use case of GB", r.GetUseCases(), err)
	}
}
