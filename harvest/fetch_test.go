package harvest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// TestCloneKeepsTheConfiguredSSHCommand: an ssh command the operator set
// in git's configuration (a deploy key, a port) is the one a clone runs;
// the clone's own (ssh in batch mode) is for when none is set.
func TestCloneKeepsTheConfiguredSSHCommand(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ssh-called")
	script := filepath.Join(dir, "deploy-ssh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "gitconfig")
	if err := os.WriteFile(cfg, []byte("[core]\n\tsshCommand = "+script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", cfg)
	t.Setenv("GIT_SSH_COMMAND", "")
	os.Unsetenv("GIT_SSH_COMMAND")
	err := shallowClone(context.Background(), "git@git.example.invalid:city/catalog.git", filepath.Join(dir, "clone"), ReadOptions{HTTPTimeout: 30 * time.Second})
	if _, statErr := os.Stat(marker); statErr != nil {
		t.Errorf("core.sshCommand not run (clone: %v)", err)
	}
}

// processState is the state of process pid as /proc gives it ("R", "S",
// "Z" for a zombie), or "" once it is gone.
func processState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		if f := strings.Fields(s[i+1:]); len(f) > 0 {
			return f[0]
		}
	}
	return ""
}

// TestCloneLeavesNoHelperRunning: a clone git says went well, one of whose
// helpers outlives it, is a clone that went well, at once (a pipe of its
// messages waited for the helper, and the clone failed 5 s later), and
// the helper ends with it.
func TestCloneLeavesNoHelperRunning(t *testing.T) {
	bin := t.TempDir()
	pidFile := filepath.Join(bin, "helper.pid")
	fake := "#!/bin/sh\nsleep 60 &\necho $! > " + pidFile + "\nmkdir -p \"$8\"\nexit 0\n" // $8: the clone's folder
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	t.Setenv("GIT_SSH_COMMAND", "ssh") // no `git config` asked of the fake git
	if err := shallowClone(context.Background(), "git+https://git.example.org/city/catalog.git", filepath.Join(t.TempDir(), "clone"), ReadOptions{HTTPTimeout: time.Minute}); err != nil {
		t.Errorf("a clone git said went well: %v", err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st := processState(pid); st == "" || st == "Z" {
			break // ended (a zombie until its new parent reaps it)
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("git's helper %d still runs 10 s after the clone", pid)
		}
	}
}

// TestClonesPastTheirDeadlineLeaveNoZombie: a node that is its
// container's first process inherits the processes of a clone it ended
// (git, git-remote-https), and reaps them. The test takes that role as
// the subreaper of its children.
func TestClonesPastTheirDeadlineLeaveNoZombie(t *testing.T) {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Skip("no subreaper here:", errno)
	}
	defer syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 0, 0)
	loc, _ := hungGitServer(t)
	for range 2 {
		if err := shallowClone(context.Background(), loc, filepath.Join(t.TempDir(), "clone"), ReadOptions{HTTPTimeout: time.Second}); err == nil || !strings.Contains(err.Error(), "not done within") {
			t.Fatalf("clone: %v", err)
		}
	}
	me := os.Getpid()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		zombies := 0
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, p := range stats {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			s := string(b)
			if i := strings.LastIndexByte(s, ')'); i >= 0 {
				if f := strings.Fields(s[i+1:]); len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(me) {
					zombies++
				}
			}
		}
		if zombies == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d zombies of the clones 10 s after their deadline", zombies)
		}
	}
}
