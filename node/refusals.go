package node

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"
)

// The calls the API refuses before observeInterceptors see them are
// counted, timed and logged as they are: over gRPC, a request larger than
// the port takes, or one that does not decode (grpc-go reads and decodes a
// request before any interceptor runs); over REST, one the gateway cannot
// make a call of (a body or parameter of the wrong form), one too large
// (limitBody), or not UTF-8 (requireUTF8). Else ogpnode_requests_total
// missed every such client error.

type seenKey struct{}

// seen is a gRPC call, and whether observeInterceptors counted it.
type seen struct {
	fullMethod string
	counted    atomic.Bool
}

// markSeen tells unseenCalls that the call of ctx is counted.
func markSeen(ctx context.Context) {
	if s, ok := ctx.Value(seenKey{}).(*seen); ok {
		s.counted.Store(true)
	}
}

// unseenCalls is a gRPC server's stats.Handler that counts the calls that
// ended without observeInterceptors. A call it sees is of a method the
// server has: one of an unknown method ends before it (UNIMPLEMENTED), so
// that a caller cannot add series of made-up names.
type unseenCalls struct {
	count func(ctx context.Context, fullMethod string, err error, elapsed time.Duration, refused bool)
}

func (unseenCalls) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return context.WithValue(ctx, seenKey{}, &seen{fullMethod: info.FullMethodName})
}

func (h unseenCalls) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	end, ok := rs.(*stats.End)
	if !ok {
		return
	}
	if s, ok := ctx.Value(seenKey{}).(*seen); ok && !s.counted.Load() {
		h.count(ctx, s.fullMethod, boundError(end.Error), end.EndTime.Sub(end.BeginTime), true)
	}
}

func (unseenCalls) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (unseenCalls) HandleConn(context.Context, stats.ConnStats)                       {}

type restKey struct{}

// restCall is a REST request of the API (a path under /v1/): when it
// started, whether the gateway called the API for it, and the refusal it
// gets instead, if one was decided before the gateway routed it (its body
// too large, a parameter not UTF-8): the gateway then answers it, and
// counts it under the method it routed it to.
type restCall struct {
	start   time.Time
	called  atomic.Bool
	refusal error
}

func restCallOf(ctx context.Context) *restCall {
	rc, _ := ctx.Value(restKey{}).(*restCall)
	return rc
}

// restCalls gives each request of the API its restCall.
func restCalls(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			r = r.WithContext(context.WithValue(r.Context(), restKey{}, &restCall{start: time.Now()}))
		}
		next.ServeHTTP(w, r)
	})
}

// refuseLater leaves the refusal of r, a request of the API, to the
// gateway (see restCall), with a body it cannot read, and reports whether
// r is one.
func refuseLater(r *http.Request, err error) bool {
	rc := restCallOf(r.Context())
	if rc == nil {
		return false
	}
	if rc.refusal == nil { // the first said: the body of a request refused is unreadable
		rc.refusal = err
	}
	r.Body, r.ContentLength = io.NopCloser(refusedBody{rc.refusal}), -1
	return true
}

// refusedBody is the body of a request refused before it is read.
type refusedBody struct{ err error }

func (b refusedBody) Read([]byte) (int, error) { return 0, b.err }

// restClientInterceptors, on the gateway's connection, note that it
// called the API for a request, or answer the request's refusal in place
// of the call.
func restClientInterceptors() (grpc.UnaryClientInterceptor, grpc.StreamClientInterceptor) {
	call := func(ctx context.Context) error {
		rc := restCallOf(ctx)
		switch {
		case rc == nil:
		case rc.refusal != nil:
			return rc.refusal // counted by the gateway's error handler
		default:
			rc.called.Store(true)
		}
		return nil
	}
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if err := call(ctx); err != nil {
			return err
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if err := call(ctx); err != nil {
			return nil, err
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
	return unary, stream
}

// restError is the gateway's error handler: it answers a request refused
// before the gateway routed it with that refusal, and counts the requests
// it answers without having called the API, under their method.
func restError(count func(ctx context.Context, fullMethod string, err error, elapsed time.Duration, refused bool)) runtime.ErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
		rc := restCallOf(ctx)
		if rc != nil && rc.refusal != nil {
			err = rc.refusal
		}
		err = boundError(decodeViolation(err))
		if method, ok := runtime.RPCMethod(ctx); ok && rc != nil && !rc.called.Load() {
			count(ctx, method, err, time.Since(rc.start), true)
		}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, bearerChallenge{w}, r, err)
	}
}
