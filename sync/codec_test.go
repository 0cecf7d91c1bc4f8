package sync

import (
	"context"
	gosync "sync"
	"testing"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// gRPC reuses the buffers a message arrived in once it is decoded: a page
// must own its bytes, which its records share.
func TestPageCodecOwnsThePage(t *testing.T) {
	page := sourcePages(t, 50, 0)[0]
	buf, err := proto.Marshal(&federationv1.PullResponse{Page: page})
	if err != nil {
		t.Fatal(err)
	}
	var got federationv1.PullResponse
	if err := newPageCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(buf)}, &got); err != nil {
		t.Fatal(err)
	}
	clear(buf) // as gRPC's pool may, once Unmarshal returns
	if !proto.Equal(got.GetPage(), page) {
		t.Fatal("the decoded page changed with gRPC's buffer")
	}

	// What protobuf-go refuses, the codec refuses.
	bad, err := proto.Marshal(&federationv1.PullResponse{Page: &federationv1.OriginPage{Origin: "fr"}})
	if err != nil {
		t.Fatal(err)
	}
	bad[len(bad)-1] = 0xff // the origin's last byte: not UTF-8
	if err := newPageCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(bad)}, &got); err == nil {
		t.Error("a page whose origin is not UTF-8 decoded")
	}
}

// A pull asks with the content type of gRPC's default codec, as before the
// page codec: no bytes more per call, and nothing new for the servers and
// proxies between.
func TestPullContentType(t *testing.T) {
	var mu gosync.Mutex
	var contentTypes []string
	conn := serveLoopback(t, (&pageServer{pages: sourcePages(t, 20, 0)}).register,
		grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			md, _ := metadata.FromIncomingContext(ss.Context())
			mu.Lock()
			contentTypes = append(contentTypes, md.Get("content-type")...)
			mu.Unlock()
			return handler(srv, ss)
		}))

	res, err := PullFrom(context.Background(), openReplica(t), conn, 0)
	if err != nil || res.Applied != 20 {
		t.Fatalf("pulled %d of 20: %v", res.Applied, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(contentTypes) != 1 || contentTypes[0] != "application/grpc" {
		t.Errorf("the pull's content type is %q, want application/grpc", contentTypes)
	}
}
