package node

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestHTTPConnectionsTimeOut: a client holds no HTTP connection for ever:
// a keep-alive connection left idle is closed, and so is one whose
// request's body stalls.
func TestHTTPConnectionsTimeOut(t *testing.T) {
	n := startNode(t, func(c *Config) {
		c.httpTimeouts = httpTimeouts{header: time.Second, read: 300 * time.Millisecond, write: time.Second, idle: 300 * time.Millisecond, importTime: time.Second}
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
