package harvest

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/ogptoolbox/federation/internal/lockedbuf"
)

// resettingServer answers every request with the start of a response and
// then resets the connection: a flaky proxy, a load balancer that drops a
// backend mid-transfer.
func resettingServer(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					c.Close()
					return
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[{\"id\": 1"))
				c.(*net.TCPConn).SetLinger(0) // close with a reset
				c.Close()
			}()
		}
	}()
	return "http://" + lis.Addr().String() + "/sill.json"
}

// TestSourceFailingAlikeSaidOnce: a scheduled source that fails the same
// way at every run (its server resets the connection) is said once, as
// TestFailingScheduledSourceSaidOnce checks for a 404, not at every
// interval: the README promises a warning "at its first such run and
// when why changes, not at every interval".
func TestSourceFailingAlikeSaidOnce(t *testing.T) {
	loc := resettingServer(t)
	s := openStore(t)
	var logs lockedbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []Scheduled{{Source: Source{Name: "sill", Kind: KindSILL, Location: loc}, Interval: "1s"}}, NewImporter(s, nil, quietLog()), ReadOptions{}, log)
	}()
	waitFor(t, "five failed runs", func() bool {
		r, err := s.HarvestRuns(context.Background(), "sill", 50)
		return err == nil && len(r) >= 5
	})
	cancel()
	<-done
	runs, _ := s.HarvestRuns(context.Background(), "sill", 50)
	warnings := strings.Count(logs.String(), "level=WARN")
	if warnings > 1 {
		t.Errorf("%d runs failed alike (the server reset the connection), %d warnings in the log, want one; the errors of the last two runs:\n%s\n%s\nthe log:\n%s",
			len(runs), warnings, runs[0].GetError(), runs[1].GetError(), logs.String())
	}
}
