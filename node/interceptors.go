package node

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"github.com/ogptoolbox/federation/internal/lockout"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// writeMethods are the RPCs that change the catalog: they need the admin
// token. Every other RPC is a public read.
func writeMethods() map[string]bool {
	return map[string]bool{
		catalogv1.CatalogService_CreateTool_FullMethodName:           true,
		catalogv1.CatalogService_UpdateTool_FullMethodName:           true,
		catalogv1.CatalogService_DeleteTool_FullMethodName:           true,
		catalogv1.CatalogService_CreateUseCase_FullMethodName:        true,
		catalogv1.CatalogService_UpdateUseCase_FullMethodName:        true,
		catalogv1.CatalogService_DeleteUseCase_FullMethodName:        true,
		catalogv1.HarvestService_ImportHarvest_FullMethodName:        true,
		catalogv1.HarvestService_ImportHarvestInParts_FullMethodName: true,
	}
}

// authInterceptors let writes through only with `authorization: Bearer
// TOKEN`. The gateway forwards the HTTP Authorization header as that
// metadata, so REST and gRPC are checked alike. (authTap refuses them
// sooner; these check again where the call is served.)
func authInterceptors(token string) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	writes := writeMethods()
	want := []byte(token)
	check := func(ctx context.Context, method string) error {
		if !writes[method] {
			return nil
		}
		md, _ := metadata.FromIncomingContext(ctx)
		return checkToken(md.Get("authorization"), want)
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := check(ctx, info.FullMethod); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if err := check(ss.Context(), info.FullMethod); err != nil {
			return err
		}
		return handler(srv, ss)
	}
	return unary, stream
}

// checkToken checks the authorization metadata of a write against the
// admin token want: "Bearer TOKEN", the scheme in any case (RFC 9110).
func checkToken(got []string, want []byte) error {
	if len(got) == 0 {
		return status.Error(codes.Unauthenticated, "writes need the node's admin token: send Authorization: Bearer TOKEN")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(got[0]), " ")
	if len(got) != 1 || !strings.EqualFold(scheme, "Bearer") {
		return status.Error(codes.Unauthenticated, "send the admin token as Authorization: Bearer TOKEN")
	}
	// Hashed first: ConstantTimeCompare returns at once for slices of
	// two lengths, which told a guesser the token's.
	given, wanted := sha256.Sum256([]byte(strings.TrimSpace(token))), sha256.Sum256(want)
	if subtle.ConstantTimeCompare(given[:], wanted[:]) != 1 {
		return status.Error(codes.Unauthenticated, "the admin token is wrong")
	}
	return nil
}

// authTap refuses a write without the admin token before gRPC reads its
// message: the gateway's server takes messages up to twice
// --max-harvest-bytes (for harvest imports), which an anonymous caller
// could otherwise make the node read and decode before authInterceptors
// refused it.
// The refusal is counted and logged as observeInterceptors would, which
// it never reaches.
//
// Past a few wrong tokens from one address, the next are refused
// unchecked for a while (see adminAuth). On the gateway's server
// (behindGateway), the address is the one the gateway says the REST call
// came from; on the gRPC port, the connection's.
func authTap(auth *adminAuth, behindGateway bool, log *slog.Logger, m *metrics) tap.ServerInHandle {
	writes := writeMethods()
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		if !writes[info.FullMethodName] {
			return ctx, nil
		}
		addr := ""
		if behindGateway {
			// The gateway appends the caller's address to the
			// X-Forwarded-For the caller sent: the last is the
			// connection's, the ones before a proxy's word.
			if fwd := info.Header.Get("x-forwarded-for"); len(fwd) > 0 {
				parts := strings.Split(fwd[len(fwd)-1], ",")
				for i := range parts {
					parts[i] = strings.TrimSpace(parts[i])
				}
				addr = lockout.ClientAddr(parts[len(parts)-1], parts[:len(parts)-1], auth.proxies)
			}
		} else if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			// No proxy's word on the gRPC port: the connection's address,
			// counted as the gateway's are (an IPv6 one by its /64).
			addr = lockout.ClientAddr(p.Addr.String(), nil, nil)
		}
		err := auth.check(addr, info.Header.Get("authorization"))
		if err != nil {
			countRefused(log, m, info.FullMethodName, err)
		}
		return ctx, err
	}
}

// adminAuth checks the admin token a write sends, and slows down guessing
// it: past a few wrong tokens from one address, each next locks the
// address out twice as long (lockout.Guard), and its writes are refused
// unchecked meanwhile. The web pages' sign-in form shares the guard.
type adminAuth struct {
	want  []byte
	guard *lockout.Guard
	// proxies are the reverse proxies whose X-Forwarded-For names the
	// reader (--trusted-proxies).
	proxies func(net.IP) bool
}

// check checks the authorization metadata got of a write from addr ("" for
// one of no known address, which is not guarded).
func (a *adminAuth) check(addr string, got []string) error {
	if addr != "" {
		if wait := a.guard.LockedOut(addr); wait > 0 {
			return lockedOutError(addr, wait)
		}
	}
	err := checkToken(got, a.want)
	switch {
	case addr == "":
	case err == nil:
		a.guard.Succeeded(addr)
	case len(got) > 0: // a token, wrong: a guess
		if wait := a.guard.Failed(addr); wait > 0 {
			return lockedOutError(addr, wait)
		}
	}
	return err
}

// lockedOutError refuses the writes of an address locked out for wait.
func lockedOutError(addr string, wait time.Duration) error {
	return status.Errorf(codes.ResourceExhausted, "too many wrong admin tokens came from %s: its writes are refused for %d s more", addr, int((wait+time.Second-1)/time.Second))
}

// countRefused counts and logs a write refused for its token before it
// reached observeInterceptors, as they would have.
func countRefused(log *slog.Logger, m *metrics, fullMethod string, err error) {
	method := methodName(fullMethod)
	m.requests.With(prometheus.Labels{"method": method, "code": codes.Unauthenticated.String()}).Inc()
	log.Debug("rpc", "method", method, "code", codes.Unauthenticated.String(), "error", errText(err))
}

// sizeInterceptor refuses requests larger than max bytes (harvestMax for
// harvest imports, which carry a whole source) with INVALID_ARGUMENT,
// before any handler runs. A harvest import refused where REST would
// take it (the gRPC port takes no more of one than of any request) says
// so.
func sizeInterceptor(max, harvestMax, restHarvestMax int) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		max, isImport := max, info.FullMethod == catalogv1.HarvestService_ImportHarvest_FullMethodName
		if isImport {
			max = harvestMax
		}
		if m, ok := req.(proto.Message); ok {
			if n := proto.Size(m); n > max {
				if isImport && n <= restHarvestMax {
					return nil, invalidField("request", "is %d bytes, more than the %d the gRPC port takes of a request: send it in parts (ImportHarvestInParts), or over REST (POST /v1/harvests:import, as ogpnode harvest --node does), which take up to %d (--max-harvest-bytes)", n, max, restHarvestMax)
				}
				return nil, invalidField("request", "is %d bytes, more than the %d this node takes", n, max)
			}
		}
		return handler(ctx, req)
	}
}

// observeInterceptors count, time and log every call, streams too, and
// turn a panic into INTERNAL rather than a crash of the node.
func observeInterceptors(log *slog.Logger, m *metrics) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	count := callCounter(log, m)
	observe := func(ctx context.Context, fullMethod string, call func() error) (err error) {
		start := time.Now()
		markSeen(ctx)
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic in handler", "method", fullMethod, "panic", p, "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
			err = boundError(localize(ctx, err))
			count(ctx, fullMethod, err, time.Since(start), false)
		}()
		return call()
	}
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		err = observe(ctx, info.FullMethod, func() error {
			resp, err = handler(ctx, req)
			return err
		})
		return resp, err
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return observe(ss.Context(), info.FullMethod, func() error { return handler(srv, ss) })
	}
	return unary, stream
}

// callCounter returns what counts, times and logs an API call: a
// successful write at info, a failure of the node's at error, the rest at
// debug; and a call refused before its handler ran (refused) at debug,
// whatever its code: grpc-go answers INTERNAL to what it refuses that is
// the caller's (a request the in-memory port cannot decode: see
// requestCodec for the gRPC port's), and any caller could flood the log.
func callCounter(log *slog.Logger, m *metrics) func(ctx context.Context, fullMethod string, err error, elapsed time.Duration, refused bool) {
	writes := writeMethods()
	return func(ctx context.Context, fullMethod string, err error, elapsed time.Duration, refused bool) {
		code := status.Code(err)
		method := methodName(fullMethod)
		m.requests.With(prometheus.Labels{"method": method, "code": code.String()}).Inc()
		m.latency.With(prometheus.Labels{"method": method}).Observe(elapsed.Seconds())
		level := slog.LevelDebug
		switch {
		case refused:
		case code == codes.Internal, code == codes.Unknown, code == codes.DataLoss:
			level = slog.LevelError
		case code == codes.OK && writes[fullMethod]:
			level = slog.LevelInfo
		}
		log.Log(ctx, level, "rpc", "method", method, "code", code.String(), "duration", elapsed, "error", errText(err))
	}
}

// maxErrorText bounds each text of an error (its message, a field
// violation's field and description): they may quote what the caller sent
// (an id of 100 KB), which neither the answer nor the log needs whole.
const maxErrorText = 1 << 10

// boundError is err with each of its texts cut to maxErrorText bytes.
func boundError(err error) error {
	st, ok := status.FromError(err)
	if err == nil || !ok {
		return err
	}
	p := st.Proto()
	changed := bound(&p.Message)
	for i, d := range p.Details {
		var br errdetails.BadRequest
		if d.UnmarshalTo(&br) != nil {
			continue
		}
		cut := false
		for _, v := range br.GetFieldViolations() {
			cut = bound(&v.Field) || cut
			cut = bound(&v.Description) || cut
			if lm := v.GetLocalizedMessage(); lm != nil {
				cut = bound(&lm.Message) || cut
			}
		}
		if a, err := anypb.New(&br); cut && err == nil {
			p.Details[i], changed = a, true
		}
	}
	if !changed {
		return err
	}
	return status.FromProto(p).Err()
}

// bound cuts *s to maxErrorText bytes, at a character's start, marking
// the cut, and reports whether it did.
func bound(s *string) bool {
	if len(*s) <= maxErrorText {
		return false
	}
	end := maxErrorText
	for end > 0 && !utf8.RuneStart((*s)[end]) {
		end--
	}
	*s = (*s)[:end] + "… (cut)"
	return true
}

// methodName is the method of a gRPC full method name
// ("/ogp.catalog.v1.CatalogService/GetTool" → "GetTool").
func methodName(full string) string { return full[strings.LastIndexByte(full, '/')+1:] }

func errText(err error) string {
	if err == nil {
		return ""
	}
	return status.Convert(err).Message()
}
