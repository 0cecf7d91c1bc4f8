package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestKilledWhilePulling kills a node with SIGKILL, three times, while it
// pulls a peer's 30,000 tools, and restarts it each time on the same data
// folder and command line, as a supervisor would after a crash. Each pull
// picks up where the last committed page left it; in the end the node
// holds exactly the peer's records, finds them all by search, and its
// SQLite file passes an integrity check: a crash loses nothing and repeats
// nothing (../shared/DESIGN.md, "Records and replication").
func TestKilledWhilePulling(t *testing.T) {
	if testing.Short() {
		t.Skip("harvests 30,000 tools and runs real processes")
	}
	const tools = 30_000
	bin := buildBinary(t)

	// fr's catalog: a spreadsheet of tools harvested into its data folder.
	frData := t.TempDir()
	sheet := filepath.Join(t.TempDir(), "tools.csv")
	var rows bytes.Buffer
	rows.WriteString("id,name,description\n")
	for i := range tools {
		fmt.Fprintf(&rows, "tool-%05d,Tool %d,Consultation platform number %d for open government\n", i, i, i)
	}
	if err := os.WriteFile(sheet, rows.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// The binary harvests, not this test's process: under the race
	// detector, that would take most of the test's time.
	out, err := exec.Command(bin, "harvest", "--data", frData, "--origin", "fr", "--kind", "csv",
		"--columns", "id=id,display_name=name,descriptions.en.short_description=description", sheet).CombinedOutput()
	if err != nil || !strings.Contains(string(out), strconv.Itoa(tools)+" created") {
		t.Fatalf("harvesting fr's tools: %v\n%s", err, out)
	}
	fr := startProcessAt(t, bin, "fr", nodeAt{data: frData, http: freeAddr(t), grpc: freeAddr(t), gossip: freeAddr(t)})

	// de starts empty, and is killed each time it holds more of fr's
	// records than before, but not all of them.
	de := nodeAt{data: t.TempDir(), http: freeAddr(t), grpc: freeAddr(t), gossip: freeAddr(t)}
	var held []int64 // fr's head held by de when each kill was sent
	for range 3 {
		p := startProcessAt(t, bin, "de", de, "--join", fr.gossip)
		last := int64(0)
		if len(held) > 0 {
			last = held[len(held)-1]
		}
		if last > 0 {
			checkHeadKept(t, p, last)
		}
		head := waitForHead(t, p, func(h int64) bool { return h > last })
		if head == tools {
			t.Logf("the pull ended before a kill (de held fr's head %d before)", last)
			p.kill()
			break
		}
		p.kill()
		held = append(held, head)
	}
	if len(held) < 2 {
		t.Fatalf("fewer than two kills landed while de pulled (heads %v): the pull was too quick to interrupt", held)
	}
	t.Logf("de killed at fr's heads %v", held)

	p := startProcessAt(t, bin, "de", de, "--join", fr.gossip)
	checkHeadKept(t, p, held[len(held)-1])
	waitForHead(t, p, func(h int64) bool { return h == tools })
	status, body := call(t, "GET", "http://"+p.http+"/v1/node", "")
	var info struct {
		Origins []struct {
			Origin         string `json:"origin"`
			ToolCount      string `json:"tool_count"`
			TombstoneCount string `json:"tombstone_count"`
		} `json:"origins"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &info) != nil {
		t.Fatalf("GET /v1/node: %d %s", status, body)
	}
	for _, o := range info.Origins {
		if o.Origin == "fr" && (o.ToolCount != strconv.Itoa(tools) || o.TombstoneCount != "0") {
			t.Errorf("de holds %s live tools of fr and %s tombstones, want %d and 0", o.ToolCount, o.TombstoneCount, tools)
		}
	}
	status, body = call(t, "GET", "http://"+p.http+"/v1/tools:facets?query=consultation&origin=fr", "")
	var facets struct {
		TotalSize string `json:"total_size"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &facets) != nil || facets.TotalSize != strconv.Itoa(tools) {
		t.Errorf("a search on de for a word of every tool: %d %s, want a total of %d", status, body, tools)
	}
	// The digests fr and de compare in anti-entropy agree: fr is listed
	// in sync, and no divergence was counted.
	eventually(t, []*process{p}, "/v1/peers", "fr, in sync", func(status int, body string) bool {
		return status == 200 && strings.Contains(body, `"lag":"0"`) && strings.Contains(body, `"last_error":""`)
	})
	_, metrics := call(t, "GET", "http://"+p.http+"/metrics", "")
	if strings.Contains(metrics, "ogpnode_sync_divergences_total{") {
		t.Errorf("de found its records diverging from fr's after the crashes:\n%s", metrics)
	}
	// The last run pulled only what the runs before had not committed:
	// at most the records above the head seen before the last kill.
	applied := metricValue(t, metrics, `ogpnode_sync_records_applied_total{origin="fr"}`)
	if last := held[len(held)-1]; applied == 0 || applied > tools-int(last) {
		t.Errorf("after its restart, de applied %d records of fr, want from 1 to %d (the records above fr's head %d it held before)", applied, tools-int(last), last)
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Fatal("de did not stop within a minute of SIGINT")
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(de.data, "catalog.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("de's catalog after the crashes: integrity check %q, %v", check, err)
	}
}

// checkHeadKept checks that p, just restarted, holds fr up to at least
// the head it held when it was killed: its pull starts there, not over
// (a node that pulled everything again would skip what it holds, and
// count none of it as applied).
func checkHeadKept(t *testing.T, p *process, killedAt int64) {
	t.Helper()
	if head := waitForHead(t, p, func(int64) bool { return true }); head < killedAt {
		t.Fatalf("restarted, de holds fr up to %d, below the %d it held when killed", head, killedAt)
	}
}

// waitForHead polls p's GET /v1/node every few milliseconds until fr's head
// held there satisfies ok, and returns it.
func waitForHead(t *testing.T, p *process, ok func(int64) bool) int64 {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, body := call(t, "GET", "http://"+p.http+"/v1/node", "")
		var info struct {
			Origins []struct {
				Origin  string `json:"origin"`
				HeadSeq string `json:"head_seq"`
			} `json:"origins"`
		}
		if status == 200 && json.Unmarshal([]byte(body), &info) == nil {
			for _, o := range info.Origins {
				if h, err := strconv.ParseInt(o.HeadSeq, 10, 64); o.Origin == "fr" && err == nil && ok(h) {
					return h
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("fr's head on %s: %d %s", p.origin, status, body)
		}
		time.Sleep(2 * time.Millisecond) // a poll interval
	}
}

// metricValue is the value of series in a Prometheus text exposition.
func metricValue(t *testing.T, exposition, series string) int {
	t.Helper()
	for line := range strings.Lines(exposition) {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return int(v)
		}
	}
	t.Fatalf("no series %s in the metrics", series)
	return 0
}
