package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ogptoolbox/federation/internal/lockedbuf"
)

// process is a running `ogpnode serve`.
type process struct {
	origin, http, gossip string
	logs                 lockedbuf.Buffer
	cmd                  *exec.Cmd
	exited               chan struct{} // closed once the process has exited
}

// startProcess runs `ogpnode serve` for origin with args, on a data folder
// and addresses of its own, and waits until it is healthy.
func startProcess(t *testing.T, bin, origin string, args ...string) *process {
	t.Helper()
	return startProcessAt(t, bin, origin, nodeAt{data: t.TempDir(), http: freeAddr(t), grpc: freeAddr(t), gossip: freeAddr(t)}, args...)
}

// nodeAt is where a process keeps its catalog and listens: what a node
// restarted in place has again.
type nodeAt struct{ data, http, grpc, gossip string }

// startProcessAt runs `ogpnode serve` for origin at at, with args, and
// waits until it is healthy. The process is killed at the test's end if
// it still runs.
func startProcessAt(t *testing.T, bin, origin string, at nodeAt, args ...string) *process {
	t.Helper()
	p := &process{origin: origin, http: at.http, gossip: at.gossip, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--origin", origin, "--data", at.data,
		"--http-addr", at.http, "--grpc-addr", at.grpc, "--gossip-addr", at.gossip, "--gossip-timings", "local"}, args...)...)
	p.cmd.Env = append(os.Environ(), "OGPNODE_ADMIN_TOKEN="+e2eToken)
	p.cmd.Stdout, p.cmd.Stderr = &p.logs, &p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		err := p.cmd.Wait()
		close(p.exited)
		exited <- err
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("logs of %s:\n%s", origin, p.logs.String())
		}
	})
	waitHealthy(t, "http://"+p.http, exited)
	return p
}

// kill ends the process with SIGKILL, as a crash or a power cut would,
// and waits until it has exited.
func (p *process) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

const e2eToken = "an-admin-token-for-the-e2e-test"

// call makes a REST call and returns the status and body.
func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls until every process answers GET path as check wants.
func eventually(t *testing.T, procs []*process, path, what string, check func(status int, body string) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range procs {
		for {
			status, body := call(t, "GET", "http://"+p.http+path, "")
			if check(status, body) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s: got %d %s", p.origin, what, status, body)
			}
			time.Sleep(20 * time.Millisecond) // a poll interval
		}
	}
}

// TestFederationOfProcesses starts three real nodes that gossip with an
// encryption key (in a file, as the README shows, and on the command line),
// and checks over REST that a create, an update and a delete on one node
// appear on the two others.
func TestFederationOfProcesses(t *testing.T) {
	bin := buildBinary(t)
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	keyFile := filepath.Join(t.TempDir(), "gossip.key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fr := startProcess(t, bin, "fr", "--gossip-key-file", keyFile)
	de := startProcess(t, bin, "de", "--gossip-key-file", keyFile, "--join", fr.gossip)
	es := startProcess(t, bin, "es", "--gossip-key", key, "--join", de.gossip)
	others := []*process{de, es}

	status, body := call(t, "POST", "http://"+fr.http+"/v1/origins/fr/tools?tool_id=decidim",
		`{"display_name": "Decidim", "descriptions": {"en": {"short_description": "Participatory democracy"}}}`)
	if status != 200 {
		t.Fatalf("create: %d %s", status, body)
	}
	eventually(t, others, "/v1/origins/fr/tools/decidim", "the created tool", func(s int, b string) bool {
		return s == 200 && strings.Contains(b, `"Decidim"`)
	})
	eventually(t, others, "/v1/tools?query=participatory", "the tool found by search", func(s int, b string) bool {
		return s == 200 && strings.Contains(b, "origins/fr/tools/decidim")
	})

	status, body = call(t, "PATCH", "http://"+fr.http+"/v1/origins/fr/tools/decidim?update_mask=display_name", `{"display_name": "Decidim 0.28"}`)
	if status != 200 {
		t.Fatalf("update: %d %s", status, body)
	}
	eventually(t, others, "/v1/origins/fr/tools/decidim", "the update", func(s int, b string) bool {
		return s == 200 && strings.Contains(b, `"Decidim 0.28"`)
	})

	if status, body = call(t, "DELETE", "http://"+fr.http+"/v1/origins/fr/tools/decidim", ""); status != 200 {
		t.Fatalf("delete: %d %s", status, body)
	}
	eventually(t, others, "/v1/origins/fr/tools/decidim", "the delete", func(s int, b string) bool { return s == 404 })

	// Each node lists the two others, alive, pulled from without error
	// (the anti-entropy of the local timings pulls every second), and up
	// to date.
	eventually(t, []*process{fr, de, es}, "/v1/peers", "the peers, synced without error", peersInSync(3))
	if status, body := call(t, "GET", "http://"+es.http+"/metrics", ""); status != 200 ||
		!strings.Contains(body, `ogpnode_sync_records_applied_total{origin="fr"}`) || !strings.Contains(body, `ogpnode_sync_lag{origin="fr"} 0`) {
		t.Errorf("es's metrics lack replication figures: %d", status)
	}

	// A node does not take writes for another origin, replicated or not.
	if status, _ := call(t, "DELETE", "http://"+de.http+"/v1/origins/fr/tools/decidim", ""); status != 403 {
		t.Errorf("deleting fr's tool on de: %d, want 403", status)
	}
	for _, p := range []*process{fr, de, es} {
		if strings.Contains(p.logs.String(), "gossip is not encrypted") {
			t.Errorf("%s: gossip unencrypted despite --gossip-key", p.origin)
		}
	}
}

// peersInSync is a check of GET /v1/peers: two members listed, both alive,
// both pulled from at least once, neither failing now, no lag, and fr's
// head at frHead.
func peersInSync(frHead int) func(int, string) bool {
	return func(status int, body string) bool {
		var list struct {
			Peers []struct {
				Origin       string  `json:"origin"`
				State        string  `json:"state"`
				LastSyncTime *string `json:"last_sync_time"`
				LastError    string  `json:"last_error"`
				HeadSeq      string  `json:"head_seq"`
				Lag          string  `json:"lag"`
			} `json:"peers"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.Peers) != 2 {
			return false
		}
		for _, p := range list.Peers {
			if p.State != "PEER_STATE_ALIVE" || p.LastSyncTime == nil || p.LastError != "" || (p.Lag != "" && p.Lag != "0") {
				return false
			}
			if p.Origin == "fr" && p.HeadSeq != strconv.Itoa(frHead) {
				return false
			}
		}
		return true
	}
}
