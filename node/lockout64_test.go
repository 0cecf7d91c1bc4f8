package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/internal/lockout"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/tap"
)

// TestGRPCPortGuessesCountedByTheirSlash64: an IPv6 reader's wrong admin
// tokens count by its /64 on the public gRPC port too, as on REST: a
// guesser that takes a new address of its /64 at each guess must be
// locked out past five.
func TestGRPCPortGuessesCountedByTheirSlash64(t *testing.T) {
	auth := &adminAuth{want: []byte(testToken), guard: lockout.New(nil), proxies: lockout.Proxies(nil)}
	st := startNode(t).store
	handle := authTap(auth, false, slog.New(slog.NewTextHandler(io.Discard, nil)), newMetrics(st, slog.New(slog.NewTextHandler(io.Discard, nil))))
	for i := range 12 {
		ip := net.ParseIP(fmt.Sprintf("2001:db8:1:2::%x", i+1))
		ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: ip, Port: 40000 + i}})
		_, err := handle(ctx, &tap.Info{FullMethodName: catalogv1.CatalogService_CreateTool_FullMethodName,
			Header: metadata.Pairs("authorization", fmt.Sprintf("Bearer guess-%d-0123456789", i))})
		if err != nil && strings.Contains(err.Error(), "too many wrong admin tokens") {
			return
		}
	}
	t.Errorf("12 wrong admin tokens on the gRPC port from 12 addresses of 2001:db8:1:2::/64, none refused as too many (REST counts them by the /64)")
}

// TestGRPCAndRESTShareTheCountOverIPv6: the README says the sign-in and
// the API's writes share one count; from one IPv6 address, six wrong
// tokens on the gRPC port must lock its REST writes out too.
func TestGRPCAndRESTShareTheCountOverIPv6(t *testing.T) {
	n := startNode(t, func(c *Config) { c.HTTPAddr, c.GRPCAddr = "[::1]:0", "[::1]:0" })
	c := n.client
	for i := range 6 {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", fmt.Sprintf("Bearer guess-%d-0123456789", i))
		c.CreateTool(ctx, &catalogv1.CreateToolRequest{Parent: "origins/fr", ToolId: "x", Tool: validTool()})
	}
	resp, _ := n.do(t, "POST", "/v1/origins/fr/tools?tool_id=x", "guess-6-0123456789", `{"display_name": "x"}`)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after 6 wrong tokens on the gRPC port from ::1, a REST write from ::1 with a wrong one: %d, want 429 (they share the count)", resp.StatusCode)
	}
}
