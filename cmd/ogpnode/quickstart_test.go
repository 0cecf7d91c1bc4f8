package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds ogpnode into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ogpnode")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address no one listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitHealthy polls /healthz until the node answers 200, or fails the test.
func waitHealthy(t *testing.T, base string, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("the node exited before it was healthy: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // a poll interval, not a guess at readiness
	}
	t.Fatal("the node did not become healthy within 60s")
}

// quickstart returns the README's quickstart block.
func quickstart(t *testing.T) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- quickstart:begin.*?-->\\s*```sh\\n(.*?)```\\s*<!-- quickstart:end -->").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no quickstart block")
	}
	return string(m[1])
}

// TestQuickstart starts the real ogpnode binary as the README's first
// command does (on free ports, in an empty folder) and runs the README's
// quickstart as written, with the default addresses swapped for those
// ports.
func TestQuickstart(t *testing.T) {
	grpcurl, err := exec.LookPath("grpcurl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("grpcurl is not installed: .ci/run installs it")
		}
		t.Skip("grpcurl not installed: go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4")
	}
	bin := buildBinary(t)
	work := t.TempDir()
	httpAddr, grpcAddr := freeAddr(t), freeAddr(t)

	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", "--http-addr", httpAddr, "--grpc-addr", grpcAddr, "--gossip-addr", "127.0.0.1:0")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "OGPNODE_ADMIN_TOKEN=") // the token must come from the data folder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("node logs:\n%s", logs.String())
		}
	})
	waitHealthy(t, "http://"+httpAddr, exited)

	script := quickstart(t)
	script = strings.ReplaceAll(script, "127.0.0.1:8080", httpAddr)
	script = strings.ReplaceAll(script, "127.0.0.1:7400", grpcAddr)
	script = strings.ReplaceAll(script, "grpcurl ", grpcurl+" ")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	sh.Dir = work
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart failed: %v\n%s", err, out)
	}
	// protojson varies its whitespace on purpose (so nobody depends on its
	// bytes), and grpcurl indents: compare with the spaces after ':' and ','
	// removed.
	text := regexp.MustCompile(`([:,])\s+`).ReplaceAllString(string(out), "$1")
	for _, want := range []string{
		`"name":"origins/local/tools/decidim"`,                        // created, and found by search
		`"development_status":"stable"`,                               // updated
		`{"field":"origin","values":[{"value":"local"`,                // facet counts
		"ogp.catalog.v1.CatalogService",                               // grpcurl list
		`"displayName":"Decidim"`,                                     // grpcurl GetTool
		`{"code":5,"message":"origins/local/tools/decidim:not found"`, // deleted
	} {
		if !strings.Contains(text, want) {
			t.Errorf("quickstart output lacks %s:\n%s", want, text)
		}
	}
	if n := strings.Count(text, `"name":"origins/local/tools/decidim"`); n < 3 {
		t.Errorf("the tool appears %d times; want it created, found and updated:\n%s", n, text)
	}

	// SIGTERM stops the node gracefully, with exit status 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("no graceful stop in the logs:\n%s", logs.String())
	}
}

// TestServeRefusesBadConfig checks that the binary exits non-zero with a
// message naming the problem: status 2 for a command line it cannot take, 1
// for one it took but could not carry out, so that a script or a
// supervisor can tell a typo from a failure.
func TestServeRefusesBadConfig(t *testing.T) {
	bin := buildBinary(t)
	for _, tc := range []struct {
		args   []string
		env    []string
		want   string
		status int
	}{
		{[]string{"serve", "--origin", "France"}, nil, `--origin "France": want a lowercase country code`, 1},
		{[]string{"serve", "--http-addr", "nope"}, nil, "--http-addr", 1},
		{[]string{"serve"}, []string{"OGPNODE_GRPC_ADDR=bad"}, "--grpc-addr", 1},
		{[]string{"frobnicate"}, nil, `unknown command "frobnicate"`, 2},
		{nil, nil, "no command given", 2},
		{[]string{"serve", "--no-such-flag"}, nil, "flag provided but not defined: -no-such-flag", 2},
		{[]string{"serve", "--max-request-bytes", "lots"}, nil, `invalid value "lots" for flag -max-request-bytes`, 2},
		{[]string{"serve", "extra"}, nil, "serve takes no arguments", 2},
		{[]string{"version", "extra"}, nil, "version takes no arguments", 2},
		{[]string{"version", "--bogus"}, nil, "version takes no arguments", 2},
		{[]string{"harvest"}, nil, "harvest: no source given", 2},
		{[]string{"harvest", "--kind", "rss", "a.xml"}, nil, `--kind "rss" is not one of`, 2},
		{[]string{"harvest", "--origin", "fr", "--data", "d", "missing.json"}, nil, "missing.json", 1},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), tc.env...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != tc.status || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v %v: %v\n%s\nwant exit status %d and an error naming %q", tc.env, tc.args, err, out, tc.status, tc.want)
		}
	}
	// Help is not an error, and neither is the version.
	for _, args := range [][]string{{"serve", "-h"}, {"help"}, {"version"}} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
}
