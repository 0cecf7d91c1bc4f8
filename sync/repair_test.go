package sync

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// catalogAt opens a catalog of origin under key, in a folder of its own,
// closed when t ends.
func catalogAt(t *testing.T, origin string, key ed25519.PrivateKey) *storage.Store {
	t.Helper()
	s, err := storage.Open(context.Background(), storage.Options{Path: filepath.Join(t.TempDir(), origin+".db"), Origin: origin, Key: key, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// bareReplicator is a Replicator of store, enough to compare digests.
func bareReplicator(t *testing.T, store *storage.Store, origin string) *Replicator {
	r := &Replicator{store: store, cfg: Config{Origin: origin}, log: testLogger(t), resetAt: map[string]time.Time{}, resetting: map[string]bool{}}
	r.m = newMetrics(nil, r)
	return r
}

// TestRepairingPeerNotTakenForALiar: de pulls fr again from the start (a
// divergence), and its first pull since is from es, a relay that lags
// (it holds fr up to seq W only): de stands at W, holding every record
// of fr it held before, above W too. es then compares digests with de at
// the same watermark W. es holds every record of fr up to W, as de does:
// nothing is lost on either side. But de's digest counts the records it
// holds above its watermark, so es takes itself for the one that lost
// records, pulls fr from the start, and then blames de, whose pulls "do
// not send what its digest counts", and backs it off.
func TestRepairingPeerNotTakenForALiar(t *testing.T) {
	ctx := context.Background()
	pages := sourcePages(t, 300, 8192)
	if len(pages) < 3 {
		t.Fatalf("%d pages; the test needs 3 or more", len(pages))
	}
	lagging := catalogAt(t, "es", nodeKey("es"))
	for _, p := range pages[:2] {
		if _, err := lagging.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	repairing := openReplica(t) // de
	for _, p := range pages {
		if _, err := repairing.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := repairing.ResetWatermark(ctx, "fr"); err != nil { // as compareDigests does
		t.Fatal(err)
	}
	esConn := serveLoopback(t, NewServer(lagging, 8, testLogger(t)).Register)
	if _, err := PullFrom(ctx, repairing, esConn, 0); err != nil {
		t.Fatal(err)
	}
	w := pages[1].GetThroughSeq()
	if wms, _ := repairing.Watermarks(ctx); wms["fr"] != w {
		t.Fatalf("de's watermark for fr after pulling from es: %d, want %d", wms["fr"], w)
	}

	// es pulls from de, and compares digests, as after every pull.
	deConn := serveLoopback(t, NewServer(repairing, 8, testLogger(t)).Register)
	r := bareReplicator(t, lagging, "es")
	res, err := PullFrom(ctx, lagging, deConn, 0)
	if err != nil {
		t.Fatal(err)
	}
	reset, err := r.compareDigests(ctx, "de", deConn, res.FromStart, nil)
	if len(reset) != 0 || err != nil {
		t.Errorf("es, which lost nothing, compared with de repairing: reset %v, %v; want nothing reset", reset, err)
	}
	// es's next pull from de, and its comparison.
	res, err = PullFrom(ctx, lagging, deConn, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.compareDigests(ctx, "de", deConn, res.FromStart, nil); err != nil {
		t.Errorf("es blames de, an honest peer: %v", err)
	}
}

// TestOriginUnderAnotherKeyAtTheSameWatermark: fr's node lost its key,
// and came back under a new one, and harvested its three tools again: es
// joined since, and holds fr's new records, under the new key, at seq 3.
// de holds fr's first three records, under the key it pinned, at seq 3
// too. de pulls from es (nothing of fr comes: es stands at de's
// watermark) and compares digests: they differ, and de takes it for
// records it lost, and sets fr's watermark back to 0. Its next pulls from
// es bring fr's records under the other key, which it skips: it stays at
// 0, re-sent es's whole history of fr at every pull, and serves nothing
// of fr any more, to a node that joins through it either.
func TestOriginUnderAnotherKeyAtTheSameWatermark(t *testing.T) {
	ctx := context.Background()
	first := catalogAt(t, "fr", nodeKey("fr"))
	writeToolsTo(t, first, "first", "t1", "t2", "t3")
	de := openReplica(t)
	if _, err := PullFrom(ctx, de, serveLoopback(t, NewServer(first, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}
	seed := sha256.Sum256([]byte("fr's new key"))
	second := catalogAt(t, "fr", ed25519.NewKeyFromSeed(seed[:]))
	writeToolsTo(t, second, "second", "t1", "t2", "t3")
	es := catalogAt(t, "es", nodeKey("es"))
	if _, err := PullFrom(ctx, es, serveLoopback(t, NewServer(second, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}
	esConn := serveLoopback(t, NewServer(es, 8, testLogger(t)).Register)

	r := bareReplicator(t, de, "de")
	p := &peer{}
	for round := range 3 {
		res, err := PullFrom(ctx, de, esConn, 0)
		if err != nil {
			t.Fatal(err)
		}
		if reset, err := r.compareDigests(ctx, "es", esConn, res.FromStart, r.otherKeyOf(p, res)); len(reset) != 0 || err != nil {
			t.Errorf("round %d: de's comparison with es, which holds fr under another key: reset %v, %v; want fr left alone", round, reset, err)
		}
	}
	if wms, _ := de.Watermarks(ctx); wms["fr"] != 3 {
		t.Errorf("de's watermark for fr: %d, want 3 (it holds fr's three records under the key it pinned)", wms["fr"])
	}
	it := catalogAt(t, "it", nodeKey("it"))
	if _, err := PullFrom(ctx, it, serveLoopback(t, NewServer(de, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := it.Get(ctx, storage.KindTool, "fr", "t1"); err != nil {
		t.Errorf("a node pulling from de gets none of fr's records de holds: %v", err)
	}
}

// TestPeerErrorBounded: a member sends a page whose one record names an
// origin of 3 MB. The page is refused (malformed), and the member's last
// error, which GET /v1/peers and ListPeers show, quotes the whole origin:
// 12 MB, for every pull the member fails. A gRPC client of ListPeers, with
// gRPC's default limit of 4 MiB, can no longer read the list of peers.
func TestPeerErrorBounded(t *testing.T) {
	ctx := context.Background()
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	r := node.repl
	rec, err := proto.Marshal(&federationv1.Record{Origin: strings.Repeat("\x01", 3<<20), Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: "x", Seq: 1, Deleted: true})
	if err != nil {
		t.Fatal(err)
	}
	page := &federationv1.OriginPage{Origin: "fr", PublicKey: nodeKey("fr").Public().(ed25519.PublicKey), ThroughSeq: 1,
		Records: []*federationv1.SignedRecord{{Record: rec, Signature: make([]byte, ed25519.SignatureSize)}}}
	pullFromServer(t, r, "yy", &pageServer{pages: []*federationv1.OriginPage{page}})
	for _, p := range r.Peers() {
		if p.Origin == "yy" && len(p.LastError) > 4<<10 {
			t.Errorf("yy's last error, as Peers shows it: %d bytes (%.120q...)", len(p.LastError), p.LastError)
		}
	}
	srv := NewServer(node.store, 8, testLogger(t))
	srv.Serve(r)
	client := federationv1.NewFederationServiceClient(serveLoopback(t, srv.Register))
	if _, err := client.ListPeers(ctx, &federationv1.ListPeersRequest{}); err != nil {
		t.Errorf("ListPeers, with gRPC's default limits: %v", err)
	}
}

// TestNeverSyncedMemberLagAfterRestart: a member whose gRPC port this node
// cannot reach (a firewall, a wrong address) writes 5 records. The node
// lists it alive, at head 5, never synced, 5 behind. The node restarts
// while the member is down: it lists the member gone, never synced, and
// at head 0, lag 0, as if it lacked nothing of it. The member's head is
// written to the store only with a successful sync.
func TestNeverSyncedMemberLagAfterRestart(t *testing.T) {
	b := startNode(t, t.TempDir(), "xx-1", clusterOpts{})
	b.grpc.Stop() // its gRPC port no longer answers; gossip does
	writeTools(t, b, "b", 5)
	a := startNode(t, t.TempDir(), "xx-0", clusterOpts{join: []string{b.repl.GossipAddr()}})
	member := func(n *testNode) (PeerStatus, bool) {
		for _, p := range n.repl.Peers() {
			if p.Origin == b.origin {
				return p, true
			}
		}
		return PeerStatus{}, false
	}
	waitFor(t, 20*time.Second, "a lists b alive, at head 5, 5 behind, its pull failed", func() bool {
		p, ok := member(a)
		return ok && p.Alive && p.Head == 5 && p.Lag == 5 && p.LastError != ""
	})
	waitFor(t, 20*time.Second, "a remembers b", func() bool {
		known, err := a.store.Peers(context.Background())
		return err == nil && len(known) == 1
	})
	b.stop()
	a.stop()
	a = startNode(t, a.dir, a.origin, clusterOpts{})
	p, ok := member(a)
	if !ok || p.Alive || p.Head != 5 || p.Lag != 5 || !p.LastSync.IsZero() {
		t.Errorf("after a restart with b down, a lists %+v (listed: %v); want b gone, never synced, head 5, lag 5", p, ok)
	}
}

// countingServer is a node's FederationService that counts the records of
// each origin its pulls send.
type countingServer struct {
	*Server
	mu   gosync.Mutex
	sent map[string]int
}

type countingStream struct {
	grpc.ServerStreamingServer[federationv1.PullResponse]
	s *countingServer
}

func (c countingStream) Send(m *federationv1.PullResponse) error {
	c.s.mu.Lock()
	c.s.sent[m.GetPage().GetOrigin()] += len(m.GetPage().GetRecords())
	c.s.mu.Unlock()
	return c.ServerStreamingServer.Send(m)
}

func (s *countingServer) Pull(req *federationv1.PullRequest, stream grpc.ServerStreamingServer[federationv1.PullResponse]) error {
	return s.Server.Pull(req, countingStream{stream, s})
}

// take returns the records sent of origin since the last call.
func (s *countingServer) take(origin string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.sent[origin]
	delete(s.sent, origin)
	return n
}

// TestOriginUnderAnotherKeyNotSentAgainAndAgain: a member holds fr under
// another key than this node pinned (fr's node came back under a new key
// and wrote 300 records). The node's first pull from it finds that, skips
// fr's pages, and logs it. Every later pull still asks the member for fr
// from the node's watermark, and the member sends its whole history of fr
// again, each time (the node skips it unchecked): at every anti-entropy
// round and every announcement, a transfer that grows with the origin's
// writes under the other key, for nothing.
func TestOriginUnderAnotherKeyNotSentAgainAndAgain(t *testing.T) {
	ctx := context.Background()
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	r := node.repl
	for _, p := range pagesOfOneTool(t, "fr", nodeKey("fr"), "first") { // fr pinned under its first key
		if _, err := node.store.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	seed := sha256.Sum256([]byte("fr's new key"))
	second := catalogAt(t, "fr", ed25519.NewKeyFromSeed(seed[:]))
	for i := 0; i < 300; i += 100 {
		var ids []string
		for j := i; j < i+100; j++ {
			ids = append(ids, fmt.Sprintf("t%d", j))
		}
		writeToolsTo(t, second, "second", ids...)
	}
	es := catalogAt(t, "es", nodeKey("es"))
	if _, err := PullFrom(ctx, es, serveLoopback(t, NewServer(second, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}
	srv := &countingServer{Server: NewServer(es, 8, testLogger(t)), sent: map[string]int{}}
	pullFromServer(t, r, "es", srv)
	if n := srv.take("fr"); n == 0 {
		t.Fatal("the first pull brought no record of fr")
	}
	for round := range 3 {
		pullAgain(t, r, "es")
		if n := srv.take("fr"); n != 0 {
			t.Errorf("pull %d after the node found es holds fr under another key: es sent %d records of fr again", round+2, n)
		}
	}
}

// TestRestoredOriginWaitsForARepairingPeer: fr's node wrote 30 records,
// then its catalog was restored from a backup holding the first 10; its
// writes are held until each member answers. pp holds all 30, but pulls
// fr again from the start (a divergence found with another peer), and its
// first pull since was from fr's restored node: pp stands at seq 10,
// holding seqs 11 to 30 above. fr's node must get them back from pp, or
// wait for pp: its writes going ahead at seq 11, which pp holds, lost the
// 20 records to fr for good (pp's digest showed 30 records at seq 10, and
// fr took it for a member that held no more of its origin).
func TestRestoredOriginWaitsForARepairingPeer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, backup := filepath.Join(dir, "catalog.db"), filepath.Join(dir, "backup.db")
	fr, err := storage.Open(ctx, storage.Options{Path: path, Origin: "fr", Key: nodeKey("fr"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	writeIDs := func(from, to int) {
		var ids []string
		for i := from; i < to; i++ {
			ids = append(ids, fmt.Sprintf("t%d", i))
		}
		writeToolsTo(t, fr, "fr", ids...)
	}
	writeIDs(0, 10)
	if err := storage.Backup(ctx, path, backup); err != nil {
		t.Fatal(err)
	}
	writeIDs(10, 30)
	pp := catalogAt(t, "pp", nodeKey("pp"))
	if _, err := PullFrom(ctx, pp, serveLoopback(t, NewServer(fr, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}
	fr.Close()
	restored, err := storage.Open(ctx, storage.Options{Path: backup, Origin: "fr", Key: nodeKey("fr"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { restored.Close() })
	if err := pp.ResetWatermark(ctx, "fr"); err != nil {
		t.Fatal(err)
	}
	if _, err := PullFrom(ctx, pp, serveLoopback(t, NewServer(restored, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}

	r := bareReplicator(t, restored, "fr")
	r.awaited = map[string]bool{"pp": true}
	ppConn := serveLoopback(t, NewServer(pp, 8, testLogger(t)).Register)
	if _, err := pullOwnOrigin(ctx, restored, ppConn, 0); err != nil {
		t.Fatal(err)
	}
	ahead, err := r.ownOriginAnswer(ctx, "pp", ppConn)
	if err != nil {
		t.Fatal(err)
	}
	head, err := restored.Watermark(ctx, "fr")
	if err != nil {
		t.Fatal(err)
	}
	if head < 30 && (!ahead || len(r.stillAwaited()) != 1) {
		t.Errorf("pp holds 20 records of fr above fr's head %d: ahead %v, members still awaited %v; want them back, or pp awaited", head, ahead, r.stillAwaited())
	}
}

// staleDigests serves a node's pulls, and digests of it read earlier (a
// comparison that read them just before the node's own comparison reset
// its watermark: the two run at once, as when two nodes pull each other
// on a join).
type staleDigests struct {
	*Server
	digests []*federationv1.OriginDigest
}

func (s staleDigests) GetDigests(context.Context, *federationv1.GetDigestsRequest) (*federationv1.GetDigestsResponse, error) {
	return &federationv1.GetDigestsResponse{Digests: s.digests}, nil
}

// TestTwoRelaysResettingAtOnceRepair: fr's node is gone; de and es relay
// its records, up to seq 4. de holds an older version of t1 than its
// watermark says (t1@1 where fr wrote t1@4: a damaged disk, as in
// TestDivergenceRepaired): as many records as es, other hashes. de and es
// compare digests at once (both pull each other when one joins): each
// finds the other's digest differs at the same watermark, with as many
// records, and each sets fr back to 0, to pull it again from the start.
// From then on each serves nothing of fr (its watermark is 0), so neither
// can repair from the other, ever: both stay at 0, each blames the other
// (its pulls "do not send what its digest counts"), and a node that joins
// gets nothing of fr from either.
func TestTwoRelaysResettingAtOnceRepair(t *testing.T) {
	ctx := context.Background()
	fr := catalogAt(t, "fr", nodeKey("fr"))
	writeToolsTo(t, fr, "fr", "t1", "t2", "t3")
	dePath := filepath.Join(t.TempDir(), "de.db")
	de, err := storage.Open(ctx, storage.Options{Path: dePath, Origin: "de", Key: nodeKey("de"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { de.Close() })
	if _, err := PullFrom(ctx, de, serveLoopback(t, NewServer(fr, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := fr.Apply(ctx, []storage.Write{{Op: storage.OpReplace, ID: "t1", Resource: &catalogv1.Tool{DisplayName: "t1 again"}}}); err != nil { // t1@4
		t.Fatal(err)
	}
	es := catalogAt(t, "es", nodeKey("es"))
	if _, err := PullFrom(ctx, es, serveLoopback(t, NewServer(fr, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}
	// The damage: de's watermark says 4, its t1 is t1@1.
	db, err := sql.Open("sqlite", dePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE origins SET head_seq = 4 WHERE origin = 'fr'"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	dd, err := de.Digests(ctx, []string{"fr"})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := es.Digests(ctx, []string{"fr"})
	if err != nil {
		t.Fatal(err)
	}
	if dd[0].GetWatermark() != 4 || ed[0].GetWatermark() != 4 || dd[0].GetCount() != ed[0].GetCount() {
		t.Fatalf("digests: de %v, es %v; want both at 4, with as many records", dd[0], ed[0])
	}
	deSrv, esSrv := NewServer(de, 8, testLogger(t)), NewServer(es, 8, testLogger(t))
	rDe, rEs := bareReplicator(t, de, "de"), bareReplicator(t, es, "es")
	// The two comparisons at once: each read the other's digest before
	// the other's reset.
	stale := func(srv *Server, ds []*federationv1.OriginDigest) *grpc.ClientConn {
		return serveLoopback(t, func(s grpc.ServiceRegistrar) { federationv1.RegisterFederationServiceServer(s, staleDigests{srv, ds}) })
	}
	rDe.compareDigests(ctx, "es", stale(esSrv, ed), nil, nil)
	rEs.compareDigests(ctx, "de", stale(deSrv, dd), nil, nil)

	// Then each pulls from the other, and compares, three times.
	deConn, esConn := serveLoopback(t, deSrv.Register), serveLoopback(t, esSrv.Register)
	for range 3 {
		for _, pair := range []struct {
			r    *Replicator
			s    *storage.Store
			peer string
			conn *grpc.ClientConn
		}{{rDe, de, "es", esConn}, {rEs, es, "de", deConn}} {
			res, err := PullFrom(ctx, pair.s, pair.conn, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pair.r.compareDigests(ctx, pair.peer, pair.conn, res.FromStart, nil); err != nil {
				t.Logf("%s blames %s: %v", pair.r.cfg.Origin, pair.peer, err)
			}
		}
	}
	for name, s := range map[string]*storage.Store{"de": de, "es": es} {
		wms, _ := s.Watermarks(ctx)
		m, err := s.Get(ctx, storage.KindTool, "fr", "t1")
		if wms["fr"] != 4 || err != nil || m.(*catalogv1.Tool).GetSeq() != 4 {
			t.Errorf("%s after three rounds of pulls both ways: fr's watermark %d, t1 %v (%v); want 4, t1@4", name, wms["fr"], m.(*catalogv1.Tool).GetSeq(), err)
		}
	}
	it := catalogAt(t, "it", nodeKey("it"))
	for _, conn := range []*grpc.ClientConn{deConn, esConn} {
		if _, err := PullFrom(ctx, it, conn, 0); err != nil {
			t.Fatal(err)
		}
	}
	if wms, _ := it.Watermarks(ctx); wms["fr"] != 4 {
		t.Errorf("a node pulling from de and es: fr's watermark %d, want 4", wms["fr"])
	}
}
