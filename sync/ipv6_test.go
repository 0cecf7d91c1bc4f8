package sync

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogptoolbox/federation/internal/lockedbuf"
	"github.com/ogptoolbox/federation/storage"
)

// TestGossipOnEveryIPv6InterfaceNeedsAdvertise: a node told to gossip on
// "::" without --advertise-addr announced "::", which every member dials
// as itself: it does not start, and says what to give.
func TestGossipOnEveryIPv6InterfaceNeedsAdvertise(t *testing.T) {
	store, err := storage.Open(context.Background(), storage.Options{Path: filepath.Join(t.TempDir(), "catalog.db"), Origin: "aa", Key: nodeKey("aa"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	r, err := Start(context.Background(), Config{Origin: "aa", GossipAddr: "[::]:0", GRPCAddr: "[::]:7400", Timings: TimingsLocal}, store, testLogger(t))
	if err == nil {
		r.Close()
		t.Fatal("a node gossiping on [::] without --advertise-addr started")
	}
	if !strings.Contains(err.Error(), "--advertise-addr") {
		t.Errorf("a node gossiping on [::] without --advertise-addr: %v, want it to name --advertise-addr", err)
	}
}

// TestMemberAnnouncingNoReachableAddressRefused: a member that announces
// its gRPC port on every interface ("[::]:7400", as nodes of earlier
// versions listening on "::" did) is dialled by each member as itself,
// which answered its own records for the member's: bb listed aa alive
// and synced, without error, and never got aa's records. It is refused,
// and the log says why (and the peers list, for a member it knew).
func TestMemberAnnouncingNoReachableAddressRefused(t *testing.T) {
	var logs lockedbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	b := startNode(t, t.TempDir(), "bb", clusterOpts{grpcHost: "::1", gossipHost: "::1", log: log})
	_, bPort, _ := net.SplitHostPort(b.lis.Addr().String())
	a := startNode(t, t.TempDir(), "aa", clusterOpts{grpcHost: "::1", gossipHost: "::1"})
	a.repl.mu.Lock()
	a.repl.self.GRPCAddr = net.JoinHostPort("::", bPort) // what bb's host reaches as bb
	a.repl.mu.Unlock()
	if err := a.repl.ml.UpdateNode(time.Second); err != nil {
		t.Fatal(err)
	}
	a.repl.ml.Join([]string{b.repl.GossipAddr()}) // aa's side of it may succeed: bb's is tested
	writeTools(t, a, "a", 3)
	waitFor(t, 10*time.Second, "bb says why it does not take aa", func() bool {
		return strings.Contains(logs.String(), "refusing a member: it announces no address a member can reach") &&
			strings.Contains(logs.String(), "--advertise-addr")
	})
	for _, p := range b.repl.Peers() {
		if p.Origin == "aa" {
			t.Errorf("bb lists aa (alive %v, synced at %v), though it announces gRPC %s", p.Alive, p.LastSync, p.GRPCAddr)
		}
	}
}
