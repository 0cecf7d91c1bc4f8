package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/lockedbuf"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestMetricsOfOriginsNotKnown gives a node the records of origins no
// member of its federation is: /metrics counts them together, under origin
// "other", beside its own origin's series.
func TestMetricsOfOriginsNotKnown(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	if _, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "decidim", Tool: validTool()}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		origin := fmt.Sprintf("zz-%d", i)
		seed := sha256.Sum256([]byte(origin))
		key := ed25519.NewKeyFromSeed(seed[:])
		sr, err := envelope.Seal(&federationv1.Record{Origin: origin, Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: "x", Seq: 1, Deleted: true}, key)
		if err != nil {
			t.Fatal(err)
		}
		page := &federationv1.OriginPage{Origin: origin, PublicKey: key.Public().(ed25519.PublicKey), ThroughSeq: 1, Records: []*federationv1.SignedRecord{sr}}
		if _, err := n.store.ApplyPage(ctx, page); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(n.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	metrics := string(b)
	for _, want := range []string{`ogpnode_records{kind="tool",origin="fr",state="live"} 1`, `ogpnode_records{kind="any",origin="other",state="tombstone"} 3`, `ogpnode_origin_head_seq{origin="fr"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, `origin="zz-`) {
		t.Errorf("/metrics names origins no member is:\n%s", metrics)
	}
}

// scrape is what GET /metrics answers.
func scrape(t *testing.T, n *testNode) string {
	t.Helper()
	resp, b := n.do(t, "GET", "/metrics", "", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestHeadSeqWhileAnOriginIsPulledAgain: an origin whose watermark is
// set back to 0, to pull it again from the start (the repair of a
// divergence), keeps its head at the highest seq held, in /metrics and in
// the records held by origin, rather than falling to 0.
func TestHeadSeqWhileAnOriginIsPulledAgain(t *testing.T) {
	ctx := context.Background()
	seed := sha256.Sum256([]byte("de"))
	key := ed25519.NewKeyFromSeed(seed[:])
	n := startNode(t, func(c *Config) { // trusted, de is named in /metrics
		c.TrustFile = filepath.Join(filepath.Dir(c.DataDir), "trust")
		if err := os.WriteFile(c.TrustFile, []byte(fmt.Sprintf("de %x\n", []byte(key.Public().(ed25519.PublicKey)))), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	var records []*federationv1.SignedRecord
	for seq := int64(1); seq <= 3; seq++ {
		sr, err := envelope.Seal(&federationv1.Record{Origin: "de", Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: fmt.Sprint("t", seq), Seq: seq, Deleted: true}, key)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, sr)
	}
	if _, err := n.store.ApplyPage(ctx, &federationv1.OriginPage{Origin: "de", PublicKey: key.Public().(ed25519.PublicKey), ThroughSeq: 3, Records: records}); err != nil {
		t.Fatal(err)
	}
	if err := n.store.ResetWatermark(ctx, "de"); err != nil {
		t.Fatal(err)
	}
	if m := scrape(t, n); !strings.Contains(m, `ogpnode_records{kind="any",origin="de",state="tombstone"} 3`) || !strings.Contains(m, `ogpnode_origin_head_seq{origin="de"} 3`) {
		t.Errorf("3 records of de held, up to seq 3; /metrics says:\n%s", m)
	}
	info, err := n.client.GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range info.GetOrigins() {
		if o.GetOrigin() == "de" && o.GetHeadSeq() != 3 {
			t.Errorf("de's head in the node's info while it is pulled again: %d, want 3", o.GetHeadSeq())
		}
	}
}

// TestLatencyBucketsCoverLongCalls: the latency histogram has buckets up
// to the longest calls the node answers (a pull served, 2 minutes; an
// import, 30), so that their quantiles are not all +Inf.
func TestLatencyBucketsCoverLongCalls(t *testing.T) {
	n := startNode(t)
	if _, err := n.client.ListTools(context.Background(), &catalogv1.ListToolsRequest{}); err != nil {
		t.Fatal(err)
	}
	m := scrape(t, n)
	if !strings.Contains(m, `ogpnode_request_duration_seconds_bucket{method="ListTools",le="2097.152"}`) {
		t.Errorf("no bucket of 35 minutes:\n%s", m)
	}
}

// requestsCounted are the lines of ogpnode_requests_total.
func requestsCounted(m string) string {
	var out []string
	for _, l := range strings.Split(m, "\n") {
		if strings.HasPrefix(l, "ogpnode_requests_total{") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestRESTRefusalsCounted: the REST calls refused before the API sees them
// (a body or parameter the gateway cannot read, a body too large, a
// parameter not UTF-8) are counted under their method, and answered as
// before.
func TestRESTRefusalsCounted(t *testing.T) {
	n := startNode(t) // 64 KiB a request
	for _, c := range []struct{ method, path, token, body, says string }{
		{"POST", "/v1/origins/fr/tools?tool_id=x", testToken, `{"display_name": 5}`, "display_name"},
		{"POST", "/v1/origins/fr/tools?tool_id=y", testToken, `{"display_name": "` + strings.Repeat("x", 70<<10) + `"}`, "is more than the 65536 bytes"},
		{"GET", "/v1/tools?page_size=abc", "", "", "page_size"},
		{"GET", "/v1/tools?query=%ff", "", "", `query: is not valid UTF-8`},
		{"GET", "/v1/tools", "", strings.Repeat("x", 70<<10), "is more than the 65536 bytes"}, // a body no GET reads
		{"GET", "/v1/no-such-thing?query=%ff", "", "", `query: is not valid UTF-8`},           // no method: not counted
	} {
		if resp, b := n.do(t, c.method, c.path, c.token, c.body); resp.StatusCode != 400 || !strings.Contains(string(b), c.says) {
			t.Errorf("%s %s: %d %.300s, want 400 saying %s", c.method, c.path, resp.StatusCode, b, c.says)
		}
	}
	m := requestsCounted(scrape(t, n))
	for _, want := range []string{
		`ogpnode_requests_total{code="InvalidArgument",method="CreateTool"} 2`,
		`ogpnode_requests_total{code="InvalidArgument",method="ListTools"} 3`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s; requests counted:\n%s", want, m)
		}
	}
	if strings.Count(m, "\n")+1 != 2 {
		t.Errorf("more requests counted than made:\n%s", m)
	}
}

// TestGRPCRefusalsCounted: the gRPC calls refused before the API's
// interceptors see them (larger than the port reads) and those that do
// not decode are counted under their method, and logged as the caller's,
// not as errors of the node; calls of no method of the node are not
// counted.
func TestGRPCRefusalsCounted(t *testing.T) {
	var logs lockedbuf.Buffer
	n := startNodeLogged(t, &logs)
	ctx := context.Background()
	tool := validTool()
	tool.Descriptions["en"].LongDescription = strings.Repeat("x", 5<<20)
	if _, err := n.client.CreateTool(admin(ctx), &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "big", Tool: tool}, grpc.MaxCallSendMsgSize(64<<20)); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a request of 5 MiB: %v", err)
	}
	var out wireBytes
	garbage := wireBytes{0x0a, 0x10, 0x01} // a field of 16 bytes that holds 1
	if err := n.conn.Invoke(ctx, catalogv1.CatalogService_ListTools_FullMethodName, &garbage, &out, grpc.ForceCodec(wireCodec{})); status.Code(err) == codes.OK {
		t.Fatalf("a request that is not protobuf: %v", err)
	}
	if err := n.conn.Invoke(ctx, "/ogp.catalog.v1.CatalogService/MadeUp", &garbage, &out, grpc.ForceCodec(wireCodec{})); status.Code(err) != codes.Unimplemented {
		t.Fatalf("a method the node has not: %v", err)
	}
	m := requestsCounted(scrape(t, n))
	for _, want := range []string{`{code="ResourceExhausted",method="CreateTool"} 1`, `{code="InvalidArgument",method="ListTools"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics counts no call %s; requests counted:\n%s", want, m)
		}
	}
	if strings.Contains(m, "MadeUp") || strings.Count(m, "\n")+1 != 2 {
		t.Errorf("more requests counted than made:\n%s", m)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a caller's refused request logged as the node's error:\n%s", logs.String())
	}
}

// wireCodec sends and receives a message's wire bytes as they are.
type wireCodec struct{}

type wireBytes []byte

func (wireCodec) Marshal(v any) ([]byte, error) { return *v.(*wireBytes), nil }
func (wireCodec) Unmarshal(data []byte, v any) error {
	*v.(*wireBytes) = append([]byte(nil), data...)
	return nil
}
func (wireCodec) Name() string { return "proto" }
