package sync

import (
	"bytes"
	"strings"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/protodecode"
	"google.golang.org/grpc/encoding"
	encodingproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// pageCodec is the codec of a pull's stream: gRPC's own for the request,
// and for the pages one copy of each message, which the page's records
// and signatures then share rather than each being copied out of it
// (protodecode.UnmarshalAliasing). gRPC reuses its buffers once a message
// is decoded, hence the copy; a page lives until it is applied.
type pageCodec struct {
	encoding.CodecV2 // the registered "proto" codec, whose name the call keeps
}

// Name is empty: gRPC would name a forced codec in the call's content type
// ("application/grpc+proto"), twelve bytes more on every call of an
// anti-entropy round than the default codec's "application/grpc", which
// the server reads as proto all the same.
func (pageCodec) Name() string { return "" }

func newPageCodec() pageCodec {
	return pageCodec{encoding.GetCodecV2(encodingproto.Name)}
}

func (c pageCodec) Unmarshal(data mem.BufferSlice, v any) error {
	resp, ok := v.(*federationv1.PullResponse)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	if err := protodecode.UnmarshalAliasing(data.Materialize(), resp); err != nil {
		return err
	}
	// What outlives the page (the origin's name in maps and metrics, its
	// pinned key) gets memory of its own, so as not to keep the page's.
	if p := resp.GetPage(); p != nil {
		p.Origin, p.PublicKey = strings.Clone(p.Origin), bytes.Clone(p.PublicKey)
	}
	return nil
}
