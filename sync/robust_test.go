package sync

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/lockedbuf"
	"github.com/ogptoolbox/federation/storage"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestConcurrentPullsBounded holds a pull open (its client reads nothing,
// so the server blocks on flow control) and checks that a server allowing
// one pull at a time refuses the next with RESOURCE_EXHAUSTED, then serves
// again once the first ends.
func TestConcurrentPullsBounded(t *testing.T) {
	ctx := context.Background()
	store := benchStore(t, 4000) // more than flow control lets the server send unread
	conn := serveLoopback(t, NewServer(store, 1, testLogger(t)).Register)
	client := federationv1.NewFederationServiceClient(conn)

	holdCtx, release := context.WithCancel(ctx)
	held, err := client.Pull(holdCtx, &federationv1.PullRequest{AllOrigins: true, MaxPageBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Recv(); err != nil { // the server is serving it now
		t.Fatal(err)
	}
	drain := func() error { return pullAllPages(ctx, client) }
	if err := drain(); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("a second pull: %v, want RESOURCE_EXHAUSTED", err)
	}
	release()
	waitFor(t, 10*time.Second, "pulls are served again", func() bool { return drain() == nil })
}

// TestUnreadPullsGiveWay has one caller open as many pulls as the server
// serves and read none of them: once another pull is refused for want of
// a place, the unread ones end, and the next pull is served. A pull whose
// caller reads nothing ends anyway after a longer while, with a refusal
// that tells its caller to come back.
func TestUnreadPullsGiveWay(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(benchStore(t, 4000), 4, testLogger(t)) // more than flow control lets the server send unread
	srv.stall = stallLimits{contended: 100 * time.Millisecond, alone: time.Hour}
	conn := serveLoopback(t, srv.Register)
	client := federationv1.NewFederationServiceClient(conn)
	// The unread pulls' connection keeps gRPC's first windows: otherwise
	// they grow with the traffic (BDP estimation), until a whole pull
	// fits in them unread.
	fixed, err := grpc.NewClient(conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer fixed.Close()
	unreadClient := federationv1.NewFederationServiceClient(fixed)
	unread := func() grpc.ServerStreamingClient[federationv1.PullResponse] {
		s, err := unreadClient.Pull(ctx, &federationv1.PullRequest{AllOrigins: true, MaxPageBytes: 4096})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil { // the server is serving it now
			t.Fatal(err)
		}
		return s
	}
	var held []grpc.ServerStreamingClient[federationv1.PullResponse]
	for range 4 {
		held = append(held, unread())
	}
	drain := func(s grpc.ServerStreamingClient[federationv1.PullResponse]) (int, error) {
		for n := 0; ; n++ {
			if _, err := s.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				return n, err
			}
		}
	}
	pull := func() error {
		s, err := client.Pull(ctx, &federationv1.PullRequest{AllOrigins: true})
		if err != nil {
			return err
		}
		_, err = drain(s)
		return err
	}
	if err := pull(); !peerBusy(err) {
		t.Fatalf("a pull while 4 unread ones hold every place: %v, want a refusal for want of a place", err)
	}
	waitFor(t, 10*time.Second, "a pull is served", func() bool {
		err := pull()
		if err != nil && !peerBusy(err) {
			t.Fatalf("a pull: %v", err)
		}
		return err == nil
	})
	// The unread pulls ended, with what their caller needs to come back.
	for _, s := range held {
		if n, err := drain(s); !peerBusy(err) || n == 0 {
			t.Errorf("an unread pull, read at last: %d pages, then %v; want some, then a refusal that says to retry", n, err)
		}
	}

	// No pull refused, and a caller that reads nothing: its pull ends
	// after the longer limit.
	srv.stall = stallLimits{contended: time.Hour, alone: 200 * time.Millisecond}
	srv.refusedAt.Store(0)
	s := unread()
	waitFor(t, 10*time.Second, "the unread pull ends", func() bool { return len(srv.pulls) == 0 })
	if n, err := drain(s); !peerBusy(err) || n == 0 {
		t.Errorf("an unread pull, read at last: %d pages, then %v; want some, then a refusal that says to retry", n, err)
	}
}

// TestFailingPeerBackedOff checks that a peer whose pulls fail is not
// asked again until its back-off ends, however often it is announced, and
// that it is asked once when it ends.
func TestFailingPeerBackedOff(t *testing.T) {
	nodes := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})
	r := nodes[0].repl
	var attempts atomic.Int32
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there any more
	r.cfg.Dial = func(addr string) (*grpc.ClientConn, error) {
		return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
				attempts.Add(1)
				return streamer(ctx, desc, cc, method, opts...)
			}))
	}
	r.mu.Lock()
	r.peers["yy"] = &peer{meta: meta{Origin: "yy", GRPCAddr: deadAddr}, alive: true}
	r.mu.Unlock()
	r.pull("yy")
	waitForPullError(t, r, "yy")
	r.mu.Lock()
	backedOffUntil := r.peers["yy"].retryAt
	r.mu.Unlock()
	for range 20 {
		r.pull("yy") // announcements while backed off
	}
	if n := attempts.Load(); n != 1 {
		t.Errorf("%d pulls from a failing peer within its back-off, want 1", n)
	}
	// What was announced meanwhile is pulled once the back-off ends, once.
	waitFor(t, 10*time.Second, "a pull when the back-off ends", func() bool { return attempts.Load() >= 2 })
	if early := time.Until(backedOffUntil); early > 0 {
		t.Errorf("the pull after the back-off came %v early", early)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d pulls after the back-off for 20 announcements, want 1", n-1)
	}
}

// waitForPullError waits until r records a failed pull from origin.
func waitForPullError(t *testing.T, r *Replicator, origin string) {
	t.Helper()
	waitFor(t, 10*time.Second, "the failed pull is recorded", func() bool {
		for _, p := range r.Peers() {
			if p.Origin == origin && p.LastError != "" {
				return true
			}
		}
		return false
	})
}

// busyPeer serves a catalog of n tools and one pull at a time, and holds
// that one open (its client reads one page, no more) until release.
func busyPeer(t *testing.T, n int) (conn *grpc.ClientConn, release func()) {
	t.Helper()
	srv := NewServer(benchStore(t, n), 1, testLogger(t))
	srv.stall = stallLimits{contended: time.Hour, alone: time.Hour} // busy until release
	conn = serveLoopback(t, srv.Register)
	holdCtx, release := context.WithCancel(context.Background())
	t.Cleanup(release)
	held, err := federationv1.NewFederationServiceClient(conn).Pull(holdCtx, &federationv1.PullRequest{AllOrigins: true, MaxPageBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Recv(); err != nil {
		t.Fatal(err)
	}
	return conn, release
}

// askBusyPeer starts a node that knows one member, fr, a busyPeer, and has
// it pull from fr.
func askBusyPeer(t *testing.T) (node *testNode, attempts *pullAttempts, release func()) {
	t.Helper()
	conn, release := busyPeer(t, 4000) // more than flow control lets the server send unread
	node = startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	attempts = &pullAttempts{}
	attempts.watch(node.repl)
	node.repl.mu.Lock()
	node.repl.peers["fr"] = &peer{meta: meta{Origin: "fr", GRPCAddr: conn.Target(), Head: 4000}, alive: true}
	node.repl.mu.Unlock()
	node.repl.pull("fr")
	return node, attempts, release
}

// pullAttempts has r dial peers through connections that note when each
// pull starts.
type pullAttempts struct {
	mu    gosync.Mutex
	times []time.Time
}

func (a *pullAttempts) watch(r *Replicator) {
	r.cfg.Dial = func(addr string) (*grpc.ClientConn, error) {
		return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
				a.mu.Lock()
				a.times = append(a.times, time.Now())
				a.mu.Unlock()
				return streamer(ctx, desc, cc, method, opts...)
			}))
	}
}

func (a *pullAttempts) get() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.times)
}

// TestBusyPeerAskedAgain checks that a node refused a pull because the
// peer serves as many as it will asks again shortly, once however many
// announcements come meanwhile, and gets the records once the peer has
// room.
func TestBusyPeerAskedAgain(t *testing.T) {
	ctx := context.Background()
	node, attempts, release := askBusyPeer(t)
	r := node.repl
	waitFor(t, 10*time.Second, "the refused pull is recorded", func() bool {
		for _, p := range r.Peers() {
			if p.Origin == "fr" && strings.Contains(p.LastError, "retry later") {
				return true
			}
		}
		return false
	})
	for range 20 {
		r.pull("fr") // announcements while the peer is busy
	}
	release() // the peer has room again
	waitFor(t, 10*time.Second, "the records, pulled once the peer has room", func() bool {
		_, err := node.store.Get(ctx, storage.KindTool, "fr", "tool-003999")
		return err == nil
	})
	times := attempts.get()
	if len(times) < 2 {
		t.Fatalf("%d pulls in all, yet the records came", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < busyRetry {
		t.Errorf("the busy peer was asked again %v after it refused, want at least %v", gap, busyRetry)
	}
}

// TestBusyPeerAskedEverLessOften checks that a peer that refuses every
// pull as too busy is asked again after a wait that doubles at each
// refusal, rather than twenty times a second for as long as it refuses.
func TestBusyPeerAskedEverLessOften(t *testing.T) {
	_, attempts, _ := askBusyPeer(t)
	const asked = 6
	waitFor(t, 30*time.Second, fmt.Sprintf("%d pulls from the busy peer", asked), func() bool { return len(attempts.get()) >= asked })
	times := attempts.get()
	for i := 1; i < asked; i++ {
		if gap, least := times[i].Sub(times[i-1]), busyRetry<<(i-1); gap < least {
			t.Errorf("refusal %d was followed by another pull %v later, want at least %v", i, gap, least)
		}
	}
}

// TestStalledPullNotWaitedFor checks that a pull from a peer that stalls
// (it accepts the pull, then sends nothing until the deadline) holds up
// another peer's records no longer than pullSlotPatience, not until its
// own deadline.
func TestStalledPullNotWaitedFor(t *testing.T) {
	ctx := context.Background()
	nodes := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})
	r := nodes[0].repl
	stalled := serveLoopback(t, (&pageServer{stall: true}).register)
	good := serveLoopback(t, NewServer(benchStore(t, 10), 8, testLogger(t)).Register)

	r.mu.Lock()
	r.peers["zz"] = &peer{meta: meta{Origin: "zz", GRPCAddr: stalled.Target(), Head: 1}, alive: true}
	r.peers["fr"] = &peer{meta: meta{Origin: "fr", GRPCAddr: good.Target(), Head: 10}, alive: true}
	r.mu.Unlock()
	r.pull("zz")
	waitFor(t, 10*time.Second, "the stalled pull holds the slot", func() bool { return len(r.pullSlot) == 1 })
	r.pull("fr")
	waitFor(t, 2*pullSlotPatience, "fr's records", func() bool {
		_, err := nodes[0].store.Get(ctx, storage.KindTool, "fr", "tool-000009")
		return err == nil
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.peers["zz"].pulling {
		t.Error("the stalled pull ended before fr's records came: they waited for its deadline")
	}
}

// TestPageOfTooManyRecordsRefusedUndecoded checks that a pull response
// holding more records than a page can (empty ones, two bytes each on the
// wire) is refused before it is decoded, as a malformed page of its
// origin (which the node counts as it counts other refusals), and changes
// nothing.
func TestPageOfTooManyRecordsRefusedUndecoded(t *testing.T) {
	ctx := context.Background()
	records := make([]*federationv1.SignedRecord, storage.MaxPageRecords+1)
	for i := range records {
		records[i] = &federationv1.SignedRecord{}
	}
	page := &federationv1.OriginPage{Origin: "fr", PublicKey: nodeKey("fr").Public().(ed25519.PublicKey), ThroughSeq: 1, Records: records}
	dst := openReplica(t)
	_, err := PullFrom(ctx, dst, serveLoopback(t, (&pageServer{pages: []*federationv1.OriginPage{page}}).register), 0)
	var re *storage.RefusedError
	if !errors.As(err, &re) || re.Reason != storage.RefusedMalformed || re.Origin != "fr" || !strings.Contains(re.Detail, "more records than a page holds") {
		t.Fatalf("a page of %d empty records: %v; want it refused as malformed, for its number of records", len(records), err)
	}
	if wms, err := dst.Watermarks(ctx); err != nil || wms["fr"] != 0 {
		t.Errorf("after the refused page: watermarks %v, %v; want none for fr", wms, err)
	}
}

// digestLiar serves pages as pageServer does, and digests of its choosing.
type digestLiar struct {
	*pageServer
	mu      gosync.Mutex
	digests []*federationv1.OriginDigest
}

func (d *digestLiar) GetDigests(context.Context, *federationv1.GetDigestsRequest) (*federationv1.GetDigestsResponse, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &federationv1.GetDigestsResponse{Digests: d.digests}, nil
}

// set changes the digests d answers.
func (d *digestLiar) set(ds ...*federationv1.OriginDigest) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.digests = ds
}

// TestLyingDigestsPullOriginOnce checks that a peer whose digest counts
// more records than its pulls send gets the origin pulled from the start
// once, even if it lists it twice (and not by a comparison that finds the
// origin being reset), and then is taken at fault after a pull that asked
// for the origin from the start, without the watermark being reset again;
// but not after a pull that asked for it from where it stood.
func TestLyingDigestsPullOriginOnce(t *testing.T) {
	ctx := context.Background()
	pages := sourcePages(t, 50, 0)
	through := pages[len(pages)-1].GetThroughSeq()
	lie := &federationv1.OriginDigest{Origin: "fr", Watermark: through, Count: 1000, Hash: []byte("not the hash")}
	liar := &digestLiar{pageServer: &pageServer{pages: pages}, digests: []*federationv1.OriginDigest{lie, lie}}
	conn := serveLoopback(t, func(srv grpc.ServiceRegistrar) { federationv1.RegisterFederationServiceServer(srv, liar) })
	dst := openReplica(t)
	r := &Replicator{store: dst, cfg: Config{Origin: "de"}, log: testLogger(t), resetAt: map[string]time.Time{}, resetting: map[string]bool{}}
	r.m = newMetrics(nil, r)
	watermark := func() int64 {
		wms, err := dst.Watermarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return wms["fr"]
	}

	first, err := PullFrom(ctx, dst, conn, 0)
	if err != nil || watermark() != through {
		t.Fatalf("first pull: %v, watermark %d, want %d", err, watermark(), through)
	}
	// Found while another comparison resets the origin: neither a reset
	// nor a fault.
	r.resetting["fr"] = true
	if reset, err := r.compareDigests(ctx, "fr", conn, first.FromStart, nil); err != nil || len(reset) != 0 || watermark() != through {
		t.Fatalf("a divergence found while the origin is being reset: reset %v, %v, watermark %d; want nothing done", reset, err, watermark())
	}
	delete(r.resetting, "fr")
	if reset, err := r.compareDigests(ctx, "fr", conn, first.FromStart, nil); err != nil || !slices.Equal(reset, []string{"fr"}) {
		t.Fatalf("a first divergence: reset %v, %v; want fr reset once", reset, err)
	}
	if w := watermark(); w != 0 {
		t.Fatalf("after the divergence, the watermark is %d, want 0", w)
	}
	// The pull from the start brings the same records, and the peer,
	// whose digest still counts more, is at fault.
	fromStart, err := PullFrom(ctx, dst, conn, 0)
	if err != nil || watermark() != through {
		t.Fatalf("the pull from the start: %v, watermark %d, want %d", err, watermark(), through)
	}
	liar.pages = nil
	// After a pull that asked for the origin from where it stood, not
	// from the start (it began before the reset, or another peer's pull
	// brought the origin back first, from a peer that lacked records
	// too), the peer is not at fault: that pull could not bring them.
	if reset, err := r.compareDigests(ctx, "fr", conn, first.FromStart, nil); err != nil || len(reset) != 0 {
		t.Fatalf("after a pull that did not ask for the origin from the start: reset %v, %v; want neither a reset nor a fault", reset, err)
	}
	if reset, err := r.compareDigests(ctx, "fr", conn, fromStart.FromStart, nil); err == nil || !strings.Contains(err.Error(), "do not send what its digest counts") || len(reset) != 0 {
		t.Fatalf("the same divergence after pulling from the start: reset %v, %v; want the peer at fault", reset, err)
	}
	// Later pulls ask from the watermark: neither a fault nor a reset,
	// until the quiet time passes.
	for round := range 2 {
		pulled, err := PullFrom(ctx, dst, conn, 0)
		if err != nil || watermark() != through {
			t.Fatalf("round %d, pull: %v, watermark %d, want %d", round, err, watermark(), through)
		}
		if reset, err := r.compareDigests(ctx, "fr", conn, pulled.FromStart, nil); err != nil || len(reset) != 0 {
			t.Fatalf("round %d: after a pull from the watermark: reset %v, %v; want neither a reset nor a fault", round, reset, err)
		}
		if w := watermark(); w != through {
			t.Fatalf("round %d: the watermark is %d, want %d: it was reset again", round, w, through)
		}
	}
}

// TestMembersRefused checks the rules by which gossip refuses a member
// before the node takes any note of it.
func TestMembersRefused(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	member := func(name string, m meta) *memberlist.Node {
		n := signedMember(t, m, nodeKey(m.Origin))
		n.Name = name
		return n
	}
	good := meta{Origin: "fr", GRPCAddr: "127.0.0.1:7400", Protocol: ProtocolVersion}
	if err := (delegate{r}).NotifyAlive(member("fr", good)); err != nil {
		t.Fatalf("a well-formed member: %v", err)
	}
	otherProtocol := good
	otherProtocol.Protocol = ProtocolVersion - 1
	negativeHead := good
	negativeHead.Head = math.MinInt64 // once shown as a lag near 2^63
	// A member that holds the gossip key, not fr's: fr's public key is
	// public (GET /v1/node). Named in unsigned metadata, or in metadata
	// signed by its own key, it took fr's name while fr restarted.
	unsigned := member("fr", good)
	var m meta
	if err := json.Unmarshal(unsigned.Meta, &m); err != nil {
		t.Fatal(err)
	}
	m.Sig = nil
	unsigned.Meta, _ = json.Marshal(m)
	impostor := signedMember(t, good, nodeKey("impostor"))
	json.Unmarshal(impostor.Meta, &m)
	m.Key = nodeKey("fr").Public().(ed25519.PublicKey)
	impostor.Meta, _ = json.Marshal(m)
	// fr's own metadata, copied whole, announced from another address.
	replayed := member("fr", good)
	replayed.Port++
	for _, tc := range []struct {
		why  string
		node *memberlist.Node
	}{
		{"a name no origin could have", member("FR!", meta{Origin: "FR!", Protocol: ProtocolVersion})},
		{"a name of a thousand letters", member(strings.Repeat("a", 1000), meta{Origin: strings.Repeat("a", 1000), Protocol: ProtocolVersion})},
		{"metadata of another origin", member("de", good)},
		{"another protocol", member("fr", otherProtocol)},
		{"a negative head", member("fr", negativeHead)},
		{"unreadable metadata", &memberlist.Node{Name: "fr", Meta: []byte("{")}},
		{"unsigned metadata", unsigned},
		{"metadata naming fr's key, signed by another", impostor},
		{"fr's signed metadata from another address", replayed},
	} {
		if err := (delegate{r}).NotifyAlive(tc.node); err == nil {
			t.Errorf("%s: taken as a member", tc.why)
		}
	}
}

// TestMemberOfAnotherProtocolSaid: a member a node knows (remembered from
// an earlier run), refused for speaking another gossip protocol (an
// upgrade under way), is listed gone with why, rather than gone without a
// word; once it speaks the node's, that is forgotten.
func TestMemberOfAnotherProtocolSaid(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	r.mu.Lock()
	r.peers["fr"] = &peer{meta: meta{Origin: "fr", GRPCAddr: "127.0.0.1:7400"}}
	r.mu.Unlock()
	lastError := func() string {
		for _, p := range r.Peers() {
			if p.Origin == "fr" {
				return p.LastError
			}
		}
		t.Fatal("fr not listed")
		return ""
	}
	older := meta{Origin: "fr", GRPCAddr: "127.0.0.1:7400", Protocol: ProtocolVersion - 1}
	if err := (delegate{r}).NotifyAlive(signedMember(t, older, nodeKey("fr"))); err == nil {
		t.Fatal("a member of another protocol taken")
	}
	if got := lastError(); !strings.Contains(got, fmt.Sprintf("speaks gossip protocol %d, this node %d", ProtocolVersion-1, ProtocolVersion)) {
		t.Errorf("fr's last error: %q", got)
	}
	current := older
	current.Protocol = ProtocolVersion
	if err := (delegate{r}).NotifyAlive(signedMember(t, current, nodeKey("fr"))); err != nil {
		t.Fatal(err)
	}
	if got := lastError(); got != "" {
		t.Errorf("fr's last error once it speaks this node's protocol: %q", got)
	}
}

// TestRefusalsOfMadeUpMembersForgotten: names of another protocol made up
// by anyone who holds the gossip key fill no place for good: the refusals
// of members the node does not know are forgotten, and a member it knows,
// refused later, is said.
func TestRefusalsOfMadeUpMembersForgotten(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	d := delegate{r}
	unsigned := func(origin string, protocol int) *memberlist.Node {
		b, err := json.Marshal(meta{Origin: origin, GRPCAddr: "127.0.0.1:7400", Protocol: protocol})
		if err != nil {
			t.Fatal(err)
		}
		return &memberlist.Node{Name: origin, Addr: net.IPv4(127, 0, 0, 1), Port: 7946, Meta: b}
	}
	for i := range maxRefusedMembers + 10 {
		d.NotifyAlive(unsigned(fmt.Sprintf("mm-%d", i), ProtocolVersion-1))
	}
	for range 10 {
		d.NotifyAlive(unsigned("zz", ProtocolVersion-1))
	}
	if n := r.refusedCount.Load(); n != maxRefusedMembers {
		t.Errorf("%d refusals kept, want the bound, %d", n, maxRefusedMembers)
	}
	r.mu.Lock()
	r.peers["fr"] = &peer{meta: meta{Origin: "fr", GRPCAddr: "127.0.0.1:7400"}}
	r.mu.Unlock()
	r.Peers() // as GET /v1/peers does
	d.NotifyAlive(unsigned("fr", ProtocolVersion-1))
	for _, p := range r.Peers() {
		if p.Origin == "fr" && !strings.Contains(p.LastError, "speaks gossip protocol") {
			t.Errorf("fr refused for its protocol once the made-up names were forgotten: last error %q", p.LastError)
		}
	}
	if n := r.refusedCount.Load(); n != 1 {
		t.Errorf("%d refusals kept, want fr's alone", n)
	}
}

// signedMember is a member announcing m from 127.0.0.1:7946, m naming
// key's public key and signed by it.
func signedMember(t *testing.T, m meta, key ed25519.PrivateKey) *memberlist.Node {
	t.Helper()
	n := &memberlist.Node{Name: m.Origin, Addr: net.IPv4(127, 0, 0, 1), Port: 7946}
	m.Key = key.Public().(ed25519.PublicKey)
	m.Sig = envelope.SignMember(key, m.description(n.Address()))
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	n.Meta = b
	return n
}

// TestAddressChangedWhileDialing has a peer announce a new gRPC address
// while the node dials its old one: the connection to the old address
// serves that pull only, and the node's next pull goes to the new one.
func TestAddressChangedWhileDialing(t *testing.T) {
	old := serveLoopback(t, NewServer(benchStore(t, 10), 8, testLogger(t)).Register)
	moved := serveLoopback(t, NewServer(benchStore(t, 10), 8, testLogger(t)).Register)
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	announce := func(addr string) *memberlist.Node { return frAt(t, addr, 10) }
	var mu gosync.Mutex
	var dialed []string
	r.cfg.Dial = func(addr string) (*grpc.ClientConn, error) {
		mu.Lock()
		first := len(dialed) == 0
		dialed = append(dialed, addr)
		mu.Unlock()
		if first {
			r.learn(announce(moved.Target()), true) // the move, heard during the dial
		}
		return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	r.learn(announce(old.Target()), true) // a member joins, and is pulled from
	waitFor(t, 10*time.Second, "a pull after the move", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(dialed) >= 2
	})
	waitFor(t, 10*time.Second, "the pull after the move ends", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return !r.peers["fr"].pulling
	})
	mu.Lock()
	if dialed[0] != old.Target() || dialed[1] != moved.Target() {
		t.Errorf("dialed %v, want the old address then the new one", dialed)
	}
	mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if c := r.peers["fr"].conn; c == nil || c.Target() != moved.Target() {
		t.Errorf("the peer's connection after the move: %v, want one to %s", c, moved.Target())
	}
}

// TestReplayAfterEmptyPageRefused has a peer send a page of no records
// that starts before where the pull stands, then replay a page this node
// holds already: the pull ends refused as stale (which backs the peer
// off), not as overtaken (which would have the node pull from it again at
// once, for ever).
func TestReplayAfterEmptyPageRefused(t *testing.T) {
	ctx := context.Background()
	pages := sourcePages(t, 300, 8192)
	dst := openReplica(t)
	for _, p := range pages[:2] {
		if _, err := dst.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	before := fingerprintOf(t, dst)
	empty := &federationv1.OriginPage{Origin: "fr", PublicKey: pages[0].GetPublicKey()}
	for _, sent := range [][]*federationv1.OriginPage{{empty, pages[0]}, {pages[0]}} {
		res, err := PullFrom(ctx, dst, serveLoopback(t, (&pageServer{pages: sent}).register), 0)
		var re *storage.RefusedError
		if !errors.As(err, &re) || re.Reason != storage.RefusedStale || res.Overtaken {
			t.Errorf("%d pages, the last a replay: %+v, %v; want refused as stale", len(sent), res, err)
		}
		if after := fingerprintOf(t, dst); after != before {
			t.Errorf("%d pages, the last a replay, changed the catalog: %s, then %s", len(sent), before, after)
		}
	}
}

// seriesOf lists the origin labels of vec's series.
func seriesOf(vec *prometheus.CounterVec) []string {
	ch := make(chan prometheus.Metric, 1024)
	vec.Collect(ch)
	close(ch)
	var out []string
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			continue
		}
		for _, l := range pb.GetLabel() {
			if l.GetName() == "origin" {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

// TestDeadMembersForgotten checks that a node keeps at most MaxDeadMembers
// members it does not see alive, forgetting those gone longest: members
// gossip holds for dead, and members remembered from an earlier run that
// gossip has not seen in this one. A member alive stays.
func TestDeadMembersForgotten(t *testing.T) {
	ctx := context.Background()
	o := clusterOpts{maxDead: 1, antiEntropy: 100 * time.Millisecond}
	nodes := startCluster(t, 4, o)
	listed := func(n *testNode, origin string) (inPeers, remembered bool) {
		for _, p := range n.repl.Peers() {
			inPeers = inPeers || p.Origin == origin
		}
		known, err := n.store.Peers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range known {
			remembered = remembered || k.Origin == origin
		}
		return inPeers, remembered
	}
	known := func(n *testNode, origin string) bool {
		in, kept := listed(n, origin)
		return in && kept
	}
	forgotten := func(n *testNode, origin string) bool {
		in, kept := listed(n, origin)
		return !in && !kept
	}
	waitFor(t, 30*time.Second, "xx-0 knows the others", func() bool {
		return known(nodes[0], "xx-1") && known(nodes[0], "xx-2") && known(nodes[0], "xx-3")
	})
	writeTools(t, nodes[3], "gone", 1)
	waitFor(t, 30*time.Second, "xx-0 counts a record of xx-3 applied", func() bool {
		return slices.Contains(seriesOf(nodes[0].repl.m.applied), "xx-3")
	})
	nodes[3].stop()
	waitFor(t, 30*time.Second, "xx-0 holds xx-3 for dead", func() bool {
		for _, p := range nodes[0].repl.Peers() {
			if p.Origin == "xx-3" && !p.Alive {
				return true
			}
		}
		return false
	})
	nodes[2].stop()
	waitFor(t, 30*time.Second, "xx-3, dead longest, is forgotten by xx-0", func() bool { return forgotten(nodes[0], "xx-3") })
	if !known(nodes[0], "xx-2") || !known(nodes[0], "xx-1") {
		t.Fatal("xx-0 forgot xx-2, dead since less long, or xx-1, alive")
	}
	// The series go once the member is forgotten (its records count
	// under "other" now), the forgetting's last step.
	waitFor(t, 10*time.Second, "xx-3's series of records applied gone from xx-0", func() bool {
		return !slices.Contains(seriesOf(nodes[0].repl.m.applied), "xx-3")
	})

	// xx-0 restarts while xx-2 is still away: it remembers xx-2 from its
	// earlier run, but does not see it. Then xx-1, which it saw alive,
	// stops: of the two, xx-2 has gone unseen the longest.
	dir := nodes[0].dir
	nodes[0].stop()
	restarted := startNode(t, dir, "xx-0", clusterOpts{maxDead: 1, antiEntropy: 100 * time.Millisecond, join: []string{nodes[1].repl.GossipAddr()}})
	waitFor(t, 30*time.Second, "the restarted xx-0 sees xx-1", func() bool {
		for _, p := range restarted.repl.Peers() {
			if p.Origin == "xx-1" && p.Alive {
				return true
			}
		}
		return false
	})
	if _, kept := listed(restarted, "xx-2"); !kept {
		t.Fatal("xx-0 restarted without xx-2, a member of its earlier run, within the bound")
	}
	nodes[1].stop()
	waitFor(t, 30*time.Second, "xx-2, unseen since the restart, is forgotten", func() bool { return forgotten(restarted, "xx-2") })
	if _, kept := listed(restarted, "xx-1"); !kept {
		t.Error("xx-0 forgot xx-1, dead since after xx-2 went unseen")
	}
}

// TestRefusalsCounted has a peer send a tampered page: the node counts the
// page refused, with its reason, and the pull, as failed, in its metrics.
func TestRefusalsCounted(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	pages := sourcePages(t, 10, 0)
	pages[0].Records[3].Signature[7] ^= 1
	conn := serveLoopback(t, (&pageServer{pages: pages}).register)
	r.mu.Lock()
	r.peers["yy"] = &peer{meta: meta{Origin: "yy", GRPCAddr: conn.Target()}, alive: true}
	r.mu.Unlock()
	r.pull("yy")
	waitForPullError(t, r, "yy")
	var refused dto.Metric
	if err := r.m.refused.WithLabelValues(storage.RefusedBadSignature).Write(&refused); err != nil {
		t.Fatal(err)
	}
	if got := refused.GetCounter().GetValue(); got != 1 {
		t.Errorf("pages refused for a bad signature: %v, want 1", got)
	}
	var failed dto.Metric
	if err := r.m.pulls.WithLabelValues("error").(prometheus.Metric).Write(&failed); err != nil {
		t.Fatal(err)
	}
	if got := failed.GetHistogram().GetSampleCount(); got != 1 {
		t.Errorf("failed pulls timed: %d, want 1", got)
	}
}

// pullFromServer has r pull from server, served on loopback as the member
// name, and waits until the pull has ended.
func pullFromServer(t *testing.T, r *Replicator, name string, server federationv1.FederationServiceServer) {
	t.Helper()
	conn := serveLoopback(t, func(srv grpc.ServiceRegistrar) { federationv1.RegisterFederationServiceServer(srv, server) })
	r.mu.Lock()
	r.peers[name] = &peer{meta: meta{Origin: name, GRPCAddr: conn.Target()}, alive: true}
	r.mu.Unlock()
	r.pull(name)
	waitFor(t, 10*time.Second, "the pull from "+name+" ends", func() bool {
		for _, p := range r.Peers() {
			if p.Origin == name && (!p.LastSync.IsZero() || p.LastError != "") {
				return true
			}
		}
		return false
	})
}

// TestHeldWritesWaitForTheOrigin holds a node's own writes as Start does,
// for the members gossip knows: each must answer. A member whose digest
// shows more of the origin than its pull gave back has not, and is asked
// again until it shows no more; one whose digest shows no more has, and so
// has one whose digests cannot be had (its pull gave back all it held),
// one that holds the origin under another key (it can give nothing back),
// and one whose pulls failed awaitedFailures times in a row, unless it
// could not be reached (it may be restarting). A member that leaves is
// still waited for, and one not awaited does not count.
func TestHeldWritesWaitForTheOrigin(t *testing.T) {
	ctx := context.Background()
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	r := node.repl
	write := func() error {
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err := node.store.Apply(short, []storage.Write{{Op: storage.OpCreate, ID: fmt.Sprintf("w%d", time.Now().UnixNano()), Resource: benchTool(0)}})
		return err
	}
	held := func(after string) {
		t.Helper()
		if err := write(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a write after %s: %v; want it still held", after, err)
		}
	}
	pullFrom := func(name string, server federationv1.FederationServiceServer) { pullFromServer(t, r, name, server) }
	digests := func(ds ...*federationv1.OriginDigest) *digestLiar {
		return &digestLiar{pageServer: &pageServer{}, digests: ds}
	}

	r.cfg.OwnRecordsPatience = time.Hour // answers release the writes, not the wait's end
	r.holdOwnWrites(0, []string{"aa", "bb", "cc", "dd", "ee", "gg"})
	ahead := digests(&federationv1.OriginDigest{Origin: node.origin, Watermark: 40, Count: 40})
	pullFrom("aa", ahead)
	held("a pull from a member holding more of the origin than it gave")
	pullFrom("bb", digests(&federationv1.OriginDigest{Origin: node.origin, Watermark: 0}))
	pullFrom("cc", &pageServer{}) // GetDigests: unimplemented
	pullFrom("xx", digests())     // not awaited
	pullFrom("ee", &digestLiar{pageServer: &pageServer{pages: pagesUnderAnotherKey(t, node.origin)}})
	held("four members of six answered")
	var awaited dto.Metric
	if err := r.m.awaited.Write(&awaited); err != nil || awaited.GetGauge().GetValue() != 3 {
		t.Errorf("members awaited, as /metrics says: %v, %v; want 3 (aa, dd, gg)", awaited.GetGauge().GetValue(), err)
	}

	// pullFailing pulls from a member at addr whose pulls failed failures
	// times already, and waits until the pull has failed.
	pullFailing := func(name, addr string, failures int) *peer {
		r.mu.Lock()
		p := &peer{meta: meta{Origin: name, GRPCAddr: addr, Protocol: ProtocolVersion}, alive: true, failures: failures}
		r.peers[name] = p
		r.mu.Unlock()
		r.pull(name)
		waitFor(t, 10*time.Second, name+"'s pull fails", func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			return p.failures == failures+1 && !p.pulling
		})
		return p
	}

	// dd's pulls fail: it is asked again, and answers once they failed
	// awaitedFailures times in a row.
	conn := serveLoopback(t, func(srv grpc.ServiceRegistrar) {
		federationv1.RegisterFederationServiceServer(srv, federationv1.UnimplementedFederationServiceServer{})
	})
	dd := pullFailing("dd", conn.Target(), 0)
	r.mu.Lock()
	if !dd.retrying {
		t.Error("a member awaited whose pull failed, not asked again")
	}
	r.mu.Unlock()
	held("a member's pull failed once")
	r.mu.Lock()
	dd.failures = awaitedFailures - 1 // as after the retries, without waiting for their backoffs
	r.mu.Unlock()
	r.pull("dd")
	waitFor(t, 10*time.Second, "dd's pulls fail awaitedFailures times", func() bool { return !slices.Contains(r.stillAwaited(), "dd") })

	// gg cannot be reached: however many of its pulls fail, it is still
	// waited for.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	gg := pullFailing("gg", closed.Addr().String(), awaitedFailures-1)
	if !slices.Contains(r.stillAwaited(), "gg") {
		t.Fatal("a member that could not be reached, given up on")
	}
	r.mu.Lock()
	if wait := time.Until(gg.retryAt); !gg.retrying || wait > maxAwaitedRetry {
		t.Errorf("a member awaited that could not be reached is asked again in %v (retrying: %v), want at most %v", wait, gg.retrying, maxAwaitedRetry)
	}
	r.mu.Unlock()

	// aa and gg leave: still waited for. They come back (gg at another
	// address), show no more, and answer.
	gossip := func(m meta) *memberlist.Node {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return &memberlist.Node{Name: m.Origin, Meta: b, Addr: net.IPv4(127, 0, 0, 1), Port: 7946}
	}
	r.mu.Lock()
	aa := r.peers["aa"].meta
	back := digests(&federationv1.OriginDigest{Origin: node.origin, Watermark: 0})
	ggBack := meta{Origin: "gg", GRPCAddr: serveLoopback(t, func(srv grpc.ServiceRegistrar) { federationv1.RegisterFederationServiceServer(srv, back) }).Target(), Protocol: ProtocolVersion}
	r.mu.Unlock()
	r.learn(gossip(aa), false)
	r.learn(gossip(gg.meta), false)
	held("the last members awaited left")
	ahead.set(&federationv1.OriginDigest{Origin: node.origin, Watermark: 0})
	r.mu.Lock()
	gg.retryAt = time.Time{} // as once its backoff ends
	r.mu.Unlock()
	r.learn(gossip(aa), true)
	r.learn(gossip(ggBack), true)
	waitFor(t, 10*time.Second, "aa and gg come back and answer", func() bool { return len(r.stillAwaited()) == 0 })
	if err := write(); err != nil {
		t.Fatalf("a write once every member answered: %v", err)
	}
}

// pagesUnderAnotherKey are pages of a record of origin signed by another
// key than the tests' for it.
func pagesUnderAnotherKey(t *testing.T, origin string) []*federationv1.OriginPage {
	return pagesOfOneTool(t, origin, nodeKey(origin+", another key"), "other")
}

// pagesOfOneTool are the pages of a catalog of origin, signed with key,
// that holds one tool, id.
func pagesOfOneTool(t *testing.T, origin string, key ed25519.PrivateKey, id string) []*federationv1.OriginPage {
	t.Helper()
	ctx := context.Background()
	other, err := storage.Open(ctx, storage.Options{Path: filepath.Join(t.TempDir(), "one-tool.db"), Origin: origin, Key: key, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: id, Resource: benchTool(0)}}); err != nil {
		t.Fatal(err)
	}
	var pages []*federationv1.OriginPage
	if err := other.ReadPages(ctx, storage.PullSpec{AllOrigins: true}, func(p *federationv1.OriginPage) error {
		pages = append(pages, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return pages
}

// TestStalledMemberAnswers has a member stall every pull of the node's
// origin while the node's writes wait: those pulls end at their own
// deadline, shorter than the wait, and after awaitedFailures of them the
// member has answered, and the writes go ahead before the patience runs
// out (with the pull's deadline of 2 minutes, a minute's patience ran out
// first).
func TestStalledMemberAnswers(t *testing.T) {
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour, patience: time.Hour})[0]
	r := node.repl
	r.heldPullTimeout = 200 * time.Millisecond
	r.holdOwnWrites(0, []string{"ss"})
	pullFromServer(t, r, "ss", &digestLiar{pageServer: &pageServer{stall: true}})
	// Three pulls at the test nodes' pull deadline (10 s) would take over 30 s.
	waitFor(t, 20*time.Second, "the writes go ahead", func() bool { return !node.store.OwnWritesHeld() })
}

// TestHeldWritesPatience checks that a node's writes go ahead once its
// patience passes, members unanswered, and that it then stops asking them
// again for their answer.
func TestHeldWritesPatience(t *testing.T) {
	ctx := context.Background()
	var logs lockedbuf.Buffer
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour, log: slog.New(slog.NewTextHandler(&logs, nil))})[0]
	r := node.repl
	r.cfg.OwnRecordsPatience = 300 * time.Millisecond
	r.holdOwnWrites(0, []string{"aa", "bb"})
	pullFromServer(t, r, "aa", &digestLiar{pageServer: &pageServer{}, digests: []*federationv1.OriginDigest{{Origin: node.origin, Watermark: 40, Count: 40}}})
	waitFor(t, 10*time.Second, "the node's writes go ahead", func() bool { return !node.store.OwnWritesHeld() })
	if _, err := node.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "after", Resource: benchTool(0)}}); err != nil {
		t.Fatalf("a write once the patience passed: %v", err)
	}
	if left := r.stillAwaited(); len(left) != 0 {
		t.Errorf("members still awaited once the writes went ahead: %v", left)
	}
	if l := logs.String(); !strings.Contains(l, `unanswered="[aa bb]"`) {
		t.Errorf("the log does not name the members that did not answer:\n%s", l)
	}
	waitFor(t, 10*time.Second, "aa is no longer asked again", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		p := r.peers["aa"]
		return !p.pulling && !p.retrying
	})
}

// TestOwnForkSaid has a peer hold other records of the node's own origin
// than the node, up to the same seq, as after a write at seqs the node had
// lost: the node counts it as a divergence of its origin. A peer holding
// fewer (it lost some, and repairs itself from the node) is not counted.
func TestOwnForkSaid(t *testing.T) {
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	writeTools(t, node, "w", 2)
	r := node.repl
	divergences := func() float64 {
		var m dto.Metric
		if err := r.m.divergences.WithLabelValues(node.origin).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	for i, tc := range []struct {
		digest *federationv1.OriginDigest
		want   float64
	}{
		{&federationv1.OriginDigest{Origin: node.origin, Watermark: 2, Count: 1, Hash: []byte("fewer")}, 0},
		{&federationv1.OriginDigest{Origin: node.origin, Watermark: 2, Count: 2, Hash: []byte("others")}, 1},
	} {
		pullFromServer(t, r, fmt.Sprintf("p%d", i), &digestLiar{pageServer: &pageServer{}, digests: []*federationv1.OriginDigest{tc.digest}})
		if got := divergences(); got != tc.want {
			t.Errorf("after a peer showing %d records of the origin up to its head: %v divergences of it, want %v", tc.digest.GetCount(), got, tc.want)
		}
	}
}

// TestHeldWritesRefusedOnClose checks that a node stopping while its own
// writes are held makes them fail, rather than go ahead without knowing
// whether the federation holds more of its origin.
func TestHeldWritesRefusedOnClose(t *testing.T) {
	ctx := context.Background()
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	node.repl.holdOwnWrites(0, []string{"yy"})
	done := make(chan error, 1)
	go func() {
		_, err := node.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "held", Resource: benchTool(0)}})
		done <- err
	}()
	node.repl.Close()
	if err := <-done; !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("a write held when the node stops: %v; want ErrUnavailable", err)
	}
	if _, err := node.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "later", Resource: benchTool(1)}}); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("a write after the node stopped replicating: %v; want ErrUnavailable", err)
	}
	if wms, err := node.store.Watermarks(ctx); err != nil || wms[node.origin] != 0 {
		t.Errorf("the node's head: %d, %v; want 0", wms[node.origin], err)
	}
	node.grpc.Stop()
	node.store.Close()
	node.repl = nil // stopped
}

// TestOwnAhead checks when a peer's digest of the node's own origin shows
// more than the node holds, which keeps the node's held writes waiting.
func TestOwnAhead(t *testing.T) {
	d := func(watermark, count int64) *federationv1.OriginDigest {
		return &federationv1.OriginDigest{Origin: "de", Watermark: watermark, Count: count}
	}
	for _, tc := range []struct {
		what         string
		mine, theirs *federationv1.OriginDigest
		want         bool
	}{
		{"the node holds none, the peer some", nil, d(10, 8), true},
		{"a higher watermark", d(10, 8), d(12, 9), true},
		{"the same", d(10, 8), d(10, 8), false},
		{"fewer", d(10, 8), d(6, 5), false},
		{"more records below the node's head: the peer repairs the origin", d(10, 8), d(6, 9), true},
		{"more records at watermark 0: the peer repairs the origin", d(0, 0), d(0, 3), true},
		{"more records at the same watermark: two histories", d(10, 8), d(10, 9), false},
	} {
		if got := ownAhead(tc.mine, tc.theirs); got != tc.want {
			t.Errorf("%s: ownAhead = %v, want %v", tc.what, got, tc.want)
		}
	}
}

// TestOversizedMessageIsAFailure has a peer send a page larger than the
// node takes: gRPC refuses it with the code a busy peer's refusal has, but
// the peer is failing, and is backed off as such, not asked again as busy.
func TestOversizedMessageIsAFailure(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl // its client takes 4 MiB at most
	huge := &federationv1.OriginPage{Origin: "fr", Records: []*federationv1.SignedRecord{{Record: make([]byte, 5<<20)}}}
	pullFromServer(t, r, "fr", &pageServer{pages: []*federationv1.OriginPage{huge}})
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers["fr"]
	if !strings.Contains(p.lastErr, "larger than max") || p.failures != 1 || p.busy != 0 {
		t.Errorf("after an oversized page: last error %q, %d failures, %d busy refusals; want one failure", p.lastErr, p.failures, p.busy)
	}
}

// TestPeerBusy tells a peer's refusal of a pull as busy from other errors
// of the same code.
func TestPeerBusy(t *testing.T) {
	withRetryInfo, err := status.New(codes.ResourceExhausted, "busy").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err  error
		busy bool
	}{
		{withRetryInfo.Err(), true},
		{fmt.Errorf("pull: %w", withRetryInfo.Err()), true},
		{status.Error(codes.ResourceExhausted, "this node already serves 8 pulls: retry later"), true}, // nodes of earlier versions
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5242890 vs. 4194304)"), false},
		{status.Error(codes.Unavailable, "this node already serves 8 pulls"), false},
		{errors.New("already serves"), false},
	} {
		if got := peerBusy(tc.err); got != tc.busy {
			t.Errorf("peerBusy(%v) = %v, want %v", tc.err, got, tc.busy)
		}
	}
}

// TestDigestsAskedInBatches checks that a comparison of digests asks the
// peer for the origins this node holds, a batch at a time, never for all
// it holds: a member that made up thousands of origins once made every
// answer larger than a node takes, and every pull from any node fail. The
// divergence of an origin of the last batch is still found.
func TestDigestsAskedInBatches(t *testing.T) {
	ctx := context.Background()
	node, peerStore := openReplica(t), openReplica(t)
	tombstone := func(origin, id string) *federationv1.OriginPage {
		key := nodeKey(origin)
		sr, err := envelope.Seal(&federationv1.Record{Origin: origin, Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: id, Seq: 1, Deleted: true}, key)
		if err != nil {
			t.Fatal(err)
		}
		return &federationv1.OriginPage{Origin: origin, PublicKey: key.Public().(ed25519.PublicKey), ThroughSeq: 1, Records: []*federationv1.SignedRecord{sr}}
	}
	for i := range 30 {
		origin := fmt.Sprintf("zz-%02d", i)
		mine, theirs := tombstone(origin, "x"), tombstone(origin, "x")
		if i == 29 {
			theirs = tombstone(origin, "y") // another record at the same watermark
		}
		if _, err := node.ApplyPage(ctx, mine); err != nil {
			t.Fatal(err)
		}
		if _, err := peerStore.ApplyPage(ctx, theirs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := peerStore.ApplyPage(ctx, tombstone("yy", "x")); err != nil { // an origin the node does not hold
		t.Fatal(err)
	}
	var mu gosync.Mutex
	var asked [][]string
	conn := serveLoopback(t, NewServer(peerStore, 8, testLogger(t)).Register, grpc.ChainUnaryInterceptor(
		func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			if r, ok := req.(*federationv1.GetDigestsRequest); ok {
				mu.Lock()
				asked = append(asked, r.GetOrigins())
				mu.Unlock()
			}
			return handler(ctx, req)
		}))
	r := &Replicator{store: node, cfg: Config{Origin: "de"}, log: testLogger(t), resetAt: map[string]time.Time{}, resetting: map[string]bool{}, digestBatch: 7}
	r.m = newMetrics(nil, r)
	reset, err := r.compareDigests(ctx, "pp", conn, nil, nil)
	if err != nil || !slices.Equal(reset, []string{"zz-29"}) {
		t.Fatalf("comparison: reset %v, %v; want zz-29 reset", reset, err)
	}
	var all []string
	for _, batch := range asked {
		if len(batch) == 0 || len(batch) > 7 {
			t.Errorf("asked for %d origins at once, want 1 to 7", len(batch))
		}
		all = append(all, batch...)
	}
	if len(all) != 31 || slices.Contains(all, "yy") {
		t.Errorf("asked for %v, want the 31 origins the node holds (its own too), once each", all)
	}
}

// TestPeerNotBlamedForAnotherPeersRepull has this node lack a record of fr
// behind its watermark (a relay left a hole), and es, which pulled fr from
// it, lack it too. The comparison with fr's own node finds the divergence
// and resets fr; es's pull brings fr back from the start first, hole
// included; then fr's pull asks for fr from the watermark es left, and
// brings nothing of it. fr is not at fault: it was never asked for the
// origin from the start. (It was, and was backed off.)
func TestPeerNotBlamedForAnotherPeersRepull(t *testing.T) {
	ctx := context.Background()
	src := benchStore(t, 50) // fr's own node
	frConn := serveLoopback(t, NewServer(src, 8, testLogger(t)).Register)
	var pages []*federationv1.OriginPage
	if err := src.ReadPages(ctx, storage.PullSpec{AllOrigins: true}, func(p *federationv1.OriginPage) error {
		pages = append(pages, proto.Clone(p).(*federationv1.OriginPage))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	holey := proto.Clone(pages[0]).(*federationv1.OriginPage) // one record left out, the seqs still increasing
	holey.Records = append(holey.Records[:10], holey.Records[11:]...)
	dst := openReplica(t)
	if _, err := PullFrom(ctx, dst, serveLoopback(t, (&pageServer{pages: append([]*federationv1.OriginPage{holey}, pages[1:]...)}).register), 0); err != nil {
		t.Fatal(err)
	}
	es, err := storage.Open(ctx, storage.Options{Path: filepath.Join(t.TempDir(), "es.db"), Origin: "es", Key: nodeKey("es"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { es.Close() })
	if _, err := PullFrom(ctx, es, serveLoopback(t, NewServer(dst, 8, testLogger(t)).Register), 0); err != nil {
		t.Fatal(err)
	}
	esConn := serveLoopback(t, NewServer(es, 8, testLogger(t)).Register)

	r := &Replicator{store: dst, cfg: Config{Origin: "de"}, log: testLogger(t), resetAt: map[string]time.Time{}, resetting: map[string]bool{}}
	r.m = newMetrics(nil, r)
	if reset, err := r.compareDigests(ctx, "fr", frConn, nil, nil); err != nil || !slices.Equal(reset, []string{"fr"}) {
		t.Fatalf("first comparison with fr: reset %v, %v; want fr reset", reset, err)
	}
	fromEs, err := PullFrom(ctx, dst, esConn, 0)
	if err != nil || !slices.Contains(fromEs.FromStart, "fr") {
		t.Fatalf("es's pull: %+v, %v; want fr asked for from the start", fromEs, err)
	}
	if _, err := r.compareDigests(ctx, "es", esConn, fromEs.FromStart, nil); err != nil {
		t.Fatalf("comparison with es: %v", err)
	}
	fromFr, err := PullFrom(ctx, dst, frConn, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.compareDigests(ctx, "fr", frConn, fromFr.FromStart, nil); err != nil {
		t.Errorf("fr, never asked for its origin from the start since the reset, is taken at fault: %v", err)
	}
}

// TestNewsNeverDropped tells a node of 3,000 members at once, while it
// cannot take any in (its lock held): it learns every one. A queue of
// 1,024 once dropped the rest, and a member whose join was dropped stayed
// unknown until its metadata changed.
func TestNewsNeverDropped(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	r.mu.Lock()
	for i := range 3000 {
		name := fmt.Sprintf("zz-%04d", i)
		b, err := json.Marshal(meta{Origin: name, GRPCAddr: "127.0.0.1:1", Protocol: ProtocolVersion})
		if err != nil {
			t.Fatal(err)
		}
		events{r}.NotifyLeave(&memberlist.Node{Name: name, Meta: b, Addr: net.IPv4(127, 0, 0, 1), Port: 1})
	}
	r.mu.Unlock()
	waitFor(t, 30*time.Second, "the node knows the 3,000 members", func() bool { return len(r.Peers()) == 3000 })
}

// TestNewsQueue checks what the queue of gossip news keeps of a member's
// news not yet learnt: the latest, and the leave before a join, so that a
// member that left and came back is learnt as back (its backoff ends, its
// new address is remembered), not as one that never left.
func TestNewsQueue(t *testing.T) {
	q := newNewsQueue()
	ev := func(name string, alive bool, port uint16) news {
		return news{node: memberlist.Node{Name: name, Port: port}, alive: alive}
	}
	type seen struct {
		name  string
		alive bool
		port  uint16
	}
	took := func() []seen {
		var out []seen
		for _, n := range q.take() {
			out = append(out, seen{n.node.Name, n.alive, n.node.Port})
		}
		return out
	}
	q.push(ev("aa", true, 1))
	q.push(ev("bb", true, 1))
	q.push(ev("aa", true, 2)) // an update: the latest only
	q.push(ev("bb", false, 1))
	q.push(ev("bb", true, 2)) // back at another port: the leave, then the join
	q.push(ev("cc", true, 1))
	q.push(ev("cc", false, 1)) // gone: the leave only
	want := []seen{{"aa", true, 2}, {"bb", false, 1}, {"bb", true, 2}, {"cc", false, 1}}
	if got := took(); !slices.Equal(got, want) {
		t.Errorf("took %v, want %v", got, want)
	}
	q.push(ev("bb", false, 2))
	q.push(ev("bb", true, 3))
	q.push(ev("bb", false, 3)) // left again: the last leave
	if got, want := took(), []seen{{"bb", false, 3}}; !slices.Equal(got, want) {
		t.Errorf("took %v, want %v", got, want)
	}
	if got := q.take(); len(got) != 0 {
		t.Errorf("an empty queue gave %v", got)
	}
}

// TestMovedMemberAskedAtOnce has a member the node backed off announce
// another gRPC address: the node pulls from it at once, but not again for
// a second change within movedRetryEvery (a member could otherwise escape
// its backoff by changing its address at will).
func TestMovedMemberAskedAtOnce(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	var pulls [2]atomic.Int32
	var addrs [2]string
	fr := benchStore(t, 1) // one catalog at both addresses: two would be two histories of fr
	for i := range addrs {
		addrs[i] = countedPulls(t, fr, func() { pulls[i].Add(1) })
	}
	announce := func(addr string) *memberlist.Node { return frAt(t, addr, 1) }
	peer := func() (p peer) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return *r.peers["fr"]
	}
	backOff := func() {
		waitFor(t, 10*time.Second, "the pull ends", func() bool { return !peer().pulling })
		r.mu.Lock()
		defer r.mu.Unlock()
		p := r.peers["fr"]
		p.failures, p.retryAt = 9, time.Now().Add(5*time.Minute)
	}
	events{r}.NotifyJoin(announce(addrs[0]))
	waitFor(t, 10*time.Second, "a pull from fr", func() bool { return pulls[0].Load() == 1 })
	backOff()
	events{r}.NotifyUpdate(announce(addrs[1]))
	waitFor(t, 10*time.Second, "a pull from fr at its new address", func() bool { return pulls[1].Load() == 1 })
	backOff()
	events{r}.NotifyUpdate(announce(addrs[0]))
	waitFor(t, 10*time.Second, "the node learns fr's address", func() bool { return peer().meta.GRPCAddr == addrs[0] })
	if p := peer(); p.pulling || pulls[0].Load() != 1 || !time.Now().Before(p.retryAt) {
		t.Errorf("a second change of address within a minute: pulling %v, pulls %d, backed off %v; want no pull, the backoff kept", p.pulling, pulls[0].Load(), time.Now().Before(p.retryAt))
	}
}

// TestMetricsNameKnownOriginsOnly has a member relay records of origins
// made up by the dozen: the node's metrics count them under origin
// "other", and name only its own origin, the members it knows and the
// origins its trust list names (a member making up thousands of origins
// would otherwise add thousands of series to every node's /metrics).
func TestMetricsNameKnownOriginsOnly(t *testing.T) {
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	r := node.repl
	var pages []*federationv1.OriginPage
	for i := range 12 {
		origin := fmt.Sprintf("zz-%02d", i)
		key := nodeKey(origin)
		sr, err := envelope.Seal(&federationv1.Record{Origin: origin, Kind: federationv1.RecordKind_RECORD_KIND_TOOL, Id: "x", Seq: 1, Deleted: true}, key)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, &federationv1.OriginPage{Origin: origin, PublicKey: key.Public().(ed25519.PublicKey), ThroughSeq: 1, Records: []*federationv1.SignedRecord{sr}})
	}
	pullFromServer(t, r, "pp", &digestLiar{pageServer: &pageServer{pages: pages}})
	reg := prometheus.NewRegistry()
	reg.MustRegister(r.m.applied)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	applied := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			applied[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if len(applied) != 1 || applied[OtherOrigins] != 12 {
		t.Errorf("records applied by origin label: %v, want 12 under %q alone", applied, OtherOrigins)
	}
	for origin, want := range map[string]string{node.origin: node.origin, "pp": "pp", "zz-00": OtherOrigins} {
		if got := r.OriginLabel(origin); got != want {
			t.Errorf("OriginLabel(%q) = %q, want %q", origin, got, want)
		}
	}
}

// TestPullCutByNewAddress has a peer announce another gRPC address while a
// pull from it runs on the old one: the node closes the old connection,
// which ends the pull, and pulls again at once at the new address, without
// counting the pull cut short as the peer's failure.
func TestPullCutByNewAddress(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	stalled := &pageServer{stall: true}
	oldAddr := serveLoopback(t, stalled.register).Target()
	var pulls atomic.Int32
	failuresSeen := make(chan int, 1) // the node's count of the peer's failures when it pulls at the new address
	newAddr := countedPulls(t, benchStore(t, 1), func() {
		if pulls.Add(1) == 1 {
			r.mu.Lock()
			failuresSeen <- r.peers["fr"].failures
			r.mu.Unlock()
		}
	})
	announce := func(addr string) *memberlist.Node { return frAt(t, addr, 1) }
	events{r}.NotifyJoin(announce(oldAddr))
	waitFor(t, 10*time.Second, "a pull stalls at the old address", func() bool { return stalled.asked.Load() != nil })
	events{r}.NotifyUpdate(announce(newAddr))
	select {
	case n := <-failuresSeen:
		if n != 0 {
			t.Errorf("the pull cut by the peer's new address counted as %d failures", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no pull at the new address")
	}
}

// TestConnectionRenewedWhenMemberBack has a member leave and come back at
// the same address: the node's next pull from it dials anew, rather than
// wait on the old connection, whose delay between attempts to connect
// grew while the member was away (up to 2 minutes, each pull failing at
// once meanwhile).
func TestConnectionRenewedWhenMemberBack(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	var pulls atomic.Int32
	addr := countedPulls(t, benchStore(t, 1), func() { pulls.Add(1) })
	member := frAt(t, addr, 1)
	conn := func() *grpc.ClientConn {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.peers["fr"].conn
	}
	events{r}.NotifyJoin(member)
	waitFor(t, 10*time.Second, "a pull from fr", func() bool { return pulls.Load() == 1 && conn() != nil })
	first := conn()
	events{r}.NotifyLeave(member)
	events{r}.NotifyJoin(member)
	waitFor(t, 10*time.Second, "a pull from fr back", func() bool { return pulls.Load() == 2 })
	if c := conn(); c == first {
		t.Error("the pull from the member back used the connection that waited for it while it was away")
	}
}

// frAt is the gossip news of a member of origin fr whose gRPC port is at
// addr, announcing head.
func frAt(t *testing.T, addr string, head int64) *memberlist.Node {
	t.Helper()
	b, err := json.Marshal(meta{Origin: "fr", GRPCAddr: addr, Key: nodeKey("fr").Public().(ed25519.PublicKey), Protocol: ProtocolVersion, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	return &memberlist.Node{Name: "fr", Meta: b, Addr: net.IPv4(127, 0, 0, 1), Port: 7946}
}

// countedPulls serves store on loopback, calling onCall at each streaming
// call (a pull) before serving it, and returns its address.
func countedPulls(t *testing.T, store *storage.Store, onCall func()) string {
	t.Helper()
	return serveLoopback(t, NewServer(store, 8, testLogger(t)).Register, grpc.ChainStreamInterceptor(
		func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			onCall()
			return handler(srv, ss)
		})).Target()
}

// TestSameRecords compares digests by their signed hashes when both have
// one, and by their hashes otherwise (a peer that predates signed hashes).
func TestSameRecords(t *testing.T) {
	d := func(count int64, hash, signed string) *federationv1.OriginDigest {
		return &federationv1.OriginDigest{Origin: "fr", Watermark: 3, Count: count, Hash: []byte(hash), SignedHash: []byte(signed)}
	}
	for _, tc := range []struct {
		name string
		a, b *federationv1.OriginDigest
		want bool
	}{
		{"the same", d(3, "h", "s"), d(3, "h", "s"), true},
		{"other records of the same seqs", d(3, "h", "s"), d(3, "h", "z"), false},
		{"other counts", d(3, "h", "s"), d(4, "h", "s"), false},
		{"other names", d(3, "h", "s"), d(3, "g", "s"), true},
		{"a peer without signed hashes, the same names", d(3, "h", "s"), d(3, "h", ""), true},
		{"a peer without signed hashes, other names", d(3, "h", ""), d(3, "g", "s"), false},
	} {
		if got := sameRecords(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestForkDoesNotHideLoss has a node meet a fork of fr (two catalogs of
// fr, the second restored and written again), then lose records of fr
// that a relay's page left out: within forkResetEvery of its last pull of
// fr from the start, a comparison with fr leaves the origin alone, and
// blames no one; after it, fr is pulled from the start again, which
// brings the records lost back.
func TestForkDoesNotHideLoss(t *testing.T) {
	ctx := context.Background()
	catalogOfFr := func(name string, ids ...string) *storage.Store {
		s, err := storage.Open(ctx, storage.Options{Path: filepath.Join(t.TempDir(), name+".db"), Origin: "fr", Key: nodeKey("fr"), Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		writeToolsTo(t, s, name, ids...)
		return s
	}
	before := catalogOfFr("before", "t1", "t2", "t3")
	fr := catalogOfFr("restored", "t1", "t2", "t3", "t4", "t5") // the same ids and seqs, other records
	dst := openReplica(t)
	beforeConn := serveLoopback(t, NewServer(before, 8, testLogger(t)).Register)
	frConn := serveLoopback(t, NewServer(fr, 8, testLogger(t)).Register)
	if _, err := PullFrom(ctx, dst, beforeConn, 0); err != nil {
		t.Fatal(err)
	}
	if err := dst.ResetWatermark(ctx, "fr"); err != nil {
		t.Fatal(err)
	}
	if _, err := PullFrom(ctx, dst, frConn, 0); err != nil {
		t.Fatal(err)
	}
	if _, forked := dst.ForkOf("fr"); !forked {
		t.Fatal("the fork was not met")
	}
	// fr writes seqs 6 to 10; a relay's page brings seq 10 alone.
	writeToolsTo(t, fr, "restored", "t6", "t7", "t8", "t9", "t10")
	var relayed []*federationv1.OriginPage
	if err := fr.ReadPages(ctx, storage.PullSpec{Watermarks: map[string]int64{"fr": 5}}, func(p *federationv1.OriginPage) error {
		p.Records = p.Records[len(p.Records)-1:]
		relayed = append(relayed, p)
		return nil
	}); err != nil || len(relayed) != 1 {
		t.Fatalf("the relay's page: %d, %v", len(relayed), err)
	}
	relay := serveLoopback(t, func(s grpc.ServiceRegistrar) {
		federationv1.RegisterFederationServiceServer(s, &pageServer{pages: relayed})
	})
	if _, err := PullFrom(ctx, dst, relay, 0); err != nil {
		t.Fatal(err)
	}

	r := &Replicator{store: dst, cfg: Config{Origin: "de"}, log: testLogger(t), resetAt: map[string]time.Time{}, resetting: map[string]bool{}}
	r.m = newMetrics(nil, r)
	r.resetAt["fr"] = time.Now().Add(-resetQuiet - time.Minute) // past the quiet of an origin without a fork
	reset, err := r.compareDigests(ctx, "fr", frConn, []string{"fr"}, nil)
	if len(reset) != 0 || err != nil {
		t.Errorf("within an hour of the last pull from the start: reset %v, %v; want the forked origin left alone, and no fault", reset, err)
	}
	r.resetAt["fr"] = time.Now().Add(-forkResetEvery - time.Minute)
	if reset, err := r.compareDigests(ctx, "fr", frConn, nil, nil); !slices.Equal(reset, []string{"fr"}) || err != nil {
		t.Fatalf("an hour after: reset %v, %v; want fr pulled from the start again", reset, err)
	}
	if _, err := PullFrom(ctx, dst, frConn, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Get(ctx, storage.KindTool, "fr", "t7"); err != nil {
		t.Errorf("a record the relay left out, after fr was pulled from the start again: %v", err)
	}
}

// writeToolsTo creates tools of the ids given in s.
func writeToolsTo(t *testing.T, s *storage.Store, name string, ids ...string) {
	t.Helper()
	var ws []storage.Write
	for _, id := range ids {
		ws = append(ws, storage.Write{Op: storage.OpCreate, ID: id, Resource: &catalogv1.Tool{DisplayName: name + " " + id}})
	}
	if _, err := s.Apply(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
}

// TestTricklingPullGivesWay: a caller asks for pages of one record
// (max_page_bytes 1) and reads one every 10 ms, never letting a send wait
// long enough to be taken for a caller that reads nothing. The pull holds
// its place, and its read transaction, for as long as the catalog has
// records (here 2,000 × 10 ms = 20 s; 100,000 records at the production
// limits, hours), and every other peer is refused meanwhile. Honest callers
// of this version give up a pull after 2 minutes, twice stall.alone: a pull
// that holds its place beyond that is no honest one, and should give way.
func TestTricklingPullGivesWay(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(benchStore(t, 2000), 1, testLogger(t))
	srv.stall = stallLimits{contended: time.Second, alone: 2 * time.Second}
	conn := serveLoopback(t, srv.Register)
	fixed, err := grpc.NewClient(conn.Target(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	if err != nil {
		t.Fatal(err)
	}
	defer fixed.Close()
	tctx, stop := context.WithCancel(ctx)
	defer stop()
	trickle, err := federationv1.NewFederationServiceClient(fixed).Pull(tctx, &federationv1.PullRequest{AllOrigins: true, MaxPageBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trickle.Recv(); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			time.Sleep(10 * time.Millisecond)
			if _, err := trickle.Recv(); err != nil {
				return
			}
		}
	}()
	honest := federationv1.NewFederationServiceClient(conn)
	pull := func() error { return pullAllPages(ctx, honest) }
	start := time.Now()
	limit := 4 * srv.stall.alone // twice the honest callers' own deadline
	refused := 0
	for time.Since(start) < limit {
		err := pull()
		if err == nil {
			t.Logf("served after %v (%d refusals)", time.Since(start).Round(time.Millisecond), refused)
			return
		}
		if !peerBusy(err) {
			t.Fatalf("honest pull: %v", err)
		}
		refused++
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("a caller trickling through 1-record pages held the only place for %v: %d honest pulls refused, none served", limit, refused)
}

// TestMovingMemberStillBackedOff: a member sends a tampered page at every
// pull, and announces another gRPC address (alternating between two) while
// each pull runs. A pull that fails while the member's address changed is
// taken for one cut short by the move: not counted as a failure, and
// pulled again at once. The member's bad pages are then never backed off
// (movedRetryEvery, meant to stop exactly this, is never reached): the
// node pulls from it, and checks its pages, without pause.
func TestMovingMemberStillBackedOff(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	pages := sourcePages(t, 10, 0)
	pages[0].Records[3].Signature[7] ^= 1
	var pulls atomic.Int32
	var addrs [2]string
	for i := range addrs {
		other := &addrs[1-i]
		srv := &pageServer{pages: pages, before: func() {
			pulls.Add(1)
			events{r}.NotifyUpdate(frAt(t, *other, 1)) // moves while this pull runs
			time.Sleep(20 * time.Millisecond)
		}}
		addrs[i] = serveLoopback(t, srv.register).Target()
	}
	events{r}.NotifyJoin(frAt(t, addrs[0], 1))
	time.Sleep(3 * time.Second)
	r.mu.Lock()
	failures := r.peers["fr"].failures
	r.mu.Unlock()
	// Backed off as it should be: a pull, 2 s of backoff, one more at its
	// new address at most (movedRetryEvery), then 4 s.
	if n := pulls.Load(); n > 3 {
		t.Errorf("a member sending tampered pages, moving during each pull: pulled %d times in 3 s, %d failures counted; want it backed off", n, failures)
	}
}

// TestOriginUnderAnotherKeyBlocksNoOtherOrigin: a hostile member was the
// first to show this node the origin "ee", under a key of its own (trust on
// first sight: accepted, ee's records are lost to this node). An honest
// member then serves what it holds: ee's records under ee's real key, and
// fr's records after them (pages come in origin order). The honest member
// holds what ee signed: it is not at fault, and fr's records, which have
// nothing to do with ee, should come. Instead the pull stops at ee's first
// page (key_mismatch), the honest member is backed off, and no origin that
// sorts after "ee" ever reaches this node from any honest member. Nor is
// the honest member's digest of ee, of other records at the same seqs, a
// divergence to pull ee again from the start for, and blame it after.
func TestOriginUnderAnotherKeyBlocksNoOtherOrigin(t *testing.T) {
	ctx := context.Background()
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	r := node.repl
	for _, p := range pagesUnderAnotherKey(t, "ee") { // the hostile member's pages, first seen
		if _, err := node.store.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	honest := append(pagesOfOneTool(t, "ee", nodeKey("ee"), "real"), sourcePages(t, 20, 0)...)
	srv := &digestLiar{pageServer: &pageServer{pages: honest}}
	srv.set(&federationv1.OriginDigest{Origin: "ee", Watermark: 1, Count: 1, Hash: make([]byte, 32)}) // what it holds of ee: other records
	pullFromServer(t, r, "yy", srv)
	wms, err := node.store.Watermarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lastErr string
	for _, p := range r.Peers() {
		if p.Origin == "yy" {
			lastErr = p.LastError
		}
	}
	r.mu.Lock()
	backedOff := time.Until(r.peers["yy"].retryAt)
	r.mu.Unlock()
	if wms["fr"] != 20 || wms["ee"] != 1 || lastErr != "" {
		t.Errorf("after a pull from an honest member: fr's watermark %d (want 20), ee's %d (want 1), the member's last error %q, backed off for %v (want none)",
			wms["fr"], wms["ee"], lastErr, backedOff.Round(time.Millisecond))
	}

	// The next round brings nothing (the member holds nothing more), and
	// the member's digest of ee still differs: no divergence either.
	srv.mu.Lock()
	srv.pages = nil
	srv.mu.Unlock()
	r.mu.Lock()
	synced := r.peers["yy"].lastSync
	r.mu.Unlock()
	r.pull("yy")
	waitFor(t, 10*time.Second, "the next pull from yy ends", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.peers["yy"].lastSync.After(synced) || r.peers["yy"].lastErr != ""
	})
	if wms, err := node.store.Watermarks(ctx); err != nil || wms["ee"] != 1 {
		t.Errorf("after a pull that brought no page of ee: ee's watermark %d, %v; want 1 (the member holds ee under another key: no divergence)", wms["ee"], err)
	}
}

// TestForgedPagesUnderAnotherKeyNotExcused: pages of a pinned origin under
// another key are skipped without blame only once they verify under that
// key (another node's view of the origin); pages whose records are no
// records, under 32 bytes of the sender's choosing, were excused on the
// page's say-so, the member never backed off.
func TestForgedPagesUnderAnotherKeyNotExcused(t *testing.T) {
	ctx := context.Background()
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	r := node.repl
	for _, p := range pagesOfOneTool(t, "ee", nodeKey("ee"), "real") { // ee pinned under its key
		if _, err := node.store.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	junk := make([]byte, 32)
	for i := range junk {
		junk[i] = byte(i + 1)
	}
	var forged []*federationv1.OriginPage
	for range 50 {
		forged = append(forged, &federationv1.OriginPage{Origin: "ee", PublicKey: junk, AfterSeq: 1, ThroughSeq: 2,
			Records: []*federationv1.SignedRecord{{Record: []byte("not a record at all"), Signature: []byte("not a signature")}}})
	}
	pullFromServer(t, r, "yy", &digestLiar{pageServer: &pageServer{pages: forged}})
	r.mu.Lock()
	lastErr, backedOff := r.peers["yy"].lastErr, time.Until(r.peers["yy"].retryAt)
	r.mu.Unlock()
	if lastErr == "" || backedOff <= 0 {
		t.Errorf("a member that sent pages of ee whose records are no records, under a key no one holds: last error %q, backed off %v; want the pull refused and the member backed off",
			lastErr, backedOff.Round(time.Millisecond))
	}
}

// eeDivergence is a digest of ee at watermark w whose records differ from
// any this node holds: a divergence, which resets ee's watermark.
func eeDivergence(w, count int64) *federationv1.OriginDigest {
	return &federationv1.OriginDigest{Origin: "ee", Watermark: w, Count: count, Hash: make([]byte, 32), PublicKey: nodeKey("ee").Public().(ed25519.PublicKey)}
}

// pullAgain runs one more pull from the peer name and waits for its end.
func pullAgain(t *testing.T, r *Replicator, name string) {
	t.Helper()
	r.mu.Lock()
	synced := r.peers[name].lastSync
	r.mu.Unlock()
	r.pull(name)
	waitFor(t, 10*time.Second, "the next pull from "+name+" ends", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.peers[name].lastSync.After(synced) || r.peers[name].lastErr != ""
	})
}

// TestEmptyPageUnderAnotherKeyNotExcused: a page of a pinned origin that
// holds no record, under any valid key of the sender's choosing, shows
// nothing of which key the peer holds the origin under (as CheckPage says
// of the node's own origin). It is excused as "the peer holds ee under
// another key" all the same: counted and logged as key_mismatch, and for an
// hour the peer's digests of ee are not compared, so a real divergence it
// shows is not repaired.
func TestEmptyPageUnderAnotherKeyNotExcused(t *testing.T) {
	ctx := context.Background()
	for _, withEmpty := range []bool{false, true} {
		node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
		r := node.repl
		for _, p := range pagesOfOneTool(t, "ee", nodeKey("ee"), "real") {
			if _, err := node.store.ApplyPage(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		var pages []*federationv1.OriginPage
		if withEmpty {
			anyKey := nodeKey("any key at all").Public().(ed25519.PublicKey)
			pages = append(pages, &federationv1.OriginPage{Origin: "ee", PublicKey: anyKey, AfterSeq: 1, ThroughSeq: 1})
		}
		srv := &digestLiar{pageServer: &pageServer{pages: pages}}
		srv.set(eeDivergence(1, 1))
		pullFromServer(t, r, "yy", srv)
		wms, err := node.store.Watermarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r.mu.Lock()
		remembered := r.peers["yy"].otherKey
		r.mu.Unlock()
		if wms["ee"] != 0 || len(remembered) != 0 {
			t.Errorf("a peer whose digest of ee diverges (with an empty page of ee under some other key first: %v): ee's watermark %d, want 0 (reset to pull it again); origins taken as held under another key: %v, want none",
				withEmpty, wms["ee"], remembered)
		}
	}
}

// TestOtherKeyForgottenOncePeerServesUnderOurKey: a peer held ee under
// another key (its operator then settled it with --trust, as the README
// says to), and now holds ee under the key this node holds, as its
// digests say. For the rest of the hour, its digests of ee were still
// skipped, and a divergence it showed was not repaired. (The node's pulls
// from the peer leave ee out while it holds ee under another key: the
// first pull after the digests showed the key asks for ee again.)
func TestOtherKeyForgottenOncePeerServesUnderOurKey(t *testing.T) {
	ctx := context.Background()
	// ee's catalog under its real key: seq 1, then seq 2.
	ee, err := storage.Open(ctx, storage.Options{Path: filepath.Join(t.TempDir(), "ee.db"), Origin: "ee", Key: nodeKey("ee"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer ee.Close()
	read := func(from int64) []*federationv1.OriginPage {
		var pages []*federationv1.OriginPage
		if err := ee.ReadPages(ctx, storage.PullSpec{Watermarks: map[string]int64{"ee": from}}, func(p *federationv1.OriginPage) error {
			pages = append(pages, p)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return pages
	}
	if _, err := ee.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "a", Resource: benchTool(0)}}); err != nil {
		t.Fatal(err)
	}
	first := read(0)
	if _, err := ee.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "b", Resource: benchTool(1)}}); err != nil {
		t.Fatal(err)
	}
	second := read(1)

	for _, heldUnderOtherKeyBefore := range []bool{false, true} {
		node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
		r := node.repl
		for _, p := range first {
			if _, err := node.store.ApplyPage(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		srv := &digestLiar{pageServer: &pageServer{excludes: true}}
		if heldUnderOtherKeyBefore {
			srv.pages = pagesUnderAnotherKey(t, "ee")
		}
		pullFromServer(t, r, "yy", srv)
		// The peer now holds ee under its real key: it serves seq 2, and
		// its digest shows other records at seq 2 than this node's.
		srv.mu.Lock()
		srv.pages = second
		srv.mu.Unlock()
		srv.set(eeDivergence(2, 2))
		pullAgain(t, r, "yy")
		if heldUnderOtherKeyBefore {
			pullAgain(t, r, "yy")
		}
		wms, err := node.store.Watermarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if wms["ee"] != 0 {
			t.Errorf("a peer serving ee under this node's key (held under another key an earlier pull: %v) whose digest of ee diverges: ee's watermark %d, want 0 (reset to pull it again)",
				heldUnderOtherKeyBefore, wms["ee"])
		}
	}
}

// TestDigestRequestsBounded: a GetDigests request names at most
// maxDigestOrigins origins (callers ask a thousand at a time): one of
// gRPC's 4 MiB named a million, a set of 100 MB for the call; and a node
// serves maxConcurrentDigests at once, where the port served any number
// side by side.
func TestDigestRequestsBounded(t *testing.T) {
	srv := NewServer(benchStore(t, 1), 1, testLogger(t))
	origins := make([]string, maxDigestOrigins+1)
	for i := range origins {
		origins[i] = fmt.Sprintf("zz-%d", i)
	}
	if _, err := srv.GetDigests(context.Background(), &federationv1.GetDigestsRequest{Origins: origins}); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "ask in batches") {
		t.Errorf("a request of %d origins: %v", len(origins), err)
	}
	resp, err := srv.GetDigests(context.Background(), &federationv1.GetDigestsRequest{Origins: append(origins[:maxDigestOrigins-1], "fr")})
	if err != nil || len(resp.GetDigests()) != 1 {
		t.Errorf("a request of %d origins: %v, %v", maxDigestOrigins, resp, err)
	}

	// As many requests at once as the node serves: one more is refused
	// as busy, which its caller takes as no fault of the node's.
	for range maxConcurrentDigests {
		srv.digests <- struct{}{}
	}
	_, err = srv.GetDigests(context.Background(), &federationv1.GetDigestsRequest{Origins: []string{"fr"}})
	if status.Code(err) != codes.ResourceExhausted || !peerBusy(fmt.Errorf("get digests: %w", err)) {
		t.Errorf("a digest request past %d at once: %v, want RESOURCE_EXHAUSTED", maxConcurrentDigests, err)
	}
	<-srv.digests
	if _, err := srv.GetDigests(context.Background(), &federationv1.GetDigestsRequest{Origins: []string{"fr"}}); err != nil {
		t.Errorf("a digest request with a place free: %v", err)
	}
}

// pullAllPages pulls every origin from client, reading the stream to its
// end, and returns the stream's error (nil at its end).
func pullAllPages(ctx context.Context, client federationv1.FederationServiceClient) error {
	s, err := client.Pull(ctx, &federationv1.PullRequest{AllOrigins: true})
	if err != nil {
		return err
	}
	for {
		if _, err := s.Recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// TestRetryAfterRejoinNotLost: a member backed off for long (5 minutes)
// announced a head meanwhile, so a pull is due when that backoff ends. It
// comes back (leave, join): its backoff ends and the node pulls at once;
// that pull fails, a backoff of 2 s starts, and the member announces a new
// head. The node pulls when the 2 s end (README: "if the peer announces a
// new head meanwhile, the node pulls once when the backoff ends"), not when
// the 5 minutes would have.
func TestRetryAfterRejoinNotLost(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens there: every pull fails
	var attempts atomic.Int32
	r.cfg.Dial = func(addr string) (*grpc.ClientConn, error) {
		return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
				attempts.Add(1)
				return streamer(ctx, desc, cc, method, opts...)
			}))
	}
	idle := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return !r.peers["fr"].pulling
	}
	events{r}.NotifyJoin(frAt(t, deadAddr, 1))
	waitForPullError(t, r, "fr")
	waitFor(t, 10*time.Second, "the first pull ends", idle)
	// Backed off for long, as after many failures, and an announcement
	// meanwhile.
	r.mu.Lock()
	p := r.peers["fr"]
	p.failures, p.retryAt = 9, time.Now().Add(5*time.Minute)
	r.mu.Unlock()
	events{r}.NotifyUpdate(frAt(t, deadAddr, 2))
	waitFor(t, 10*time.Second, "a pull is due at the end of the 5-minute backoff", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.peers["fr"].retrying
	})

	// The member comes back: pulled at once, which fails (2 s of backoff).
	before := attempts.Load()
	events{r}.NotifyLeave(frAt(t, deadAddr, 2))
	events{r}.NotifyJoin(frAt(t, deadAddr, 2))
	waitFor(t, 10*time.Second, "the pull from the member back fails", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		p := r.peers["fr"]
		return attempts.Load() > before && !p.pulling && p.failures == 1
	})
	r.mu.Lock()
	retryAt := r.peers["fr"].retryAt
	r.mu.Unlock()
	// It announces a new head during its 2 s backoff.
	events{r}.NotifyUpdate(frAt(t, deadAddr, 3))
	afterBack := attempts.Load()
	waitFor(t, time.Until(retryAt)+8*time.Second, "a pull once the 2-second backoff ends (the head announced meanwhile)", func() bool {
		return attempts.Load() > afterBack
	})
}

// forgedMeta is a memberlist delegate that announces whatever metadata it
// is given: a member that holds the federation's gossip key, not the
// origin's signing key.
type forgedMeta struct{ meta []byte }

func (f forgedMeta) NodeMeta(int) []byte           { return f.meta }
func (forgedMeta) NotifyMsg([]byte)                {}
func (forgedMeta) GetBroadcasts(int, int) [][]byte { return nil }
func (forgedMeta) LocalState(bool) []byte          { return nil }
func (forgedMeta) MergeRemoteState([]byte, bool)   {}

// TestImpostorWithCopiedKeyRefused: a member's key is public (GET
// /v1/node, the federation page). A member that copied fr's key into
// metadata of its own, named fr, was taken for fr while fr restarted (a
// graceful leave, then a join), and the real fr, back, was refused by
// every node as a conflict of addresses: its writes reached none. Gossip
// metadata is signed: the impostor is refused, and fr's write arrives.
func TestImpostorWithCopiedKeyRefused(t *testing.T) {
	ctx := context.Background()
	de := startNode(t, t.TempDir(), "de", clusterOpts{})
	frDir := t.TempDir()
	fr := startNode(t, frDir, "fr", clusterOpts{join: []string{de.repl.GossipAddr()}})
	writeTools(t, fr, "before", 1)
	waitFor(t, 20*time.Second, "de holds fr's first record (fr's key pinned)", func() bool {
		_, err := de.store.Get(ctx, storage.KindTool, "fr", "before-0")
		return err == nil
	})
	frKey := fr.store.PublicKey()
	fr.stop() // fr restarts: it leaves first

	forged, err := json.Marshal(meta{Origin: "fr", GRPCAddr: "127.0.0.1:1", Key: frKey, Protocol: ProtocolVersion})
	if err != nil {
		t.Fatal(err)
	}
	mc := memberlist.DefaultLocalConfig()
	mc.Name, mc.BindAddr, mc.BindPort = "fr", "127.0.0.1", 0
	mc.GossipInterval, mc.ProbeInterval = 20*time.Millisecond, 200*time.Millisecond
	mc.Delegate = forgedMeta{meta: forged}
	mc.Logger = log.New(io.Discard, "", 0)
	impostor, err := memberlist.Create(mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { impostor.Shutdown() })
	// The exchange of states succeeds; de refuses the impostor's alive
	// message within it.
	if _, err := impostor.Join([]string{de.repl.GossipAddr()}); err != nil {
		t.Fatal(err)
	}

	fr = startNode(t, frDir, "fr", clusterOpts{join: []string{de.repl.GossipAddr()}})
	writeTools(t, fr, "after", 1)
	waitFor(t, 20*time.Second, "de holds the write of the real fr, back", func() bool {
		_, err := de.store.Get(ctx, storage.KindTool, "fr", "after-0")
		return err == nil
	})
	for _, p := range de.repl.Peers() {
		if p.Origin == "fr" && p.GossipAddr != fr.repl.GossipAddr() {
			t.Errorf("de lists fr at %s, the real fr gossips from %s", p.GossipAddr, fr.repl.GossipAddr())
		}
	}
}

// TestAddressChangeRemembered: a member that announces another gRPC
// address while alive is remembered at it: the node saved its members at
// their join only, and a restart listed, and rejoined, the address of
// before.
func TestAddressChangeRemembered(t *testing.T) {
	n := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	savedAt := func(addr string) func() bool {
		return func() bool {
			known, err := n.store.Peers(context.Background())
			return err == nil && len(known) == 1 && known[0].GRPCAddr == addr
		}
	}
	events{n.repl}.NotifyJoin(frAt(t, "127.0.0.1:1", 1))
	waitFor(t, 10*time.Second, "fr remembered at its first address", savedAt("127.0.0.1:1"))
	events{n.repl}.NotifyUpdate(frAt(t, "127.0.0.1:2", 1))
	waitFor(t, 10*time.Second, "fr remembered at its new address", savedAt("127.0.0.1:2"))
}

// TestRestoredCatalogWaitsForAMember restores fr from a backup taken
// before its last two writes, and starts it while de, which holds them,
// is down: fr's writes fail at once, saying why, where they went ahead
// once no member answered the join, and took the seqs de holds, which
// never reached it. Once de is back, fr gets its records back, and its
// next write follows them.
func TestRestoredCatalogWaitsForAMember(t *testing.T) {
	ctx := context.Background()
	deDir, frDir := restoredBehindDe(t)

	var restoredDone, answered atomic.Bool
	fr := startNode(t, frDir, "fr", clusterOpts{restored: "this catalog was restored from a backup", onRestored: func(a bool) { answered.Store(a); restoredDone.Store(true) }})
	write := func(id string) error { return writeOne(fr, id) }
	// Its context ends in 2 s: a write that waited would fail with that.
	if err := write("meanwhile"); !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "restored from a backup") {
		t.Fatalf("a write of the restored node while no member answers: %v, want UNAVAILABLE at once, saying why", err)
	}
	if restoredDone.Load() || !fr.repl.WritesHeld() {
		t.Errorf("the restored catalog was settled before a member answered, or its writes not held: %v", fr.repl.WritesHeld())
	}

	startNode(t, deDir, "de", clusterOpts{join: []string{fr.repl.GossipAddr()}})
	waitFor(t, 20*time.Second, "the restored node's write goes ahead once de answered", func() bool { return write("after") == nil })
	after, err := fr.store.Get(ctx, storage.KindTool, "fr", "after")
	if err != nil || after.(*catalogv1.Tool).GetSeq() != 6 {
		t.Errorf("the write after the restore: %v, %v; want seq 6, after the records de gave back", after, err)
	}
	if _, err := fr.store.Get(ctx, storage.KindTool, "fr", "new-1"); err != nil {
		t.Errorf("a record written after the backup, which de held: %v", err)
	}
	if !restoredDone.Load() || !answered.Load() || fr.repl.WritesHeld() {
		t.Errorf("once de answered: the restored catalog settled %v, as answered %v; its writes held %v", restoredDone.Load(), answered.Load(), fr.repl.WritesHeld())
	}
}

// TestRestoredCatalogOfALoneNode: a node that knows no member (no seeds,
// none remembered) has no one to ask: its restored catalog is settled at
// start, no member having answered, and its writes go ahead.
func TestRestoredCatalogOfALoneNode(t *testing.T) {
	var restoredDone, answered atomic.Bool
	n := startNode(t, t.TempDir(), "fr", clusterOpts{restored: "this catalog was restored from a backup", onRestored: func(a bool) { answered.Store(a); restoredDone.Store(true) }})
	if !restoredDone.Load() || answered.Load() || n.repl.WritesHeld() {
		t.Errorf("a lone node's restored catalog: settled at start %v, as answered %v; writes held %v", restoredDone.Load(), answered.Load(), n.repl.WritesHeld())
	}
	writeTools(t, n, "t", 1)
}

// TestRestoredCatalogReleasedByItsOperator: a restored node whose members
// are away holds its writes however long it takes, until its operator
// lets them go (ReleaseHeldWrites; the node does when the file that says
// it is restored is deleted): they go ahead at once, the catalog settled
// without an answer.
func TestRestoredCatalogReleasedByItsOperator(t *testing.T) {
	_, frDir := restoredBehindDe(t) // de stays down
	var restoredDone, answered atomic.Bool
	fr := startNode(t, frDir, "fr", clusterOpts{restored: "this catalog was restored from a backup", onRestored: func(a bool) { answered.Store(a); restoredDone.Store(true) }})
	if err := writeOne(fr, "meanwhile"); !errors.Is(err, storage.ErrUnavailable) || !fr.repl.WritesHeld() {
		t.Fatalf("a write of the restored node while de is down: %v, held %v; want UNAVAILABLE, held", err, fr.repl.WritesHeld())
	}
	fr.repl.ReleaseHeldWrites()
	if err := writeOne(fr, "released"); err != nil {
		t.Fatalf("a write once the operator let them go: %v", err)
	}
	if !restoredDone.Load() || answered.Load() || fr.repl.WritesHeld() {
		t.Errorf("once let go: settled %v, as answered %v; writes held %v", restoredDone.Load(), answered.Load(), fr.repl.WritesHeld())
	}
}

// TestReplayedMetadataAtOldAddressRefused: a gossip-key holder records
// fr's signed metadata, and once fr restarts at another address, announces
// it, unchanged, from fr's old address, which it binds. Gossip holds a
// name at its address while its holder answers: the real fr, back, was
// refused as a conflict of addresses, de pulled from fr's old gRPC
// address, and fr's new writes never arrived. The copy announces a lower
// head than fr from another address: de takes fr at its new address, and
// refuses the copy's announcements.
func TestReplayedMetadataAtOldAddressRefused(t *testing.T) {
	ctx := context.Background()
	de := startNode(t, t.TempDir(), "de", clusterOpts{})
	frDir := t.TempDir()
	fr := startNode(t, frDir, "fr", clusterOpts{join: []string{de.repl.GossipAddr()}})
	writeTools(t, fr, "before", 1)
	waitFor(t, 20*time.Second, "de holds fr's first record", func() bool {
		_, err := de.store.Get(ctx, storage.KindTool, "fr", "before-0")
		return err == nil
	})
	oldGossip := fr.repl.GossipAddr()
	var recorded []byte
	waitFor(t, 10*time.Second, "de's gossip holds fr's metadata of head 1", func() bool {
		for _, n := range de.repl.ml.Members() {
			var m meta
			if n.Name == "fr" && json.Unmarshal(n.Meta, &m) == nil && m.Head == 1 {
				recorded = bytes.Clone(n.Meta)
				return true
			}
		}
		return false
	})
	fr.stop() // fr restarts, elsewhere

	host, port, _ := net.SplitHostPort(oldGossip)
	oldPort, _ := strconv.Atoi(port)
	mc := memberlist.DefaultLocalConfig()
	mc.Name, mc.BindAddr, mc.BindPort = "fr", host, oldPort // the old address, free since fr left it
	mc.GossipInterval, mc.ProbeInterval = 20*time.Millisecond, 200*time.Millisecond
	mc.Delegate = forgedMeta{meta: recorded}
	mc.Logger = log.New(io.Discard, "", 0)
	copier, err := memberlist.Create(mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { copier.Shutdown() })
	// It announces the copy again and again, as fr's own announcements
	// would keep its name.
	stop := make(chan struct{})
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				copier.UpdateNode(50 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-announced })
	if _, err := copier.Join([]string{de.repl.GossipAddr()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "de takes the copy for fr, at its old address", func() bool {
		for _, p := range de.repl.Peers() {
			if p.Origin == "fr" && p.Alive && p.GossipAddr == oldGossip {
				return true
			}
		}
		return false
	})

	fr = startNode(t, frDir, "fr", clusterOpts{join: []string{de.repl.GossipAddr()}})
	if fr.repl.GossipAddr() == oldGossip {
		t.Fatalf("fr restarted at its old address %s", oldGossip)
	}
	writeTools(t, fr, "after", 1)
	waitFor(t, 20*time.Second, "de holds the write of the real fr, back at another address", func() bool {
		_, err := de.store.Get(ctx, storage.KindTool, "fr", "after-0")
		return err == nil
	})
}

// TestRefusedMemberSetsNoHead: a member refused for its key (fr is
// trusted with another) announces a high head from another address: it
// leaves no mark, and the real fr, whose head is lower, is taken.
func TestRefusedMemberSetsNoHead(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour, trusted: map[string]ed25519.PublicKey{"fr": nodeKey("fr").Public().(ed25519.PublicKey)}})[0].repl
	impostor := signedMember(t, meta{Origin: "fr", GRPCAddr: "127.0.0.1:7400", Protocol: ProtocolVersion, Head: 1000}, nodeKey("impostor"))
	impostor.Port++
	var m meta
	json.Unmarshal(impostor.Meta, &m)
	m.Sig = envelope.SignMember(nodeKey("impostor"), m.description(impostor.Address()))
	impostor.Meta, _ = json.Marshal(m)
	if err := (delegate{r}).NotifyAlive(impostor); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Fatalf("a member of fr under another key than the trusted one: %v", err)
	}
	if err := (delegate{r}).NotifyAlive(signedMember(t, meta{Origin: "fr", GRPCAddr: "127.0.0.1:7400", Protocol: ProtocolVersion, Head: 3}, nodeKey("fr"))); err != nil {
		t.Errorf("the real fr, after a refused one announced a higher head: %v", err)
	}
}

// restoredBehindDe makes fr write 3 records, back up its catalog, write 2
// more, which de pulls, and stops both, fr's catalog restored from the
// backup: de's folder holds records of fr that fr's does not.
func restoredBehindDe(t *testing.T) (deDir, frDir string) {
	t.Helper()
	ctx := context.Background()
	deDir, frDir = t.TempDir(), t.TempDir()
	de := startNode(t, deDir, "de", clusterOpts{})
	fr := startNode(t, frDir, "fr", clusterOpts{join: []string{de.repl.GossipAddr()}})
	writeTools(t, fr, "old", 3)
	backup := filepath.Join(t.TempDir(), "catalog.db")
	if err := storage.Backup(ctx, filepath.Join(frDir, "catalog.db"), backup); err != nil {
		t.Fatal(err)
	}
	writeTools(t, fr, "new", 2)
	waitFor(t, 20*time.Second, "de holds fr's five records", func() bool {
		w, err := de.store.Watermark(ctx, "fr")
		return err == nil && w == 5
	})
	fr.stop()
	de.stop()
	restoreFrom(t, frDir, backup)
	return deDir, frDir
}

// restoreFrom replaces the catalog of the node folder dir with the copy
// at backup, as an operator restores a backup.
func restoreFrom(t *testing.T, dir, backup string) {
	t.Helper()
	for _, f := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if err := os.Rename(backup, filepath.Join(dir, "catalog.db")); err != nil {
		t.Fatal(err)
	}
}

// writeOne writes a tool of id on n, failing within 2 s rather than
// waiting for held writes.
func writeOne(n *testNode, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := n.store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: id, Resource: &catalogv1.Tool{DisplayName: id,
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "a tool"}}}}})
	return err
}

// TestRestoredAtNewAddressBelowItsHead: bb announced head 5, and aa never
// got records 4 and 5 (bb's gRPC port was cut). bb's machine is lost; bb
// is restored from a backup at head 3, at another address. Its writes go
// ahead once aa answered, and reach aa: a lower head than the member
// announced from another address was taken for a copy of its earlier
// metadata, for good, once the old process was gone too.
func TestRestoredAtNewAddressBelowItsHead(t *testing.T) {
	ctx := context.Background()
	aDir, bDir := t.TempDir(), t.TempDir()
	a := startNode(t, aDir, "aa", clusterOpts{})
	b := startNode(t, bDir, "bb", clusterOpts{join: []string{a.repl.GossipAddr()}})
	writeTools(t, b, "old", 3)
	waitFor(t, 20*time.Second, "aa holds bb's three records", func() bool {
		w, err := a.store.Watermark(ctx, "bb")
		return err == nil && w == 3
	})
	backup := filepath.Join(t.TempDir(), "catalog.db")
	if err := storage.Backup(ctx, filepath.Join(bDir, "catalog.db"), backup); err != nil {
		t.Fatal(err)
	}
	b.grpc.Stop() // aa cannot pull from bb from now on
	writeTools(t, b, "lost", 2)
	waitFor(t, 20*time.Second, "aa hears bb's head 5 by gossip", func() bool {
		for _, p := range a.repl.Peers() {
			if p.Origin == "bb" && p.Head == 5 {
				return true
			}
		}
		return false
	})
	// bb's machine is lost: no leave.
	oldGossip := b.repl.GossipAddr()
	b.repl.cancel()
	b.repl.ml.Shutdown()
	b.repl.wg.Wait()
	b.store.Close()
	b.repl = nil
	restoreFrom(t, bDir, backup)

	b = startNode(t, bDir, "bb", clusterOpts{join: []string{a.repl.GossipAddr()}, restored: "restored from a backup"})
	if b.repl.GossipAddr() == oldGossip {
		t.Fatalf("bb restarted at its old address")
	}
	waitFor(t, 20*time.Second, "bb's writes go ahead once aa answered", func() bool { return writeOne(b, "back") == nil })
	waitFor(t, 20*time.Second, "aa holds the write bb made at its new address", func() bool {
		_, err := a.store.Get(ctx, storage.KindTool, "bb", "back")
		return err == nil
	})
}

// TestRestoredWaitsForMembersThatJoinLater: the restored node fr joins one
// member, it, whose gossip answers and whose gRPC port does not; de, which
// holds fr's records written since the backup, joins later. fr gets them
// back from de, and its writes go ahead once its patience passed: only
// the members of its start were awaited, and it never answered.
func TestRestoredWaitsForMembersThatJoinLater(t *testing.T) {
	ctx := context.Background()
	deDir, frDir := restoredBehindDe(t)
	it := startNode(t, t.TempDir(), "it", clusterOpts{})
	it.grpc.Stop()

	fr := startNode(t, frDir, "fr", clusterOpts{join: []string{it.repl.GossipAddr()}, patience: 500 * time.Millisecond,
		restored: "this catalog was restored from a backup"})
	startNode(t, deDir, "de", clusterOpts{join: []string{fr.repl.GossipAddr()}})
	waitFor(t, 20*time.Second, "de gave back fr's records written since the backup", func() bool {
		_, err := fr.store.Get(ctx, storage.KindTool, "fr", "new-1")
		return err == nil
	})
	waitFor(t, 20*time.Second, "a write of the restored node, once de answered", func() bool { return writeOne(fr, "after") == nil })
	if after, err := fr.store.Get(ctx, storage.KindTool, "fr", "after"); err != nil || after.(*catalogv1.Tool).GetSeq() != 6 {
		t.Errorf("the write after the restore: %v, %v; want seq 6", after, err)
	}
}

// TestRestoredFirstAnswerAfterThePatience: a restored node awaits aa and
// bb; its patience passes before either answers, then aa answers, and bb
// never does (it left: one that leaves is still waited for). The writes
// go ahead at aa's answer: they failed for good, the patience's turn
// passed with no answer, and only every answer released them.
func TestRestoredFirstAnswerAfterThePatience(t *testing.T) {
	node := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	r := node.repl
	r.cfg.Restored = "this catalog was restored from a backup"
	r.cfg.OwnRecordsPatience = 100 * time.Millisecond
	r.holdOwnWrites(0, []string{"aa", "bb"})
	waitFor(t, 10*time.Second, "the patience passes, no member having answered", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.restoredPatient
	})
	if !node.store.OwnWritesHeld() {
		t.Fatal("the writes went ahead with no answer")
	}
	r.answered("aa")
	if node.store.OwnWritesHeld() {
		t.Error("the restored node's writes are still held after aa's answer, the patience passed")
	}
}

// memberAt is fr's signed metadata of head, announced from 127.0.0.1:port.
func memberAt(t *testing.T, port uint16, head int64) *memberlist.Node {
	t.Helper()
	n := &memberlist.Node{Name: "fr", Addr: net.IPv4(127, 0, 0, 1), Port: port}
	m := meta{Origin: "fr", GRPCAddr: fmt.Sprintf("127.0.0.1:%d", port), Protocol: ProtocolVersion, Head: head, Key: nodeKey("fr").Public().(ed25519.PublicKey)}
	m.Sig = envelope.SignMember(nodeKey("fr"), m.description(n.Address()))
	n.Meta, _ = json.Marshal(m)
	return n
}

// TestMergedLeaveOfAnotherAddressTaken: fr crashes at A, is back at B,
// and crashes there too while the node's learn is busy: the news queue
// keeps leave A, join B, leave B as "leave B" alone. The node holds fr
// alive at A; the leave, of another address, was ignored, and fr stayed
// alive for good at a dead address, and ignored when back at C with a
// lower head (its last commits lost in the crash).
func TestMergedLeaveOfAnotherAddressTaken(t *testing.T) {
	de := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0]
	r := de.repl
	ev := events{r}
	peerFr := func() PeerStatus {
		for _, p := range r.Peers() {
			if p.Origin == "fr" {
				return p
			}
		}
		return PeerStatus{}
	}
	ev.NotifyJoin(memberAt(t, 40001, 5)) // fr at A, head 5
	waitFor(t, 10*time.Second, "the node takes fr at A", func() bool {
		p := peerFr()
		return p.Alive && p.GossipAddr == "127.0.0.1:40001"
	})
	// learn's last step for that news, a pull, which takes r.mu: held
	// below before it, it kept the news loop from the next news.
	waitFor(t, 10*time.Second, "the node pulls from fr", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		p := r.peers["fr"]
		return p != nil && (p.pulling || p.lastErr != "")
	})
	// learn busy (r.mu held) with another member's news.
	r.mu.Lock()
	b, _ := json.Marshal(meta{Origin: "it", GRPCAddr: "127.0.0.1:1", Protocol: ProtocolVersion})
	ev.NotifyJoin(&memberlist.Node{Name: "it", Meta: b, Addr: net.IPv4(127, 0, 0, 1), Port: 1})
	waitFor(t, 10*time.Second, "the news loop took it's news", func() bool {
		r.news.mu.Lock()
		defer r.news.mu.Unlock()
		return len(r.news.order) == 0
	})
	ev.NotifyLeave(memberAt(t, 40001, 5)) // A found dead
	ev.NotifyJoin(memberAt(t, 40002, 5))  // back at B
	ev.NotifyLeave(memberAt(t, 40002, 5)) // B found dead
	r.mu.Unlock()
	waitFor(t, 10*time.Second, "the node holds fr gone (gossip's last news of it is a leave)", func() bool {
		p := peerFr()
		return p.Origin == "fr" && !p.Alive
	})
	ev.NotifyJoin(memberAt(t, 40003, 4)) // back at C, head 4
	waitFor(t, 10*time.Second, "the node takes fr back at C", func() bool {
		p := peerFr()
		return p.Alive && p.GossipAddr == "127.0.0.1:40003"
	})
}

// wireCodec passes a message's wire bytes as they are (wireMessage).
type wireCodec struct{}

type wireMessage struct{ b []byte }

func (wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.(*wireMessage).b)}, nil
}
func (wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	v.(*wireMessage).b = data.Materialize()
	return nil
}
func (wireCodec) Name() string { return "proto" }

// wirePeer answers a pull with the one response whose wire bytes are resp.
func wirePeer(t *testing.T, resp []byte) *grpc.ClientConn {
	return serveLoopback(t, func(grpc.ServiceRegistrar) {}, grpc.ForceServerCodecV2(wireCodec{}),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			if method, _ := grpc.MethodFromServerStream(stream); !strings.HasSuffix(method, "/Pull") {
				return status.Error(codes.Unimplemented, method)
			}
			if err := stream.RecvMsg(&wireMessage{}); err != nil {
				return err
			}
			return stream.SendMsg(&wireMessage{b: resp})
		}))
}

// TestUndecodablePageCountedMalformed checks that a page that does not
// decode (one of its records cut short) is refused as malformed, of its
// origin, and counted so, as a record that decodes to nothing valid is.
func TestUndecodablePageCountedMalformed(t *testing.T) {
	r := startCluster(t, 1, clusterOpts{antiEntropy: time.Hour})[0].repl
	page, err := proto.Marshal(sourcePages(t, 1, 0)[0])
	if err != nil {
		t.Fatal(err)
	}
	// One more record: a SignedRecord whose record says 16 bytes and
	// holds 1.
	page = protowire.AppendTag(page, 5, protowire.BytesType)
	page = protowire.AppendBytes(page, []byte{0x0a, 0x10, 0x01})
	resp := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), page)
	conn := wirePeer(t, resp)

	var re *storage.RefusedError
	if _, err := PullFrom(context.Background(), openReplica(t), conn, 0); !errors.As(err, &re) || re.Reason != storage.RefusedMalformed || re.Origin != "fr" || !strings.Contains(re.Detail, "does not decode") {
		t.Errorf("the page of a record cut short: %v; want it refused as malformed", err)
	}
	r.mu.Lock()
	r.peers["pp"] = &peer{meta: meta{Origin: "pp", GRPCAddr: conn.Target()}, alive: true}
	r.mu.Unlock()
	r.pull("pp")
	waitForPullError(t, r, "pp")
	var refused dto.Metric
	if err := r.m.refused.WithLabelValues(storage.RefusedMalformed).Write(&refused); err != nil {
		t.Fatal(err)
	}
	if got := refused.GetCounter().GetValue(); got != 1 {
		t.Errorf("pages refused as malformed: %v, want 1", got)
	}
}
