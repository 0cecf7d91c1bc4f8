package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ogpnode.yaml")
	if err := os.WriteFile(file, []byte("origin: de\nhttp-addr: 0.0.0.0:1\ngrpc-addr: 0.0.0.0:2\ndata: /from/file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OGPNODE_HTTP_ADDR": "127.0.0.1:3", "OGPNODE_GRPC_ADDR": "127.0.0.1:4", "OGPNODE_ADMIN_TOKEN": "from-the-environment"}
	cfg, _, err := parseServe([]string{"--config", file, "--grpc-addr", "127.0.0.1:5"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.Origin, cfg.DataDir, cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr, cfg.AdminToken}
	want := []string{"de", "/from/file", "127.0.0.1:3", "127.0.0.1:5", "127.0.0.1:7946", "from-the-environment"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("file < env < flags (-got +want):\n%s", diff)
	}

	if err := os.WriteFile(file, []byte("orgin: de\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("a config file with an unknown key was accepted")
	}
}
