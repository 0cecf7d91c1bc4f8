package storage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestCountsNoTombstonesWhileCreating: a catalog of creates alone holds
// no tombstone, and Counts (GET /v1/node, /metrics) must not report any
// while creates go on: the records a create committed after Counts waited
// for the index are in the origin's digest count but not yet in the index.
func TestCountsNoTombstonesWhileCreating(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := 0; ; b++ {
			select {
			case <-stop:
				return
			default:
			}
			var ws []Write
			for j := range 20 {
				ws = append(ws, Write{Op: OpCreate, ID: fmt.Sprintf("t%d-%d", b, j), Resource: tool(fmt.Sprintf("Tool %d %d", b, j), "A tool")})
			}
			if _, err := s.Apply(ctx, ws); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		counts, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range counts {
			if c.Tombstones != 0 {
				t.Fatalf("a catalog of creates alone: Counts says %+v", c)
			}
		}
	}
}
