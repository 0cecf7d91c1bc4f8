package web_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/node"
	"google.golang.org/protobuf/proto"
)

// TestPeerRecordsMissingWhatTheAPIRequires checks the pages of records
// that another member's node signed without what this node's API requires
// (a use case without its organization, a tool without descriptions): an
// older or buggy node may send them, and replication checks signatures
// and order, not content. A template that followed a field chain through
// the missing message failed, and the use case's page, and the page of
// the tool it names (any member's: here this node's own), answered 500 on
// every node.
func TestPeerRecordsMissingWhatTheAPIRequires(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	cat, err := node.OpenCatalog(ctx, "fr", dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	page := &federationv1.OriginPage{Origin: "de", PublicKey: pub}
	for _, r := range []struct {
		kind federationv1.RecordKind
		id   string
		res  proto.Message
	}{
		{federationv1.RecordKind_RECORD_KIND_USE_CASE, "bare", &catalogv1.UseCase{Name: "origins/de/usecases/bare", Origin: "de", Seq: 1,
			Tool: "origins/fr/tools/decidim", Purpose: "A use case without its organization"}},
		{federationv1.RecordKind_RECORD_KIND_TOOL, "bare", &catalogv1.Tool{Name: "origins/de/tools/bare", Origin: "de", Seq: 2, DisplayName: "Bare"}},
	} {
		res, err := proto.Marshal(r.res)
		if err != nil {
			t.Fatal(err)
		}
		page.ThroughSeq++
		signed, err := envelope.Seal(&federationv1.Record{Origin: "de", Kind: r.kind, Id: r.id, Seq: page.ThroughSeq, Resource: res}, key)
		if err != nil {
			t.Fatal(err)
		}
		page.Records = append(page.Records, signed)
	}
	if _, err := cat.Store.ApplyPage(ctx, page); err != nil {
		t.Fatalf("the peer's page was refused: %v", err)
	}
	if err := cat.Close(); err != nil {
		t.Fatal(err)
	}

	n := startNodeIn(t, dir)
	seed(t, n) // origins/fr/tools/decidim among others
	c := client(t)
	for _, path := range []string{"/usecases/de/bare", "/tools/fr/decidim", "/tools/de/bare", "/?q=bare", "/federation"} {
		code, body, _ := get(t, c, n.base+path)
		if code != http.StatusOK {
			i := strings.Index(body, "<main")
			t.Errorf("GET %s: %d, want 200\n%.300s", path, code, body[max(i, 0):])
		}
	}
}
