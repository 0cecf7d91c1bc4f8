package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestGatewayErrorsCut checks that the errors the gateway makes itself (a
// query parameter or a body it cannot read), which do not pass the
// interceptors, are cut as theirs are.
func TestGatewayErrorsCut(t *testing.T) {
	n := startNode(t)
	long := strings.Repeat("a", 30_000)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/tools?page_size=" + url.QueryEscape(long), ""},
		{"POST", "/v1/origins/fr/tools?tool_id=x", `{"` + long + `":1}`},
	} {
		resp, b := n.do(t, tc.method, tc.path, testToken, tc.body)
		if len(b) > 8<<10 {
			t.Errorf("%s %.50s: %d, %d bytes, not cut: %.200s", tc.method, tc.path, resp.StatusCode, len(b), b)
		}
	}
}

// TestGatewayErrorsNameTheField: a body the gateway cannot decode (a field
// of the wrong type, an unknown field or enum value, JSON cut short) and a
// query parameter of the wrong type get field violations, as the API's
// own checks give, naming the field by its proto name.
func TestGatewayErrorsNameTheField(t *testing.T) {
	n := startNode(t)
	for _, tc := range []struct{ method, path, body, field, says string }{
		{"POST", "/v1/origins/fr/tools?tool_id=x", `{"display_name": "x", "ogp_themes": ["openData"]}`, "ogp_themes", `invalid value for enum field ogp_themes: \"openData\"`},
		{"POST", "/v1/origins/fr/tools?tool_id=x", `{"displayName": 5}`, "display_name", "invalid value for string field display_name: 5"},
		{"POST", "/v1/origins/fr/tools?tool_id=x", `{"display_name": "x", "frobnicate": 1}`, "frobnicate", `unknown field \"frobnicate\"`},
		{"POST", "/v1/origins/fr/tools?tool_id=x", `{"display_name": "x"`, "body", "the body is not JSON"},
		{"GET", "/v1/tools?page_size=abc", "", "page_size", `parsing \"abc\": invalid syntax`},
		// Repeated parameters, whose errors the gateway words otherwise.
		{"GET", "/v1/tools?ogp_theme=OPEN_DATA", "", "ogp_theme", "OPEN_DATA"},
		{"GET", "/v1/tools:facets?ogp_theme=OPEN_DATA", "", "ogp_theme", "OPEN_DATA"},
		{"GET", "/v1/usecases?organization_kind=CITY", "", "organization_kind", "CITY"},
		{"GET", "/v1/usecases?status=ACTIVE", "", "status", "ACTIVE"},
	} {
		resp, b := n.do(t, tc.method, tc.path, testToken, tc.body)
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"field_violations":[{"field":"`+tc.field+`"`) || !strings.Contains(string(b), tc.says) {
			t.Errorf("%s %s %s: %d %s\nwant a violation of %s saying %s", tc.method, tc.path, tc.body, resp.StatusCode, b, tc.field, tc.says)
		}
	}
	// Refusals of the API itself are as they were.
	if resp, b := n.do(t, "GET", "/v1/tools?order_by=relevance", "", ""); resp.StatusCode != 400 || strings.Count(string(b), `"field":`) != 1 {
		t.Errorf("order_by=relevance without a query: %d %s", resp.StatusCode, b)
	}
}

// TestHarvestReportHidesURLCredentials imports an entry refused for a URL
// with a token as its user name: the public harvest report (GET
// /v1/harvests, no token) does not quote the token.
func TestHarvestReportHidesURLCredentials(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	tool := validTool()
	tool.RepositoryUrl = "https://ghp_T0KEN@github.com/org/repo"
	_, err := catalogv1.NewHarvestServiceClient(n.conn).ImportHarvest(admin(ctx), &catalogv1.ImportHarvestRequest{
		Source: &catalogv1.HarvestSource{Name: "city", Kind: "publiccode", Location: "/srv/city"}, Complete: true,
		Entries: []*catalogv1.HarvestEntry{{SourceId: "one", Tool: tool}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, b := n.do(t, "GET", "/v1/harvests", "", "")
	if strings.Contains(string(b), "ghp_T0KEN") {
		t.Errorf("the public harvest report quotes the URL's user name: %.400s", b[strings.Index(string(b), "ghp_T0KEN")-100:])
	}
}

// TestRefusedListenCreatesNothing starts a node on a new data folder with
// an address it cannot listen on (a port out of range, which the
// configuration's check lets through; a gossip port taken): neither the
// node key, the admin token nor the catalog is created.
func TestRefusedListenCreatesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for what, addrs := range map[string][3]string{
		"an HTTP port out of range": {"127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:0"},
		"a gossip port taken":       {"127.0.0.1:0", "127.0.0.1:0", taken.Addr().String()},
	} {
		cfg := DefaultConfig()
		cfg.Origin = "fr"
		cfg.DataDir = filepath.Join(t.TempDir(), "data")
		cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = addrs[0], addrs[1], addrs[2]
		if n, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
			n.Close()
			t.Errorf("%s: the node started", what)
			continue
		}
		for _, f := range []string{keyFile, adminTokenFile, catalogFile} {
			if _, err := os.Stat(filepath.Join(cfg.DataDir, f)); err == nil {
				t.Errorf("%s: %s is in the data folder", what, f)
			}
		}
	}
}

// TestMethodNotAllowedSaysAllow checks that a 405 says which methods the
// address takes (RFC 9110 §15.5.6).
func TestMethodNotAllowedSaysAllow(t *testing.T) {
	n := startNode(t)
	resp, _ := n.do(t, "PUT", "/v1/tools", "", "")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("PUT /v1/tools: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestHeadersNotASCII: a REST call with a header whose value is not ASCII,
// which HTTP allows and gRPC metadata cannot carry, is answered without a
// word on the node's stderr (the gateway wrote an ERROR there for each,
// for any caller); an admin token that is not ASCII, which no token is,
// is refused saying so, rather than as no token sent, for a write.
func TestHeadersNotASCII(t *testing.T) {
	n := startNode(t)
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup2(int(stderr.Fd()), 2); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			syscall.Dup2(saved, 2)
			syscall.Close(saved)
			restored = true
		}
	}
	defer restore()
	call := func(method, path, header, value string) (int, string) {
		req, err := http.NewRequest(method, n.base+path, strings.NewReader(`{"display_name": "x", "descriptions": {"en": {"short_description": "x"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(header, value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, header := range []string{"User-Agent", "Accept-Language", "X-Anything"} {
		if code, body := call("GET", "/v1/node", header, "navigateur-é"); code != 200 {
			t.Errorf("GET /v1/node with a %s not ASCII: %d %s", header, code, body)
		}
	}
	// Reads are public, whatever the token.
	if code, body := call("GET", "/v1/tools", "Authorization", "Bearer jéton"); code != 200 {
		t.Errorf("a read with a token not ASCII: %d %s", code, body)
	}
	code, body := call("POST", "/v1/origins/fr/tools?tool_id=x", "Authorization", "Bearer jéton")
	restore()
	if code != 401 || !strings.Contains(body, "not ASCII") {
		t.Errorf("a write with a token not ASCII: %d %s", code, body)
	}
	if b, _ := os.ReadFile(stderr.Name()); len(b) > 0 {
		t.Errorf("the node's stderr: %s", b)
	}
}

// TestWrongTokensLockedOut: past five wrong admin tokens from one address,
// over REST or gRPC alike (and the web pages' sign-in form: they share the
// count), the address's writes are refused unchecked for a while, with
// 429 (RESOURCE_EXHAUSTED), the right token's too; nothing slowed guessing
// a token an operator chose. A write with no token is no guess.
func TestWrongTokensLockedOut(t *testing.T) {
	n := startNode(t)
	body := `{"display_name": "x", "descriptions": {"en": {"short_description": "x"}}}`
	for range 3 {
		if resp, _ := n.doAuth(t, "POST", "/v1/origins/fr/tools?tool_id=x", "", body); resp.StatusCode != 401 {
			t.Fatalf("a write without a token: %d", resp.StatusCode)
		}
	}
	for i := range 5 {
		if resp, b := n.do(t, "POST", "/v1/origins/fr/tools?tool_id=x", fmt.Sprintf("guess-%d-0123456789", i), body); resp.StatusCode != 401 {
			t.Fatalf("wrong token %d: %d %s", i+1, resp.StatusCode, b)
		}
	}
	_, err := n.client.CreateTool(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer guess-over-grpc-0123"),
		&catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "x", Tool: validTool()})
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "too many wrong admin tokens") {
		t.Errorf("the sixth wrong token, over gRPC: %v", err)
	}
	if resp, b := n.do(t, "POST", "/v1/origins/fr/tools?tool_id=x", testToken, body); resp.StatusCode != 429 {
		t.Errorf("the right token while locked out: %d %s", resp.StatusCode, b)
	}
	if resp, _ := n.do(t, "GET", "/v1/tools", "", ""); resp.StatusCode != 200 {
		t.Errorf("a read while locked out: %d", resp.StatusCode)
	}
}
