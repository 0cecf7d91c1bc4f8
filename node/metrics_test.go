package node

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
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
