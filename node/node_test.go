package node

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/internal/lockedbuf"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

const testToken = "test-admin-token-0123456789"

// testNode is a node on loopback ports with a gRPC client and the base URL
// of its REST API.
type testNode struct {
	*Node
	client catalogv1.CatalogServiceClient
	conn   *grpc.ClientConn
	base   string
	data   string
}

func startNode(t *testing.T, mutate ...func(*Config)) *testNode {
	t.Helper()
	return startNodeWith(t, testConfig(t, mutate...))
}

// startNodeLogged is startNode with the node's log written to w.
func startNodeLogged(t *testing.T, w io.Writer, mutate ...func(*Config)) *testNode {
	t.Helper()
	return startNodeLogging(t, testConfig(t, mutate...), w)
}

// testConfig is the configuration of a test node of origin fr, on
// loopback, changed by mutate.
func testConfig(t *testing.T, mutate ...func(*Config)) Config {
	cfg := DefaultConfig()
	cfg.Origin = "fr"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.AdminToken = testToken
	cfg.MaxRequestBytes = 64 << 10
	for _, m := range mutate {
		m(&cfg)
	}
	return cfg
}

func startNodeWith(t *testing.T, cfg Config) *testNode {
	t.Helper()
	return startNodeLogging(t, cfg, io.Discard)
}

func startNodeLogging(t *testing.T, cfg Config, w io.Writer) *testNode {
	t.Helper()
	n, _ := startStoppable(t, cfg, w)
	return n
}

// startStoppable is startNodeLogging, with a function that stops the node
// and waits until it closed its catalog (the test's cleanup, earlier).
func startStoppable(t *testing.T, cfg Config, w io.Writer) (*testNode, func()) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(w, nil))
	n, err := New(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	conn, err := grpc.NewClient(n.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return &testNode{Node: n, client: catalogv1.NewCatalogServiceClient(conn), conn: conn, base: "http://" + n.HTTPAddr(), data: cfg.DataDir}, stop
}

// TestRefusedStartCreatesNothing starts a node on a new data folder with
// a setting it refuses: neither the node key nor the admin token is
// created, so that the start after the setting is mended is the first.
func TestRefusedStartCreatesNothing(t *testing.T) {
	for what, spoil := range map[string]func(*Config){
		"an admin token too short": func(c *Config) { c.AdminToken = "short" },
		"a gossip key not base64":  func(c *Config) { c.AdminToken, c.GossipKey = "", "not base64!" },
		"a trust file missing":     func(c *Config) { c.AdminToken, c.TrustFile = "", filepath.Join(c.DataDir, "..", "no-such-file") },
		"an origin in capitals":    func(c *Config) { c.AdminToken, c.Origin = "", "FR" },
		// Resolved when gossip starts, after the folder was made.
		"an advertised host that does not resolve": func(c *Config) { c.AdminToken, c.AdvertiseAddr = "", "node-fr.no-such-domain.invalid" },
		// Refused by the catalog, once the key is made.
		"a trust file giving the node another key": func(c *Config) {
			c.AdminToken, c.TrustFile = "", filepath.Join(filepath.Dir(c.DataDir), "trust")
			other, _, _ := ed25519.GenerateKey(nil)
			if err := os.WriteFile(c.TrustFile, []byte(fmt.Sprintf("fr %x\n", []byte(other))), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		// The catalog's write-ahead log cannot be made.
		"a catalog that cannot be made": func(c *Config) {
			c.AdminToken = ""
			if err := os.MkdirAll(filepath.Join(c.DataDir, catalogFile+"-wal"), 0o700); err != nil {
				t.Fatal(err)
			}
		},
	} {
		cfg := DefaultConfig()
		cfg.Origin = "fr"
		cfg.DataDir = filepath.Join(t.TempDir(), "data")
		cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		spoil(&cfg)
		if n, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
			n.Close()
			t.Errorf("%s: the node started", what)
			continue
		}
		for _, f := range []string{keyFile, adminTokenFile, catalogFile} {
			if _, err := os.Stat(filepath.Join(cfg.DataDir, f)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: %s is in the data folder (%v)", what, f, err)
			}
		}
	}
}

func admin(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testToken)
}

func validTool() *catalogv1.Tool {
	return &catalogv1.Tool{
		DisplayName: "Decidim",
		Descriptions: map[string]*catalogv1.Description{
			"en": {ShortDescription: "Participatory democracy framework", Features: []string{"participatory budgeting"}},
			"fr": {ShortDescription: "Démocratie participative"},
		},
		RepositoryUrl: "https://github.com/decidim/decidim",
		License:       "AGPL-3.0-or-later",
		Categories:    []string{"collaboration"},
		OgpThemes:     []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_PUBLIC_PARTICIPATION},
		Platforms:     []string{"web"},
	}
}

// do makes an HTTP call (with token, when not empty) and returns the
// answer, its body read.
func (n *testNode) do(t *testing.T, method, path, token, body string) (*http.Response, []byte) {
	t.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	return n.doAuth(t, method, path, auth, body)
}

// doAuth is do with the Authorization header as given ("" for none).
func (n *testNode) doAuth(t *testing.T, method, path, authorization, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, n.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// doJSON makes an HTTP call and decodes the JSON answer into a map.
func (n *testNode) doJSON(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	resp, b := n.do(t, method, path, token, body)
	out := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, out
}

// TestRESTMethods checks the answers to methods a REST address does not
// take (405, where the gateway said 501) and to HEAD (the GET's headers).
func TestRESTMethods(t *testing.T) {
	n := startNode(t)
	if code, _ := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=consul", testToken, `{"display_name":"CONSUL","descriptions":{"es":{"short_description":"Participación"}}}`); code != 200 {
		t.Fatalf("create: %d", code)
	}
	for _, path := range []string{"/v1/tools", "/v1/origins/fr/tools/consul", "/v1/node"} {
		resp, b := n.do(t, "HEAD", path, "", "")
		if resp.StatusCode != 200 || len(b) != 0 || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
			t.Errorf("HEAD %s: %d, %q, %d bytes; want 200, JSON, no body", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
		}
	}
	for _, tc := range []struct{ method, path string }{
		{"PUT", "/v1/origins/fr/tools/consul"},
		{"DELETE", "/v1/tools"},
		{"POST", "/v1/node"},
	} {
		code, body := n.doJSON(t, tc.method, tc.path, testToken, "{}")
		if code != http.StatusMethodNotAllowed || body["code"] != float64(12) || !strings.Contains(fmt.Sprint(body["message"]), tc.method) {
			t.Errorf("%s %s: %d %v; want 405 naming the method", tc.method, tc.path, code, body)
		}
	}
	if code, _ := n.doJSON(t, "GET", "/v1/nothing", "", ""); code != http.StatusNotFound {
		t.Errorf("GET of no address: %d, want 404", code)
	}
}

// TestLongInputNotEchoed sends an id, a map key and an order of 30 KB: the errors
// name them, cut, rather than send them back whole.
func TestLongInputNotEchoed(t *testing.T) {
	n := startNode(t)
	long := "a" + strings.Repeat("é", 15_000) // 30 KB, within the test node's 64 KiB a request
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/v1/origins/fr/tools?tool_id=" + url.QueryEscape(long), `{"display_name":"X","descriptions":{"en":{"short_description":"x"}}}`},
		{"POST", "/v1/origins/fr/tools?tool_id=x", `{"display_name":"X","descriptions":{"` + long + `":{"short_description":"x"}}}`},
		{"GET", "/v1/tools?order_by=" + url.QueryEscape(long), ""},
	} {
		resp, b := n.do(t, tc.method, tc.path, testToken, tc.body)
		if resp.StatusCode != http.StatusBadRequest || len(b) > 8<<10 || !strings.Contains(string(b), "(cut)") || !utf8.Valid(b) {
			t.Errorf("%s %.60s...: %d, %d bytes; want 400, at most 8 KiB, cut:\n%.300s", tc.method, tc.path, resp.StatusCode, len(b), b)
		}
	}
}

func TestGRPCLifecycle(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	created, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()})
	if err != nil {
		t.Fatalf("CreateTool: %v", err)
	}
	if created.GetName() != "origins/fr/tools/decidim" || created.GetSeq() != 1 || created.GetOrigin() != "fr" ||
		created.GetProvenance().GetKind() != catalogv1.ProvenanceKind_PROVENANCE_KIND_MANUAL {
		t.Errorf("created %v", created)
	}
	got, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: created.GetName()})
	if err != nil || !proto.Equal(got, created) {
		t.Errorf("GetTool = %v, %v; want %v", got, err, created)
	}

	// An update with a mask changes those fields only.
	updated, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{
		Tool:       &catalogv1.Tool{Name: created.GetName(), DisplayName: "Decidim 0.28", License: "MIT"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}},
	})
	if err != nil {
		t.Fatalf("UpdateTool: %v", err)
	}
	if updated.GetDisplayName() != "Decidim 0.28" || updated.GetLicense() != "AGPL-3.0-or-later" || updated.GetSeq() != 2 {
		t.Errorf("updated %v", updated)
	}

	// An update with the first etag is refused and loses nothing.
	_, err = n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{
		Tool:       &catalogv1.Tool{Name: created.GetName(), DisplayName: "stale", Etag: created.GetEtag()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}},
	})
	if status.Code(err) != codes.Aborted {
		t.Errorf("stale update: %v, want ABORTED", err)
	}
	if got, _ := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: created.GetName()}); got.GetDisplayName() != "Decidim 0.28" {
		t.Errorf("after a stale update the name is %q", got.GetDisplayName())
	}

	list, err := n.client.ListTools(ctx, &catalogv1.ListToolsRequest{Query: "démocratie", OgpTheme: []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_PUBLIC_PARTICIPATION}})
	if err != nil || len(list.GetTools()) != 1 {
		t.Errorf("ListTools: %v, %v", list, err)
	}
	facets, err := n.client.GetToolFacets(ctx, &catalogv1.GetToolFacetsRequest{Query: "participatory"})
	if err != nil || facets.GetTotalSize() != 1 || facets.GetFacets()[0].GetField() != "origin" || facets.GetFacets()[0].GetValues()[0].GetValue() != "fr" {
		t.Errorf("GetToolFacets: %v, %v", facets, err)
	}

	uc, err := n.client.CreateUseCase(admin(ctx), &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCase: &catalogv1.UseCase{
		Tool:         created.GetName(),
		Organization: &catalogv1.Organization{Name: "Ville de Paris", Kind: catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT, Country: "FR"},
		Purpose:      "Budget participatif", Commitments: []string{"FR0034"}, StartDate: "2014-09",
	}})
	if err != nil {
		t.Fatalf("CreateUseCase: %v", err)
	}
	if uc.GetName() != "origins/fr/usecases/ville-de-paris" {
		t.Errorf("use case named %q, want an id derived from the organisation", uc.GetName())
	}
	ucs, err := n.client.ListUseCases(ctx, &catalogv1.ListUseCasesRequest{Tool: []string{created.GetName()}, Country: []string{"fr"}})
	if err != nil || len(ucs.GetUseCases()) != 1 {
		t.Errorf("ListUseCases: %v, %v", ucs, err)
	}

	if _, err := n.client.DeleteTool(admin(ctx), &catalogv1.DeleteToolRequest{Name: created.GetName()}); err != nil {
		t.Fatalf("DeleteTool: %v", err)
	}
	if _, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: created.GetName()}); status.Code(err) != codes.NotFound {
		t.Errorf("GetTool after delete: %v, want NOT_FOUND", err)
	}
	info, err := n.client.GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{})
	if err != nil || info.GetOrigin() != "fr" || len(info.GetPublicKey()) != 32 || info.GetToolCount() != 0 || info.GetUseCaseCount() != 1 || info.GetTombstoneCount() != 1 {
		t.Errorf("GetNodeInfo: %v, %v", info, err)
	}

	hc, err := healthpb.NewHealthClient(n.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "ogp.catalog.v1.CatalogService"})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health: %v, %v", hc, err)
	}
}

func TestRESTLifecycle(t *testing.T) {
	n := startNode(t)
	body := `{"display_name":"CONSUL Democracy","descriptions":{"es":{"short_description":"Participación ciudadana"}},"license":"AGPL-3.0-only","categories":["collaboration"]}`
	code, tool := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=consul", testToken, body)
	if code != 200 || tool["name"] != "origins/fr/tools/consul" || tool["seq"] != "1" {
		t.Fatalf("create: %d %v", code, tool)
	}
	code, list := n.doJSON(t, "GET", "/v1/tools?query=participacion&category=collaboration", "", "")
	if code != 200 || len(list["tools"].([]any)) != 1 {
		t.Errorf("search: %d %v", code, list)
	}
	// PATCH without a mask changes the fields in the body only.
	code, patched := n.doJSON(t, "PATCH", "/v1/origins/fr/tools/consul", testToken, `{"license":"MIT"}`)
	if code != 200 || patched["license"] != "MIT" || patched["display_name"] != "CONSUL Democracy" {
		t.Errorf("patch: %d %v", code, patched)
	}
	code, stale := n.doJSON(t, "PATCH", "/v1/origins/fr/tools/consul", testToken, fmt.Sprintf(`{"license":"0BSD","etag":%q}`, tool["etag"]))
	if code != http.StatusConflict {
		t.Errorf("stale patch: %d %v, want 409", code, stale)
	}
	// The body of a read, sent back changed, updates the tool: its
	// output-only fields (name, times, etag...) are ignored but for the
	// etag, which makes it conditional.
	code, current := n.doJSON(t, "GET", "/v1/origins/fr/tools/consul", "", "")
	if code != 200 {
		t.Fatalf("get: %d %v", code, current)
	}
	current["display_name"] = "CONSUL"
	sent, _ := json.Marshal(current)
	code, roundTrip := n.doJSON(t, "PATCH", "/v1/origins/fr/tools/consul", testToken, string(sent))
	if code != 200 || roundTrip["display_name"] != "CONSUL" || roundTrip["license"] != "MIT" {
		t.Errorf("patch with a read's body: %d %v", code, roundTrip)
	}
	code, conditional := n.doJSON(t, "PATCH", "/v1/origins/fr/tools/consul", testToken, fmt.Sprintf(`{"development_status":"stable","etag":%q}`, roundTrip["etag"]))
	if code != 200 || conditional["development_status"] != "stable" {
		t.Errorf("patch with the current etag: %d %v", code, conditional)
	}
	// One language of the descriptions, by a mask naming its entry.
	code, _ = n.doJSON(t, "PATCH", "/v1/origins/fr/tools/consul?update_mask=descriptions.fr", testToken, `{"descriptions":{"fr":{"short_description":"Participation citoyenne"}}}`)
	code2, both := n.doJSON(t, "GET", "/v1/origins/fr/tools/consul", "", "")
	if descs, _ := both["descriptions"].(map[string]any); code != 200 || code2 != 200 || len(descs) != 2 {
		t.Errorf("patch of descriptions.fr: %d, then %v", code, both["descriptions"])
	}
	code, _ = n.doJSON(t, "GET", "/v1/origins/fr/tools/nope", "", "")
	if code != http.StatusNotFound {
		t.Errorf("get unknown: %d, want 404", code)
	}
	code, info := n.doJSON(t, "GET", "/v1/node", "", "")
	if code != 200 || info["origin"] != "fr" || info["tool_count"] != "1" {
		t.Errorf("node info: %d %v", code, info)
	}
	code, facets := n.doJSON(t, "GET", "/v1/tools:facets?license=MIT", "", "")
	if code != 200 || facets["total_size"] != "1" {
		t.Errorf("facets: %d %v", code, facets)
	}
	code, _ = n.doJSON(t, "DELETE", "/v1/origins/fr/tools/consul", testToken, "")
	if code != 200 {
		t.Errorf("delete: %d", code)
	}
	code, _ = n.doJSON(t, "GET", "/v1/origins/fr/tools/consul", "", "")
	if code != http.StatusNotFound {
		t.Errorf("get after delete: %d, want 404", code)
	}

	for _, path := range []string{"/openapi.json", "/healthz", "/metrics"} {
		resp, err := http.Get(n.base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		if path == "/metrics" && (!bytes.Contains(b, []byte(`ogpnode_requests_total{code="OK",method="CreateTool"} 1`)) ||
			!bytes.Contains(b, []byte(`ogpnode_records{kind="any",origin="fr",state="tombstone"} 1`))) {
			t.Errorf("metrics lack request or record counts:\n%s", b)
		}
		if path == "/openapi.json" && !bytes.Contains(b, []byte(`"/v1/tools"`)) {
			t.Errorf("openapi.json lacks /v1/tools")
		}
	}
}

func TestAuth(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	body := `{"display_name":"X","descriptions":{"en":{"short_description":"x"}}}`
	for _, tc := range []struct {
		name, path, token string
		wantHTTP          int
		wantCode          codes.Code
		grpcCtx           context.Context
		parent            string
	}{
		{"no token", "/v1/origins/fr/tools", "", 401, codes.Unauthenticated, ctx, "origins/fr"},
		{"wrong token", "/v1/origins/fr/tools", "not-the-token-0000000", 401, codes.Unauthenticated,
			metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer not-the-token-0000000"), "origins/fr"},
		{"another origin", "/v1/origins/de/tools", testToken, 403, codes.PermissionDenied, admin(ctx), "origins/de"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, resp := n.doJSON(t, "POST", tc.path, tc.token, body)
			if code != tc.wantHTTP {
				t.Errorf("REST: %d %v, want %d", code, resp, tc.wantHTTP)
			}
			_, err := n.client.CreateTool(tc.grpcCtx, &catalogv1.CreateToolRequest{Parent: tc.parent, Tool: validTool()})
			if status.Code(err) != tc.wantCode {
				t.Errorf("gRPC: %v, want %v", err, tc.wantCode)
			}
		})
	}
	// Updates and deletes are guarded alike; reads are public.
	if _, err := n.client.DeleteTool(ctx, &catalogv1.DeleteToolRequest{Name: "origins/fr/tools/x"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("delete without token: %v", err)
	}
	if _, err := n.client.UpdateUseCase(admin(ctx), &catalogv1.UpdateUseCaseRequest{UseCase: &catalogv1.UseCase{Name: "origins/de/usecases/x"}}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("update of another origin: %v", err)
	}
	if _, err := n.client.ListTools(ctx, &catalogv1.ListToolsRequest{}); err != nil {
		t.Errorf("public read: %v", err)
	}
	// A harvest import of 20 MB without the token is refused as such, at
	// once: before the node reads it (it takes up to twice
	// --max-harvest-bytes), not once read and decoded.
	big := &catalogv1.ImportHarvestRequest{Source: &catalogv1.HarvestSource{Name: "big", Kind: "csv"}}
	for i := range 20 {
		big.Rejected = append(big.Rejected, &catalogv1.RejectedEntry{SourceId: fmt.Sprint(i), Where: strings.Repeat("x", 1<<20)})
	}
	if _, err := catalogv1.NewHarvestServiceClient(n.conn).ImportHarvest(ctx, big, grpc.MaxCallSendMsgSize(64<<20)); status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "admin token") {
		t.Errorf("a large harvest import without the token: %v", err)
	}
	if _, err := catalogv1.NewHarvestServiceClient(n.conn).ImportHarvest(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer wrong-token-000000"), big,
		grpc.MaxCallSendMsgSize(64<<20)); status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "wrong") {
		t.Errorf("a large harvest import with a wrong token: %v", err)
	}
	// Refused before the call is served, they are still counted.
	resp, err := http.Get(n.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(b, []byte(`ogpnode_requests_total{code="Unauthenticated",method="ImportHarvest"} 2`)) {
		t.Errorf("the refused harvest imports are not counted:\n%s", b)
	}
	if info, _ := n.client.GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{}); info.GetToolCount() != 0 || len(info.GetOrigins()) != 1 || info.GetOrigins()[0].GetHeadSeq() != 0 {
		t.Errorf("refused writes stored something: %v", info)
	}
}

// fieldViolations returns the fields a BadRequest names.
func fieldViolations(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField())
			}
		}
	}
	return out
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	mk := func(f func(*catalogv1.Tool)) *catalogv1.Tool { tl := validTool(); f(tl); return tl }
	long := strings.Repeat("é", 151)
	for _, tc := range []struct {
		name  string
		req   *catalogv1.CreateToolRequest
		field string
	}{
		{"missing display name", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.DisplayName = " " })}, "tool.display_name"},
		{"no description", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.Descriptions = nil })}, "tool.descriptions"},
		{"short description too long", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.Descriptions["en"].ShortDescription = long })}, "tool.descriptions.en.short_description"},
		{"bad URL", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.RepositoryUrl = "ftp//nope" })}, "tool.repository_url"},
		{"bad SPDX", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.License = "MIT and GPL" })}, "tool.license"},
		{"unknown SPDX id", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.License = "GPL3" })}, "tool.license"},
		{"bad language tag", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.Descriptions["english!"] = &catalogv1.Description{ShortDescription: "x"} })}, "tool.descriptions.english!"},
		{"bad interface language", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.AvailableLanguages = []string{"fr", "12"} })}, "tool.available_languages[1]"},
		// Parsed, but the language filter goes by the tag as written:
		// language=pt found no "pt_BR".
		{"language tag with an underscore", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.Descriptions["pt_BR"] = &catalogv1.Description{ShortDescription: "x"} })}, "tool.descriptions.pt_BR"},
		{"interface language tag replaced since", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.AvailableLanguages = []string{"i-klingon"} })}, "tool.available_languages[0]"},
		// One value twice, as categories, standards and commitments were
		// refused.
		{"one language twice, in two cases", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.AvailableLanguages = []string{"pt-BR", "pt-br"} })}, "tool.available_languages[1]"},
		{"one description language twice, in two cases", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.Descriptions["EN"] = &catalogv1.Description{ShortDescription: "x"} })}, "tool.descriptions.en"},
		{"one theme twice", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.OgpThemes = append(t.OgpThemes, t.OgpThemes[0]) })}, "tool.ogp_themes[1]"},
		{"one platform twice", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.Platforms = []string{"web", "linux", "web"} })}, "tool.platforms[2]"},
		{"unknown category", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.Categories = []string{"petitions"} })}, "tool.categories[0]"},
		{"unspecified theme", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.OgpThemes = []catalogv1.OgpTheme{0} })}, "tool.ogp_themes[0]"},
		{"undefined theme", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.OgpThemes = []catalogv1.OgpTheme{99} })}, "tool.ogp_themes[0]"},
		{"unknown development status", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.DevelopmentStatus = "done" })}, "tool.development_status"},
		{"unknown software type", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) { t.SoftwareType = "app" })}, "tool.software_type"},
		{"bad contact e-mail", &catalogv1.CreateToolRequest{Tool: mk(func(t *catalogv1.Tool) {
			t.Maintenance = &catalogv1.Maintenance{Type: "community", Contacts: []*catalogv1.Contact{{Name: "A", Email: "nope"}}}
		})}, "tool.maintenance.contacts[0].email"},
		{"bad id", &catalogv1.CreateToolRequest{ToolId: "Not An Id", Tool: validTool()}, "tool_id"},
		{"no tool", &catalogv1.CreateToolRequest{}, "tool"},
		{"bad parent", &catalogv1.CreateToolRequest{Parent: "countries/fr", Tool: validTool()}, "parent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.req.Parent == "" {
				tc.req.Parent = "origins/fr"
			}
			_, err := n.client.CreateTool(admin(ctx), tc.req)
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("gRPC: %v, want INVALID_ARGUMENT", err)
			}
			if fields := fieldViolations(err); !contains(fields, tc.field) {
				t.Errorf("gRPC violations name %v, want %q", fields, tc.field)
			}
			// The same over REST: 400 with the same BadRequest JSON.
			body := "{}"
			if tc.req.Tool != nil {
				b, _ := protojsonMarshal(tc.req.Tool)
				body = string(b)
			}
			path := "/v1/" + tc.req.Parent + "/tools"
			if tc.req.ToolId != "" {
				path += "?tool_id=" + strings.ReplaceAll(tc.req.ToolId, " ", "%20")
			}
			if tc.field == "tool" || tc.field == "parent" {
				return // REST always has a body, and routes only origins/{origin}
			}
			code, resp := n.doJSON(t, "POST", path, testToken, body)
			if code != 400 || !strings.Contains(fmt.Sprint(resp["details"]), tc.field) {
				t.Errorf("REST: %d %v, want 400 naming %q", code, resp, tc.field)
			}
		})
	}

	ucCases := []struct {
		name  string
		uc    *catalogv1.UseCase
		field string
	}{
		{"no tool", &catalogv1.UseCase{Organization: &catalogv1.Organization{Name: "P", Kind: 2, Country: "FR"}, Purpose: "x"}, "use_case.tool"},
		{"bad tool name", &catalogv1.UseCase{Tool: "origins/FR/tools/x", Organization: &catalogv1.Organization{Name: "P", Kind: 2, Country: "FR"}, Purpose: "x"}, "use_case.tool"},
		{"bad country", &catalogv1.UseCase{Tool: "https://decidim.org", Organization: &catalogv1.Organization{Name: "P", Kind: 2, Country: "France"}, Purpose: "x"}, "use_case.organization.country"},
		// Codes x/text takes for countries that ISO 3166-1 has not, or no
		// longer: UK, in wide use, made the United Kingdom a country of
		// its own beside GB.
		{"country code of another standard", &catalogv1.UseCase{Tool: "https://decidim.org", Organization: &catalogv1.Organization{Name: "P", Kind: 2, Country: "UK"}, Purpose: "x"}, "use_case.organization.country"},
		{"reserved country code", &catalogv1.UseCase{Tool: "https://decidim.org", Organization: &catalogv1.Organization{Name: "P", Kind: 2, Country: "UN"}, Purpose: "x"}, "use_case.organization.country"},
		{"withdrawn country code", &catalogv1.UseCase{Tool: "https://decidim.org", Organization: &catalogv1.Organization{Name: "P", Kind: 2, Country: "SU"}, Purpose: "x"}, "use_case.organization.country"},
		{"no kind", &catalogv1.UseCase{Tool: "https://decidim.org", Organization: &catalogv1.Organization{Name: "P", Country: "FR"}, Purpose: "x"}, "use_case.organization.kind"},
		{"bad commitment", &catalogv1.UseCase{Tool: "https://decidim.org", Organization: &catalogv1.Organization{Name: "P", Kind: 2, Country: "FR"}, Purpose: "x", Commitments: []string{"fr-34"}}, "use_case.commitments[0]"},
		{"bad date", &catalogv1.UseCase{Tool: "https://decidim.org", Organization: &catalogv1.Organization{Name: "P", Kind: 2, Country: "FR"}, Purpose: "x", StartDate: "2014-13"}, "use_case.start_date"},
	}
	for _, tc := range ucCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := n.client.CreateUseCase(admin(ctx), &catalogv1.CreateUseCaseRequest{Parent: "origins/fr", UseCase: tc.uc})
			if fields := fieldViolations(err); status.Code(err) != codes.InvalidArgument || !contains(fields, tc.field) {
				t.Errorf("got %v naming %v, want INVALID_ARGUMENT naming %q", err, fields, tc.field)
			}
		})
	}

	t.Run("update mask", func(t *testing.T) {
		if _, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "masked", Tool: validTool()}); err != nil {
			t.Fatal(err)
		}
		for _, paths := range [][]string{{"colour"}, {"display_name.x"}, {"descriptions.en.short_description"}, {"descriptions."}} {
			_, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: &catalogv1.Tool{Name: "origins/fr/tools/masked"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
			if status.Code(err) != codes.InvalidArgument || !contains(fieldViolations(err), "update_mask") {
				t.Errorf("mask %v: %v", paths, err)
			}
		}
		// Output-only fields in a mask are ignored (AIP-203): alone, they
		// leave the tool as it is, and write nothing.
		before, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/masked"})
		if err != nil {
			t.Fatal(err)
		}
		for _, paths := range [][]string{{"seq", "create_time.seconds", "etag"}, {"descriptions.zz"}} { // the second: a language the tool lacks, cleared
			after, err := n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: &catalogv1.Tool{Name: "origins/fr/tools/masked", Seq: 99},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
			if err != nil || after.GetSeq() != before.GetSeq() || after.GetEtag() != before.GetEtag() {
				t.Errorf("mask %v, which changes nothing: seq %d etag %q, %v; want the tool unchanged (seq %d etag %q)", paths, after.GetSeq(), after.GetEtag(), err, before.GetSeq(), before.GetEtag())
			}
		}
		// Clearing a required field through the mask is refused too.
		_, err = n.client.UpdateTool(admin(ctx), &catalogv1.UpdateToolRequest{Tool: &catalogv1.Tool{Name: "origins/fr/tools/masked"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
		if !contains(fieldViolations(err), "tool.display_name") {
			t.Errorf("clearing display_name: %v", err)
		}
	})

	t.Run("request size", func(t *testing.T) {
		big := validTool()
		big.Descriptions["en"].LongDescription = strings.Repeat("x", 70<<10)
		_, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", Tool: big})
		if status.Code(err) != codes.InvalidArgument || !contains(fieldViolations(err), "request") {
			t.Errorf("gRPC: %v", err)
		}
		b, _ := protojsonMarshal(big)
		code, resp := n.doJSON(t, "POST", "/v1/origins/fr/tools", testToken, string(b))
		if code != 400 || !strings.Contains(fmt.Sprint(resp["details"]), "body") {
			t.Errorf("REST: %d %v", code, resp)
		}
	})

	t.Run("malformed JSON and unknown fields", func(t *testing.T) {
		for _, body := range []string{`{"display_name":`, `{"colour":"red"}`, `{"display_name":3}`} {
			code, resp := n.doJSON(t, "POST", "/v1/origins/fr/tools", testToken, body)
			if code != 400 {
				t.Errorf("body %s: %d %v, want 400", body, code, resp)
			}
		}
	})

	t.Run("list arguments", func(t *testing.T) {
		for _, tc := range []struct {
			req   *catalogv1.ListToolsRequest
			field string
		}{
			{&catalogv1.ListToolsRequest{PageSize: -1}, "page_size"},
			{&catalogv1.ListToolsRequest{PageToken: "garbage"}, "page_token"},
			{&catalogv1.ListToolsRequest{OrderBy: "price"}, "order_by"},
			{&catalogv1.ListToolsRequest{OrderBy: "relevance"}, "order_by"},
			{&catalogv1.ListToolsRequest{Query: "+++"}, "query"},
		} {
			_, err := n.client.ListTools(ctx, tc.req)
			if status.Code(err) != codes.InvalidArgument || !contains(fieldViolations(err), tc.field) {
				t.Errorf("%v: %v", tc.req, err)
			}
		}
	})

	// Of all of the above, only the one valid tool was stored.
	info, _ := n.client.GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{})
	if info.GetToolCount() != 1 || info.GetUseCaseCount() != 0 || info.GetOrigins()[0].GetHeadSeq() != 1 {
		t.Errorf("bad input stored something: %v", info)
	}
}

// TestInvalidUTF8InAddress sends paths and query parameters that are not
// UTF-8 once decoded: REST answers 400 naming the parameter, as for any
// bad field, and the web pages 400; neither 500.
func TestInvalidUTF8InAddress(t *testing.T) {
	n := startNode(t)
	for path, field := range map[string]string{
		"/v1/tools?query=%FF":                   "query",
		"/v1/tools?category=ok&category=%C3%28": "category",
		"/v1/origins/fr/tools/%FF%FE":           "path",
		"/v1/usecases?tool=%E2%82":              "tool",
		"/v1/origins/fr/tools?tool_id=%FF":      "tool_id",
		"/v1/harvests?source=%ED%A0%80":         "source",
		"/v1/tools?%FF=%FF":                     "a query parameter's name",
	} {
		code, body := n.doJSON(t, "GET", path, "", "")
		if code != 400 || !strings.Contains(fmt.Sprint(body), field) {
			t.Errorf("GET %s: %d %v; want 400 naming %s", path, code, body, field)
		}
	}
	for _, path := range []string{"/?q=%FF", "/tools/fr/%FF"} {
		resp, err := http.Get(n.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("GET %s: %d, want 400", path, resp.StatusCode)
		}
	}
}

// TestPagesOfLargeRecords lists five tools of about 900 KB each (a member
// may replicate such; the API takes no more than --max-request-bytes): a
// page ends once it passes 2 MiB, so that REST and a gRPC client with
// gRPC's default limit of 4 MiB a message get every tool, page by page.
func TestPagesOfLargeRecords(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	long := strings.Repeat("participation ", 64<<10) // 896 KiB
	for i := range 5 {
		tl := validTool()
		tl.DisplayName = fmt.Sprintf("Tool %d", i)
		tl.Descriptions["en"].LongDescription = long
		if _, err := n.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: fmt.Sprintf("tool-%d", i), Resource: tl}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	token := ""
	for pages := 0; ; pages++ {
		code, body := n.doJSON(t, "GET", "/v1/tools?order_by=display_name&page_size=10&page_token="+token, "", "")
		if code != 200 {
			t.Fatalf("REST page %d: %d %v", pages, code, body["message"])
		}
		tools, _ := body["tools"].([]any)
		if len(tools) > 2 {
			t.Errorf("a page of %d tools of 900 KB", len(tools))
		}
		for _, tl := range tools {
			got = append(got, tl.(map[string]any)["display_name"].(string))
		}
		token, _ = body["next_page_token"].(string)
		if token == "" || pages > 5 {
			break
		}
	}
	if diff := cmp.Diff(got, []string{"Tool 0", "Tool 1", "Tool 2", "Tool 3", "Tool 4"}); diff != "" {
		t.Errorf("REST pages (-got +want):\n%s", diff)
	}
	if _, err := n.client.ListTools(ctx, &catalogv1.ListToolsRequest{PageSize: 10}); err != nil {
		t.Errorf("a gRPC client with the default limits: %v", err)
	}
}

func TestDataFolder(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	cfg := DefaultConfig()
	cfg.Origin, cfg.DataDir, cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = "fr", dir, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	key1 := n.store.PublicKey()
	n.Close()
	for _, f := range []string{keyFile, adminTokenFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v, want 0600", f, err, st.Mode().Perm())
		}
	}
	n, err = New(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if !n.store.PublicKey().Equal(key1) {
		t.Error("the key changed across restarts")
	}
	n.Close()
	cfg.Origin = "de"
	if _, err := New(ctx, cfg, log); err == nil || !strings.Contains(err.Error(), `belongs to origin "fr"`) {
		t.Errorf("start with another origin: %v", err)
	}
	cfg.Origin = "fr"
	cfg.AdminToken = "short"
	if _, err := New(ctx, cfg, log); err == nil || !strings.Contains(err.Error(), "OGPNODE_ADMIN_TOKEN") {
		t.Errorf("a short admin token: %v, want an error naming where it came from", err)
	}
	cfg.AdminToken = ""
	cfg.AdminTokenFile = filepath.Join(t.TempDir(), "missing")
	if _, err := New(ctx, cfg, log); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "--admin-token-file") {
		t.Errorf("missing token file: %v, want an error naming the flag", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestLostKeyNotMadeAnew: a data folder whose catalog is there but whose
// key was lost is refused, saying so, and no new key is made where the
// backup's must go back, nor a new admin token (the operator restores the
// key, as told, and the folder's token must still be the one clients
// hold, or the backup's).
func TestLostKeyNotMadeAnew(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	cat, err := OpenCatalog(context.Background(), "fr", data, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cat.Close()
	if err := os.Remove(filepath.Join(data, keyFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(data, adminTokenFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Origin, cfg.DataDir = "fr", data
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if n, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "restore the key") {
		if n != nil {
			n.Close()
		}
		t.Errorf("a start without the catalog's key: %v", err)
	}
	if _, err := OpenCatalog(context.Background(), "fr", data, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "restore the key") {
		t.Errorf("a harvest into it: %v", err)
	}
	for _, f := range []string{keyFile, adminTokenFile} {
		if _, err := os.Stat(filepath.Join(data, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was made: %v", f, err)
		}
	}
}

// TestSecretFilesWrittenWhole: the key and the token are made whole or
// not at all, readable by the owner only, and never over a file there.
func TestSecretFilesWrittenWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, keyFile)
	if err := writeNewFile(path, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := writeNewFile(path, []byte("second")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("a second write of %s: %v, want it refused", keyFile, err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "first" {
		t.Errorf("%s holds %q (%v), want the first write", keyFile, b, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, %v; want 0600", keyFile, fi.Mode(), err)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Errorf("the folder holds %v (%v), want the one file, no file written beside it left", entries, err)
	}
}

// TestBearerSchemeInAnyCase: the admin token is taken with its scheme in
// any case, as HTTP's schemes are; a token sent without it is told how to
// send it, not that it is wrong.
func TestBearerSchemeInAnyCase(t *testing.T) {
	n := startNode(t)
	create := func(auth, id string) (int, string) {
		resp, b := n.doAuth(t, "POST", "/v1/origins/fr/tools?tool_id="+id, auth, `{"display_name": "Decidim", "descriptions": {"en": {"short_description": "Participatory democracy"}}}`)
		return resp.StatusCode, string(b)
	}
	for i, auth := range []string{"bearer " + testToken, "BEARER " + testToken, "Bearer  " + testToken} {
		if code, body := create(auth, fmt.Sprintf("decidim-%d", i)); code != 200 {
			t.Errorf("%q: %d %s", auth, code, body)
		}
	}
	if code, body := create(testToken, "decidim-x"); code != 401 || !strings.Contains(body, "Authorization: Bearer TOKEN") {
		t.Errorf("the token without its scheme: %d %s", code, body)
	}
	if code, body := create("Bearer wrong-token-000000", "decidim-y"); code != 401 || !strings.Contains(body, "wrong") {
		t.Errorf("a wrong token: %d %s", code, body)
	}
}

// TestWipedCatalogHoldsWritesWhileItsSeedIsDown: a data folder whose
// catalog was wiped, its key kept, started with --join while the seed is
// away: the node holds its writes until a member has given its records
// back, as a restored backup does, through a restart too. It wrote at
// once from seq 1, seqs its federation held, which never reached it, and
// its own records at those seqs were lost to it for good.
func TestWipedCatalogHoldsWritesWhileItsSeedIsDown(t *testing.T) {
	data := wipedFolder(t)
	for _, start := range []string{"the first start", "a restart while the seed is still away"} {
		t.Run(start, func(t *testing.T) {
			n := startNode(t, func(c *Config) {
				c.DataDir, c.GossipTimings = data, "local"
				c.Join = []string{"127.0.0.1:1"} // no member there
			})
			code, body := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=after-wipe", testToken,
				`{"display_name": "After the wipe", "descriptions": {"en": {"short_description": "Participation"}}}`)
			if code != 503 || !strings.Contains(fmt.Sprint(body), "wiped") {
				t.Errorf("a write on the wiped catalog, its seed away: %d %v; want 503 saying why", code, body)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(data, restoredFile)); err != nil {
		t.Errorf("the wiped folder does not say so: %v", err)
	}
}

// TestRestoredFileDeletedWhileRunning: a restored (here wiped) catalog
// whose federation is away holds its writes however long it takes, and
// /metrics says so; its operator deletes the file that says it is
// restored, as the README and every refused write say to, and its writes
// go ahead, without a restart. They stayed refused, and the metric of
// the members awaited read 0, as for a node whose writes go ahead.
func TestRestoredFileDeletedWhileRunning(t *testing.T) {
	data := wipedFolder(t)
	var logs lockedbuf.Buffer
	n := startNodeLogged(t, &logs, func(c *Config) {
		c.DataDir, c.GossipTimings = data, "local"
		c.Join = []string{"127.0.0.1:1"} // the federation is away
	})
	write := func(id string) (int, map[string]any) {
		return n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id="+id, testToken,
			`{"display_name": "A tool", "descriptions": {"en": {"short_description": "Participation"}}}`)
	}
	held := func() string {
		_, b := n.do(t, "GET", "/metrics", "", "")
		m := regexp.MustCompile(`(?m)^ogpnode_sync_own_writes_held (\S+)$`).FindSubmatch(b)
		if m == nil {
			t.Fatal("no ogpnode_sync_own_writes_held in /metrics")
		}
		return string(m[1])
	}
	if code, body := write("before-delete"); code != 503 || held() != "1" {
		t.Fatalf("a write on the restored catalog, its federation away: %d %v, writes held %s; want 503, 1", code, body, held())
	}
	if err := os.Remove(filepath.Join(data, restoredFile)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := write("after-delete")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after the file was deleted, a write is still %d: %v", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if h := held(); h != "0" || !strings.Contains(logs.String(), "was deleted") {
		t.Errorf("writes held %s once they go ahead; the log says the file was deleted: %v", h, strings.Contains(logs.String(), "was deleted"))
	}
}

// wipedFolder is a data folder of origin fr whose catalog was wiped, its
// key kept.
func wipedFolder(t *testing.T) string {
	data := filepath.Join(t.TempDir(), "data")
	cat, err := OpenCatalog(context.Background(), "fr", data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cat.Close()
	for _, f := range []string{catalogFile, catalogFile + "-wal", catalogFile + "-shm"} {
		if err := os.Remove(filepath.Join(data, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	return data
}

// TestWipedCatalogWithoutSeedsSaysSo: a data folder whose catalog was
// wiped, its key kept, remembers no member: started without --join, the
// node can get its records back from none, and its writes take seqs its
// federation may hold. It starts (a lone node has no one to ask), and
// says so.
func TestWipedCatalogWithoutSeedsSaysSo(t *testing.T) {
	data := wipedFolder(t)
	var logs lockedbuf.Buffer
	cfg := DefaultConfig()
	cfg.Origin, cfg.DataDir, cfg.AdminToken = "fr", data, testToken
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	n, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	if !strings.Contains(logs.String(), "holds the node's key but no catalog") || !strings.Contains(logs.String(), "--join") {
		t.Errorf("the node did not say its catalog was wiped:\n%s", logs.String())
	}
	if _, err := os.Stat(filepath.Join(data, restoredFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a lone node, which has no one to ask, keeps the file that holds its writes: %v", err)
	}
}

// TestSecretFilesReadableByOthersSaid: the node warns, naming the file, of
// each secret other users of the machine may read (a restore by cp, an
// rsync without -p): its key and the admin token it made, by anyone but
// its user; the files an operator gives (a token, a gossip key), by every
// user. A file of the operator's shared with a group is theirs to judge.
func TestSecretFilesReadableByOthersSaid(t *testing.T) {
	dir := t.TempDir()
	token, gossip := filepath.Join(dir, "admin-token"), filepath.Join(dir, "gossip.key")
	if err := os.WriteFile(token, []byte(testToken+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gossip, []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, func(c *Config) { c.AdminToken, c.AdminTokenFile, c.GossipKeyFile = "", token, gossip })
	start := func() string {
		t.Helper()
		var logs lockedbuf.Buffer
		n, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		n.Close()
		return logs.String()
	}
	start()
	nodeKey := filepath.Join(cfg.DataDir, keyFile)
	if err := os.Chmod(nodeKey, 0o640); err != nil {
		t.Fatal(err)
	}
	logs := start()
	for path, said := range map[string]bool{nodeKey: true, token: true, gossip: false} {
		if strings.Contains(logs, "path="+path+" ") != said {
			t.Errorf("%s: said %v, want %v\n%s", path, !said, said, logs)
		}
	}
	// The node's own admin token, made 0600, and given 0640.
	cfg.AdminTokenFile = ""
	start()
	made := filepath.Join(cfg.DataDir, adminTokenFile)
	if err := os.Chmod(made, 0o640); err != nil {
		t.Fatal(err)
	}
	if logs := start(); !strings.Contains(logs, "path="+made+" ") {
		t.Errorf("the admin token the node made, readable by its group: not said\n%s", logs)
	}
}

// TestAdminTokenOfTheEnvironmentTrimmed: a token given in the environment
// is taken without the newline a secret made from a file ends with, as
// every token shown to the node is.
func TestAdminTokenOfTheEnvironmentTrimmed(t *testing.T) {
	n := startNode(t, func(c *Config) { c.AdminToken = testToken + "\n" })
	code, body := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=decidim", testToken,
		`{"display_name": "Decidim", "descriptions": {"en": {"short_description": "Participatory democracy"}}}`)
	if code != 200 {
		t.Errorf("a write with the token of OGPNODE_ADMIN_TOKEN=%q: %d %v", testToken+"\n", code, body)
	}
}

// TestListsReadNoMoreThanTheyAnswer: anonymous lists and adoptions of a
// catalog of large records (a member may replicate such) read about what
// they answer, not every record they could: eight at once held the heap
// 600 MiB up to answer 20, each reading a page of 200 records, or a
// software's every record, whole before cutting it to what an answer
// holds. The answers are as before: pages end early, records abridged.
func TestListsReadNoMoreThanTheyAnswer(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	long := strings.Repeat("participation ", 600<<10/14) // 600 KiB
	var writes []storage.Write
	for i := range 100 {
		tl := validTool() // each of github.com/decidim/decidim: one software
		tl.DisplayName = fmt.Sprintf("Tool %02d", i)
		tl.Descriptions["en"].LongDescription = long
		writes = append(writes, storage.Write{Op: storage.OpCreate, ID: fmt.Sprintf("tool-%d", i), Resource: tl})
	}
	if _, err := n.store.Apply(ctx, writes); err != nil {
		t.Fatal(err)
	}
	for what, call := range map[string]func() (proto.Message, error){
		"ListTools": func() (proto.Message, error) {
			return n.client.ListTools(ctx, &catalogv1.ListToolsRequest{PageSize: 200})
		},
		"GetToolAdoption": func() (proto.Message, error) {
			return n.client.GetToolAdoption(ctx, &catalogv1.GetToolAdoptionRequest{Name: "origins/fr/tools/tool-0"})
		},
	} {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		// The heap's peak, sampled while the calls run.
		peak := before.HeapAlloc
		stop, sampled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(sampled)
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		var wg gosync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := call(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		close(stop)
		<-sampled
		if grew := (peak - before.HeapAlloc) >> 20; grew > 200 {
			t.Errorf("%s, 8 anonymous calls at once: the heap grew by %d MiB at its peak, for answers of about 2 MiB each", what, grew)
		}
	}
	// Every tool, page by page, once.
	var names []string
	token := ""
	for range 100 {
		resp, err := n.client.ListTools(ctx, &catalogv1.ListToolsRequest{PageSize: 200, OrderBy: "display_name", PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetTools()) > 4 {
			t.Fatalf("a page of %d tools of 600 KiB", len(resp.GetTools()))
		}
		for _, tl := range resp.GetTools() {
			names = append(names, tl.GetDisplayName())
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(names) != 100 || !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != 100 {
		t.Errorf("the pages gave %d tools, want the 100 once each, in order", len(names))
	}
	a, err := n.client.GetToolAdoption(ctx, &catalogv1.GetToolAdoptionRequest{Name: "origins/fr/tools/tool-7"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.GetTools()) != 100 || a.GetTools()[0].GetName() != "origins/fr/tools/tool-7" || a.GetTools()[0].GetDescriptions()["en"].GetLongDescription() != long ||
		a.GetAbridgedRecords() < 90 || a.GetOmittedRecords() != 0 {
		t.Errorf("the adoption: %d tools, the first %s, %d abridged, %d left out", len(a.GetTools()), a.GetTools()[0].GetName(), a.GetAbridgedRecords(), a.GetOmittedRecords())
	}
}
