package node

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ogptoolbox/federation/harvest"
)

// contactTool is a tool whose maintenance names a person: a name, an
// e-mail address and a phone number (as publiccode.yml files give them).
const contactTool = `{"display_name":"Bilancio Partecipato","descriptions":{"it":{"short_description":"Bilancio partecipativo per i comuni"}},
	"license":"AGPL-3.0-or-later","categories":["collaboration"],
	"maintenance":{"type":"community","contacts":[{"name":"Dario Bianchi","email":"dario.bianchi@fornitore.it","phone":"+391624231322","affiliation":"Fornitore Privato"}]}}`

// awaitInCatalogFile waits until the catalog file of dir holds s: the
// write is then past the write-ahead log, which a checkpoint copies into
// the file within a quarter of a second, and a delete after it is a
// delete of what the file holds.
func awaitInCatalogFile(t *testing.T, dir, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dir, "catalog.db"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q never reached the catalog file of %s", s, dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// filesHolding returns the files of dir (its top level) whose bytes hold s.
func filesHolding(t *testing.T, dir string, s string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestContactGoneFromTheDataFolder: a curator deletes a tool whose
// maintenance names a person, or updates it to take the contact out (the
// right to erasure of the GDPR, in the member states where most nodes
// run). Reads say the tool is gone, and its tombstone holds none of it;
// the node stopped, no file of the data folder may still hold the
// person's e-mail address or phone number. (SQLite left what a write
// deleted in the page's free space, which checkpoints copied into
// catalog.db.)
func TestContactGoneFromTheDataFolder(t *testing.T) {
	for what, erase := range map[string]struct{ method, path, body string }{
		"the tool deleted":    {"DELETE", "/v1/origins/fr/tools/bilancio", ""},
		"the contact removed": {"PATCH", "/v1/origins/fr/tools/bilancio?update_mask=maintenance", `{"maintenance":{"type":"none"}}`},
	} {
		t.Run(what, func(t *testing.T) {
			cfg := testConfig(t)
			n, stop := startStoppable(t, cfg, io.Discard)
			if code, out := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=bilancio", testToken, contactTool); code != 200 {
				t.Fatalf("create: %d %v", code, out)
			}
			awaitInCatalogFile(t, cfg.DataDir, "dario.bianchi@fornitore.it")
			if code, out := n.doJSON(t, erase.method, erase.path, testToken, erase.body); code != 200 {
				t.Fatalf("%s: %d %v", erase.method, code, out)
			}
			stop()
			for _, pd := range []string{"dario.bianchi@fornitore.it", "+391624231322"} {
				if files := filesHolding(t, cfg.DataDir, pd); len(files) > 0 {
					t.Errorf("%s and the node stopped, %q is still in %v of the data folder", what, pd, files)
				}
			}
		})
	}
}

// TestBackupAfterDeleteHoldsNoContact: a backup made after the delete
// holds no trace of the contact (VACUUM INTO copies rows, not pages).
func TestBackupAfterDeleteHoldsNoContact(t *testing.T) {
	cfg := testConfig(t)
	n, stop := startStoppable(t, cfg, io.Discard)
	if code, out := n.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=bilancio", testToken, contactTool); code != 200 {
		t.Fatalf("create: %d %v", code, out)
	}
	awaitInCatalogFile(t, cfg.DataDir, "dario.bianchi@fornitore.it")
	if code, out := n.doJSON(t, "DELETE", "/v1/origins/fr/tools/bilancio", testToken, ""); code != 200 {
		t.Fatalf("delete: %d %v", code, out)
	}
	dest := filepath.Join(t.TempDir(), "backup")
	if err := BackupDataDir(context.Background(), cfg.DataDir, dest); err != nil {
		t.Fatal(err)
	}
	stop()
	if files := filesHolding(t, dest, "dario.bianchi@fornitore.it"); len(files) > 0 {
		t.Errorf("a backup made after the delete holds the contact in %v", files)
	}
	st, err := os.Stat(dest)
	if err != nil || st.Mode().Perm()&0o077 != 0 {
		t.Errorf("the backup folder, holding node.key: %v, %v", st.Mode(), err)
	}
}

// TestDeletedContactGoneFromAPeer: fr's curator deletes a tool whose
// maintenance names a person; the tombstone reaches de, which no longer
// serves the tool. de stopped, no file of its data folder may still hold
// the person's e-mail address: de's operator can do nothing about a
// record of fr's, erasure there rests on the tombstone alone.
func TestDeletedContactGoneFromAPeer(t *testing.T) {
	fr := startNode(t, func(c *Config) { c.GossipTimings = "local" })
	deCfg := testConfig(t, func(c *Config) {
		c.Origin, c.GossipTimings, c.Join = "de", "local", []string{fr.GossipAddr()}
	})
	de, stop := startStoppable(t, deCfg, io.Discard)
	if code, out := fr.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=bilancio", testToken, contactTool); code != 200 {
		t.Fatalf("create: %d %v", code, out)
	}
	if !reaches(t, de, "fr", "bilancio", 20*time.Second) {
		t.Fatal("de never got fr's tool")
	}
	awaitInCatalogFile(t, deCfg.DataDir, "dario.bianchi@fornitore.it")
	if code, out := fr.doJSON(t, "DELETE", "/v1/origins/fr/tools/bilancio", testToken, ""); code != 200 {
		t.Fatalf("delete: %d %v", code, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _ := de.doJSON(t, "GET", "/v1/origins/fr/tools/bilancio", "", ""); code == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("de never got fr's tombstone")
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if files := filesHolding(t, deCfg.DataDir, "dario.bianchi@fornitore.it"); len(files) > 0 {
		t.Errorf("fr's tombstone applied and de stopped, the contact's e-mail address is still in %v of de's data folder", files)
	}
}

// harvestFolder reads the publiccode.yml files of dir as source "city"
// and imports them into n over REST, as ogpnode harvest --node does.
func harvestFolder(t *testing.T, n *testNode, dir string) map[string]any {
	t.Helper()
	src, err := harvest.Source{Name: "city", Kind: harvest.KindPubliccode, Location: dir}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	req := harvest.Read(context.Background(), src, harvest.ReadOptions{})
	body, err := protojsonMarshal(req)
	if err != nil {
		t.Fatal(err)
	}
	code, run := n.doJSON(t, "POST", "/v1/harvests:import", testToken, string(body))
	if code != 200 {
		t.Fatalf("import: %d %v", code, run)
	}
	return run
}

// writeCorpusFile copies a publiccode.yml of the corpus to dir/sub, with
// its url and its first contact's e-mail address replaced.
func writeCorpusFile(t *testing.T, dir, sub, corpusFile, url, fromEmail, toEmail string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "corpus", "publiccode", "v0", corpusFile))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), `url: "https://github.com/italia/developers.italia.it.git"`, `url: "`+url+`"`, 1)
	s = strings.Replace(s, fromEmail, toEmail, 1)
	if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, sub, "publiccode.yml"), []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDroppedEntryContactGoneFromReports: a city's publiccode.yml names a
// maintainer whose e-mail address is mistyped (no top-level domain): the
// entry is rejected, rightly. The city then drops the file. The node's
// public reports (GET /v1/harvests, which anyone reads) should not go on
// publishing the person's address: the fault's key and line tell the
// curator what to mend, and no call of the API can erase a report.
func TestDroppedEntryContactGoneFromReports(t *testing.T) {
	n := startNode(t)
	dir := filepath.Join(t.TempDir(), "city")
	writeCorpusFile(t, dir, "app", "valid/valid.yml", "https://git.example.org/city/app", "", "")
	writeCorpusFile(t, dir, "medusa", "valid/maintenance_contacts_phone.yml", "https://git.example.org/city/medusa",
		"dario.bianchi@fornitore.it", "dario.bianchi@fornitore")
	run := harvestFolder(t, n, dir)
	if run["rejected"] != float64(1) || run["created"] != float64(1) {
		t.Fatalf("first run: %v; want one created, one rejected", run)
	}
	if err := os.RemoveAll(filepath.Join(dir, "medusa")); err != nil {
		t.Fatal(err)
	}
	if run = harvestFolder(t, n, dir); run["rejected"] != float64(0) {
		t.Fatalf("second run: %v; want none rejected", run)
	}
	resp, body := n.do(t, "GET", "/v1/harvests?source=city", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v1/harvests: %d %s", resp.StatusCode, body)
	}
	if i := bytes.Index(body, []byte("dario.bianchi@fornitore")); i >= 0 {
		t.Errorf("the entry gone from the source, the public reports still quote its maintainer's e-mail address: ...%s...", body[max(0, i-120):min(len(body), i+60)])
	}
}

// TestHarvestDroppedContactGoneFromTheDataFolder: a city's publiccode.yml
// names its maintainer; the city drops the file, and the next harvest
// deletes the tool (a tombstone). The node stopped, no file of its data
// folder may still hold the maintainer's e-mail address.
func TestHarvestDroppedContactGoneFromTheDataFolder(t *testing.T) {
	cfg := testConfig(t)
	n, stop := startStoppable(t, cfg, io.Discard)
	dir := filepath.Join(t.TempDir(), "city")
	writeCorpusFile(t, dir, "app", "valid/valid.yml", "https://git.example.org/city/app", "", "")
	writeCorpusFile(t, dir, "medusa", "valid/maintenance_contacts_phone.yml", "https://git.example.org/city/medusa", "", "")
	if run := harvestFolder(t, n, dir); run["created"] != float64(2) {
		t.Fatalf("first run: %v; want two created", run)
	}
	awaitInCatalogFile(t, cfg.DataDir, "francesco.rossi@example.org")
	if err := os.RemoveAll(filepath.Join(dir, "app")); err != nil {
		t.Fatal(err)
	}
	if run := harvestFolder(t, n, dir); run["deleted"] != float64(1) {
		t.Fatalf("second run: %v; want one deleted", run)
	}
	stop()
	if files := filesHolding(t, cfg.DataDir, "francesco.rossi@example.org"); len(files) > 0 {
		t.Errorf("the entry dropped by its source and its tool deleted, the maintainer's e-mail address is still in %v of the data folder", files)
	}
}
