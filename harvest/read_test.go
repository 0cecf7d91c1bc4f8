package harvest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/codejson"
	"github.com/ogptoolbox/federation/harvest/sill"
	"github.com/ogptoolbox/federation/internal/lockedbuf"
	"github.com/ogptoolbox/federation/storage"
)

// corpus is the path of a file of ../shared/corpus, next to the
// repository's root.
func corpus(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "corpus", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the shared corpus is missing (%v): tests read ../shared/corpus next to the repository", err)
	}
	return p
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writePubliccodeFolder writes n publiccode.yml files, each a valid file
// of the corpus with its own name and repository, in folders of their own.
func writePubliccodeFolder(t testing.TB, dir string, n int) {
	t.Helper()
	base := string(readFile(t, corpus(t, "publiccode/v0/valid/valid.minimal.yml")))
	for i := range n {
		sub := filepath.Join(dir, "tool"+strconv.Itoa(i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "publiccode.yml"), []byte(variant(t, base, i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// variant gives a publiccode.yml file its own name and url.
func variant(t testing.TB, base string, i int) string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(base, "\n") {
		switch {
		case strings.HasPrefix(line, "name:"):
			line = "name: Tool number " + strconv.Itoa(i)
		case strings.HasPrefix(line, "url:"):
			line = `url: "https://git.example.org/city/tool-` + strconv.Itoa(i) + `.git"`
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// TestReadFolder reads a folder of publiccode.yml files, skipping hidden
// folders, and rejects a second file for the same repository.
func TestReadFolder(t *testing.T) {
	dir := t.TempDir()
	writePubliccodeFolder(t, dir, 5)
	// A copy of tool0 under another path: the same repository twice.
	if err := os.MkdirAll(filepath.Join(dir, "zz"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "zz", "publiccode.yml"), readFile(t, filepath.Join(dir, "tool0", "publiccode.yml")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "publiccode.yml"), []byte("not: [yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Source{Location: dir}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if src.Kind != KindPubliccode || src.Name != "publiccode:"+dir {
		t.Errorf("resolved %+v", src)
	}
	req := Read(context.Background(), src, ReadOptions{})
	if !req.GetComplete() || len(req.GetEntries()) != 5 || len(req.GetRejected()) != 1 {
		t.Fatalf("complete %v, %d entries, %d rejected (%v), error %q", req.GetComplete(), len(req.GetEntries()), len(req.GetRejected()), req.GetRejected(), req.GetReadError())
	}
	if r := req.GetRejected()[0]; r.GetWhere() != "zz/publiccode.yml" || !strings.Contains(r.GetFindings()[0].GetMessage(), "tool0/publiccode.yml") {
		t.Errorf("duplicate rejected as %v", r)
	}
}

// TestReadGitRepository harvests a git repository through a file:// URL,
// with a shallow clone, and sees a change after a new commit.
func TestReadGitRepository(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to harvest git repositories, and is not installed")
	}
	repo := t.TempDir()
	writePubliccodeFolder(t, repo, 2)
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "--quiet")
	git("add", ".")
	git("commit", "--quiet", "-m", "catalog")

	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	src, err := Source{Location: "file://" + repo}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, im, Read(context.Background(), src, ReadOptions{}), "created 2 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")

	if err := os.RemoveAll(filepath.Join(repo, "tool1")); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "--quiet", "-m", "drop tool1")
	mustImport(t, im, Read(context.Background(), src, ReadOptions{}), "created 0 updated 0 unchanged 1 deleted 1 rejected 0 kept 0")

	bad, _ := Source{Location: "file://" + filepath.Join(repo, "missing")}.Resolve()
	req := Read(context.Background(), bad, ReadOptions{})
	if req.GetComplete() || !strings.Contains(req.GetReadError(), "clone") {
		t.Errorf("a missing repository: complete %v, error %q", req.GetComplete(), req.GetReadError())
	}
}

// TestReadHTTP harvests SILL and a publiccode.yml file served over HTTP on
// loopback, and reports a source that answers 404 as not read.
func TestReadHTTP(t *testing.T) {
	sill := readFile(t, corpus(t, "sill/sill.json"))
	one := readFile(t, corpus(t, "publiccode/v0/valid/valid.minimal.yml"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/data/sill.json":
			w.Write(sill)
		case "/decidim/publiccode.yml":
			w.Write(one)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	src, err := Source{Location: srv.URL + "/data/sill.json"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if src.Kind != KindSILL {
		t.Fatalf("kind detected: %q", src.Kind)
	}
	mustImport(t, im, Read(context.Background(), src, ReadOptions{}), "created 240 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	mustImport(t, im, Read(context.Background(), src, ReadOptions{}), "created 0 updated 0 unchanged 240 deleted 0 rejected 0 kept 0")

	pc, _ := Source{Location: srv.URL + "/decidim/publiccode.yml"}.Resolve()
	mustImport(t, im, Read(context.Background(), pc, ReadOptions{}), "created 1 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")

	gone, _ := Source{Kind: KindSILL, Location: srv.URL + "/nothing.json"}.Resolve()
	req := Read(context.Background(), gone, ReadOptions{})
	if req.GetComplete() || !strings.Contains(req.GetReadError(), "404") {
		t.Fatalf("a 404: complete %v, error %q", req.GetComplete(), req.GetReadError())
	}
	run := mustImport(t, im, req, "created 0 updated 0 unchanged 0 deleted 0 rejected 0 kept 0")
	if run.GetComplete() || run.GetError() == "" {
		t.Errorf("the report of a 404: complete %v, error %q", run.GetComplete(), run.GetError())
	}
}

// TestScheduledHarvest runs a schedule against a source that changes: the
// node picks the change up at the next interval.
func TestScheduledHarvest(t *testing.T) {
	var body atomic.Value
	body.Store(`[{"id": 1, "i": "Alpha", "fr-desc": "Premier outil", "l": "MIT"}]`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(body.Load().(string)))
	}))
	defer srv.Close()

	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []Scheduled{{Source: Source{Kind: KindSILL, Location: srv.URL + "/sill.json"}, Interval: "1s"}}, im, ReadOptions{}, quietLog())
	}()
	waitFor(t, "the first scheduled run", func() bool { return toolCount(t, s) == 1 })
	body.Store(`[{"id": 1, "i": "Alpha", "fr-desc": "Premier outil", "l": "MIT"}, {"id": 2, "i": "Beta", "fr-desc": "Second outil", "l": "MIT"}]`)
	waitFor(t, "a later scheduled run to see the new entry", func() bool { return toolCount(t, s) == 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runs, err := s.HarvestRuns(context.Background(), "", 100)
	if err != nil || len(runs) < 2 {
		t.Fatalf("%d runs reported, %v", len(runs), err)
	}

	if err := Run(context.Background(), []Scheduled{{Source: Source{Kind: KindSILL, Location: srv.URL}, Interval: "1ms"}}, im, ReadOptions{}, quietLog()); err == nil {
		t.Error("a schedule of every millisecond was accepted")
	}
}

// TestScheduleNamesUnique: two scheduled harvests of one name are refused,
// naming both: a name keys a source's entries, so each would delete the
// other's tools at every run and make them again under new ids. Sources
// named by default (kind and location) do not clash.
func TestScheduleNamesUnique(t *testing.T) {
	cols := map[string]string{"id": "id", "display_name": "Nom"}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	if _, _, err := CheckSchedule([]Scheduled{
		{Source: Source{Location: a, Columns: cols}, Interval: "6h"},
		{Source: Source{Location: b, Columns: cols}, Interval: "6h"},
	}); err != nil {
		t.Errorf("two sources named by default: %v", err)
	}
	for _, sched := range [][]Scheduled{
		{{Source: Source{Name: "city", Location: a, Columns: cols}, Interval: "6h"}, {Source: Source{Name: "city", Location: b, Columns: cols}, Interval: "6h"}},
		{{Source: Source{Location: a, Columns: cols}, Interval: "6h"}, {Source: Source{Name: "csv:" + a, Location: b, Columns: cols}, Interval: "6h"}},
		{{Source: Source{Location: a, Columns: cols}, Interval: "6h"}, {Source: Source{Location: a, Columns: cols}, Interval: "1h"}},
	} {
		_, _, err := CheckSchedule(sched)
		if err == nil || !strings.Contains(err.Error(), "harvests[0] and harvests[1] are both named") {
			t.Errorf("%+v: %v", sched, err)
		}
		if err := Run(context.Background(), sched, nil, ReadOptions{}, quietLog()); err == nil {
			t.Errorf("Run took %+v", sched)
		}
	}
	// A share not mounted yet, listed twice, once with its kind: both
	// would run under one name once it is there, and the next start be
	// refused.
	share := filepath.Join(dir, "share", "catalog")
	_, _, err := CheckSchedule([]Scheduled{
		{Source: Source{Kind: KindPubliccode, Location: share}, Interval: "6h"},
		{Source: Source{Location: share, Authoritative: true}, Interval: "1h"},
	})
	if err == nil || !strings.Contains(err.Error(), "harvests[0] and harvests[1] both harvest") {
		t.Errorf("one location not there yet, listed twice: %v", err)
	}
}

// TestScheduleIntervalBounded: an interval past ten years is refused: its
// random delay, a tenth of it, overflowed a duration past about 266
// years, and the source was harvested over and over without a pause.
func TestScheduleIntervalBounded(t *testing.T) {
	_, _, err := (Scheduled{Source: Source{Kind: KindSILL, Location: corpus(t, "sill/sill.json")}, Interval: "2562047h"}).Check()
	if err == nil || !strings.Contains(err.Error(), "longer than ten years") {
		t.Errorf("an interval of 292 years: %v", err)
	}
	if _, _, err := (Scheduled{Source: Source{Kind: KindSILL, Location: corpus(t, "sill/sill.json")}, Interval: "8760h"}).Check(); err != nil {
		t.Errorf("an interval of a year: %v", err)
	}
}

// TestScheduledSourceNotThereYet: a scheduled source whose location is
// missing, and whose kind its name does not tell (a share not mounted yet),
// does not keep the node from starting: each run says in the log that it
// could not run, and the first after the folder appears harvests it.
func TestScheduledSourceNotThereYet(t *testing.T) {
	folder := filepath.Join(t.TempDir(), "catalog")
	sched := []Scheduled{{Source: Source{Location: folder}, Interval: "1s"}}
	if _, _, err := sched[0].Check(); err != nil {
		t.Fatalf("a source not there yet refused: %v", err)
	}
	// A file whose name tells no kind would not be harvested once there
	// either (nor would the configuration start the node again): it
	// needs its kind now, there or not.
	for _, name := range []string{"list.txt", "export.json"} {
		missing := Scheduled{Source: Source{Location: filepath.Join(t.TempDir(), name)}, Interval: "1s"}
		if _, _, err := missing.Check(); err == nil || !strings.Contains(err.Error(), "does not tell its kind") {
			t.Errorf("a missing file of a name that tells no kind: %v", err)
		}
		missing.Kind = KindSILL
		if _, _, err := missing.Check(); err != nil {
			t.Errorf("a missing file of its kind given refused: %v", err)
		}
	}
	// A folder may have a dot in its name: it is waited for.
	for _, name := range []string{"catalogs.example.org", "publiccode.d", "export-2024.12"} {
		share := Scheduled{Source: Source{Location: filepath.Join(t.TempDir(), "mnt", name)}, Interval: "24h"}
		if _, _, err := share.Check(); err != nil {
			t.Errorf("a share %s not mounted yet: %v", name, err)
		}
	}
	// One folder spelled two ways is one source, refused twice whether
	// it is there or not.
	twice := []Scheduled{{Source: Source{Location: folder}, Interval: "6h"}, {Source: Source{Location: folder + "/"}, Interval: "1h"}}
	if _, _, err := CheckSchedule(twice); err == nil || !strings.Contains(err.Error(), "both harvest") {
		t.Errorf("one missing folder listed twice: %v", err)
	}
	s := openStore(t)
	var logs lockedbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, sched, NewImporter(s, nil, quietLog()), ReadOptions{}, log) }()
	waitFor(t, "a run to say the source is not there", func() bool {
		return strings.Contains(logs.String(), "scheduled harvest not run") && strings.Contains(logs.String(), "no such file or folder")
	})
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	yml := readFile(t, corpus(t, "publiccode/v0/valid/categories_empty.yml"))
	if err := os.WriteFile(filepath.Join(folder, "publiccode.yml"), yml, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the run after the folder appeared", func() bool { return toolCount(t, s) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runs, err := s.HarvestRuns(context.Background(), "publiccode:"+folder, 10)
	if err != nil || len(runs) == 0 || runs[0].GetCreated() != 1 {
		t.Errorf("the run of the folder, once there: %v %v", runs, err)
	}
}

func toolCount(t *testing.T, s *storage.Store) int64 {
	t.Helper()
	c, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, o := range c {
		n += o.Tools
	}
	return n
}

// waitFor polls cond until it holds, failing the test after 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReadCSVAndCodeJSON harvests a spreadsheet with its column mapping
// and a code.json inventory, through Read and Import as the command does.
func TestReadCSVAndCodeJSON(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())

	sheet, err := Source{Location: "csvfile/testdata/tools.csv", Columns: map[string]string{
		"display_name": "name", "descriptions.en.short_description": "description", "landing_url": "homepage",
		"license": "license", "categories": "categories",
	}}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if sheet.Kind != KindCSV {
		t.Fatalf("kind of a .csv: %q", sheet.Kind)
	}
	req := Read(ctx, sheet, ReadOptions{})
	if !req.GetComplete() || len(req.GetEntries()) < 2 {
		t.Fatalf("csv: complete %v, %d entries, %v", req.GetComplete(), len(req.GetEntries()), req.GetReadError())
	}
	run, err := im.Import(ctx, req)
	if err != nil || run.GetCreated() != int32(len(req.GetEntries())) {
		t.Fatalf("csv import: %v %v", counts(run), err)
	}
	if tool := getTool(t, s, "decidim"); tool.GetLandingUrl() != "https://decidim.org" || tool.GetProvenance().GetSourceId() != "Decidim" {
		t.Errorf("the CSV's Decidim: %v", tool)
	}
	if _, err := (Source{Location: "csvfile/testdata/tools.csv"}).Resolve(); err == nil {
		t.Error("a CSV source without a column mapping was accepted")
	}

	inventory, err := Source{Kind: KindCodeJSON, Location: "codejson/testdata/hhs-code.json"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	req = Read(ctx, inventory, ReadOptions{})
	run, err = im.Import(ctx, req)
	if err != nil || !req.GetComplete() || run.GetCreated() == 0 || run.GetRejected() == 0 {
		t.Fatalf("code.json import: %v %v (complete %v)", counts(run), err, req.GetComplete())
	}
	for _, r := range run.GetRejectedEntries() {
		if len(r.GetFindings()) == 0 || r.GetFindings()[0].GetKey() == "" || r.GetFindings()[0].GetLine() == 0 {
			t.Errorf("a rejected release without key or line: %v", r)
		}
	}
}

// TestReadFolderOfLinksAndEmptyFolder checks that files reached through
// symbolic links inside the folder are read (a mounted ConfigMap: links to
// the files of a hidden folder beside them), and that an empty folder is
// not a complete source (which would delete every tool it made).
func TestReadFolderOfLinksAndEmptyFolder(t *testing.T) {
	links := t.TempDir()
	real := filepath.Join(links, "..data")
	writePubliccodeFolder(t, real, 3)
	for i := range 3 {
		name := "tool" + strconv.Itoa(i)
		if err := os.Symlink(filepath.Join("..data", name, "publiccode.yml"), filepath.Join(links, name+".yml")); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Source{Location: links}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if req := Read(context.Background(), src, ReadOptions{}); !req.GetComplete() || len(req.GetEntries()) != 3 {
		t.Errorf("a folder of links: complete %v, %d entries, %q", req.GetComplete(), len(req.GetEntries()), req.GetReadError())
	}
	empty, _ := Source{Location: t.TempDir()}.Resolve()
	if req := Read(context.Background(), empty, ReadOptions{}); req.GetComplete() || !strings.Contains(req.GetReadError(), "no publiccode.yml") {
		t.Errorf("an empty folder: complete %v, error %q", req.GetComplete(), req.GetReadError())
	}
}

// TestLinksOutOfTheFolderNotRead: a link that leads out of the folder
// harvested (a repository's contributors write its links: one to the
// node's admin token would publish it in the report), or to nothing, is
// reported, not read, and the tool of the file it stood for is kept.
func TestLinksOutOfTheFolderNotRead(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	const secret = "node-admin-token-9f8e7d6c5b4a"
	secretFile := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	writePubliccodeFolder(t, folder, 2)
	src, err := Source{Location: folder}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if run, err := im.Import(ctx, Read(ctx, src, ReadOptions{})); err != nil || run.GetCreated() != 2 {
		t.Fatalf("first run: %v, %v", counts(run), err)
	}
	// tool0's file becomes a link to the token, tool1's a link to nothing.
	for name, target := range map[string]string{"tool0": secretFile, "tool1": filepath.Join(folder, "gone.yml")} {
		path := filepath.Join(folder, name, "publiccode.yml")
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}
	req := Read(ctx, src, ReadOptions{})
	run, err := im.Import(ctx, req)
	if err != nil || run.GetDeleted() != 0 || run.GetRejected() != 2 {
		t.Fatalf("the links: %s, %v; want both reported and no tool deleted", counts(run), err)
	}
	for _, r := range run.GetRejectedEntries() {
		msg := r.GetFindings()[0].GetMessage()
		if strings.Contains(msg, secret) || !strings.Contains(msg, "is a link to") || !strings.Contains(msg, "no tool of the source is deleted") {
			t.Errorf("%s: %s", r.GetWhere(), msg)
		}
	}

	// The same in a git repository, which the harvest clones.
	repo := t.TempDir()
	if err := os.Symlink(secretFile, filepath.Join(repo, "publiccode.yml")); err != nil {
		t.Fatal(err)
	}
	commitFolder(t, repo)
	cloned, err := Source{Location: "file://" + repo}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	req = Read(ctx, cloned, ReadOptions{})
	if len(req.GetRejected()) != 1 || len(req.GetEntries()) != 0 {
		t.Fatalf("the repository: %d entries, rejected %v, error %q", len(req.GetEntries()), req.GetRejected(), req.GetReadError())
	}
	if msg := req.GetRejected()[0].GetFindings()[0].GetMessage(); strings.Contains(msg, secret) || !strings.Contains(msg, "outside the folder") {
		t.Errorf("the repository's link: %s", msg)
	}
}

// TestStopCutsAHarvestShort checks that a harvest asked to stop (its node
// stopping) stops reading and preparing a large source, rather than going
// through its hundreds of thousands of entries first, which made a node
// overrun its grace; and that the cut run writes no tool and is reported
// as incomplete.
func TestStopCutsAHarvestShort(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("name,description\n")
	for i := range 5000 {
		fmt.Fprintf(&csv, "Tool %d,A tool for citizens number %d\n", i, i)
	}
	path := filepath.Join(t.TempDir(), "tools.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Source{Location: path, Columns: map[string]string{"display_name": "name", "descriptions.en.short_description": "description"}}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()

	req := Read(stopped, src, ReadOptions{})
	if req.GetComplete() || len(req.GetEntries()) != 0 || !strings.Contains(req.GetReadError(), "stopped") || !strings.Contains(req.GetReadError(), context.Canceled.Error()) {
		t.Errorf("a read asked to stop: complete %v, %d entries, error %q", req.GetComplete(), len(req.GetEntries()), req.GetReadError())
	}
	for path, parse := range map[string]func(context.Context, []byte) ([]*catalogv1.HarvestEntry, []*catalogv1.RejectedEntry, error){
		corpus(t, "sill/sill.json"): sill.Parse, "codejson/testdata/hhs-code.json": codejson.Parse,
	} {
		if entries, rejected, err := parse(stopped, readFile(t, path)); !errors.Is(err, context.Canceled) || entries != nil || rejected != nil {
			t.Errorf("%s read by a stopping node: %d entries, %d rejected, %v", path, len(entries), len(rejected), err)
		}
	}

	// Read in full, then imported by a node that stops meanwhile.
	req = Read(context.Background(), src, ReadOptions{})
	if !req.GetComplete() || len(req.GetEntries()) != 5000 {
		t.Fatalf("the read: complete %v, %d entries, %q", req.GetComplete(), len(req.GetEntries()), req.GetReadError())
	}
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	if entries, rejected, err := im.prepareEntries(stopped, src.Proto(), req.GetEntries()); !errors.Is(err, context.Canceled) || entries != nil || rejected != nil {
		t.Errorf("entries prepared for a stopping node: %d entries, %d rejected, %v", len(entries), len(rejected), err)
	}
	if run, err := im.Import(stopped, req); !errors.Is(err, context.Canceled) || run != nil {
		t.Errorf("an import for a stopping node: %v, %v", run, err)
	}
	if head := headSeq(t, s); head != 0 {
		t.Errorf("the cut harvest wrote %d records", head)
	}
	runs, err := s.HarvestRuns(context.Background(), src.Name, 10)
	if err != nil || len(runs) != 1 || runs[0].GetComplete() || !strings.Contains(runs[0].GetError(), context.Canceled.Error()) {
		t.Errorf("the cut run's report: %v, %v", runs, err)
	}
}

// TestReadFolderThroughLink reads a folder given by a link to it (a
// deployment's "current" link, a share mounted elsewhere and linked into
// place): every run failed, saying the folder held no publiccode.yml.
func TestReadFolderThroughLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "releases", "2024")
	writePubliccodeFolder(t, real, 3)
	link := filepath.Join(dir, "current")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	src, err := Source{Location: link}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	req := Read(context.Background(), src, ReadOptions{})
	direct := Read(context.Background(), Source{Kind: KindPubliccode, Location: real}, ReadOptions{})
	if !req.GetComplete() || len(req.GetEntries()) != 3 || len(direct.GetEntries()) != 3 {
		t.Fatalf("the folder through its link: complete %v, %d entries, error %q (directly: %d entries)", req.GetComplete(), len(req.GetEntries()), req.GetReadError(), len(direct.GetEntries()))
	}
	for i, e := range req.GetEntries() {
		if w := direct.GetEntries()[i].GetWhere(); e.GetWhere() != w {
			t.Errorf("entry %d is at %q through the link, %q directly", i, e.GetWhere(), w)
		}
	}
}

// TestReadFolderSameRepositorySpelledTwice: two files of a folder whose url
// names the same repository in two spellings (case, a trailing .git), which
// the importer takes for one entry, must be one entry here too: the second
// rejected, naming the first, as the README promises.
func TestReadFolderSameRepositorySpelledTwice(t *testing.T) {
	dir := t.TempDir()
	base := string(readFile(t, corpus(t, "publiccode/v0/valid/valid.minimal.yml")))
	one := variant(t, base, 1)
	one = strings.Replace(one, `url: "https://git.example.org/city/tool-1.git"`, `url: "https://github.com/decidim/decidim.git"`, 1)
	two := strings.Replace(one, `url: "https://github.com/decidim/decidim.git"`, `url: "https://github.com/Decidim/decidim"`, 1)
	two = strings.Replace(two, "name: Tool number 1", "name: Tool number one", 1)
	if one == two {
		t.Fatal("variant did not change the url")
	}
	for name, body := range map[string]string{"a/publiccode.yml": one, "b/publiccode.yml": two} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Source{Location: dir}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	req := Read(context.Background(), src, ReadOptions{})
	run, err := NewImporter(openStore(t), time.Now, quietLog()).Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.GetEntries()) != 1 || len(req.GetRejected()) != 1 || run.GetCreated() != 1 {
		var ids []string
		for _, e := range req.GetEntries() {
			ids = append(ids, e.GetWhere()+" "+e.GetSourceId())
		}
		t.Fatalf("%d entries (%s), %d rejected, %d tools created: want the second file of the same repository rejected, naming the first, and one tool", len(req.GetEntries()), strings.Join(ids, ", "), len(req.GetRejected()), run.GetCreated())
	}
}

// TestPubliccodeDroppedValuesReported harvests a valid publiccode.yml with
// values the catalog cannot keep (a repository reached over ssh, a platform
// of no vocabulary): the reader drops each with a warning, which was thrown
// away, so the values vanished from the tool without a word. The entry
// carries them, and the run's report lists them, with their keys.
func TestPubliccodeDroppedValuesReported(t *testing.T) {
	base := string(readFile(t, corpus(t, "publiccode/v0/valid/valid.minimal.yml")))
	file := strings.Replace(base, `url: "https://github.com/italia/developers.italia.it.git"`, `url: "ssh://git@git.example.org/city/medusa.git"`, 1)
	file = strings.Replace(file, "  - web\n", "  - web\n  - Mac OS X\n", 1)
	if file == base {
		t.Fatal("the corpus file changed: the test changes nothing in it")
	}
	path := filepath.Join(t.TempDir(), "publiccode.yml")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Source{Location: path}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	req := Read(context.Background(), src, ReadOptions{})
	if len(req.GetEntries()) != 1 {
		t.Fatalf("%d entries, rejected %v, error %q", len(req.GetEntries()), req.GetRejected(), req.GetReadError())
	}
	if tool := req.GetEntries()[0].GetTool(); tool.GetRepositoryUrl() != "" || len(tool.GetPlatforms()) != 1 {
		t.Fatalf("the values were kept (repository %q, platforms %v): the test needs values the catalog drops", tool.GetRepositoryUrl(), tool.GetPlatforms())
	}
	run, err := NewImporter(openStore(t), time.Now, quietLog()).Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if run.GetCreated() != 1 || run.GetWarned() != 1 || len(run.GetWarnedEntries()) != 1 {
		t.Fatalf("the run: %s, %d warned, %v", counts(run), run.GetWarned(), run.GetWarnedEntries())
	}
	keys := map[string]bool{}
	for _, f := range run.GetWarnedEntries()[0].GetFindings() {
		keys[f.GetKey()] = f.GetLine() > 0 && f.GetMessage() != ""
	}
	for _, key := range []string{"url", "platforms[1]"} {
		if !keys[key] {
			t.Errorf("the report does not say, with its line, that %s was left out: %v", key, run.GetWarnedEntries()[0])
		}
	}
}

// TestPubliccodeLanguagesKeptAsTheCatalogTakesThem: publiccode.yml files
// the catalog imported before its language check went by the tag as
// written: one listing "tl" (Tagalog, which CLDR would write "fil"), one
// listing a language twice in two cases, one describing the tool in
// "pt-br". Each is imported, its languages in the form the catalog takes
// them (pt-BR), each once.
func TestPubliccodeLanguagesKeptAsTheCatalogTakesThem(t *testing.T) {
	base := string(readFile(t, corpus(t, "publiccode/v0/valid/valid.minimal.yml")))
	dir := t.TempDir()
	for i, change := range []func(string) string{
		func(f string) string { return strings.Replace(f, "    - en\n", "    - en\n    - tl\n", 1) },
		func(f string) string { return strings.Replace(f, "    - en\n", "    - en\n    - EN\n", 1) },
		func(f string) string { return strings.Replace(f, "  en-GB:\n", "  pt-br:\n", 1) },
	} {
		sub := filepath.Join(dir, fmt.Sprintf("tool%d", i))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "publiccode.yml"), []byte(change(variant(t, base, i))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := Source{Location: dir}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	req := Read(context.Background(), src, ReadOptions{})
	if len(req.GetEntries()) != 3 || len(req.GetRejected()) != 0 {
		t.Fatalf("read: %d entries, rejected %v", len(req.GetEntries()), req.GetRejected())
	}
	run, err := NewImporter(openStore(t), nil, quietLog()).Import(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if run.GetCreated() != 3 {
		t.Errorf("run: %s, want the three files created; rejected %v", counts(run), run.GetRejectedEntries())
	}
	var langs [][]string
	var descriptions []string
	for _, e := range req.GetEntries() {
		langs = append(langs, e.GetTool().GetAvailableLanguages())
		for l := range e.GetTool().GetDescriptions() {
			descriptions = append(descriptions, l)
		}
	}
	t.Logf("languages %q, descriptions %q", langs, descriptions)
	if !slices.ContainsFunc(langs, func(l []string) bool { return slices.Equal(l, []string{"en", "tl"}) }) ||
		!slices.ContainsFunc(langs, func(l []string) bool { return slices.Equal(l, []string{"en"}) }) || !slices.Contains(descriptions, "pt-BR") {
		t.Errorf("languages %q, descriptions %q: want en and tl, en once, and a description in pt-BR", langs, descriptions)
	}
}

// TestScheduledHarvestWaitsForHeldWrites: a node restored from a backup
// fails its writes until a member answers, a fraction of a second after
// its start. Its scheduled harvests ran at start, failed, and waited an
// interval (a day) for the next run; they wait for the writes instead.
func TestScheduledHarvestWaitsForHeldWrites(t *testing.T) {
	s := openStore(t)
	hold := s.HoldOwnWrites()
	hold.FailFast(fmt.Errorf("write: restored, and no member answered yet: %w", storage.ErrUnavailable))
	im := NewImporter(s, nil, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs lockedbuf.Buffer
	go func() {
		done <- Run(ctx, []Scheduled{{Source: Source{Kind: KindSILL, Location: corpus(t, "sill/sill.json")}, Interval: "24h"}}, im, ReadOptions{}, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	waitFor(t, "the scheduled harvest to wait for the node's writes", func() bool { return strings.Contains(logs.String(), "waits until the node's writes go ahead") })
	hold.Release() // a member answered
	waitFor(t, "the scheduled harvest, once the writes go ahead", func() bool { return toolCount(t, s) > 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runs, err := s.HarvestRuns(context.Background(), "sill:"+corpus(t, "sill/sill.json"), 10)
	if err != nil || len(runs) != 1 || !runs[0].GetComplete() {
		t.Errorf("the runs: %v, %v; want one, complete", runs, err)
	}
}

// TestCloneWithCredentials clones a repository served over HTTP behind a
// user and password given in the source's URL (git's own http-backend),
// and keeps them off git's command line, which every user of the machine
// reads (ps): they were there for the whole clone, and in the clone's
// .git/config.
func TestCloneWithCredentials(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to harvest git repositories, and is not installed")
	}
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	repo := filepath.Join(root, "catalog")
	writePubliccodeFolder(t, repo, 2)
	commitFolder(t, repo)
	const user, token = "harvester", "s3cr3t-clone-token-4242"
	backend := &cgi.Handler{Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	release := make(chan struct{})
	var once sync.Once
	seen := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(seen) })
		<-release // while the clone waits, its command line is looked at
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != token {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	defer srv.Close()
	src, err := Source{Kind: KindPubliccode, Location: strings.Replace(srv.URL, "://", "://"+user+":"+token+"@", 1) + "/catalog/.git"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *catalogv1.ImportHarvestRequest)
	go func() { done <- Read(context.Background(), src, ReadOptions{HTTPTimeout: 20 * time.Second}) }()
	<-seen
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(token)) {
			t.Errorf("the clone's password is in the process list, which every user of the machine reads: %s: %q", f, bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
		}
	}
	close(release)
	req := <-done
	if !req.GetComplete() || len(req.GetEntries()) != 2 {
		t.Errorf("the clone behind a password: complete %v, %d entries, error %q", req.GetComplete(), len(req.GetEntries()), req.GetReadError())
	}
}

// commitFolder makes the folder repo a git repository of one commit
// holding its files.
func commitFolder(t *testing.T, repo string) {
	t.Helper()
	for _, args := range [][]string{{"init", "--quiet"}, {"add", "."}, {"commit", "--quiet", "-m", "catalog"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// TestErrorsOfASourceQuoteNoCredentials: a source's location may carry
// the user name and password that read it; an error about the source (its
// kind not told, a csv source without columns, a schedule's interval)
// names it without them: such errors reach the terminal and the node's
// log. The kind not told quoted them whole.
func TestErrorsOfASourceQuoteNoCredentials(t *testing.T) {
	const loc = "https://alice:s3cr3t@127.0.0.1:9/catalog.json"
	for _, tc := range []struct {
		what string
		err  func() error
	}{
		{"kind not told", func() error {
			_, err := (Source{Location: "https://alice:s3cr3t@127.0.0.1:9/catalog"}).Resolve()
			return err
		}},
		{"csv without columns", func() error { _, err := (Source{Location: loc, Kind: KindCSV}).Resolve(); return err }},
		{"no interval", func() error {
			_, _, err := (Scheduled{Source: Source{Location: loc, Kind: KindCodeJSON}}).Check()
			return err
		}},
		{"a bad interval", func() error {
			_, _, err := (Scheduled{Source: Source{Location: loc, Kind: KindCodeJSON}, Interval: "soon"}).Check()
			return err
		}},
	} {
		err := tc.err()
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "alice") || !strings.Contains(err.Error(), "127.0.0.1:9/catalog") {
			t.Errorf("%s: %v; want an error naming the location without its user and password", tc.what, err)
		}
	}
}

// TestSourceAnImportWouldRefuseRefusedFirst: a source whose name an import
// refuses (here made of a long URL) is refused when it is resolved, before
// it is read: at the node's start for a scheduled one, which else was
// fetched at every run and never imported nor reported.
func TestSourceAnImportWouldRefuseRefusedFirst(t *testing.T) {
	loc := "https://example.org/export/" + strings.Repeat("a1b2c3d4/", 35) + "sill.json"
	sched := []Scheduled{{Source: Source{Kind: KindSILL, Location: loc}, Interval: "24h"}}
	if _, _, err := CheckSchedule(sched); err == nil || !strings.Contains(err.Error(), "longer than 300") || !strings.Contains(err.Error(), "give it a name") {
		t.Errorf("a source named by a long URL: %v", err)
	}
	sched[0].Name = "sill"
	if _, _, err := CheckSchedule(sched); err != nil {
		t.Errorf("the same, named: %v", err)
	}
	if _, err := (Source{Name: strings.Repeat("n", 301), Kind: KindSILL, Location: "https://example.org/sill.json"}).Resolve(); err == nil || strings.Contains(err.Error(), "give it a name") {
		t.Errorf("a name given too long: %v", err)
	}
}

// TestFailingScheduledSourceSaidOnce: a scheduled source that fails at
// every run is said in the log as a warning, with why, once, not at every
// interval; and when it is read in full again, that is said too.
func TestFailingScheduledSourceSaidOnce(t *testing.T) {
	sillJSON := readFile(t, corpus(t, "sill/sill.json"))
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.NotFound(w, r)
			return
		}
		w.Write(sillJSON)
	}))
	defer srv.Close()
	s := openStore(t)
	var logs lockedbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []Scheduled{{Source: Source{Name: "sill", Kind: KindSILL, Location: srv.URL + "/sill.json"}, Interval: "1s"}}, NewImporter(s, nil, quietLog()), ReadOptions{}, log)
	}()
	runs := func() int {
		r, err := s.HarvestRuns(context.Background(), "sill", 50)
		if err != nil {
			t.Fatal(err)
		}
		return len(r)
	}
	waitFor(t, "three failed runs", func() bool { return runs() >= 3 })
	if got := strings.Count(logs.String(), "level=WARN"); got != 1 || !strings.Contains(logs.String(), "404") {
		t.Errorf("three runs answered 404: %d warnings in the log, want one saying why:\n%s", got, logs.String())
	}
	up.Store(true)
	waitFor(t, "the run once the source is back", func() bool { return strings.Contains(logs.String(), "complete again") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestScheduleAfterARestart: a scheduled source whose last run went well
// less than an interval ago is not fetched again at the node's start, but
// when it is due; one whose last run failed is fetched at once.
func TestScheduleAfterARestart(t *testing.T) {
	sillJSON := readFile(t, corpus(t, "sill/sill.json"))
	var fetched atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		if r.URL.Path == "/broken/sill.json" {
			http.NotFound(w, r)
			return
		}
		w.Write(sillJSON)
	}))
	defer srv.Close()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	ctx := context.Background()
	good := Source{Name: "sill", Kind: KindSILL, Location: srv.URL + "/sill.json"}
	broken := Source{Name: "broken", Kind: KindSILL, Location: srv.URL + "/broken/sill.json"}
	for _, src := range []Source{good, broken} { // the runs before the restart
		if _, err := im.Import(ctx, Read(ctx, src, ReadOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	var logs lockedbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, []Scheduled{{Source: good, Interval: "24h"}, {Source: broken, Interval: "24h"}}, im, ReadOptions{}, log)
	}()
	waitFor(t, "the good source to wait, the broken one to be fetched again", func() bool {
		runs, err := s.HarvestRuns(ctx, "broken", 10)
		return err == nil && len(runs) == 2 && strings.Contains(logs.String(), "waits until it is due")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if runs, err := s.HarvestRuns(ctx, "sill", 10); err != nil || len(runs) != 1 || fetched.Load() != 3 {
		t.Errorf("the source harvested well an instant before the start: %d runs (%v), %d fetches in all, want 1 and 3", len(runs), err, fetched.Load())
	}
}

// TestScheduleAfterAConfigurationChange: a source whose configuration
// changed since its last run, which went well, is harvested at start, not
// an interval after that run: the operator restarted the node to correct
// a spreadsheet's mapping of columns, or to make the source win over hand
// edits. One configured as it was still waits.
func TestScheduleAfterAConfigurationChange(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	path := filepath.Join(t.TempDir(), "outils.csv")
	if err := os.WriteFile(path, []byte("id,Nom,Résumé,Description\n1,Décidim,Démocratie participative,Plateforme de démocratie participative\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mapped := func(name, description string) Source {
		return Source{Name: name, Kind: KindCSV, Location: path, Columns: map[string]string{"id": "id", "display_name": "Nom", "descriptions.fr.short_description": description}}
	}
	sheet, same, flagged := mapped("city", "Résumé"), mapped("same", "Résumé"), mapped("flagged", "Résumé")
	for _, src := range []Source{sheet, same, flagged} {
		if _, err := im.Import(ctx, Read(ctx, src, ReadOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	corrected := mapped("city", "Description")
	flagged.Authoritative = true
	var logs lockedbuf.Buffer
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, []Scheduled{{Source: corrected, Interval: "24h"}, {Source: same, Interval: "24h"}, {Source: flagged, Interval: "24h"}}, im, ReadOptions{}, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	waitFor(t, "the sources configured anew harvested, the other waiting", func() bool {
		city, err1 := s.HarvestRuns(ctx, "city", 10)
		flag, err2 := s.HarvestRuns(ctx, "flagged", 10)
		return err1 == nil && err2 == nil && len(city) == 2 && len(flag) == 2 && strings.Contains(logs.String(), "waits until it is due")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if runs, err := s.HarvestRuns(ctx, "same", 10); err != nil || len(runs) != 1 {
		t.Errorf("the source configured as before: %d runs (%v), want 1", len(runs), err)
	}
	runs, err := s.HarvestRuns(ctx, "city", 1)
	if err != nil || runs[0].GetSource().GetColumns()["descriptions.fr.short_description"] != "Description" || runs[0].GetUpdated() != 1 {
		t.Errorf("the run under the corrected mapping: %v (%v), want its mapping kept and the tool updated", runs, err)
	}
}

// TestScheduleAfterAnUpgrade: a csv source harvested well by a version
// whose reports kept no mapping of columns, and configured as it was, is
// not taken for configured anew: it waits until it is due, as after any
// restart.
func TestScheduleAfterAnUpgrade(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	path := filepath.Join(t.TempDir(), "outils.csv")
	if err := os.WriteFile(path, []byte("id,Nom,Résumé\n1,Décidim,Démocratie participative\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := Source{Name: "city", Kind: KindCSV, Location: path, Columns: map[string]string{"id": "id", "display_name": "Nom", "descriptions.fr.short_description": "Résumé"}}
	req := Read(ctx, src, ReadOptions{})
	req.Source.Columns = nil // as the version before wrote every report
	if _, err := im.Import(ctx, req); err != nil {
		t.Fatal(err)
	}
	var logs lockedbuf.Buffer
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- Run(runCtx, []Scheduled{{Source: src, Interval: "24h"}}, im, ReadOptions{}, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	waitFor(t, "the source to wait, or to be harvested again", func() bool {
		runs, err := s.HarvestRuns(ctx, "city", 10)
		return strings.Contains(logs.String(), "waits until it is due") || (err == nil && len(runs) > 1)
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if runs, err := s.HarvestRuns(ctx, "city", 10); err != nil || len(runs) != 1 {
		t.Errorf("a csv source configured as before the upgrade: %d runs (%v), want 1: harvested again at start", len(runs), err)
	}
}
