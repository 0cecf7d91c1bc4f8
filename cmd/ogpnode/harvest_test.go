package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/node"
	"github.com/ogptoolbox/federation/storage"
)

// sharedCorpus is a file of ../shared/corpus, next to the repository.
func sharedCorpus(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the shared corpus is missing (%v): tests read ../shared/corpus next to the repository", err)
	}
	return p
}

func runHarvestCommand(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"harvest"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	if errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

// TestHarvestIntoDataFolder harvests SILL into a data folder, twice, then
// a source that cannot be read.
func TestHarvestIntoDataFolder(t *testing.T) {
	data := t.TempDir()
	sill := sharedCorpus(t, "sill/sill.json")
	out, err := runHarvestCommand(t, nil, "--data", data, "--origin", "fr", sill)
	if err != nil || !strings.Contains(out, "240 created, 0 updated, 0 unchanged, 0 deleted, 0 rejected") {
		t.Fatalf("first harvest: %v\n%s", err, out)
	}
	out, err = runHarvestCommand(t, map[string]string{"OGPNODE_ORIGIN": "fr", "OGPNODE_DATA": data}, sill)
	if err != nil || !strings.Contains(out, "0 created, 0 updated, 240 unchanged") {
		t.Fatalf("second harvest: %v\n%s", err, out)
	}
	out, err = runHarvestCommand(t, nil, "--data", data, "--origin", "fr", "--kind", "sill", filepath.Join(data, "missing.json"))
	if !errors.Is(err, errSourceFailed) || !strings.Contains(out, "error: ") {
		t.Fatalf("a missing source: %v\n%s", err, out)
	}
	if _, err := runHarvestCommand(t, nil, "--data", data, "--origin", "de", sill); err == nil || !strings.Contains(err.Error(), "fr") {
		t.Errorf("harvesting into a folder of another origin: %v", err)
	}
	if _, err := runHarvestCommand(t, nil, "--data", data, "--origin", "fr", "--kind", "rss", sill); err == nil {
		t.Error("--kind rss was accepted")
	}
	list := filepath.Join(t.TempDir(), "list.txt")
	if err := os.WriteFile(list, []byte("decidim\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runHarvestCommand(t, nil, "--data", data, "--origin", "fr", list); err == nil || !strings.Contains(err.Error(), "--kind") {
		t.Errorf("a source of unknown kind: %v", err)
	}
}

// TestHarvestIntoRunningNode starts a real node with a scheduled harvest in
// its configuration file, then harvests into it with --node, and reads the
// reports and the qualified tools over REST. A second scheduled source,
// a folder not there (a share not mounted yet), does not keep the node
// from starting.
func TestHarvestIntoRunningNode(t *testing.T) {
	bin := buildBinary(t)
	sill := sharedCorpus(t, "sill/sill.json")
	config := filepath.Join(t.TempDir(), "ogpnode.yaml")
	notMounted := filepath.Join(t.TempDir(), "share", "catalog")
	if err := os.WriteFile(config, []byte("harvests:\n  - kind: sill\n    name: sill\n    location: "+sill+"\n    interval: 24h\n"+
		"  - location: "+notMounted+"\n    interval: 24h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, bin, "fr", "--config", config)
	base := "http://" + p.http
	eventually(t, []*process{p}, "/v1/harvests", "the scheduled harvest's report", func(status int, body string) bool {
		return status == 200 && strings.Contains(body, `"created":240`)
	})

	one := sharedCorpus(t, "publiccode/v0/valid/valid.yml")
	// The token of the environment, as a secret's file gives it (with a
	// newline), as the node takes it.
	out, err := runHarvestCommand(t, map[string]string{"OGPNODE_ADMIN_TOKEN": e2eToken + "\n"}, "--node", base, one)
	if err != nil || !strings.Contains(out, "1 created") {
		t.Fatalf("harvest --node: %v\n%s", err, out)
	}
	if _, err := runHarvestCommand(t, map[string]string{"OGPNODE_ADMIN_TOKEN": "wrong"}, "--node", base, one); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrong token: %v", err)
	}
	status, body := call(t, "GET", base+"/v1/harvests?page_size=10", "")
	if status != 200 || strings.Count(body, `"name":"harvests/`) != 2 {
		t.Errorf("GET /v1/harvests: %d %s", status, body)
	}
	status, body = call(t, "GET", base+"/v1/tools?criterion=open_license&order_by=score%20desc&page_size=5", "")
	var page struct {
		Tools []struct {
			Qualification struct {
				Score    int
				Criteria []struct {
					ID  string `json:"id"`
					Met bool
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &page); status != 200 || err != nil || len(page.Tools) != 5 {
		t.Fatalf("tools with an open license, best first: %d %v %.300s", status, err, body)
	}
	for i, tool := range page.Tools {
		q := tool.Qualification
		if len(q.Criteria) != 7 || q.Criteria[0].ID != "open_license" || !q.Criteria[0].Met || (i > 0 && q.Score > page.Tools[i-1].Qualification.Score) {
			t.Errorf("tool %d of the page: %+v", i, q)
		}
	}
	status, body = call(t, "GET", base+"/v1/tools?criterion=unknown", "")
	if status != 400 || !strings.Contains(body, "criterion") {
		t.Errorf("an unknown criterion: %d %s", status, body)
	}
}

// TestProgressLines checks the progress of a long read when stderr is not
// a terminal: a plain line at each tenth, nothing for small sources.
func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, "catalog")
	for i := 1; i <= 1000; i++ {
		p.update(i, 1000)
	}
	p.done()
	if n := strings.Count(buf.String(), "\n"); n != 10 || !strings.Contains(buf.String(), "harvest catalog: read 1000 of 1000 files") {
		t.Errorf("%d lines:\n%s", n, buf.String())
	}
	buf.Reset()
	small := newProgress(&buf, "small")
	small.update(5, 10)
	small.done()
	if buf.Len() != 0 {
		t.Errorf("a small source printed progress: %q", buf.String())
	}
}

// TestPrintRunSaysRejectionsNotListed prints a report that lists fewer
// rejected entries than it counts: the output says how many it leaves out.
func TestPrintRunSaysRejectionsNotListed(t *testing.T) {
	var out bytes.Buffer
	printRun(&out, &catalogv1.HarvestRun{Name: "harvests/1", Source: &catalogv1.HarvestSource{Name: "city"}, Rejected: 5,
		RejectedEntries: []*catalogv1.RejectedEntry{{Where: "a.yml"}, {Where: "b.yml"}}})
	if !strings.Contains(out.String(), "and 3 more rejected entries") {
		t.Errorf("the report printed:\n%s", out.String())
	}
}

// TestHarvestGoesOnAfterAFailedImport: `ogpnode harvest A B`, where A is
// refused before it is read (its name, made from a path of 400 characters,
// is too long for an import): B is still harvested, and the command fails,
// saying why A was not.
func TestHarvestGoesOnAfterAFailedImport(t *testing.T) {
	data := t.TempDir()
	deep := filepath.Join(t.TempDir(), strings.Repeat("d", 200), strings.Repeat("e", 200))
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	sheet := filepath.Join(deep, "outils.csv")
	if err := os.WriteFile(sheet, []byte("id,Nom,Description\n1,Décidim,Démocratie participative\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runHarvestCommand(t, nil, "--data", data, "--origin", "fr",
		"--columns", "id=id,display_name=Nom,descriptions.fr.short_description=Description",
		sheet, sharedCorpus(t, "sill/sill.json"))
	if err == nil || !strings.Contains(err.Error(), "source.name") || !strings.Contains(err.Error(), "give it a name") || !strings.Contains(out, "240 created") {
		t.Errorf("the SILL after a refused import: %v\n%s", err, out)
	}
}

// TestHarvestMissingFileSaysSo: a path whose kind its name does not tell,
// and that is not there, is said to be missing, not of a kind unknown, and
// the other sources still have their runs, before or after it.
func TestHarvestMissingFileSaysSo(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "tools.json")
	data := filepath.Join(t.TempDir(), "data")
	_, err := runHarvestCommand(t, nil, "--data", data, "--origin", "fr", missing)
	if err == nil || !strings.Contains(err.Error(), "no such file or folder") {
		t.Errorf("harvest %s: %v", missing, err)
	}
	out, err := runHarvestCommand(t, nil, "--data", data, "--origin", "fr", missing, sharedCorpus(t, "sill/sill.json"))
	if err == nil || !strings.Contains(err.Error(), "no such file or folder") || !strings.Contains(out, "240 created") {
		t.Errorf("harvest of a missing source, then the SILL: %v\n%s", err, out)
	}
}

// TestHarvestWithoutNodeRefusesAFederatedCatalog checks that a harvest
// into a data folder whose catalog remembers members of a federation is
// refused, as its writes would not wait for them as the node's do at start,
// unless --offline says the catalog holds every record of its origin; and
// that one into the catalog of a lone node goes ahead.
func TestHarvestWithoutNodeRefusesAFederatedCatalog(t *testing.T) {
	sill := sharedCorpus(t, "sill/sill.json")
	lone := t.TempDir()
	if out, err := runHarvestCommand(t, nil, "--data", lone, "--origin", "fr", sill); err != nil || !strings.Contains(out, "240 created") {
		t.Errorf("a lone node's catalog: %v\n%s", err, out)
	}

	federated := t.TempDir()
	cat, err := node.OpenCatalog(context.Background(), "fr", federated, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Store.SavePeer(context.Background(), storage.Peer{Origin: "de", GossipAddr: "127.0.0.1:7947", GRPCAddr: "127.0.0.1:7401"}); err != nil {
		t.Fatal(err)
	}
	if err := cat.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := runHarvestCommand(t, nil, "--data", federated, "--origin", "fr", sill)
	if err == nil || !strings.Contains(err.Error(), "1 members remembered") || !strings.Contains(err.Error(), "--node") || strings.Contains(out, "created") {
		t.Errorf("a federated catalog harvested without its node: %v\n%s", err, out)
	}
	if out, err := runHarvestCommand(t, nil, "--data", federated, "--origin", "fr", "--offline", sill); err != nil || !strings.Contains(out, "240 created") {
		t.Errorf("--offline: %v\n%s", err, out)
	}
	if _, err := runHarvestCommand(t, nil, "--node", "http://127.0.0.1:1", "--offline", sill); !errors.As(err, new(usageError)) {
		t.Errorf("--node with --offline: %v", err)
	}
	// Said before the source is read, not after a clone as Go's
	// "unsupported protocol scheme".
	for _, u := range []string{"localhost:8080", "127.0.0.1:8080", "ftp://node.example.org", "http://"} {
		if _, err := runHarvestCommand(t, nil, "--node", u, sill); !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), "--node") {
			t.Errorf("--node %s: %v, want a usage error naming --node", u, err)
		}
	}
}

// TestPrintRunSaysWhatWasLeftOut prints a report of entries imported
// without some of their values: the output names each, with what was left
// out, and how many it does not list.
func TestPrintRunSaysWhatWasLeftOut(t *testing.T) {
	var out bytes.Buffer
	printRun(&out, &catalogv1.HarvestRun{Name: "harvests/1", Source: &catalogv1.HarvestSource{Name: "city"}, Created: 3, Warned: 2,
		WarnedEntries: []*catalogv1.RejectedEntry{{Where: "medusa/publiccode.yml", Findings: []*catalogv1.Finding{{Key: "url", Line: 7, Message: "is not an http or https URL: left out"}}}}})
	for _, want := range []string{"3 created", "2 imported without some values", "imported without some values, medusa/publiccode.yml:", "url (line 7)", "left out", "and 1 more entries imported without some values"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report does not say %q:\n%s", want, out.String())
		}
	}
}

// TestHarvestIntoAWipedCatalogRefused: a data folder whose catalog was
// wiped, its key kept, remembers no member: a harvest into it made a
// catalog anew, writing from seq 1 the seqs its federation holds already,
// which never reach the members. It is refused, and makes no catalog, but
// with --offline.
func TestHarvestIntoAWipedCatalogRefused(t *testing.T) {
	sill := sharedCorpus(t, "sill/sill.json")
	data := filepath.Join(t.TempDir(), "data")
	cat, err := node.OpenCatalog(context.Background(), "fr", data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"catalog.db", "catalog.db-wal", "catalog.db-shm"} {
		if err := os.Remove(filepath.Join(data, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	out, err := runHarvestCommand(t, nil, "--data", data, "--origin", "fr", sill)
	if err == nil || !strings.Contains(err.Error(), "no catalog") || !strings.Contains(err.Error(), "--node") || strings.Contains(out, "created") {
		t.Errorf("a harvest into a wiped catalog: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "catalog.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused harvest made a catalog: %v", err)
	}
	if out, err := runHarvestCommand(t, nil, "--data", data, "--origin", "fr", "--offline", sill); err != nil || !strings.Contains(out, "240 created") {
		t.Errorf("--offline: %v\n%s", err, out)
	}
}

// TestHarvestIntoARestoredBackupRefused: a data folder restored from a
// backup lacks the records of its origin written since, which its
// federation holds: a harvest into it wrote seqs they hold, which never
// reached them (and a node that never met a member let it, as no
// member is remembered). It is refused, with --offline too, and writes
// nothing.
func TestHarvestIntoARestoredBackupRefused(t *testing.T) {
	sill := sharedCorpus(t, "sill/sill.json")
	data, restored := filepath.Join(t.TempDir(), "data"), filepath.Join(t.TempDir(), "restored")
	cat, err := node.OpenCatalog(context.Background(), "fr", data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Close(); err != nil {
		t.Fatal(err)
	}
	if err := node.BackupDataDir(context.Background(), data, restored); err != nil {
		t.Fatal(err)
	}
	for _, offline := range []bool{false, true} {
		args := []string{"--data", restored, "--origin", "fr", sill}
		if offline {
			args = append([]string{"--offline"}, args...)
		}
		out, err := runHarvestCommand(t, nil, args...)
		if err == nil || !strings.Contains(err.Error(), "restored from a backup") || !strings.Contains(err.Error(), "--node") || strings.Contains(out, "created") {
			t.Errorf("a harvest into a restored backup (--offline %v): %v\n%s", offline, err, out)
		}
	}
}

// TestHarvestFlagsAfterASourceRefused: `ogpnode harvest SOURCE --data DIR
// --origin fr` (flags after the source, as many commands take them) must
// not harvest SOURCE into the default data folder as origin "local", nor
// read "--data", DIR, "--origin" and "fr" as sources: it is a usage error,
// and nothing is written.
func TestHarvestFlagsAfterASourceRefused(t *testing.T) {
	sill := sharedCorpus(t, "sill/sill.json")
	cwd := t.TempDir()
	t.Chdir(cwd)
	data := filepath.Join(t.TempDir(), "fr-data")
	out, err := runHarvestCommand(t, nil, sill, "--data", data, "--origin", "fr")
	if !errors.As(err, new(usageError)) || !strings.Contains(err.Error(), `"--data" comes after a source`) {
		t.Errorf("flags after the source: %v, want a usage error that names --data", err)
	}
	if strings.Contains(out, "created") {
		t.Errorf("the harvest imported tools:\n%s", out)
	}
	for _, dir := range []string{filepath.Join(cwd, "ogpnode-data"), data} {
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a refused harvest made %s (%v)", dir, err)
		}
	}
}

// TestHarvestIntoANodeSendsNoColumns: ogpnode harvest --node of a csv
// source sends the request without the mapping of columns, which a node of
// the version before (the federation's members upgrade one at a time)
// refuses as an unknown field.
func TestHarvestIntoANodeSendsNoColumns(t *testing.T) {
	var sent []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"name": "harvests/1", "created": 1}`)
	}))
	defer srv.Close()
	sheet := filepath.Join(t.TempDir(), "outils.csv")
	if err := os.WriteFile(sheet, []byte("id,Nom,Résumé\n1,Décidim,Démocratie participative\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runHarvestCommand(t, map[string]string{"OGPNODE_ADMIN_TOKEN": e2eToken}, "--node", srv.URL, "--kind", "csv",
		"--columns", "id=id,display_name=Nom,descriptions.fr.short_description=Résumé", sheet); err != nil {
		t.Fatalf("harvest --node: %v\n%s", err, out)
	}
	if !strings.Contains(string(sent), `"csv"`) || strings.Contains(string(sent), "columns") {
		t.Errorf("the request sent: %.300s", sent)
	}
}
