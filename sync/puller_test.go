package sync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ogptoolbox/federation/envelope"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// pageServer serves fixed pages, whatever the request; with stall, it
// then keeps the stream open until the client gives up.
type pageServer struct {
	federationv1.UnimplementedFederationServiceServer
	pages []*federationv1.OriginPage
	stall bool
	// before, if set, runs when a pull comes, before any page is sent.
	before func()
	// asked is the last pull's request.
	asked atomic.Pointer[federationv1.PullRequest]
	// excludes says to leave out the pages of the origins a pull
	// excludes, as a node's server does; without it, every page is
	// sent, as a faulty peer may.
	excludes bool
}

func (p *pageServer) register(srv grpc.ServiceRegistrar) {
	federationv1.RegisterFederationServiceServer(srv, p)
}

func (p *pageServer) Pull(req *federationv1.PullRequest, stream grpc.ServerStreamingServer[federationv1.PullResponse]) error {
	p.asked.Store(req)
	if p.before != nil {
		p.before()
	}
	for _, page := range p.pages {
		if p.excludes && slices.Contains(req.GetExcludeOrigins(), page.GetOrigin()) {
			continue
		}
		if err := stream.Send(&federationv1.PullResponse{Page: page}); err != nil {
			return err
		}
	}
	if p.stall {
		<-stream.Context().Done()
		// As a real server does: a stream ended by its deadline does
		// not end well. (Returning nil would tell the client, if it came
		// before the client's own timer, that all was sent.)
		return stream.Context().Err()
	}
	return nil
}

// sourcePages writes n tools in a catalog of origin fr and reads them
// back as pages of at most maxBytes (0 for the default).
func sourcePages(t *testing.T, n, maxBytes int) []*federationv1.OriginPage {
	t.Helper()
	var pages []*federationv1.OriginPage
	if err := benchStore(t, n).ReadPages(context.Background(), storage.PullSpec{AllOrigins: true, MaxPageBytes: maxBytes}, func(p *federationv1.OriginPage) error {
		pages = append(pages, p)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return pages
}

func openReplica(t *testing.T) *storage.Store {
	t.Helper()
	dst, err := storage.Open(context.Background(), storage.Options{Path: filepath.Join(t.TempDir(), "dst.db"), Origin: "de", Key: nodeKey("de"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	return dst
}

// TestPullStopsAtRefusedPage checks that the page checked ahead of the
// writer never lands when the one before it is refused, and that the pages
// before the refused one do: the pipeline keeps the order and the
// all-or-nothing of pages.
func TestPullStopsAtRefusedPage(t *testing.T) {
	ctx := context.Background()
	pages := sourcePages(t, 600, 64<<10)
	if len(pages) < 5 {
		t.Fatalf("%d pages, want at least 5 for this test", len(pages))
	}
	const bad = 2 // the third page has a record whose bytes changed after signing
	tampered := proto.Clone(pages[bad]).(*federationv1.OriginPage)
	last := tampered.Records[len(tampered.Records)-1]
	last.Record[len(last.Record)-1] ^= 1
	pages[bad] = tampered
	conn := serveLoopback(t, func(srv grpc.ServiceRegistrar) {
		federationv1.RegisterFederationServiceServer(srv, &pageServer{pages: pages})
	})

	dst := openReplica(t)
	res, err := PullFrom(ctx, dst, conn, 0)
	var re *storage.RefusedError
	if !errors.As(err, &re) || re.Reason != storage.RefusedBadSignature || errors.As(err, new(*LocalError)) {
		t.Fatalf("PullFrom: %v, want a refusal for a bad signature, the peer's fault", err)
	}
	want := len(pages[0].GetRecords()) + len(pages[1].GetRecords())
	if res.Pages != 2 || res.Applied != want {
		t.Errorf("applied %d pages, %d records; want 2 pages, %d records", res.Pages, res.Applied, want)
	}
	wms, err := dst.Watermarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := wms["fr"]; got != pages[1].GetThroughSeq() {
		t.Errorf("watermark of fr = %d, want %d, the end of the last good page", got, pages[1].GetThroughSeq())
	}
	// The page after the refused one was good, and may have been checked
	// already: it must not be in the catalog.
	after := pages[bad+1].GetRecords()[0]
	rec, err := envelope.Parse(after.GetRecord())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Get(ctx, storage.KindTool, "fr", rec.GetId()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a record of the page after the refused one: Get gave %v, want not found", err)
	}
}

// TestPullFailingOnThisNodeIsLocal: a pull whose pages the catalog cannot
// read or take (here, a catalog closed; a full disk does the same) fails
// with a LocalError: the peer is not at fault, and the replicator neither
// backs it off nor counts the failure as its answer to held writes. Such
// failures were blamed on every peer at once.
func TestPullFailingOnThisNodeIsLocal(t *testing.T) {
	pages := sourcePages(t, 50, 64<<10)
	conn := serveLoopback(t, func(srv grpc.ServiceRegistrar) {
		federationv1.RegisterFederationServiceServer(srv, &pageServer{pages: pages})
	})
	dst := openReplica(t)
	wms, err := dst.Watermarks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dst.Close()
	_, err = pull(context.Background(), dst, conn, &federationv1.PullRequest{Watermarks: wms, AllOrigins: true}, wms)
	var local *LocalError
	if !errors.As(err, &local) {
		t.Fatalf("a pull into a closed catalog: %v, want a LocalError", err)
	}
}

// TestPullCutShort checks that a pull whose deadline passes while the peer
// holds the stream open ends with the deadline's error, after applying
// what came before: never as if the peer had sent everything.
func TestPullCutShort(t *testing.T) {
	pages := sourcePages(t, 100, 0)
	conn := serveLoopback(t, func(srv grpc.ServiceRegistrar) {
		federationv1.RegisterFederationServiceServer(srv, &pageServer{pages: pages, stall: true})
	})
	// The error came back as success in about half the runs before the
	// fix; the deadline leaves the one page time to be applied, even
	// under the race detector on a loaded machine.
	for i := range 6 {
		dst := openReplica(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		res, err := PullFrom(ctx, dst, conn, 0)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) && status.Code(err) != codes.DeadlineExceeded {
			t.Fatalf("run %d: PullFrom = %v, want the deadline's error", i, err)
		}
		if res.Applied != 100 {
			t.Errorf("run %d: %d records applied before the deadline, want 100", i, res.Applied)
		}
	}
}

// serveLoopback serves what register registers, with the server options
// opts, on a loopback port until t ends, and returns a client connection
// to it.
func serveLoopback(t testing.TB, register func(grpc.ServiceRegistrar), opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	srv := grpc.NewServer(opts...)
	register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestPullOvertaken checks that a pull whose pages another pull applied
// first, after it asked, ends early without error and refuses nothing;
// while a peer that sends, within one pull, a page it sent already is
// still refused.
func TestPullOvertaken(t *testing.T) {
	ctx := context.Background()
	pages := sourcePages(t, 300, 8192)
	if len(pages) < 3 {
		t.Fatalf("%d pages; the test needs 3 or more", len(pages))
	}
	dst := openReplica(t)
	srv := &pageServer{pages: pages, before: func() {
		// Another pull applies the first two pages meanwhile.
		for _, p := range pages[:2] {
			if _, err := dst.ApplyPage(ctx, p); err != nil {
				t.Error(err)
			}
		}
	}}
	res, err := PullFrom(ctx, dst, serveLoopback(t, srv.register), 0)
	if err != nil || !res.Overtaken || res.Applied != 0 {
		t.Fatalf("overtaken pull: %+v, %v; want overtaken, nothing applied, no error", res, err)
	}
	// Pulling again brings the rest.
	srv.before = nil
	srv.pages = pages[2:]
	if res, err := PullFrom(ctx, dst, serveLoopback(t, srv.register), 0); err != nil || res.Overtaken {
		t.Fatalf("pull after: %+v, %v", res, err)
	}

	// A pull whose origin's watermark is set back to 0 meanwhile (a
	// divergence found with another peer) ends early too, without
	// refusing the peer's page as a gap; pulling again brings it all.
	reset := openReplica(t)
	for _, p := range pages[:2] {
		if _, err := reset.ApplyPage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	srv = &pageServer{pages: pages[2:], before: func() {
		if err := reset.ResetWatermark(ctx, "fr"); err != nil {
			t.Error(err)
		}
	}}
	if res, err := PullFrom(ctx, reset, serveLoopback(t, srv.register), 0); err != nil || !res.Overtaken {
		t.Fatalf("a pull whose watermark was reset meanwhile: %+v, %v; want overtaken, no error", res, err)
	}
	srv = &pageServer{pages: pages}
	if res, err := PullFrom(ctx, reset, serveLoopback(t, srv.register), 0); err != nil || res.Overtaken || res.Pages != len(pages) {
		t.Fatalf("the pull after the reset: %+v, %v; want all %d pages", res, err, len(pages))
	}
	// A page that starts past where the pull asked is still a gap.
	gapped := openReplica(t)
	srv = &pageServer{pages: []*federationv1.OriginPage{pages[0], pages[2]}}
	res, err = PullFrom(ctx, gapped, serveLoopback(t, srv.register), 0)
	var gap *storage.RefusedError
	if !errors.As(err, &gap) || gap.Reason != storage.RefusedGap || res.Overtaken {
		t.Fatalf("a page past where the pull asked: %+v, %v; want refused as a gap", res, err)
	}

	// A replay within a pull is refused.
	replayed := openReplica(t)
	srv = &pageServer{pages: []*federationv1.OriginPage{pages[0], pages[1], pages[0]}}
	res, err = PullFrom(ctx, replayed, serveLoopback(t, srv.register), 0)
	var re *storage.RefusedError
	if !errors.As(err, &re) || re.Reason != storage.RefusedStale || res.Overtaken || res.Pages != 2 {
		t.Fatalf("a page sent twice: %+v, %v; want refused as stale after 2 pages", res, err)
	}
}

// TestOwnOriginUnderAnotherKeySkipped has a peer hold the node's origin
// under another key (the node's key was lost and made anew): the pull
// skips those pages, says so, and takes the other origins' records, those
// that come after too.
func TestOwnOriginUnderAnotherKeySkipped(t *testing.T) {
	ctx := context.Background()
	own := pagesUnderAnotherKey(t, "de")
	dst := openReplica(t) // origin "de", its own key
	others := sourcePages(t, 20, 0)
	res, err := PullFrom(ctx, dst, serveLoopback(t, (&pageServer{pages: append(own, others...)}).register), 0)
	if err != nil || !ownOriginRefused(res.OwnOriginRefused) || res.Applied != 20 {
		t.Fatalf("pull: %+v, %v; want fr's 20 records applied, de's pages skipped as under another key", res, err)
	}
	if wms, _ := dst.Watermarks(ctx); wms["de"] != 0 {
		t.Errorf("the node's head: %d, want 0: nothing of its origin under another key is taken", wms["de"])
	}
}

// TestOwnOriginPulledAlone checks the pull that a node whose writes wait
// for its own records makes first: it asks for its own origin alone, from
// its head, and takes back what the peer holds of it.
func TestOwnOriginPulledAlone(t *testing.T) {
	ctx := context.Background()
	pages := sourcePages(t, 30, 0) // of origin fr, as its peers hold them
	wiped, err := storage.Open(ctx, storage.Options{Path: filepath.Join(t.TempDir(), "fr.db"), Origin: "fr", Key: nodeKey("fr"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer wiped.Close()
	server := &pageServer{pages: pages}
	res, err := pullOwnOrigin(ctx, wiped, serveLoopback(t, server.register), 0)
	if err != nil || res.Applied != 30 {
		t.Fatalf("pull of the node's own origin: %+v, %v; want its 30 records back", res, err)
	}
	asked := server.asked.Load()
	if asked.GetAllOrigins() || len(asked.GetWatermarks()) != 1 || asked.GetWatermarks()["fr"] != 0 {
		t.Errorf("the pull asked for %v: want fr alone, from 0", asked)
	}
}

// TestForkedOwnPagesSkipped has a node write, during a pull, at seqs of
// its origin it had lost and that the peer gives back: the pull refuses
// those records as forked, not as the peer's fault, says so, and takes
// the other origins' records.
func TestForkedOwnPagesSkipped(t *testing.T) {
	ctx := context.Background()
	lost := pagesOfOneTool(t, "de", nodeKey("de"), "lost")
	dst := openReplica(t) // de again, its catalog lost
	server := &pageServer{pages: append(lost, sourcePages(t, 10, 0)...), before: func() {
		if _, err := dst.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "new", Resource: benchTool(2)}}); err != nil {
			t.Error(err)
		}
	}}
	res, err := PullFrom(ctx, dst, serveLoopback(t, server.register), 0)
	var re *storage.RefusedError
	if err != nil || !errors.As(res.Forked, &re) || re.Reason != storage.RefusedForked || res.Applied != 10 {
		t.Fatalf("pull: %+v, %v; want de's records refused as forked, fr's 10 applied", res, err)
	}
	if _, err := dst.Get(ctx, storage.KindTool, "de", "new"); err != nil {
		t.Errorf("the node's own write: %v", err)
	}
}

// TestPageOfUnaskedOriginRefused checks that a pull refuses, as the peer's
// fault and before checking it, a page of an origin it did not ask for:
// here the node's own, which the pull of the other origins, while the
// node's writes are held, excludes. A peer sending it anyway (its records
// genuine, from seq 0) once made the pull look overtaken, and the node
// pull again at once, in a loop.
func TestPageOfUnaskedOriginRefused(t *testing.T) {
	ctx := context.Background()
	pages := sourcePages(t, 30, 0) // of origin fr
	fr, err := storage.Open(ctx, storage.Options{Path: filepath.Join(t.TempDir(), "fr.db"), Origin: "fr", Key: nodeKey("fr"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	conn := serveLoopback(t, (&pageServer{pages: pages}).register)
	if res, err := pullOwnOrigin(ctx, fr, conn, 0); err != nil || res.Applied != 30 {
		t.Fatalf("pull of the node's own origin: %+v, %v; want its 30 records", res, err)
	}
	res, err := pullAll(ctx, fr, conn, 0, false, nil)
	var re *storage.RefusedError
	if !errors.As(err, &re) || re.Reason != storage.RefusedUnasked || re.Origin != "fr" || res.Overtaken {
		t.Fatalf("pull of the other origins, served fr's pages: %+v, %v; want them refused as unasked", res, err)
	}

	// With a trust list, the pull asks for the origins it names only.
	de, err := storage.Open(ctx, storage.Options{Path: filepath.Join(t.TempDir(), "de.db"), Origin: "de", Key: nodeKey("de"),
		Trusted: map[string]ed25519.PublicKey{"it": nodeKey("it").Public().(ed25519.PublicKey)}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer de.Close()
	res, err = PullFrom(ctx, de, conn, 0)
	if !errors.As(err, &re) || re.Reason != storage.RefusedUnasked || res.Applied != 0 {
		t.Fatalf("pull by a node trusting it alone, served fr's pages: %+v, %v; want them refused as unasked", res, err)
	}
}

// TestOwnOriginUnderAnotherKeyCheckedOnce checks that once a page of the
// node's own origin under another key is refused, the pull skips the
// others of the stream without checking them (a peer could otherwise
// have the node verify such pages for the whole of a pull): a page after
// them whose signature does not verify is skipped too, and the other
// origins still come.
func TestOwnOriginUnderAnotherKeyCheckedOnce(t *testing.T) {
	ctx := context.Background()
	other, err := storage.Open(ctx, storage.Options{Path: filepath.Join(t.TempDir(), "other.db"), Origin: "de", Key: nodeKey("de, another key"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for i := range 30 {
		if _, err := other.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: fmt.Sprintf("t%d", i), Resource: benchTool(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var own []*federationv1.OriginPage
	if err := other.ReadPages(ctx, storage.PullSpec{AllOrigins: true, MaxPageBytes: 4096}, func(p *federationv1.OriginPage) error {
		own = append(own, proto.Clone(p).(*federationv1.OriginPage))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(own) < 4 {
		t.Fatalf("%d pages, want at least 4", len(own))
	}
	// Checked, the third page would fail, and end the pull.
	own[2].Records[0].Signature[0] ^= 1
	dst := openReplica(t) // origin de, its own key
	res, err := PullFrom(ctx, dst, serveLoopback(t, (&pageServer{pages: append(own, sourcePages(t, 20, 0)...)}).register), 0)
	if err != nil || !ownOriginRefused(res.OwnOriginRefused) || res.Applied != 20 {
		t.Fatalf("pull: %+v, %v; want de's pages skipped, fr's 20 records applied", res, err)
	}
}
