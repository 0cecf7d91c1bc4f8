package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"golang.org/x/net/http2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// TestGRPCPortReadsNoLargeMessages: the gRPC port, which anyone may call,
// reads no request larger than twice --max-request-bytes, whatever the
// method: a large read is refused before the node takes it in, and a
// harvest import of more than --max-request-bytes is sent in parts, or
// over REST, which takes it up to --max-harvest-bytes.
func TestGRPCPortReadsNoLargeMessages(t *testing.T) {
	n := startNode(t) // --max-request-bytes 64 KiB; --max-harvest-bytes as by default, 128 MiB
	ctx := context.Background()
	bigSend := grpc.MaxCallSendMsgSize(64 << 20)

	// An anonymous read of 8 MiB: refused by gRPC itself, before any
	// interceptor, as it does not read such a message.
	_, err := n.client.ListTools(ctx, &catalogv1.ListToolsRequest{Query: strings.Repeat("x", 8<<20)}, bigSend)
	if grpcstatus.Code(err) != codes.ResourceExhausted {
		t.Errorf("an anonymous read of 8 MiB: %v, want RESOURCE_EXHAUSTED", err)
	}
	// A little over the limit, it gets the interceptor's clearer word.
	_, err = n.client.ListTools(ctx, &catalogv1.ListToolsRequest{Query: strings.Repeat("x", 100<<10)}, bigSend)
	if grpcstatus.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "more than the 65536 this node takes") {
		t.Errorf("a read of 100 KiB: %v, want INVALID_ARGUMENT naming the limit", err)
	}

	// A harvest import of 100 KiB, with the token: over gRPC in one
	// message, refused, saying how to send it; in parts, imported; over
	// REST, the same (unchanged).
	imp, body := cityHarvest(200)
	harvests := catalogv1.NewHarvestServiceClient(n.conn)
	_, err = harvests.ImportHarvest(admin(ctx), imp, bigSend)
	if grpcstatus.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "send it in parts (ImportHarvestInParts), or over REST") {
		t.Errorf("a harvest import of %d bytes over gRPC: %v, want INVALID_ARGUMENT saying how to send it", proto.Size(imp), err)
	}
	run, err := importInParts(admin(ctx), harvests, imp, 20)
	if err != nil || run.GetCreated() != 200 {
		t.Fatalf("the import in parts of 20 entries: %v, %v", run, err)
	}
	status, answer := n.doJSON(t, "POST", "/v1/harvests:import", testToken, body)
	if status != 200 || answer["unchanged"] != float64(200) {
		t.Fatalf("the same import over REST (%d bytes): %d, %v unchanged, %v rejected", len(body), status, answer["unchanged"], answer["rejected"])
	}
	// Nothing the gRPC port refused was half-applied, and it serves on.
	info, err := n.client.GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{})
	if err != nil || info.GetToolCount() != 200 {
		t.Errorf("after the refusals: %d tools, %v; want the 200 of the import", info.GetToolCount(), err)
	}
}

// TestPullOfManyOriginsTaken: a peer's pull names every origin its catalog
// holds, with its watermark; the gRPC port, which reads no large message
// of anyone, still takes the pull of a peer of 80,000 origins, whatever
// --max-request-bytes says (64 KiB here).
func TestPullOfManyOriginsTaken(t *testing.T) {
	n := startNode(t)
	conn, err := grpc.NewClient(n.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := &federationv1.PullRequest{Watermarks: map[string]int64{}, AllOrigins: true}
	for i := range 80000 {
		req.Watermarks[fmt.Sprintf("fr-commune-%05d-interco", i)] = int64(1000 + i)
	}
	stream, err := federationv1.NewFederationServiceClient(conn).Pull(context.Background(), req)
	for err == nil {
		_, err = stream.Recv()
	}
	if err != io.EOF {
		t.Errorf("the pull of a peer of 80,000 origins (%d bytes): %v", proto.Size(req), err)
	}
}

// TestGRPCPortBoundsStreamsOfAConnection: the gRPC port tells every client,
// in its HTTP/2 settings, how many calls one connection may have under way
// at once; without a bound, one connection of anyone's held thousands of
// streams (health watches, which never end), a goroutine and buffers each.
func TestGRPCPortBoundsStreamsOfAConnection(t *testing.T) {
	n := startNode(t)
	conn, err := net.Dial("tcp", n.GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	framer := http2.NewFramer(conn, conn)
	if err := framer.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	frame, err := framer.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	settings, ok := frame.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("the server's first frame: %v, want its settings", frame)
	}
	if streams, ok := settings.Value(http2.SettingMaxConcurrentStreams); !ok || streams > 1000 {
		t.Errorf("the gRPC port's settings: %v; want at most 1000 streams under way a connection", settings)
	}
}

// TestConcurrentReadsBoundCatalogConnections: hundreds of anonymous reads
// at once open no more than a few connections to the catalog (two file
// descriptors each): unbounded, each read under way opened its own,
// toward the process's limit of files.
func TestConcurrentReadsBoundCatalogConnections(t *testing.T) {
	ctx := context.Background()
	n := startNode(t)
	long := strings.Repeat("participation ", 600) // 8 KiB: reads that take a while
	var writes []storage.Write
	for i := range 400 {
		tl := validTool()
		tl.DisplayName = fmt.Sprintf("Tool %d", i)
		tl.Descriptions["en"].LongDescription = long
		writes = append(writes, storage.Write{Op: storage.OpCreate, ID: fmt.Sprintf("tool-%d", i), Resource: tl})
	}
	if _, err := n.store.Apply(ctx, writes); err != nil {
		t.Fatal(err)
	}
	openFiles := func() int { fds, _ := os.ReadDir("/proc/self/fd"); return len(fds) }
	before := openFiles()
	var peak atomic.Int64
	var wg gosync.WaitGroup
	for range 300 {
		wg.Go(func() {
			if _, err := n.client.ListTools(ctx, &catalogv1.ListToolsRequest{PageSize: 200}); err != nil {
				t.Error(err)
			}
			now := int64(openFiles()) // a sample: each read looks once it is answered
			for old := peak.Load(); now > old && !peak.CompareAndSwap(old, now); old = peak.Load() {
			}
		})
	}
	wg.Wait()
	if grew := int(peak.Load()) - before; grew > 60 {
		t.Errorf("300 anonymous reads at once took the node from %d open files to %d: a connection to the catalog for each read under way", before, peak.Load())
	}
}

// TestGRPCRequestsThatDoNotDecode: a request over gRPC that does not decode
// is the caller's error, INVALID_ARGUMENT, naming the string that is not
// UTF-8 when that is why, as the same request over REST gets 400: gRPC
// answered INTERNAL, the node's fault, naming nothing. The node serves on.
func TestGRPCRequestsThatDoNotDecode(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	for _, tc := range []struct {
		method  string
		request wireBytes
		field   string
	}{
		{catalogv1.CatalogService_ListTools_FullMethodName, wireBytes{0x0a, 0x02, 0xff, 0xfe}, "query"},   // query: ff fe
		{catalogv1.CatalogService_ListTools_FullMethodName, wireBytes{0x0a, 0x10, 0x01}, "request"},       // a field of 16 bytes that holds 1
		{catalogv1.CatalogService_GetTool_FullMethodName, wireBytes{0x0a, 0x03, 'a', 0xc3, 0x28}, "name"}, // name: a, then half a character
		{"/grpc.health.v1.Health/Watch", wireBytes{0x0a, 0x01, 0xff}, "service"},                          // a stream's request
	} {
		var out wireBytes
		var err error
		if strings.HasSuffix(tc.method, "/Watch") {
			var s grpc.ClientStream
			s, err = n.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, tc.method, grpc.ForceCodec(wireCodec{}))
			if err == nil {
				if err = s.SendMsg(&tc.request); err == nil {
					s.CloseSend()
					err = s.RecvMsg(&out)
				}
			}
		} else {
			err = n.conn.Invoke(ctx, tc.method, &tc.request, &out, grpc.ForceCodec(wireCodec{}))
		}
		st := grpcstatus.Convert(err)
		if st.Code() != codes.InvalidArgument || !strings.HasPrefix(st.Message(), tc.field+": ") {
			t.Errorf("%s with % x: %v %q, want INVALID_ARGUMENT naming %s", tc.method, []byte(tc.request), st.Code(), st.Message(), tc.field)
		}
	}
	if code, body := n.doJSON(t, "GET", "/v1/tools?query=%ff%fe", "", ""); code != 400 {
		t.Errorf("the same over REST: %d %v", code, body)
	}
	if _, err := n.client.GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{}); err != nil {
		t.Errorf("the node after: %v", err)
	}
}

// TestUndecodableRequestsLeaveNothingBehind: anonymous calls of a method
// that takes one request, each sending two of which one does not decode
// (3 MiB of query, then an origin not UTF-8: gRPC refuses the second
// message of a unary call once it decoded it, before any interceptor
// runs), leave nothing behind once they ended: the codec kept each
// request that did not decode until an interceptor refused it, which
// these never reach.
func TestUndecodableRequestsLeaveNothingBehind(t *testing.T) {
	n := startNode(t)
	ctx := context.Background()
	req := protowire.AppendTag(nil, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, bytes.Repeat([]byte("a"), 3<<20))
	req = protowire.AppendTag(req, 2, protowire.BytesType)
	req = protowire.AppendBytes(req, []byte{0xff})
	bad := wireBytes(req)
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for range 30 {
		s, err := n.conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, catalogv1.CatalogService_ListTools_FullMethodName, grpc.ForceCodec(wireCodec{}))
		if err != nil {
			t.Fatal(err)
		}
		s.SendMsg(&bad)
		s.SendMsg(&bad)
		s.CloseSend()
		var out wireBytes
		if err := s.RecvMsg(&out); err == nil {
			t.Fatal("answered")
		}
	}
	if grew := (int64(heap()) - int64(before)) >> 20; grew > 30 {
		t.Errorf("30 refused calls of 3 MiB each left the node's heap %d MiB larger", grew)
	}
}
