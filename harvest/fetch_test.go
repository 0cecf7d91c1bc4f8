package harvest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// hungGitServer is a git server that takes every connection and never
// answers; the channel it returns says when git asked it something.
func hungGitServer(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to harvest git repositories, and is not installed")
	}
	release := make(chan struct{})
	asked := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before the server's close, which waits for its handlers
	return "git+" + srv.URL + "/city/catalog.git", asked
}

// TestCloneOfAServerThatNeverAnswersEnds: the clone's deadline ends git and
// the helper it starts for HTTP (git-remote-http), which holds its
// stderr: killing git alone, the read waited for the server.
func TestCloneOfAServerThatNeverAnswersEnds(t *testing.T) {
	loc, _ := hungGitServer(t)
	src, err := Source{Location: loc}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *catalogv1.ImportHarvestRequest, 1)
	go func() { done <- Read(context.Background(), src, ReadOptions{HTTPTimeout: time.Second}) }()
	select {
	case req := <-done:
		if req.GetComplete() || !strings.Contains(req.GetReadError(), "not done within 1s") {
			t.Errorf("the clone that timed out: complete %v, %q", req.GetComplete(), req.GetReadError())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a clone with a deadline of 1 s still runs after 30 s")
	}
}

// TestStopEndsAScheduledClone: the node's stop ends a scheduled clone of a
// server that never answers, and so the schedule.
func TestStopEndsAScheduledClone(t *testing.T) {
	loc, asked := hungGitServer(t)
	im := NewImporter(openStore(t), nil, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []Scheduled{{Source: Source{Location: loc}, Interval: "24h"}}, im, ReadOptions{}, quietLog())
	}()
	<-asked // git is cloning
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the schedule still runs 30 s after the node was asked to stop")
	}
}

// TestReadOfANamedPipeEnds: a location that is no regular file (a named
// pipe, which blocks its reader until something writes to it) is refused,
// and a read asked to stop returns at once.
func TestReadOfANamedPipeEnds(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "sill.json")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // lets an open that blocks go
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	for _, c := range []struct {
		name string
		ctx  func() context.Context
		want string
	}{
		{"running", context.Background, "not a regular file"},
		{"stopped", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "context canceled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan *catalogv1.ImportHarvestRequest, 1)
			go func() {
				done <- Read(c.ctx(), Source{Name: "sill", Kind: KindSILL, Location: fifo}, ReadOptions{HTTPTimeout: time.Minute})
			}()
			select {
			case req := <-done:
				if req.GetComplete() || !strings.Contains(req.GetReadError(), c.want) {
					t.Errorf("complete %v, %q; want an incomplete read saying %q", req.GetComplete(), req.GetReadError(), c.want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the read of a named pipe still runs after 30 s")
			}
		})
	}
}

// TestFolderFileLargerThanTheBound: a file of a folder (or of a clone)
// larger than the bound of a fetched file is not read: it is reported,
// without a source id, so that no tool of the source is deleted for it,
// and the folder's other files are harvested.
func TestFolderFileLargerThanTheBound(t *testing.T) {
	dir := t.TempDir()
	writePubliccodeFolder(t, dir, 2)
	f, err := os.OpenFile(filepath.Join(dir, "tool0", "publiccode.yml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n# " + strings.Repeat("x", 64<<10) + "\n")
	f.Close()
	src, err := Source{Location: dir}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	req := Read(context.Background(), src, ReadOptions{MaxBytes: 16 << 10})
	if !req.GetComplete() || len(req.GetEntries()) != 1 || req.GetEntries()[0].GetWhere() != "tool1/publiccode.yml" {
		t.Fatalf("complete %v (%s), entries %v: want tool1's alone", req.GetComplete(), req.GetReadError(), req.GetEntries())
	}
	if len(req.GetRejected()) != 1 {
		t.Fatalf("rejected %v", req.GetRejected())
	}
	r := req.GetRejected()[0]
	if r.GetWhere() != "tool0/publiccode.yml" || r.GetSourceId() != "" || !strings.Contains(r.GetFindings()[0].GetMessage(), "larger than 16384 bytes") {
		t.Errorf("the file too large reported as %v", r)
	}
}
