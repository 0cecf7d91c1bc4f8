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
