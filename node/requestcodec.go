package node

import (
	"context"

	"github.com/ogptoolbox/federation/internal/protodecode"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	encodingproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// requestCodec is the gRPC port's codec: gRPC's own, except that a request
// that does not decode (a string that is not UTF-8, bytes that are no
// message) is handed on empty, marked with why, for the interceptors to
// refuse with INVALID_ARGUMENT naming the field. gRPC itself answered
// INTERNAL, the server's fault, naming nothing, before any interceptor ran;
// the same request over REST gets 400. The mark is on the message, an
// unknown field of its own: whatever ends the call (gRPC refuses a second
// message of a unary call after decoding it), nothing is kept of it.
type requestCodec struct {
	encoding.CodecV2
}

// The numbers of the unknown fields that mark a request the codec could
// not decode, with the decoder's error or, when that is why, the path of
// the string that is not UTF-8: the largest a field may have, which no
// message of the API comes near (a caller who sends one only has its own
// request refused).
const (
	undecodedMark protowire.Number = protowire.MaxValidNumber
	notUTF8Mark   protowire.Number = protowire.MaxValidNumber - 1
)

func newRequestCodec() requestCodec {
	return requestCodec{CodecV2: encoding.GetCodecV2(encodingproto.Name)}
}

func (c requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	m, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	num, why := undecodedMark, err.Error()
	if field := protodecode.InvalidString(data.Materialize(), m); field != "" {
		num, why = notUTF8Mark, field
	}
	proto.Reset(m)
	m.ProtoReflect().SetUnknown(protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), why))
	return nil
}

// refusal is the error of a request the codec could not decode, or nil.
func refusal(req any) error {
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	b := []byte(m.ProtoReflect().GetUnknown())
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil
		}
		b = b[n:]
		if typ == protowire.BytesType && (num == undecodedMark || num == notUTF8Mark) {
			why, _ := protowire.ConsumeString(b)
			if num == notUTF8Mark {
				return invalidField(why, "is not valid UTF-8")
			}
			return invalidField("request", "does not decode as a %s: %s", proto.MessageName(m), why)
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return nil
		}
		b = b[n:]
	}
	return nil
}

// interceptors refuse the requests the codec could not decode.
func (c requestCodec) interceptors() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := refusal(req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, decodedStream{ss})
	}
	return unary, stream
}

// decodedStream refuses a message of a stream the codec could not decode.
type decodedStream struct {
	grpc.ServerStream
}

func (s decodedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return refusal(m)
}
