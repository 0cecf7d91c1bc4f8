package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// TestHarvestAPI imports a harvest over REST, with and without the token,
// refuses a bad request with a field violation, and lists the reports.
func TestHarvestAPI(t *testing.T) {
	n := startNode(t)
	body := `{"source": {"name": "city", "kind": "publiccode", "location": "/srv/city"}, "complete": true,
		"entries": [{"source_id": "https://git.example.org/city/app", "where": "app/publiccode.yml",
			"tool": {"display_name": "City app", "descriptions": {"en": {"short_description": "The city's app"}}, "license": "EUPL-1.2"}}]}`
	if status, _ := n.doJSON(t, "POST", "/v1/harvests:import", "", body); status != 401 {
		t.Errorf("an import without the token: %d, want 401", status)
	}
	status, run := n.doJSON(t, "POST", "/v1/harvests:import", testToken, body)
	if status != 200 || run["created"] != float64(1) || !strings.HasPrefix(fmt.Sprint(run["name"]), "harvests/") {
		t.Fatalf("import: %d %v", status, run)
	}
	bad := strings.Replace(body, `"kind": "publiccode"`, `"kind": "rss"`, 1)
	status, answer := n.doJSON(t, "POST", "/v1/harvests:import", testToken, bad)
	if status != 400 || !strings.Contains(fmt.Sprint(answer), "source.kind") {
		t.Errorf("an unknown kind: %d %v", status, answer)
	}
	status, list := n.doJSON(t, "GET", "/v1/harvests?source=city", "", "")
	runs, _ := list["runs"].([]any)
	if status != 200 || len(runs) != 1 {
		t.Fatalf("GET /v1/harvests: %d %v", status, list)
	}
	status, tool := n.doJSON(t, "GET", "/v1/origins/fr/tools/city-app", "", "")
	prov, _ := tool["provenance"].(map[string]any)
	if status != 200 || prov["kind"] != "PROVENANCE_KIND_HARVESTED" || prov["source_id"] != "https://git.example.org/city/app" || prov["entry_hash"] == "" {
		t.Errorf("the harvested tool: %d %v", status, tool)
	}
	// Its provenance is the harvest's: an edit that would change it is
	// refused, naming the field.
	status, answer = n.doJSON(t, "PATCH", "/v1/origins/fr/tools/city-app?update_mask=display_name,provenance", testToken,
		`{"display_name": "City app, edited", "provenance": {"kind": "PROVENANCE_KIND_HARVESTED", "source": "other", "source_id": "x"}}`)
	if status != 400 || !strings.Contains(fmt.Sprint(answer), "tool.provenance") {
		t.Errorf("an edit of a harvested tool's provenance: %d %v; want 400 naming tool.provenance", status, answer)
	}
	// Edited otherwise through the API, it keeps the harvest's provenance,
	// with the seq of the harvest's version: it is edited by hand since.
	hash := prov["entry_hash"]
	status, tool = n.doJSON(t, "PATCH", "/v1/origins/fr/tools/city-app?update_mask=display_name", testToken, `{"display_name": "City app, edited"}`)
	prov, _ = tool["provenance"].(map[string]any)
	if status != 200 || tool["display_name"] != "City app, edited" || prov["source"] != "city" || prov["source_id"] != "https://git.example.org/city/app" ||
		prov["entry_hash"] != hash || prov["entry_seq"] != "1" {
		t.Errorf("the harvested tool edited: %d %v", status, tool)
	}
	// A replace of every field (gRPC, no mask) passes with the provenance
	// as read, and is refused with another.
	ctx := context.Background()
	read, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/city-app"})
	if err != nil {
		t.Fatal(err)
	}
	replaced, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: read})
	if err != nil {
		t.Fatalf("a replace of every field, the tool as read: %v", err)
	}
	replaced.Provenance.SourceId = "another entry"
	if _, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: replaced}); grpcstatus.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "tool.provenance") {
		t.Errorf("a replace of every field changing the provenance: %v; want INVALID_ARGUMENT naming tool.provenance", err)
	}
	// A tool created through the API carries no harvest's mark, whatever
	// the client says: no harvest wrote it.
	status, tool = n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=copy", testToken,
		`{"display_name": "A copy", "descriptions": {"en": {"short_description": "Copied"}}, "provenance": {"kind": "PROVENANCE_KIND_HARVESTED", "source": "city", "source_id": "https://git.example.org/city/app", "entry_hash": "AAAA", "entry_seq": "1"}}`)
	prov, _ = tool["provenance"].(map[string]any)
	if status != 200 || prov["source"] != "city" || prov["entry_hash"] != "" || prov["entry_seq"] != "0" {
		t.Errorf("a tool created with a harvest's mark: %d %v", status, tool)
	}
}

// TestAdoptionAndQualification checks the adoption view, grouped by
// country, and the qualification served with a tool.
func TestAdoptionAndQualification(t *testing.T) {
	ctx := admin(context.Background())
	n := startNode(t)
	if _, err := n.client.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()}); err != nil {
		t.Fatal(err)
	}
	for id, uc := range map[string]*catalogv1.UseCase{
		"barcelona": {Tool: "https://github.com/decidim/decidim.git", Purpose: "Participatory budgets",
			Organization: &catalogv1.Organization{Name: "Barcelona", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "ES"}},
		"lyon": {Tool: "origins/fr/tools/decidim", Purpose: "Consultations",
			Organization: &catalogv1.Organization{Name: "Lyon", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "FR"}},
	} {
		if _, err := n.client.CreateUseCase(ctx, &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCaseId: id, UseCase: uc}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := n.client.GetToolAdoption(ctx, &catalogv1.GetToolAdoptionRequest{Name: "origins/fr/tools/decidim"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range a.GetCountries() {
		var ucs []string
		for _, u := range c.GetUseCases() {
			ucs = append(ucs, u.GetName())
		}
		got = append(got, fmt.Sprintf("%s %v %v", c.GetCountry(), c.GetOrigins(), ucs))
	}
	want := []string{"ES [] [origins/fr/usecases/barcelona]", "FR [fr] [origins/fr/usecases/lyon]"}
	if a.GetSoftware() != "github.com/decidim/decidim" || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("adoption: %s %v, want %v", a.GetSoftware(), got, want)
	}
	if _, err := n.client.GetToolAdoption(ctx, &catalogv1.GetToolAdoptionRequest{Name: "origins/fr/tools/nothing"}); err == nil {
		t.Error("the adoption of a tool that does not exist")
	}

	tool, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/decidim"})
	if err != nil {
		t.Fatal(err)
	}
	met := map[string]bool{}
	for _, c := range tool.GetQualification().GetCriteria() {
		met[c.GetId()] = c.GetMet()
	}
	if !met["open_license"] || !met["public_repository"] || !met["used_by_administration"] || met["documentation"] || tool.GetQualification().GetScore() == 0 {
		t.Errorf("qualification: %v", tool.GetQualification())
	}
	// Qualification is the node's to compute: a client cannot set it.
	in := validTool()
	in.Qualification = &catalogv1.Qualification{Score: 100}
	created, err := n.client.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "copy", Tool: in})
	if err != nil || created.GetQualification().GetScore() == 100 {
		t.Errorf("a client-set qualification: %v, %v", created.GetQualification(), err)
	}
}

// TestDataFolderLocked checks that a running node's data folder cannot be
// opened by another process (ogpnode harvest --data, or another node), each
// told what to do.
func TestDataFolderLocked(t *testing.T) {
	n := startNode(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if c, err := OpenCatalog(context.Background(), "fr", n.data, log); err == nil {
		c.Close()
		t.Fatal("the data folder of a running node was opened")
	} else if !strings.Contains(err.Error(), "--node") {
		t.Errorf("the error does not say what to do: %v", err)
	}
	cfg := testConfig(t, func(c *Config) { c.DataDir = n.data })
	if other, err := New(context.Background(), cfg, log); err == nil {
		other.Close()
		t.Fatal("a second node started on the folder of a running node")
	} else if !strings.Contains(err.Error(), "a node runs on it") || strings.Contains(err.Error(), "--node") {
		t.Errorf("a second node on the folder: %v, want it told a node runs on it", err)
	}
}

// TestListHarvestsOfLargeReports keeps twenty reports of about 256 KiB of
// rejected entries each (what a report lists at most): a list of them
// stops at 2 MiB, so that a gRPC client with gRPC's default limit of
// 4 MiB a message gets it.
func TestListHarvestsOfLargeReports(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	for i := range 20 {
		run := &catalogv1.HarvestRun{Source: &catalogv1.HarvestSource{Name: "city", Kind: "publiccode", Location: "/srv/city"}, Complete: true}
		for j := range 2_000 {
			run.RejectedEntries = append(run.RejectedEntries, &catalogv1.RejectedEntry{SourceId: fmt.Sprintf("run-%d-entry-%d", i, j), Where: strings.Repeat("w", 100)})
		}
		run.Rejected = int32(len(run.RejectedEntries))
		if _, err := n.store.SaveHarvestRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := catalogv1.NewHarvestServiceClient(n.conn).ListHarvests(ctx, &catalogv1.ListHarvestsRequest{})
	if err != nil || len(resp.GetRuns()) == 0 || len(resp.GetRuns()) >= 20 {
		t.Errorf("the list of twenty large reports, over gRPC: %d runs, %v", len(resp.GetRuns()), err)
	}
}

// TestImportHarvestInPartsRefusals: an import in parts that breaks a rule
// is refused, naming it, and imports nothing.
func TestImportHarvestInPartsRefusals(t *testing.T) {
	n := startNode(t, func(c *Config) { c.MaxHarvestBytes = 256 << 10 }) // and 64 KiB a request
	ctx := context.Background()
	harvests := catalogv1.NewHarvestServiceClient(n.conn)
	imp, _ := cityHarvest(200) // about 120 KiB
	big, _ := cityHarvest(500) // about 300 KiB
	for _, tc := range []struct {
		name string
		ctx  context.Context
		send func(catalogv1.HarvestService_ImportHarvestInPartsClient) error
		code codes.Code
		says string
	}{
		{"without the token", ctx, sendParts(imp, 20), codes.Unauthenticated, "admin token"},
		{"no part", admin(ctx), func(catalogv1.HarvestService_ImportHarvestInPartsClient) error { return nil }, codes.InvalidArgument, "the stream sent no part"},
		{"an empty part", admin(ctx), func(s catalogv1.HarvestService_ImportHarvestInPartsClient) error {
			return s.Send(&catalogv1.ImportHarvestInPartsRequest{})
		}, codes.InvalidArgument, "part 1 holds none"},
		{"a part too large", admin(ctx), sendParts(imp, 150), codes.InvalidArgument, "part 1 is"},
		{"parts too large together", admin(ctx), sendParts(big, 20), codes.InvalidArgument, "more than the 262144 bytes this node takes of a harvest import"},
		{"a source in a later part", admin(ctx), func(s catalogv1.HarvestService_ImportHarvestInPartsClient) error {
			if err := sendParts(imp, 20)(s); err != nil {
				return err
			}
			return s.Send(&catalogv1.ImportHarvestInPartsRequest{Part: &catalogv1.ImportHarvestRequest{Source: imp.GetSource()}})
		}, codes.InvalidArgument, "part.source"},
		{"a bad entry", admin(ctx), func(s catalogv1.HarvestService_ImportHarvestInPartsClient) error {
			bad := proto.Clone(imp).(*catalogv1.ImportHarvestRequest)
			bad.Entries[150].SourceId = ""
			return sendParts(bad, 20)(s)
		}, codes.InvalidArgument, "entries[150]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream, err := harvests.ImportHarvestInParts(tc.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.send(stream); err != nil && err != io.EOF {
				t.Fatal(err)
			}
			_, err = stream.CloseAndRecv()
			if grpcstatus.Code(err) != tc.code || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%v; want %v saying %q", err, tc.code, tc.says)
			}
		})
	}
	// A stream cut short imports nothing either.
	cut, cancel := context.WithCancel(admin(ctx))
	stream, err := harvests.ImportHarvestInParts(cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := sendParts(imp, 20)(stream); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := stream.CloseAndRecv(); grpcstatus.Code(err) != codes.Canceled {
		t.Errorf("a stream cut short: %v", err)
	}
	info, err := n.client.GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{})
	if err != nil || info.GetToolCount() != 0 {
		t.Errorf("after the refusals: %d tools, %v; want none", info.GetToolCount(), err)
	}
}

// cityHarvest is a harvest import of n tools of about 600 bytes each, and
// the same as REST's JSON.
func cityHarvest(n int) (*catalogv1.ImportHarvestRequest, string) {
	imp := &catalogv1.ImportHarvestRequest{Source: &catalogv1.HarvestSource{Name: "city", Kind: "csv"}, Complete: true}
	var entries []string
	for i := range n {
		id := fmt.Sprintf("https://git.example.org/city/app-%03d", i)
		long := fmt.Sprintf("App %03d of the city. %s", i, strings.Repeat("It does this and that. ", 20))
		imp.Entries = append(imp.Entries, &catalogv1.HarvestEntry{SourceId: id, Where: "apps.csv", Tool: &catalogv1.Tool{
			DisplayName: fmt.Sprintf("App %03d", i), License: "EUPL-1.2",
			Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "An app of the city", LongDescription: long}},
		}})
		entries = append(entries, fmt.Sprintf(`{"source_id": %q, "where": "apps.csv", "tool": {"display_name": "App %03d", "license": "EUPL-1.2",
			"descriptions": {"en": {"short_description": "An app of the city", "long_description": %q}}}}`, id, i, long))
	}
	return imp, `{"source": {"name": "city", "kind": "csv"}, "complete": true, "entries": [` + strings.Join(entries, ",") + `]}`
}

// sendParts sends imp in parts of per entries, the first with the source.
func sendParts(imp *catalogv1.ImportHarvestRequest, per int) func(catalogv1.HarvestService_ImportHarvestInPartsClient) error {
	return func(stream catalogv1.HarvestService_ImportHarvestInPartsClient) error {
		for i := 0; i < len(imp.GetEntries()); i += per {
			part := &catalogv1.ImportHarvestRequest{Entries: imp.GetEntries()[i:min(i+per, len(imp.GetEntries()))]}
			if i == 0 {
				part.Source, part.Complete = imp.GetSource(), imp.GetComplete()
			}
			if err := stream.Send(&catalogv1.ImportHarvestInPartsRequest{Part: part}); err != nil {
				return err
			}
		}
		return nil
	}
}

// importInParts imports imp in parts of per entries.
func importInParts(ctx context.Context, harvests catalogv1.HarvestServiceClient, imp *catalogv1.ImportHarvestRequest, per int) (*catalogv1.HarvestRun, error) {
	stream, err := harvests.ImportHarvestInParts(ctx)
	if err != nil {
		return nil, err
	}
	if err := sendParts(imp, per)(stream); err != nil && err != io.EOF {
		return nil, err
	}
	return stream.CloseAndRecv()
}

// TestHarvestImportRefusedBeforeBodyRead: an anonymous REST harvest import
// is refused (401) as soon as its headers are in, without the node
// waiting for, and holding, a body that may be --max-harvest-bytes large.
func TestHarvestImportRefusedBeforeBodyRead(t *testing.T) {
	n := startNode(t)
	for _, auth := range []string{"", "Authorization: Bearer wrong-token-000000\r\n"} {
		conn, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/harvests:import HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n", n.HTTPAddr(), auth)
		conn.Write([]byte(`{"source": {"name": "x", "kind": "csv"}, "entries": [` + strings.Repeat(" ", 1<<20)))
		// The node answers while the caller still owes it 99 MB: a
		// deadline, not a guess of how long the node takes, stops the
		// test from hanging when it does not.
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("an import of 100 MB with %q, 1 MiB of it sent: no answer (%v): the node waits for the body before checking the token", auth, err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "admin token") {
			t.Errorf("an import with %q: %d %s, want 401 naming the admin token", auth, resp.StatusCode, b)
		}
	}
	resp, b := n.do(t, "GET", "/metrics", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `ogpnode_requests_total{code="Unauthenticated",method="ImportHarvest"} 2`) {
		t.Errorf("the refused imports are not counted")
	}
}
