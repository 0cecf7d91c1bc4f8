package node

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// TestNodeRepairsItsRecordsOfATimeThatIsNone: a node started on a catalog
// where an earlier version stored one of its tools with a time that is
// none (which REST could not write, and peers refuse) lists it, and writes
// it anew without that time.
func TestNodeRepairsItsRecordsOfATimeThatIsNone(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	cat, err := OpenCatalog(ctx, "fr", dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	bad := validTool()
	bad.Provenance = &catalogv1.Provenance{Source: "csv:/srv/tools.csv", SourceId: "1", HarvestTime: &timestamppb.Timestamp{Seconds: 1796403283463}}
	if _, err := cat.Store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "bad", Resource: bad}}); err != nil {
		t.Fatal(err)
	}
	cat.Close()
	n := startNode(t, func(c *Config) { c.DataDir = dir })
	if resp, b := n.do(t, "GET", "/v1/tools", "", ""); resp.StatusCode != 200 || !strings.Contains(string(b), `"origins/fr/tools/bad"`) {
		t.Errorf("GET /v1/tools: %d %.300s", resp.StatusCode, b)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) { // a poll interval
		tl, err := n.client.GetTool(ctx, &catalogv1.GetToolRequest{Name: "origins/fr/tools/bad"})
		if err == nil && tl.GetSeq() == 2 && tl.GetProvenance().GetSourceId() == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tool not written anew: %v, %v", tl, err)
		}
	}
}
