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
	dir := dataWithPeerRecords(t, "de",
		peerRecord{federationv1.RecordKind_RECORD_KIND_USE_CASE, "bare", &catalogv1.UseCase{Name: "origins/de/usecases/bare", Origin: "de", Seq: 1,
			Tool: "origins/fr/tools/decidim", Purpose: "A use case without its organization"}},
		peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "bare", &catalogv1.Tool{Name: "origins/de/tools/bare", Origin: "de", Seq: 2, DisplayName: "Bare"}},
	)
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

// TestPeerToolPageForACurator: a signed-in curator on another member's
// tool is told it is curated on its own node (no edit, no delete), and may
// record a use case of it, as the use case form takes any member's tool.
func TestPeerToolPageForACurator(t *testing.T) {
	dir := dataWithPeerRecords(t, "es", peerRecord{federationv1.RecordKind_RECORD_KIND_TOOL, "decidim", &catalogv1.Tool{Name: "origins/es/tools/decidim", Origin: "es", Seq: 1, DisplayName: "Decidim",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Participatory democracy"}}}})
	n := startNodeIn(t, dir)
	c := client(t)
	signIn(t, c, n)
	_, page, _ := get(t, c, n.base+"/tools/es/decidim")
	if !strings.Contains(page, `/usecases/new?tool=origins%2fes%2ftools%2fdecidim`) || strings.Contains(page, "/tools/es/decidim/edit") || strings.Contains(page, "/tools/es/decidim/delete") {
		t.Error("a peer's tool page: want a link to add a use case of it, and none to edit or delete it")
	}
	if !strings.Contains(page, "curated on their own node") {
		t.Error("a peer's tool page does not tell the signed-in curator it is curated on its own node")
	}
}

// peerRecord is a resource another member wrote, and its record's kind and
// id.
type peerRecord struct {
	kind federationv1.RecordKind
	id   string
	res  proto.Message
}

// dataWithPeerRecords is the data folder of a node of origin fr whose
// catalog holds records, each of the resources given, signed by a member
// of origin (at seqs 1, 2...), as its peers gave them: replication checks
// signatures and order, not content.
func dataWithPeerRecords(t *testing.T, origin string, records ...peerRecord) string {
	t.Helper()
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
	page := &federationv1.OriginPage{Origin: origin, PublicKey: pub}
	for _, r := range records {
		res, err := proto.Marshal(r.res)
		if err != nil {
			t.Fatal(err)
		}
		page.ThroughSeq++
		signed, err := envelope.Seal(&federationv1.Record{Origin: origin, Kind: r.kind, Id: r.id, Seq: page.ThroughSeq, Resource: res}, key)
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
	return dir
}
