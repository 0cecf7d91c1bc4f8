package node

import (
	"context"
	"sync"

	"github.com/ogptoolbox/federation/internal/protodecode"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	encodingproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// requestCodec is the gRPC port's codec: gRPC's own, except that a request
// that does not decode (a string that is not UTF-8, bytes that are no
// message) is handed on as far as it decoded, and noted, for
// undecodedInterceptors to refuse with INVALID_ARGUMENT naming the field.
// gRPC itself answered INTERNAL, the server's fault, naming nothing,
// before any interceptor ran; the same request over REST gets 400.
type requestCodec struct {
	encoding.CodecV2
	// undecoded holds, by request message, why it did not decode, until
	// the interceptors refuse it: the message is the key, as the
	// interceptors receive the one the codec decoded into.
	undecoded *sync.Map
}

// undecoded is why a request did not decode: the field that is not UTF-8,
// if that is why, and the decoder's error.
type undecoded struct {
	field string
	err   error
}

func newRequestCodec() requestCodec {
	return requestCodec{CodecV2: encoding.GetCodecV2(encodingproto.Name), undecoded: &sync.Map{}}
}

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	c.undecoded.Store(v, undecoded{field: protodecode.InvalidString(data.Materialize(), m), err: err})
	return nil
}

// refusal is the error of a request the codec could not decode, or nil.
func (c requestCodec) refusal(req any) error {
	u, ok := c.undecoded.LoadAndDelete(req)
	if !ok {
		return nil
	}
	why := u.(undecoded)
	if why.field != "" {
		return invalidField(why.field, "is not valid UTF-8")
	}
	return invalidField("request", "does not decode as a %s: %v", proto.MessageName(req.(proto.Message)), why.err)
}

// interceptors refuse the requests the codec could not decode.
func (c requestCodec) interceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := c.refusal(req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, decodedStream{ss, c})
	}
	return unary, stream
}

// decodedStream refuses a message of a stream the codec could not decode.
type decodedStream struct {
	grpc.ServerStream
	codec requestCodec
}

func (s decodedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return s.codec.refusal(m)
}
