package storage

import (
	"context"
	"errors"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// TestWritesGiveUpWaitingAtTheirDeadline holds the write lock, as a long
// page or the checkpoint that lets the log start over does: each kind of
// write whose deadline passes meanwhile fails with its context's error
// while the lock is still held, and leaves nothing behind; a write without
// a deadline waits, and goes through once the lock is released.
func TestWritesGiveUpWaitingAtTheirDeadline(t *testing.T) {
	ctx := context.Background()
	de, page := onePage(t, 10)
	cp, err := de.CheckPage(ctx, page)
	if err != nil {
		t.Fatal(err)
	}
	de.writeLock.Lock()
	held := true
	defer func() {
		if held {
			de.writeLock.Unlock()
		}
	}()

	writes := map[string]func(context.Context) error{
		"create": func(ctx context.Context) error {
			_, err := de.Apply(ctx, []Write{{Op: OpCreate, ID: "late", Resource: tool("Late", "x")}})
			return err
		},
		"page": func(ctx context.Context) error {
			_, err := de.ApplyChecked(ctx, cp)
			return err
		},
		"peer": func(ctx context.Context) error {
			return de.SavePeer(ctx, Peer{Origin: "fr", GossipAddr: "127.0.0.1:7946", GRPCAddr: "127.0.0.1:9090"})
		},
		"watermark reset": func(ctx context.Context) error { return de.ResetWatermark(ctx, "fr") },
		"harvest report": func(ctx context.Context) error {
			_, err := de.SaveHarvestRun(ctx, &catalogv1.HarvestRun{Source: &catalogv1.HarvestSource{Name: "test"}})
			return err
		},
	}
	for name, write := range writes {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		done := make(chan error, 1)
		go func() { done <- write(wctx) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %v, want the deadline's error", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: still waiting for the write lock 30 s after its deadline", name)
		}
		cancel()
	}

	waited := make(chan error, 1)
	go func() {
		_, err := de.Apply(ctx, []Write{{Op: OpCreate, ID: "patient", Resource: tool("Patient", "x")}})
		waited <- err
	}()
	if _, err := de.Get(ctx, KindTool, "de", "late"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the create that gave up was stored: %v", err)
	}
	if peers, err := de.Peers(ctx); err != nil || len(peers) != 0 {
		t.Errorf("the peer saved after giving up: %v, %v", peers, err)
	}
	if runs, err := de.HarvestRuns(ctx, "test", 10); err != nil || len(runs) != 0 {
		t.Errorf("the harvest report saved after giving up: %v, %v", runs, err)
	}
	de.writeLock.Unlock()
	held = false
	if err := <-waited; err != nil {
		t.Errorf("the write without a deadline: %v", err)
	}
	if n, err := de.ApplyChecked(ctx, cp); err != nil || n != 10 {
		t.Errorf("the page, once the lock is free: %d, %v; want its 10 records, from the watermark it had", n, err)
	}
}
