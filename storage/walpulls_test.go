package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
)

// TestLogStartsOverWhilePeersPull: the write-ahead log must start over
// while the node writes and its members pull from it, as it does without
// them (TestLogStartsOverUnderSustainedWrites): members pull a node's new
// records after each of its writes, each pull reading its pages from one
// snapshot, as long as its caller takes to receive them. Here two
// members pull back to back what is new (30 ms a page, a WAN link), one
// starting while the other's pull is under way, while the node writes 20
// tools every 5 ms, with a log meant to start over past 256 KiB (64 MiB
// in production).
func TestLogStartsOverWhilePeersPull(t *testing.T) {
	ctx := context.Background()
	const startOver = 256 << 10
	path := filepath.Join(t.TempDir(), "catalog.db")
	s, err := Open(ctx, Options{Path: path, Origin: "fr", Key: testKey(1),
		checkpoints: checkpointTimings{interval: 5 * time.Millisecond, startOver: startOver}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for member := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(member) * 15 * time.Millisecond)
			var watermark int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.ReadPages(ctx, PullSpec{Watermarks: map[string]int64{"fr": watermark}, MaxPageBytes: 64 << 10}, func(p *federationv1.OriginPage) error {
					time.Sleep(30 * time.Millisecond) // the page crosses the link
					if n := len(p.GetRecords()); n > 0 {
						watermark = p.GetAfterSeq() + int64(n)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	var maxLog int64
	before := logRestarts(t, path+"-wal")
	batches := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); batches++ {
		var ws []Write
		for j := range 20 {
			ws = append(ws, Write{Op: OpCreate, ID: fmt.Sprintf("t%d-%d", batches, j),
				Resource: tool(fmt.Sprintf("Tool %d %d", batches, j), "A tool for participation in public decisions, with a description long enough to fill pages")})
		}
		if _, err := s.Apply(ctx, ws); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path + "-wal"); err == nil {
			maxLog = max(maxLog, st.Size())
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	restarts := logRestarts(t, path+"-wal") - before
	t.Logf("%d batches of 20 tools: the log started over %d times, and grew to %d KiB", batches, restarts, maxLog>>10)
	if maxLog > 8*startOver {
		t.Errorf("while two members pulled, the log started over %d times in %d batches and grew to %d KiB, %d times the length past which it should start over", restarts, batches, maxLog>>10, maxLog/startOver)
	}
}
