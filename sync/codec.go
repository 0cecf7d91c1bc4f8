package sync

import (
	"bytes"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ogptoolbox/federation/envelope"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/protodecode"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc/encoding"
	encodingproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// pageCodec is the codec of a pull's stream: gRPC's own for the request,
// and for the pages one copy of each message, which the page's records
// and signatures then share rather than each being copied out of it
// (protodecode.UnmarshalAliasing). gRPC reuses its buffers once a message
// is decoded, hence the copy; a page lives until it is applied.
type pageCodec struct {
	encoding.CodecV2 // the registered "proto" codec, whose name the call keeps
	// pageField, originField and recordsField are the numbers of
	// PullResponse.page, OriginPage.origin and OriginPage.records, which
	// countRecords walks to.
	pageField, originField, recordsField protowire.Number
	// refused is the page of too many records the codec refused, if it
	// did: gRPC hands the caller a status of its own in its place, and
	// the pull reports this one (a *storage.RefusedError, counted as
	// the others).
	refused *atomic.Pointer[storage.RefusedError]
}

// Name is empty: gRPC would name a forced codec in the call's content type
// ("application/grpc+proto"), twelve bytes more on every call of an
// anti-entropy round than the default codec's "application/grpc", which
// the server reads as proto all the same.
func (pageCodec) Name() string { return "" }

func newPageCodec() pageCodec {
	return pageCodec{
		CodecV2:      encoding.GetCodecV2(encodingproto.Name),
		pageField:    (&federationv1.PullResponse{}).ProtoReflect().Descriptor().Fields().ByName("page").Number(),
		originField:  (&federationv1.OriginPage{}).ProtoReflect().Descriptor().Fields().ByName("origin").Number(),
		recordsField: (&federationv1.OriginPage{}).ProtoReflect().Descriptor().Fields().ByName("records").Number(),
		refused:      new(atomic.Pointer[storage.RefusedError]),
	}
}

func (c pageCodec) Unmarshal(data mem.BufferSlice, v any) error {
	resp, ok := v.(*federationv1.PullResponse)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	b := data.Materialize()
	// A page of more records than a page can hold is refused before its
	// decoding allocates for each: a peer could send millions in a few
	// megabytes.
	n, origin := c.countRecords(b, storage.MaxPageRecords)
	if n > storage.MaxPageRecords {
		err := &storage.RefusedError{Origin: origin, Reason: storage.RefusedMalformed,
			Detail: "more records than a page holds (" + strconv.Itoa(storage.MaxPageRecords) + ")"}
		c.refused.CompareAndSwap(nil, err)
		return err
	}
	if err := protodecode.UnmarshalAliasing(b, resp); err != nil {
		// A page that does not decode is malformed, counted as a page
		// of a record that does not decode is.
		refused := &storage.RefusedError{Origin: origin, Reason: storage.RefusedMalformed, Detail: "the page does not decode: " + err.Error()}
		c.refused.CompareAndSwap(nil, refused)
		return refused
	}
	// What outlives the page (the origin's name in maps and metrics, its
	// pinned key) gets memory of its own, so as not to keep the page's.
	if p := resp.GetPage(); p != nil {
		p.Origin, p.PublicKey = strings.Clone(p.Origin), bytes.Clone(p.PublicKey)
	}
	return nil
}

// countRecords counts the records of the page in b, the wire form of a
// PullResponse, up to one past limit, and reads the page's origin on the
// way (a valid origin name, else ""). It stops at what does not parse,
// which the decoder refuses.
func (c pageCodec) countRecords(b []byte, limit int) (n int, origin string) {
	for len(b) > 0 && n <= limit {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return n, origin
		}
		b = b[l:]
		if num != c.pageField || typ != protowire.BytesType {
			if l = protowire.ConsumeFieldValue(num, typ, b); l < 0 {
				return n, origin
			}
			b = b[l:]
			continue
		}
		// The page (a message field sent more than once is merged: its
		// records add up).
		page, l := protowire.ConsumeBytes(b)
		if l < 0 {
			return n, origin
		}
		b = b[l:]
		for len(page) > 0 && n <= limit {
			num, typ, l := protowire.ConsumeTag(page)
			if l < 0 {
				return n, origin
			}
			page = page[l:]
			if l = protowire.ConsumeFieldValue(num, typ, page); l < 0 {
				return n, origin
			}
			if num == c.originField && typ == protowire.BytesType {
				if o, _ := protowire.ConsumeBytes(page); envelope.ValidOrigin(string(o)) {
					origin = string(o)
				}
			}
			page = page[l:]
			if num == c.recordsField && typ == protowire.BytesType {
				n++
			}
		}
	}
	return n, origin
}
