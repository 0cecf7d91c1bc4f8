// Package sync replicates the federation's records between nodes: it serves
// a node's records to its peers (FederationService), pulls theirs, checks
// and applies them through package storage, and decides when to pull: at
// once when a peer announces a head above the node's watermark, and
// periodically, with a few random peers, to repair what announcements
// missed.
package sync

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ogptoolbox/federation/envelope"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Server serves the node's records to its peers.
type Server struct {
	federationv1.UnimplementedFederationServiceServer
	store *storage.Store
	log   *slog.Logger
	// pulls holds a token per pull being served: a node serves at most
	// cap(pulls) at once and refuses more with RESOURCE_EXHAUSTED, so that
	// peers catching up cannot starve its own API.
	pulls chan struct{}
	// digests does the same for GetDigests calls, each a read of every
	// origin's digest, which the port would otherwise serve without end
	// side by side.
	digests chan struct{}
	// stall says when a pull whose caller reads nothing is ended, and
	// refusedAt is when the last pull was refused for want of a place
	// (see stalled), as a time since epoch (see since), 0 for never.
	stall     stallLimits
	refusedAt atomic.Int64
	// epoch is the server's start, from which its times are measured on
	// the monotonic clock: measured by the wall clock, a clock set back
	// an hour (NTP at boot) made a pull stalled for an hour.
	epoch time.Time
	// repl lists the peers, once the replicator has started.
	repl atomic.Pointer[Replicator]
}

// stallLimits bound how long a pull may wait for its caller to read what
// it sends: gRPC's flow control blocks the send of a pull whose caller
// reads nothing, and the pull keeps its place, and its read transaction,
// for as long as the connection lives. One caller opening as many pulls as
// the node serves, and reading none, would otherwise shut out every other
// peer for good, and keep the write-ahead log from starting over.
type stallLimits struct {
	// contended applies when a pull was refused for want of a place in
	// the last contendedWindow: a caller that reads nothing for that long
	// gives its place to those that wait. An honest caller reads a page
	// in milliseconds; its writer, busy, may hold it for seconds, and a
	// slow link for as long as a page takes to cross it (10 s is a
	// megabyte at 0.8 Mbit/s).
	contended time.Duration
	// alone applies otherwise: under the pull timeout of this version's
	// callers (2 minutes), so that only a caller that stopped reading
	// meets it.
	alone time.Duration
}

var defaultStallLimits = stallLimits{contended: 10 * time.Second, alone: time.Minute}

// contendedWindow is how recent a refused pull makes the places
// contended: the default contended limit, and twice the longest wait of a
// caller refused (maxBusyRetry), so that one still asking finds the place
// freed.
const contendedWindow = 10*time.Second + 2*maxBusyRetry

// Serve makes ListPeers answer with r's members.
func (srv *Server) Serve(r *Replicator) { srv.repl.Store(r) }

// ListPeers lists the members of the federation this node knows.
func (srv *Server) ListPeers(ctx context.Context, _ *federationv1.ListPeersRequest) (*federationv1.ListPeersResponse, error) {
	resp := &federationv1.ListPeersResponse{}
	r := srv.repl.Load()
	if r == nil {
		return resp, nil
	}
	for _, p := range r.Peers() {
		pp := &federationv1.Peer{Origin: p.Origin, GrpcAddress: p.GRPCAddr, HttpAddress: p.HTTPAddr, GossipAddress: p.GossipAddr,
			State: federationv1.PeerState_PEER_STATE_GONE, LastError: p.LastError, HeadSeq: p.Head, Watermark: p.Watermark, Lag: p.Lag}
		if p.Alive {
			pp.State = federationv1.PeerState_PEER_STATE_ALIVE
		}
		if !p.LastSync.IsZero() {
			pp.LastSyncTime = timestamppb.New(p.LastSync)
		}
		resp.Peers = append(resp.Peers, pp)
	}
	return resp, nil
}

// NewServer returns a Server of store's records serving at most
// maxConcurrentPulls pulls at once.
func NewServer(store *storage.Store, maxConcurrentPulls int, log *slog.Logger) *Server {
	return &Server{store: store, log: log.With("component", "sync"), pulls: make(chan struct{}, max(1, maxConcurrentPulls)),
		digests: make(chan struct{}, maxConcurrentDigests), stall: defaultStallLimits, epoch: time.Now()}
}

// since is t as the time since srv's epoch, on the monotonic clock, in
// nanoseconds: 1 at the least, so that 0 stands for none.
func (srv *Server) since(t time.Time) int64 { return max(int64(t.Sub(srv.epoch)), 1) }

// Register registers the service on s.
func (srv *Server) Register(s grpc.ServiceRegistrar) {
	federationv1.RegisterFederationServiceServer(s, srv)
}

// Pull streams the pages of records the request asks for. The pages are
// read and sent on a goroutine of their own, which keeps the pull's place
// until it ends; the handler watches it, and ends a pull whose caller
// reads nothing (see stallLimits): returning is the one way a gRPC
// handler has to end its stream, and with it the send blocked on it.
func (srv *Server) Pull(req *federationv1.PullRequest, stream grpc.ServerStreamingServer[federationv1.PullResponse]) error {
	if err := checkPull(req); err != nil {
		return err
	}
	select {
	case srv.pulls <- struct{}{}:
	default:
		srv.refusedAt.Store(srv.since(time.Now()))
		return busyError("this node already serves %d pulls: retry later", cap(srv.pulls))
	}
	spec := storage.PullSpec{
		Watermarks:   req.GetWatermarks(),
		AllOrigins:   req.GetAllOrigins(),
		Exclude:      req.GetExcludeOrigins(),
		MaxPageBytes: int(req.GetMaxPageBytes()),
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	var sendingSince atomic.Int64 // of the send under way (see since); 0 between sends
	done := make(chan error, 1)
	go func() {
		defer func() { <-srv.pulls }()
		done <- srv.store.ReadPages(ctx, spec, func(p *federationv1.OriginPage) error {
			sendingSince.Store(srv.since(time.Now()))
			defer sendingSince.Store(0)
			return stream.Send(&federationv1.PullResponse{Page: p})
		})
	}()
	watch := time.NewTicker(min(max(srv.stall.contended/5, 10*time.Millisecond), time.Second))
	defer watch.Stop()
	// A pull holds a place and a read transaction of the catalog (which
	// keeps the write-ahead log from starting over) for as long as it
	// runs: a caller that reads a page of one record at a time, each
	// quickly enough, would hold them for hours, and a few such every
	// place. No pull outlasts its caller's own deadline (callers of this
	// version give up after 2 minutes, twice the longest stall); its
	// caller goes on from the watermarks its pages moved.
	longest := time.NewTimer(2 * srv.stall.alone)
	defer longest.Stop()
	for {
		select {
		case err := <-done:
			return srv.pullError(err)
		case <-longest.C:
			srv.log.Info("ending a pull that outlasted a caller's deadline", "lasted", 2*srv.stall.alone)
			return busyError("this node ended the pull after %v: pull again from where it ended", 2*srv.stall.alone)
		case now := <-watch.C:
			since := sendingSince.Load()
			if since == 0 {
				continue
			}
			if waited := time.Duration(srv.since(now) - since); srv.stalled(now, waited) {
				srv.log.Info("ending a pull whose caller reads nothing", "waited", waited.Round(time.Millisecond))
				return busyError("this node ended the pull: its caller read nothing of it for %v", waited.Round(time.Millisecond))
			}
		}
	}
}

// stalled reports whether a pull whose send has waited this long for its
// caller to read is to end now.
func (srv *Server) stalled(now time.Time, waited time.Duration) bool {
	if waited >= srv.stall.alone {
		return true
	}
	refused := srv.refusedAt.Load()
	contended := refused != 0 && time.Duration(srv.since(now)-refused) < contendedWindow
	return contended && waited >= srv.stall.contended
}

// busyError is the refusal of a pull for want of a place (or the end of
// one, for another's sake). RetryInfo tells it from a client's own refusal
// of a message larger than it takes, which gRPC reports with the same code
// (see peerBusy).
func busyError(format string, args ...any) error {
	busy := status.Newf(codes.ResourceExhausted, format, args...)
	if withRetry, err := busy.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(busyRetry)}); err == nil {
		busy = withRetry
	}
	return busy.Err()
}

// pullError is what a pull that ended with err returns to its caller.
func (srv *Server) pullError(err error) error {
	if err == nil {
		return nil
	}
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		return err // the stream's own error, as it is
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	srv.log.Error("serve pull", "err", err)
	return status.Error(codes.Internal, "reading the catalog failed")
}

func checkPull(req *federationv1.PullRequest) error {
	for o, w := range req.GetWatermarks() {
		if !envelope.ValidOrigin(o) {
			return status.Errorf(codes.InvalidArgument, "watermarks: %q is not an origin", o)
		}
		if w < 0 {
			return status.Errorf(codes.InvalidArgument, "watermarks[%s]: %d is negative", o, w)
		}
	}
	for _, o := range req.GetExcludeOrigins() {
		if !envelope.ValidOrigin(o) {
			return status.Errorf(codes.InvalidArgument, "exclude_origins: %q is not an origin", o)
		}
	}
	if req.GetMaxPageBytes() < 0 {
		return status.Errorf(codes.InvalidArgument, "max_page_bytes: %d is negative", req.GetMaxPageBytes())
	}
	return nil
}

// maxDigestOrigins bounds the origins a GetDigests request names: callers
// ask a thousand at a time (defaultDigestBatch), and a request of gRPC's 4
// MiB named a million, a set of 100 MB for the call, and the port serves
// many calls at once.
const maxDigestOrigins = 10 * defaultDigestBatch

// maxConcurrentDigests bounds the GetDigests calls a node serves at once:
// a member compares digests after each pull, a few milliseconds, and
// fifty members seldom do it at the same moment.
const maxConcurrentDigests = 16

// GetDigests describes what the node holds of each origin.
func (srv *Server) GetDigests(ctx context.Context, req *federationv1.GetDigestsRequest) (*federationv1.GetDigestsResponse, error) {
	if n := len(req.GetOrigins()); n > maxDigestOrigins {
		return nil, status.Errorf(codes.InvalidArgument, "origins: %d, more than %d a request: ask in batches", n, maxDigestOrigins)
	}
	for _, o := range req.GetOrigins() {
		if !envelope.ValidOrigin(o) {
			return nil, status.Errorf(codes.InvalidArgument, "origins: %q is not an origin", o)
		}
	}
	select {
	case srv.digests <- struct{}{}:
		defer func() { <-srv.digests }()
	default:
		return nil, busyError("this node already serves %d digest requests: retry later", cap(srv.digests))
	}
	ds, err := srv.store.PeerDigests(ctx, req.GetOrigins())
	if err != nil {
		srv.log.Error("serve digests", "err", err)
		return nil, status.Error(codes.Internal, "reading the catalog failed")
	}
	return &federationv1.GetDigestsResponse{Digests: ds}, nil
}
