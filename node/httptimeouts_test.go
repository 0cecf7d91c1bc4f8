package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTTPConnectionsTimeOut: a client holds no HTTP connection for ever:
// a keep-alive connection left idle is closed, and so is one whose
// request's body stalls.
func TestHTTPConnectionsTimeOut(t *testing.T) {
	n := startNode(t, func(c *Config) {
		c.httpTimeouts = httpTimeouts{header: time.Second, read: 300 * time.Millisecond, write: time.Second, idle: 300 * time.Millisecond, importTime: time.Second, grace: time.Second}
	})
	closed := func(t *testing.T, conn net.Conn, r *bufio.Reader) {
		t.Helper()
		// A deadline far past the timeouts, to end the test should the
		// node never close the connection.
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		if b, err := io.ReadAll(r); err != nil {
			t.Errorf("the connection stays open (%v); read %q", err, b)
		}
	}

	// Idle after an answer.
	conn, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /v1/node HTTP/1.1\r\nHost: %s\r\n\r\n", n.HTTPAddr())
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 200 || resp.Close {
		t.Fatalf("GET /v1/node: %v, %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	closed(t, conn, r)

	// A body that stalls.
	stalled, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "POST /v1/origins/fr/tools HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\n{\"display", n.HTTPAddr(), testToken)
	closed(t, stalled, bufio.NewReader(stalled))
}

// TestStopWithAStalledClient: a node asked to stop while a client still
// sends a request's body stops cleanly once the grace is over, cutting
// that request: it is not the node's failure, and its supervisor must not
// see one.
func TestStopWithAStalledClient(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Origin = "fr"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.AdminToken = testToken
	cfg.httpTimeouts = defaultHTTPTimeouts
	cfg.httpTimeouts.grace = 500 * time.Millisecond
	n, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()

	conn, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Expect: 100-continue: the node answers it once the handler reads
	// the body, so the request is known to be under way.
	fmt.Fprintf(conn, "POST /v1/origins/fr/tools HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n", n.HTTPAddr(), testToken)
	r := bufio.NewReader(conn)
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("the request is not under way: %q, %v", line, err)
	}
	conn.Write([]byte("{"))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("the node stopped with a client still sending: %v, want nil", err)
	}
}
