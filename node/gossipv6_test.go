package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefusedGossipOnEveryIPv6InterfaceCreatesNothing: gossip on "::"
// without --advertise-addr is refused at start; as every other
// setting refused (TestRefusedStartCreatesNothing), it must leave neither
// the node key, nor the admin token, nor a catalog in a new data folder.
func TestRefusedGossipOnEveryIPv6InterfaceCreatesNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Origin = "fr"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.AdminToken = ""
	cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr = "127.0.0.1:0", "127.0.0.1:0", "[::]:0"
	n, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		n.Close()
		t.Fatal("a node gossiping on [::] without --advertise-addr started")
	}
	if !strings.Contains(err.Error(), "--advertise-addr") {
		t.Errorf("refused with %v, want it to name --advertise-addr", err)
	}
	for _, f := range []string{keyFile, adminTokenFile, catalogFile} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is in the data folder after the refused start (%v)", f, err)
		}
	}
}
