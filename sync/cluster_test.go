package sync

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/lockedbuf"
	"github.com/ogptoolbox/federation/storage"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// testNode is a node of an in-process cluster: a real SQLite file, a real
// gRPC server on loopback and real memberlist gossip on loopback.
type testNode struct {
	origin string
	dir    string
	store  *storage.Store
	grpc   *grpc.Server
	lis    net.Listener
	repl   *Replicator
}

type clusterOpts struct {
	antiEntropy time.Duration // 0: the local profile's
	join        []string
	key         ed25519.PrivateKey           // nil: nodeKey(origin)
	net         *testNetwork                 // nil: the network as it is
	maxDead     int                          // 0: the default
	trusted     map[string]ed25519.PublicKey // nil: no trust list
	pinned      map[string]ed25519.PublicKey // keys to hold origins under (a --pin file)
	advertise   string                       // the host announced, if not the one listened on
	gossipKey   []byte                       // nil: gossip unencrypted
	log         *slog.Logger                 // nil: testLogger's
	patience    time.Duration                // how long writes wait for the members at start; 0: the local profile's
	gossipHost  string                       // where gossip listens; "": 127.0.0.1
	gossipPort  int                          // 0: any free one
	timings     Timings                      // "": TimingsLocal
	tls         bool                         // the node says its gRPC port speaks mutual TLS
	grpcHost    string                       // where gRPC listens; "": 127.0.0.1
	httpAddr    string                       // the HTTP address the node says it has
	restored    string                       // the catalog is a restored copy (Config.Restored)
	onRestored  func(answered bool)          // Config.OnRestored
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("OGPNODE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

func nodeKey(origin string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("test key of " + origin))
	return ed25519.NewKeyFromSeed(seed[:])
}

// startNode starts (or restarts, on the same folder) a node of origin.
func startNode(t testing.TB, dir, origin string, o clusterOpts) *testNode {
	t.Helper()
	ctx := context.Background()
	log := o.log
	if log == nil {
		log = testLogger(t)
	}
	key := o.key
	if key == nil {
		key = nodeKey(origin)
	}
	store, err := storage.Open(ctx, storage.Options{Path: filepath.Join(dir, "catalog.db"), Origin: origin, Key: key, Logger: log, Trusted: o.trusted, Pinned: o.pinned})
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{origin: origin, dir: dir, store: store, grpc: grpc.NewServer()}
	NewServer(store, 8, log).Register(n.grpc)
	gossipHost, grpcHost := cmp.Or(o.gossipHost, "127.0.0.1"), cmp.Or(o.grpcHost, "127.0.0.1")
	if n.lis, err = net.Listen("tcp", net.JoinHostPort(grpcHost, "0")); err != nil {
		t.Fatal(err)
	}
	go n.grpc.Serve(n.lis)
	n.repl, err = Start(ctx, Config{
		Origin:              origin,
		GossipAddr:          net.JoinHostPort(gossipHost, strconv.Itoa(o.gossipPort)),
		HTTPAddr:            o.httpAddr,
		AdvertiseHost:       o.advertise,
		GossipKey:           o.gossipKey,
		GRPCAddr:            n.lis.Addr().String(),
		Join:                o.join,
		Timings:             cmp.Or(o.timings, TimingsLocal),
		AntiEntropyInterval: o.antiEntropy,
		PullTimeout:         10 * time.Second,
		MaxDeadMembers:      o.maxDead,
		OwnRecordsPatience:  o.patience,
		Dial: func(addr string) (*grpc.ClientConn, error) {
			return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		},
		WrapTransport: o.net.wrap(origin),
		TLS:           o.tls,
		Restored:      o.restored,
		OnRestored:    o.onRestored,
	}, store, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.stop)
	return n
}

func (n *testNode) stop() {
	if n.repl == nil {
		return
	}
	n.repl.Close()
	n.grpc.Stop()
	n.store.Close()
	n.repl = nil
}

func startCluster(t testing.TB, size int, o clusterOpts) []*testNode {
	t.Helper()
	var nodes []*testNode
	for i := range size {
		origin := fmt.Sprintf("xx-%d", i)
		if i > 0 {
			o.join = []string{nodes[0].repl.GossipAddr()}
		}
		nodes = append(nodes, startNode(t, t.TempDir(), origin, o))
	}
	return nodes
}

func writeTools(t testing.TB, n *testNode, prefix string, count int) {
	t.Helper()
	var ws []storage.Write
	for i := range count {
		ws = append(ws, storage.Write{Op: storage.OpCreate, ID: fmt.Sprintf("%s-%d", prefix, i),
			Resource: &catalogv1.Tool{DisplayName: fmt.Sprintf("%s %d", prefix, i), Descriptions: map[string]*catalogv1.Description{
				"en": {ShortDescription: "a tool of " + n.origin}}}})
	}
	// Bounded: a write held at start (see holdOwnWrites) that no answer
	// releases fails the test, rather than hang it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := n.store.Apply(ctx, ws); err != nil {
		t.Fatal(err)
	}
}

// fingerprint is a node's digests of every origin it holds records of, as
// one comparable string.
func fingerprint(t testing.TB, n *testNode) string { return fingerprintOf(t, n.store) }

// fingerprintOf is fingerprint for a catalog.
func fingerprintOf(t testing.TB, store *storage.Store) string {
	ds, err := store.Digests(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, d := range ds {
		if d.GetWatermark() == 0 {
			continue // an origin that wrote nothing yet: the node's own
		}
		fmt.Fprintf(&b, "%s:%d:%d:%x ", d.GetOrigin(), d.GetWatermark(), d.GetCount(), d.GetSignedHash())
	}
	return b.String()
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// converged reports whether all nodes hold the same records, of as many
// origins as origins.
func converged(t testing.TB, nodes []*testNode, origins int) bool {
	want := fingerprint(t, nodes[0])
	if c := bytes.Count([]byte(want), []byte(" ")); c != origins {
		return false
	}
	for _, n := range nodes[1:] {
		if fingerprint(t, n) != want {
			return false
		}
	}
	return true
}

func TestClusterConverges(t *testing.T) {
	nodes := startCluster(t, 10, clusterOpts{})
	for i, n := range nodes {
		writeTools(t, n, fmt.Sprintf("t%d", i), 20)
	}
	waitFor(t, 60*time.Second, "the 10 nodes hold the same records", func() bool { return converged(t, nodes, 10) })
	// Updates and deletes too.
	ctx := context.Background()
	if _, err := nodes[3].store.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: "t3-0"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a delete reaches every node", func() bool {
		for _, n := range nodes {
			if _, err := n.store.Get(ctx, storage.KindTool, "xx-3", "t3-0"); err == nil {
				return false
			}
		}
		return true
	})
	for _, n := range nodes {
		total, _, err := n.store.Facets(ctx, storage.Query{Kind: storage.KindTool})
		if err != nil || total != 199 {
			t.Errorf("%s: search sees %d tools, want 199 (%v)", n.origin, total, err)
		}
	}
	noPageRefused(t, nodes)
}

// noPageRefused checks that the nodes, whose peers all behave, refused no
// page: a refusal would count in their metrics, and back the peer off.
func noPageRefused(t *testing.T, nodes []*testNode) {
	t.Helper()
	for _, n := range nodes {
		ch := make(chan prometheus.Metric, 16)
		n.repl.m.refused.Collect(ch) // a series per reason counted
		close(ch)
		for m := range ch {
			var d dto.Metric
			if err := m.Write(&d); err != nil {
				t.Fatal(err)
			}
			t.Errorf("%s refused %v pages of well-behaved peers: %s", n.origin, d.GetCounter().GetValue(), d.GetLabel())
		}
	}
}

// TestWriteAnnounced checks that a write reaches every node through its
// announcement, with anti-entropy too rare to play a part.
func TestWriteAnnounced(t *testing.T) {
	nodes := startCluster(t, 10, clusterOpts{antiEntropy: time.Hour})
	waitFor(t, 30*time.Second, "every node sees the 9 others", func() bool {
		for _, n := range nodes {
			alive := 0
			for _, p := range n.repl.Peers() {
				if p.Alive {
					alive++
				}
			}
			if alive != 9 {
				return false
			}
		}
		return true
	})
	start := time.Now()
	writeTools(t, nodes[2], "news", 1)
	waitFor(t, 20*time.Second, "the write reaches every node", func() bool {
		for _, n := range nodes {
			if _, err := n.store.Get(context.Background(), storage.KindTool, "xx-2", "news-0"); err != nil {
				return false
			}
		}
		return true
	})
	t.Logf("one write reached 10 nodes in %s", time.Since(start))
}

// TestRestartCatchesUp stops a node while the others write, then starts it
// again without seeds: it rejoins through the members it remembers.
func TestRestartCatchesUp(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	// Saved, not only known: the restart rejoins from the table.
	waitFor(t, 30*time.Second, "node 2 remembers the two others", func() bool {
		saved, err := nodes[2].store.Peers(context.Background())
		return err == nil && len(saved) == 2
	})
	dir := nodes[2].dir
	nodes[2].stop()
	writeTools(t, nodes[0], "while-away", 300)
	ctx := context.Background()
	for i := range 50 {
		if _, err := nodes[0].store.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: fmt.Sprintf("while-away-%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	nodes[2] = startNode(t, dir, "xx-2", clusterOpts{}) // no seeds
	waitFor(t, 60*time.Second, "the restarted node catches up", func() bool { return converged(t, nodes, 1) })
	total, _, _ := nodes[2].store.Facets(ctx, storage.Query{Kind: storage.KindTool, Filters: []storage.Filter{{Facet: "origin", Values: []string{"xx-0"}}}})
	if total != 250 {
		t.Errorf("the restarted node has %d of n0's tools, want 250", total)
	}
}

// TestRelay checks that records reach a node through a third one when
// their origin and that node never talk: xx-0 writes and leaves before xx-2
// joins, and xx-2 gets xx-0's records from xx-1.
func TestRelay(t *testing.T) {
	nodes := startCluster(t, 2, clusterOpts{})
	writeTools(t, nodes[0], "relayed", 10)
	waitFor(t, 30*time.Second, "xx-1 holds xx-0's records", func() bool { return converged(t, nodes, 1) })
	nodes[0].stop()
	late := startNode(t, t.TempDir(), "xx-2", clusterOpts{join: []string{nodes[1].repl.GossipAddr()}})
	waitFor(t, 30*time.Second, "xx-2 gets xx-0's records from xx-1", func() bool {
		return fingerprint(t, late) == fingerprint(t, nodes[1])
	})
}

// TestWipedNodeRefills checks that a node whose database was wiped, its
// key kept, gets every record again, its own origin's too, and that a
// TestMemberBackAtAnotherAddress restarts a member at other gossip and gRPC
// ports, after the node backed it off for failing: once when it left, and
// once after it crashed (no leave). Each time the node pulls its new write
// from it: the backoff of its old incarnation ends, and the crashed one
// takes its name back at its new address (it was refused as a conflict
// until gossip forgot the dead member, 15 s with these timings, minutes
// with the WAN ones; and its backoff, up to 5 minutes, outlived it).
func TestMemberBackAtAnotherAddress(t *testing.T) {
	nodes := startCluster(t, 2, clusterOpts{})
	a, b := nodes[0], nodes[1]
	writeTools(t, b, "before", 1)
	waitFor(t, 20*time.Second, "a holds b's first write, and b remembers a", func() bool {
		known, err := b.store.Peers(context.Background())
		return err == nil && len(known) == 1 && converged(t, nodes, 1)
	})
	backOff := func() {
		a.repl.mu.Lock()
		defer a.repl.mu.Unlock()
		p := a.repl.peers[b.origin]
		p.failures, p.retryAt = 9, time.Now().Add(5*time.Minute)
	}
	for i, crash := range []bool{false, true} {
		backOff()
		old := b.repl.GossipAddr()
		if crash {
			b.repl.cancel()
			b.repl.ml.Shutdown()
			b.repl.wg.Wait()
			b.grpc.Stop()
			b.store.Close()
			b.repl = nil
		} else {
			b.stop()
		}
		b = startNode(t, b.dir, b.origin, clusterOpts{}) // rejoins a from the peers it remembers
		nodes[1] = b
		if b.repl.GossipAddr() == old {
			t.Fatalf("b restarted at the same address %s", old)
		}
		writeTools(t, b, fmt.Sprintf("back-%d", i), 1)
		// Gossip forgets a dead member after 15 s with these timings.
		waitFor(t, 10*time.Second, "a holds the write b made at its new address", func() bool { return converged(t, nodes, 1) })
	}
}

// TestRestartListsGoneMembers restarts a node while its one member is down:
// the node lists it, gone, with the last sync and the head it had before,
// rather than not at all until it comes back.
func TestRestartListsGoneMembers(t *testing.T) {
	nodes := startCluster(t, 2, clusterOpts{})
	a, b := nodes[0], nodes[1]
	writeTools(t, b, "b", 3)
	var before PeerStatus
	waitFor(t, 20*time.Second, "a pulled b's writes, and b remembers a", func() bool {
		for _, p := range a.repl.Peers() {
			if p.Origin == b.origin && p.Head == 3 && p.Watermark == 3 && !p.LastSync.IsZero() {
				before = p
				known, err := b.store.Peers(context.Background())
				return err == nil && len(known) == 1
			}
		}
		return false
	})
	b.stop()
	a.stop()
	a = startNode(t, a.dir, a.origin, clusterOpts{})
	var listed []PeerStatus
	for _, p := range a.repl.Peers() {
		if p.Origin == b.origin {
			listed = append(listed, p)
		}
	}
	if len(listed) != 1 || listed[0].Alive || listed[0].LastSync.Before(before.LastSync.Truncate(time.Microsecond)) || listed[0].Head != 3 || listed[0].Lag != 0 {
		t.Errorf("after a restart with b down, a lists %+v; want b gone, last synced at %v or after, head 3", listed, before.LastSync)
	}
}

// write made at once waits for them, follows them and reaches the others.
func TestWipedNodeRefills(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	writeTools(t, nodes[0], "a", 40)
	writeTools(t, nodes[1], "b", 40)
	writeTools(t, nodes[2], "c", 30)
	ctx := context.Background()
	if _, err := nodes[2].store.Apply(ctx, []storage.Write{{Op: storage.OpDelete, Kind: storage.KindTool, ID: "c-3"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "convergence", func() bool { return converged(t, nodes, 3) })
	seed := nodes[0].repl.GossipAddr()
	nodes[2].stop()
	// The members' answers release its writes, not the wait's end.
	fresh := startNode(t, t.TempDir(), "xx-2", clusterOpts{join: []string{seed}, patience: time.Hour})
	// A write at once, as a harvest at start makes: it waits for the
	// node's records to come back, and takes the seq after them.
	writeTools(t, fresh, "after", 1)
	if wms, _ := fresh.store.Watermarks(ctx); wms["xx-2"] != 32 {
		t.Errorf("the wiped node's head after a write: %d, want 32", wms["xx-2"])
	}
	if _, err := fresh.store.Get(ctx, storage.KindTool, "xx-2", "c-3"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the deleted c-3, given back: %v; want not found", err)
	}
	waitFor(t, 30*time.Second, "the wiped node refills, its own records too, and its write reaches the others", func() bool {
		return converged(t, append(nodes[:2:2], fresh), 3)
	})
	noPageRefused(t, []*testNode{nodes[0], nodes[1], fresh})
}

// TestRestoredNodeWritesAfterItsRecords checks that a node whose catalog
// was restored from an older copy, its key kept, gets back the records of
// its origin written since the copy, and that a write made at once waits
// for them and takes the seq after them: made first, it would take a seq
// that peers hold already, and never reach them.
func TestRestoredNodeWritesAfterItsRecords(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	writeTools(t, nodes[2], "before-copy", 10)
	waitFor(t, 30*time.Second, "convergence", func() bool { return converged(t, nodes, 1) })
	seed := nodes[0].repl.GossipAddr()
	dir := nodes[2].dir
	nodes[2].stop()
	backup := t.TempDir()
	copyCatalog(t, dir, backup)

	nodes[2] = startNode(t, dir, "xx-2", clusterOpts{join: []string{seed}})
	writeTools(t, nodes[2], "after-copy", 20)
	waitFor(t, 30*time.Second, "the writes after the copy reach the others", func() bool { return converged(t, nodes, 1) })
	nodes[2].stop()

	restored := startNode(t, backup, "xx-2", clusterOpts{join: []string{seed}, patience: time.Hour})
	writeTools(t, restored, "restored", 1)
	ctx := context.Background()
	if wms, _ := restored.store.Watermarks(ctx); wms["xx-2"] != 31 {
		t.Errorf("the restored node's head after a write: %d, want 31", wms["xx-2"])
	}
	if _, err := restored.store.Get(ctx, storage.KindTool, "xx-2", "after-copy-19"); err != nil {
		t.Errorf("a record written after the copy, given back: %v", err)
	}
	waitFor(t, 30*time.Second, "the restored node's write reaches the others", func() bool {
		return converged(t, []*testNode{nodes[0], nodes[1], restored}, 1)
	})
	noPageRefused(t, []*testNode{nodes[0], nodes[1], restored})
}

// TestHeldWritesWaitForEveryMember has a wiped node join through a member
// that holds none of its records (its trust list leaves the node's origin
// out), beside one that holds them all: the node's writes wait for the
// second's answer too, and follow the records it gives back.
func TestHeldWritesWaitForEveryMember(t *testing.T) {
	pub := func(origin string) ed25519.PublicKey { return nodeKey(origin).Public().(ed25519.PublicKey) }
	aa := startNode(t, t.TempDir(), "aa", clusterOpts{trusted: map[string]ed25519.PublicKey{"mm": pub("mm")}})
	join := []string{aa.repl.GossipAddr()}
	mm := startNode(t, t.TempDir(), "mm", clusterOpts{join: join})
	zz := startNode(t, t.TempDir(), "zz", clusterOpts{join: join})
	writeTools(t, zz, "z", 10)
	ctx := context.Background()
	waitFor(t, 30*time.Second, "mm holds zz's records", func() bool {
		wms, err := mm.store.Watermarks(ctx)
		return err == nil && wms["zz"] == 10
	})
	zz.stop()

	wiped := startNode(t, t.TempDir(), "zz", clusterOpts{join: join, patience: time.Hour})
	writeTools(t, wiped, "after", 1)
	if wms, _ := wiped.store.Watermarks(ctx); wms["zz"] != 11 {
		t.Errorf("the wiped node's head after a write: %d, want 11", wms["zz"])
	}
	waitFor(t, 30*time.Second, "the wiped node's write reaches mm", func() bool {
		return fingerprint(t, mm) == fingerprint(t, wiped)
	})
	noPageRefused(t, []*testNode{aa, mm, wiped})
}

// copyCatalog copies the catalog of a stopped node's folder into another.
func copyCatalog(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "catalog.db") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDivergenceRepaired loses records of a node behind its back (as a
// damaged disk or a bad restore would): its watermark still says it holds
// them. Comparing digests with a peer finds it, and the node pulls the
// origin again.
func TestDivergenceRepaired(t *testing.T) {
	nodes := startCluster(t, 2, clusterOpts{})
	writeTools(t, nodes[0], "kept", 30)
	waitFor(t, 30*time.Second, "convergence", func() bool { return converged(t, nodes, 1) })
	dir := nodes[1].dir
	nodes[1].stop()
	db, err := sql.Open("sqlite", filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("DELETE FROM records WHERE origin = 'xx-0' AND id IN ('kept-1', 'kept-2', 'kept-3')"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE origins SET digest = NULL"); err != nil { // recomputed from what is left
		t.Fatal(err)
	}
	db.Close()
	nodes[1] = startNode(t, dir, "xx-1", clusterOpts{})
	waitFor(t, 30*time.Second, "the lost records come back", func() bool {
		_, err := nodes[1].store.Get(context.Background(), storage.KindTool, "xx-0", "kept-2")
		return err == nil && converged(t, nodes, 1)
	})
}

// TestForkedOrigin replaces a node's catalog by one in which its origin
// wrote other records at the seqs its peer holds, as after a restore from
// an older copy and writes while no member could give its records back.
// The peer finds their digests differ, pulls the origin again from the
// start, meets the fork, keeps what it holds and says so, once: it
// neither refuses the node's pages nor blames it, and does not pull the
// origin again at each comparison. The node says its origin forked.
func TestForkedOrigin(t *testing.T) {
	ctx := context.Background()
	nodes := startCluster(t, 2, clusterOpts{})
	writeTools(t, nodes[0], "first", 3)
	waitFor(t, 30*time.Second, "convergence", func() bool { return converged(t, nodes, 1) })
	nodes[0].stop()
	nodes[1].stop()
	dir := nodes[0].dir
	for _, f := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	restored, err := storage.Open(ctx, storage.Options{Path: filepath.Join(dir, "catalog.db"), Origin: "xx-0", Key: nodeKey("xx-0"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	var ws []storage.Write
	for _, id := range []string{"first-0", "second-1", "second-2"} { // first-0 again, other
		ws = append(ws, storage.Write{Op: storage.OpCreate, ID: id, Resource: &catalogv1.Tool{DisplayName: "rewritten " + id}})
	}
	if _, err := restored.Apply(ctx, ws); err != nil {
		t.Fatal(err)
	}
	restored.Close()

	var peerLogs, nodeLogs lockedbuf.Buffer
	peer := startNode(t, nodes[1].dir, "xx-1", clusterOpts{log: slog.New(slog.NewTextHandler(&peerLogs, nil))})
	node := startNode(t, dir, "xx-0", clusterOpts{join: []string{peer.repl.GossipAddr()}, log: slog.New(slog.NewTextHandler(&nodeLogs, nil))})
	waitFor(t, 30*time.Second, "the peer meets the fork", func() bool {
		_, forked := peer.store.ForkOf("xx-0")
		return forked
	})
	// Three more pulls from the node, each with its comparison of digests.
	for range 3 {
		before := lastSync(peer, "xx-0")
		waitFor(t, 30*time.Second, "another pull from the node", func() bool { return lastSync(peer, "xx-0").After(before) })
	}
	noPageRefused(t, []*testNode{peer})
	for _, p := range peer.repl.Peers() {
		if p.Origin == "xx-0" && p.LastError != "" {
			t.Errorf("the peer blames the node for its fork: %s", p.LastError)
		}
	}
	if m, err := peer.store.Get(ctx, storage.KindTool, "xx-0", "first-0"); err != nil || m.(*catalogv1.Tool).GetDisplayName() != "first 0" {
		t.Errorf("the peer's first-0: %v %v, want the one it held", m, err)
	}
	l := peerLogs.String()
	if n := strings.Count(l, "pulling the origin again"); n != 1 {
		t.Errorf("the peer pulled the origin again from the start %d times, want once:\n%s", n, l)
	}
	if n := strings.Count(l, "an origin signed two records at one seq"); n != 1 {
		t.Errorf("the fork said %d times, want once:\n%s", n, l)
	}
	waitFor(t, 30*time.Second, "the node says its origin forked", func() bool {
		return strings.Contains(nodeLogs.String(), "a peer holds other records of this node's origin")
	})
	// The node's own writes go on, and reach the peer.
	writeTools(t, node, "after", 1)
	waitFor(t, 30*time.Second, "a write after the fork reaches the peer", func() bool {
		_, err := peer.store.Get(ctx, storage.KindTool, "xx-0", "after-0")
		return err == nil
	})
}

// lastSync is the last successful pull from the member of origin that n
// lists (zero if none).
func lastSync(n *testNode, origin string) time.Time {
	for _, p := range n.repl.Peers() {
		if p.Origin == origin {
			return p.LastSync
		}
	}
	return time.Time{}
}

// TestImpostorRefused starts a node claiming an origin whose key the
// others have pinned, with another key: they refuse it as a member, and
// none of its records.
func TestImpostorRefused(t *testing.T) {
	nodes := startCluster(t, 2, clusterOpts{})
	writeTools(t, nodes[0], "genuine", 2)
	writeTools(t, nodes[1], "genuine", 3)
	waitFor(t, 30*time.Second, "convergence", func() bool { return converged(t, nodes, 2) })
	nodes[1].stop()
	seed := sha256.Sum256([]byte("impostor"))
	impostor := startNode(t, t.TempDir(), "xx-1", clusterOpts{join: []string{nodes[0].repl.GossipAddr()}, key: ed25519.NewKeyFromSeed(seed[:])})
	writeTools(t, impostor, "forged", 5)
	// The impostor learns of xx-0 by the same exchange in which xx-0 hears
	// of it, and pulls xx-0's records (a node serves anyone): once it holds
	// them, xx-0 has had its say.
	waitFor(t, 30*time.Second, "the impostor's join was answered", func() bool {
		wms, _ := impostor.store.Watermarks(context.Background())
		return wms["xx-0"] > 0
	})
	for _, p := range nodes[0].repl.Peers() {
		if p.Origin == "xx-1" && p.Alive {
			t.Fatal("xx-0 took the impostor as a member")
		}
	}
	if _, err := nodes[0].store.Get(context.Background(), storage.KindTool, "xx-1", "forged-0"); err == nil {
		t.Error("xx-0 holds a record of the impostor")
	}
}

// TestTrustListedOriginsOnly has a node whose trust list names two of the
// three other members: it holds their records, pulled through any member,
// and none of the third's, without refusing a page (the third origin sorts
// first: a page of it would end each pull before the others). The third
// member still relays the others' records. A member claiming a trusted
// origin with another key is refused, even before the origin's first
// records pinned a key.
func TestTrustListedOriginsOnly(t *testing.T) {
	pub := func(origin string) ed25519.PublicKey { return nodeKey(origin).Public().(ed25519.PublicKey) }
	aa := startNode(t, t.TempDir(), "aa", clusterOpts{})
	join := []string{aa.repl.GossipAddr()}
	mm := startNode(t, t.TempDir(), "mm", clusterOpts{join: join})
	zz := startNode(t, t.TempDir(), "zz", clusterOpts{join: join})
	writeTools(t, aa, "a", 3)
	writeTools(t, mm, "m", 4)
	writeTools(t, zz, "z", 5)
	waitFor(t, 30*time.Second, "aa, mm and zz converge", func() bool { return converged(t, []*testNode{aa, mm, zz}, 3) })
	// tt talks to aa only: what it gets of mm and zz, aa relays.
	mm.stop()
	zz.stop()
	tt := startNode(t, t.TempDir(), "tt", clusterOpts{join: join, trusted: map[string]ed25519.PublicKey{"mm": pub("mm"), "pp": pub("pp"), "zz": pub("zz")}})
	ctx := context.Background()
	waitFor(t, 30*time.Second, "tt holds mm's and zz's records, and its pull from aa ended", func() bool {
		wms, err := tt.store.Watermarks(ctx)
		for _, p := range tt.repl.Peers() {
			if p.Origin == "aa" && p.LastSync.IsZero() && p.LastError == "" {
				return false // the pull's digest comparison is under way
			}
		}
		return err == nil && wms["mm"] == 4 && wms["zz"] == 5
	})
	if wms, _ := tt.store.Watermarks(ctx); wms["aa"] != 0 {
		t.Errorf("tt holds aa's records up to %d; its trust list does not name aa", wms["aa"])
	}
	if _, err := tt.store.Get(ctx, storage.KindTool, "aa", "a-0"); err == nil {
		t.Error("tt holds a record of aa")
	}
	noPageRefused(t, []*testNode{tt})
	for _, p := range tt.repl.Peers() {
		if p.Origin == "aa" && (p.LastError != "" || p.LastSync.IsZero() || p.Lag != 0) {
			t.Errorf("tt's pulls from aa: last error %q, last sync %v, lag %d (aa's records are not lacked, but refused)", p.LastError, p.LastSync, p.Lag)
		}
	}
	member := func(origin string, key ed25519.PrivateKey) *memberlist.Node {
		return signedMember(t, meta{Origin: origin, GRPCAddr: "127.0.0.1:7400", Protocol: ProtocolVersion}, key)
	}
	// pp, trusted, never sent tt a record: its key is pinned nowhere, but
	// the trust list's decides.
	if err := (delegate{tt.repl}).NotifyAlive(member("pp", nodeKey("impostor"))); err == nil {
		t.Error("tt took a member claiming pp with another key than the trusted one")
	}
	if err := (delegate{tt.repl}).NotifyAlive(member("pp", nodeKey("pp"))); err != nil {
		t.Errorf("tt refused pp with its trusted key: %v", err)
	}
	if err := (delegate{tt.repl}).NotifyAlive(member("qq", nodeKey("qq"))); err != nil {
		t.Errorf("tt refused a member of an origin it does not trust, which may relay: %v", err)
	}
}

// TestAdvertisedHostName has a node announce a host name rather than an
// address (memberlist takes only addresses: the node failed to start):
// the gRPC address keeps the name, and peers reach the node by both.
func TestAdvertisedHostName(t *testing.T) {
	a := startNode(t, t.TempDir(), "aa", clusterOpts{})
	b := startNode(t, t.TempDir(), "bb", clusterOpts{join: []string{a.repl.GossipAddr()}, advertise: "localhost"})
	writeTools(t, b, "b", 2)
	waitFor(t, 30*time.Second, "aa holds bb's records", func() bool { return converged(t, []*testNode{a, b}, 1) })
	_, port, _ := net.SplitHostPort(b.lis.Addr().String())
	for _, p := range a.repl.Peers() {
		if p.Origin == "bb" && p.GRPCAddr != net.JoinHostPort("localhost", port) {
			t.Errorf("aa reaches bb's gRPC at %s, want localhost:%s", p.GRPCAddr, port)
		}
	}
}

// TestAddressesOnEveryInterface starts a node whose gRPC listens on every
// interface, and whose gossip address is a host name: peers dial it at the
// address gossip announces, which is that of the name, and pull from it.
// (Peers once dialled "0.0.0.0:port" as the node's, that is their own, and
// found nothing; and gossip, given a name, listened on every interface and
// announced none a peer could reach.)
func TestAddressesOnEveryInterface(t *testing.T) {
	a := startNode(t, t.TempDir(), "aa", clusterOpts{})
	b := startNode(t, t.TempDir(), "bb", clusterOpts{join: []string{a.repl.GossipAddr()}, gossipHost: "localhost", grpcHost: "0.0.0.0", httpAddr: "[::]:8080"})
	if host, _, _ := net.SplitHostPort(b.repl.GossipAddr()); host != "127.0.0.1" {
		t.Errorf("gossip at localhost listens on %s, want 127.0.0.1", b.repl.GossipAddr())
	}
	writeTools(t, b, "b", 2)
	waitFor(t, 30*time.Second, "aa holds bb's records", func() bool { return converged(t, []*testNode{a, b}, 1) })
	_, port, _ := net.SplitHostPort(b.lis.Addr().String())
	for _, p := range a.repl.Peers() {
		if p.Origin != "bb" {
			continue
		}
		if p.GRPCAddr != net.JoinHostPort("127.0.0.1", port) || p.HTTPAddr != "127.0.0.1:8080" || p.GossipAddr != b.repl.GossipAddr() {
			t.Errorf("aa knows bb at gRPC %s, HTTP %s, gossip %s; want 127.0.0.1:%s, 127.0.0.1:8080, %s", p.GRPCAddr, p.HTTPAddr, p.GossipAddr, port, b.repl.GossipAddr())
		}
	}
}

// TestJoinListingItself starts nodes whose --join list holds their own
// address (one list for every node of a federation). One whose other seed
// listens to nobody says it joined no member, rather than that it joined
// the federation (memberlist counts the node's own address as one it
// contacted), and its writes are not held for members it does not have.
// One whose other seed is a member that answers in 1.5 s waits for it, and
// holds its writes for it: its own address, which answers at once, does
// not start the second the others get.
func TestJoinListingItself(t *testing.T) {
	own, nobody := freePort(t), freePort(t)
	var logs lockedbuf.Buffer
	n := startNode(t, t.TempDir(), "aa", clusterOpts{gossipPort: own, log: slog.New(slog.NewTextHandler(&logs, nil)),
		join: []string{fmt.Sprintf("127.0.0.1:%d", own), fmt.Sprintf("127.0.0.1:%d", nobody)}})
	if l := logs.String(); !strings.Contains(l, "joined no member yet") || strings.Contains(l, "joined the federation") {
		t.Errorf("a node whose seeds are itself and a closed port says:\n%s", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := n.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "t", Resource: benchTool(1)}}); err != nil {
		t.Errorf("a write of a node with no member: %v", err)
	}

	slow := slowProxy(t, n.repl.GossipAddr(), 1500*time.Millisecond)
	own = freePort(t)
	// The LAN timings: gossip's TCP timeout (10 s) outlasts the proxy.
	b := startNode(t, t.TempDir(), "bb", clusterOpts{gossipPort: own, timings: TimingsLAN, patience: time.Hour,
		join: []string{fmt.Sprintf("127.0.0.1:%d", own), slow}})
	if got := len(b.repl.ml.Members()); got != 2 || !b.store.OwnWritesHeld() {
		t.Errorf("a node whose seeds are itself and a member answering in 1.5 s: %d members, writes held %v; want 2, held", got, b.store.OwnWritesHeld())
	}
}

// TestJoinPastHungSeedWhenAloneAnswers starts a node whose seeds are its
// own address under a name (it answers, and brings nobody) and one that
// hangs: the node starts after a few seconds, not after gossip's TCP
// timeout for the hung one (10 s with the LAN timings, 30 s with the WAN
// ones).
func TestJoinPastHungSeedWhenAloneAnswers(t *testing.T) {
	own := freePort(t)
	start := time.Now()
	n := startNode(t, t.TempDir(), "aa", clusterOpts{gossipPort: own, timings: TimingsLAN,
		join: []string{fmt.Sprintf("localhost:%d", own), hungSeed(t)}})
	if took := time.Since(start); took > 8*time.Second || len(n.repl.ml.Members()) != 1 {
		t.Errorf("the start took %v, with %d members; want it before the hung seed's timeout, alone", took.Round(time.Millisecond), len(n.repl.ml.Members()))
	}
}

// hungSeed is an address that takes connections and never answers, as a
// frozen host does.
func hungSeed(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu gosync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return l.Addr().String()
}

// freePort is a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// slowProxy forwards the TCP connections it takes to target after delay,
// as a seed far away would answer.
func slowProxy(t *testing.T, target string, delay time.Duration) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				time.Sleep(delay)
				d, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer d.Close()
				go io.Copy(d, c)
				io.Copy(c, d)
			}()
		}
	}()
	return l.Addr().String()
}

// TestStartPastHungSeeds starts a node whose seeds are ten that accept a
// connection and then say nothing (frozen hosts), and one member: it joins
// the member and starts without waiting for the others. memberlist's Join
// tries its seeds one after the other, waiting its TCP timeout for each
// that hangs (1 s with these timings, 30 s with the WAN ones): a start
// waited for all ten first.
func TestStartPastHungSeeds(t *testing.T) {
	var seeds []string
	for range 10 {
		seeds = append(seeds, hungSeed(t))
	}
	a := startNode(t, t.TempDir(), "aa", clusterOpts{})
	start := time.Now()
	b := startNode(t, t.TempDir(), "bb", clusterOpts{join: append(seeds, a.repl.GossipAddr())})
	// Ten seeds one after the other take ten TCP timeouts: 10 s.
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the start took %v: it waited for the seeds that hang", took.Round(time.Millisecond))
	}
	if len(b.repl.ml.Members()) != 2 {
		t.Errorf("bb knows %d members, want aa and itself", len(b.repl.ml.Members()))
	}
}

// TestTwoNodesOfOneOrigin starts a second node of an origin, with a key of
// its own, that joins the first: each says another node claims its origin.
func TestTwoNodesOfOneOrigin(t *testing.T) {
	var firstLogs, secondLogs lockedbuf.Buffer
	first := startNode(t, t.TempDir(), "aa", clusterOpts{log: slog.New(slog.NewTextHandler(&firstLogs, nil))})
	startNode(t, t.TempDir(), "aa", clusterOpts{key: nodeKey("aa, another"), join: []string{first.repl.GossipAddr()}, log: slog.New(slog.NewTextHandler(&secondLogs, nil))})
	waitFor(t, 10*time.Second, "both nodes say another claims their origin", func() bool {
		const said = "another node claims this node's origin"
		return strings.Contains(firstLogs.String(), said) && strings.Contains(secondLogs.String(), said)
	})
}

// TestTLSDisagreementSaid has a node whose gRPC port speaks mutual TLS
// join one whose port does not: each says they disagree, rather than let
// their pulls fail with words of the handshake alone.
func TestTLSDisagreementSaid(t *testing.T) {
	var plainLogs, tlsLogs lockedbuf.Buffer
	plain := startNode(t, t.TempDir(), "aa", clusterOpts{log: slog.New(slog.NewTextHandler(&plainLogs, nil))})
	startNode(t, t.TempDir(), "bb", clusterOpts{tls: true, join: []string{plain.repl.GossipAddr()}, log: slog.New(slog.NewTextHandler(&tlsLogs, nil))})
	waitFor(t, 10*time.Second, "both nodes say they disagree on TLS", func() bool {
		const said = "disagree on mutual TLS"
		return strings.Contains(plainLogs.String(), said) && strings.Contains(tlsLogs.String(), said)
	})
}

// TestGossipEncryption checks that nodes of the federation's gossip key
// find each other, that a node without it is not let in, and that a node
// without a key says its gossip is not encrypted (those with one do not).
func TestGossipEncryption(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	var keyedLogs, plainLogs lockedbuf.Buffer
	a := startNode(t, t.TempDir(), "aa", clusterOpts{gossipKey: key, log: slog.New(slog.NewTextHandler(&keyedLogs, nil))})
	b := startNode(t, t.TempDir(), "bb", clusterOpts{gossipKey: key, join: []string{a.repl.GossipAddr()}})
	writeTools(t, b, "b", 2)
	waitFor(t, 30*time.Second, "aa holds bb's records", func() bool { return converged(t, []*testNode{a, b}, 1) })
	if strings.Contains(keyedLogs.String(), "gossip is not encrypted") {
		t.Error("a node with a gossip key says its gossip is not encrypted")
	}
	startNode(t, t.TempDir(), "cc", clusterOpts{join: []string{a.repl.GossipAddr()}, log: slog.New(slog.NewTextHandler(&plainLogs, nil))})
	if logs := plainLogs.String(); !strings.Contains(logs, "gossip is not encrypted") || !strings.Contains(logs, "joined no member yet") {
		t.Errorf("a node without the gossip key does not say its gossip is not encrypted, or joined the federation's:\n%s", logs)
	}
	if logs := plainLogs.String(); !strings.Contains(logs, "the seeds encrypt gossip and this node does not") {
		t.Errorf("a node without the gossip key is not told why it joined no member:\n%s", logs)
	}
	var otherLogs lockedbuf.Buffer
	startNode(t, t.TempDir(), "dd", clusterOpts{gossipKey: bytes.Repeat([]byte{8}, 32), join: []string{a.repl.GossipAddr()}, log: slog.New(slog.NewTextHandler(&otherLogs, nil))})
	if logs := otherLogs.String(); !strings.Contains(logs, "joined no member yet") || !strings.Contains(logs, "the seeds use another gossip key than this node") {
		t.Errorf("a node of another gossip key is not told why it joined no member:\n%s", logs)
	}
	for _, p := range a.repl.Peers() {
		if p.Origin == "cc" || p.Origin == "dd" {
			t.Errorf("%s, without the gossip key, is a member of the federation's", p.Origin)
		}
	}
}

// TestListPeersOverGRPC asks a node's FederationService for its members:
// the other, alive, pulled from, its head and this node's watermark.
func TestListPeersOverGRPC(t *testing.T) {
	nodes := startCluster(t, 2, clusterOpts{})
	writeTools(t, nodes[1], "b", 3)
	waitFor(t, 30*time.Second, "convergence", func() bool { return converged(t, nodes, 1) })
	srv := NewServer(nodes[0].store, 8, testLogger(t))
	srv.Serve(nodes[0].repl)
	client := federationv1.NewFederationServiceClient(serveLoopback(t, srv.Register))
	var got *federationv1.Peer
	waitFor(t, 30*time.Second, "xx-0 lists xx-1 synced, at its head", func() bool {
		resp, err := client.ListPeers(context.Background(), &federationv1.ListPeersRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetPeers()) != 1 {
			return false
		}
		got = resp.GetPeers()[0]
		return got.GetLastSyncTime() != nil && got.GetHeadSeq() == 3
	})
	if got.GetOrigin() != "xx-1" || got.GetState() != federationv1.PeerState_PEER_STATE_ALIVE || got.GetWatermark() != 3 || got.GetLag() != 0 ||
		got.GetLastError() != "" || got.GetGrpcAddress() != nodes[1].lis.Addr().String() || got.GetGossipAddress() != nodes[1].repl.GossipAddr() {
		t.Errorf("xx-0 lists %v", got)
	}
}

// TestResolveHost checks the addresses gossip announces for advertised
// hosts: of the family gossip listens on.
func TestResolveHost(t *testing.T) {
	both := func(string) ([]net.IP, error) {
		return []net.IP{net.ParseIP("2001:db8::7"), net.ParseIP("192.0.2.7")}, nil
	}
	v6only := func(string) ([]net.IP, error) { return []net.IP{net.ParseIP("2001:db8::7")}, nil }
	for _, tc := range []struct {
		host, bind string
		lookup     func(string) ([]net.IP, error)
		want       string
	}{
		{"192.0.2.9", "0.0.0.0", both, "192.0.2.9"},
		{"2001:db8::9", "0.0.0.0", both, "2001:db8::9"},
		{"node.example.org", "0.0.0.0", both, "192.0.2.7"},
		{"node.example.org", "::", both, "192.0.2.7"},
		{"node.example.org", "2001:db8::1", both, "2001:db8::7"},
		{"node.example.org", "0.0.0.0", v6only, "2001:db8::7"},
		{"node.example.org", "192.0.2.1", both, "192.0.2.7"},
	} {
		got, err := resolveHost(tc.host, tc.bind, tc.lookup)
		if err != nil || got != tc.want {
			t.Errorf("resolveHost(%q, %q) = %q, %v; want %q", tc.host, tc.bind, got, err, tc.want)
		}
	}
	// Gossip listening in one family only, and a name of the other: its
	// address would reach nothing.
	v4only := func(string) ([]net.IP, error) { return []net.IP{net.ParseIP("192.0.2.7")}, nil }
	for _, tc := range []struct {
		bind   string
		lookup func(string) ([]net.IP, error)
	}{{"::1", v4only}, {"2001:db8::1", v4only}, {"127.0.0.1", v6only}} {
		if got, err := resolveHost("node.example.org", tc.bind, tc.lookup); err == nil || !strings.Contains(err.Error(), "node.example.org") {
			t.Errorf("resolveHost of a name of the other family than gossip on %s: %q, %v; want an error naming it", tc.bind, got, err)
		}
	}
	if _, err := resolveHost("no-such-host.invalid", "0.0.0.0", net.LookupIP); err == nil || !strings.Contains(err.Error(), "no-such-host.invalid") {
		t.Errorf("a name that does not resolve: %v", err)
	}
}

// TestMetadataTooLong checks that a node whose addresses would make its
// gossip metadata longer than gossip carries does not start: it would
// announce none, and every member would refuse it.
func TestMetadataTooLong(t *testing.T) {
	host := strings.Repeat("a", 200) + ".example.org"
	_, err := Start(context.Background(), Config{Origin: "de", GossipAddr: "127.0.0.1:0", AdvertiseHost: host,
		GRPCAddr: "127.0.0.1:7400", HTTPAddr: "127.0.0.1:8080", Timings: TimingsLocal}, openReplica(t), testLogger(t))
	if err == nil || !strings.Contains(err.Error(), "more than gossip carries") {
		t.Fatalf("a start with an advertised host of %d characters: %v", len(host), err)
	}
}

// TestStartCutShortByItsContext: a node whose only seed hangs (a frozen
// host) stops waiting for it when its start's context ends, as when the
// operator presses Ctrl-C, not after gossip's TCP timeout (10 s with the
// LAN timings).
func TestStartCutShortByItsContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		c := <-accepted // the join is under way, and will hang
		defer c.Close()
		cancel()
		<-t.Context().Done()
	}()
	store := openReplica(t)
	start := time.Now()
	r, err := Start(ctx, Config{Origin: "aa", GossipAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:7400", Join: []string{l.Addr().String()},
		Timings: TimingsLAN, Dial: func(addr string) (*grpc.ClientConn, error) {
			return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		}}, store, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("the start took %v after its context ended; want it at once, not after the hung seed's timeout", took.Round(time.Millisecond))
	}
}
