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
	// repl lists the peers, once the replicator has started.
	repl atomic.Pointer[Replicator]
}

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
	return &Server{store: store, log: log.With("component", "sync"), pulls: make(chan struct{}, max(1, maxConcurrentPulls))}
}

// Register registers the service on s.
func (srv *Server) Register(s grpc.ServiceRegistrar) {
	federationv1.RegisterFederationServiceServer(s, srv)
}

// Pull streams the pages of records the request asks for.
func (srv *Server) Pull(req *federationv1.PullRequest, stream grpc.ServerStreamingServer[federationv1.PullResponse]) error {
	if err := checkPull(req); err != nil {
		return err
	}
	select {
	case srv.pulls <- struct{}{}:
		defer func() { <-srv.pulls }()
	default:
		// RetryInfo tells it from a client's own refusal of a message
		// larger than it takes, which gRPC reports with the same code
		// (see peerBusy).
		busy := status.Newf(codes.ResourceExhausted, "this node already serves %d pulls: retry later", cap(srv.pulls))
		if withRetry, err := busy.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(busyRetry)}); err == nil {
			busy = withRetry
		}
		return busy.Err()
	}
	spec := storage.PullSpec{
		Watermarks:   req.GetWatermarks(),
		AllOrigins:   req.GetAllOrigins(),
		Exclude:      req.GetExcludeOrigins(),
		MaxPageBytes: int(req.GetMaxPageBytes()),
	}
	err := srv.store.ReadPages(stream.Context(), spec, func(p *federationv1.OriginPage) error {
		return stream.Send(&federationv1.PullResponse{Page: p})
	})
	if err != nil {
		if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
			return err // the stream's own error, as it is
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return status.FromContextError(err).Err()
		}
		srv.log.Error("serve pull", "err", err)
		return status.Error(codes.Internal, "reading the catalog failed")
	}
	return nil
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

// GetDigests describes what the node holds of each origin.
func (srv *Server) GetDigests(ctx context.Context, req *federationv1.GetDigestsRequest) (*federationv1.GetDigestsResponse, error) {
	for _, o := range req.GetOrigins() {
		if !envelope.ValidOrigin(o) {
			return nil, status.Errorf(codes.InvalidArgument, "origins: %q is not an origin", o)
		}
	}
	ds, err := srv.store.Digests(ctx, req.GetOrigins())
	if err != nil {
		srv.log.Error("serve digests", "err", err)
		return nil, status.Error(codes.Internal, "reading the catalog failed")
	}
	return &federationv1.GetDigestsResponse{Digests: ds}, nil
}
