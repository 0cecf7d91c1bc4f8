package harvest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/internal/finding"
	"github.com/ogptoolbox/federation/harvest/publiccode"
	"github.com/ogptoolbox/federation/internal/clip"
)

// isGit reports whether loc names a git repository: git+URL, a file://
// URL, an ssh remote (git@host:path) or a URL or path ending in .git.
func isGit(loc string) bool {
	return strings.HasPrefix(loc, "git+") || strings.HasPrefix(loc, "file://") ||
		strings.HasPrefix(loc, "git@") || strings.HasSuffix(strings.TrimRight(loc, "/"), ".git")
}

func isHTTP(loc string) bool {
	u, err := url.Parse(loc)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func isLocalPath(loc string) bool { return !isGit(loc) && !isHTTP(loc) }

func isDir(loc string) bool {
	st, err := os.Stat(loc)
	return err == nil && st.IsDir()
}

// fetch reads one file, local or over HTTP(S).
func fetch(ctx context.Context, loc string, opts ReadOptions) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, opts.HTTPTimeout)
	defer cancel()
	if !isHTTP(loc) {
		b, err := untilDone(ctx, opts.Reads, loc, func() ([]byte, error) { return readLocal(loc, loc, opts.MaxBytes) })
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return nil, fmt.Errorf("read %s: not done within %s", loc, opts.HTTPTimeout)
		case errors.Is(err, context.Canceled):
			return nil, fmt.Errorf("read %s: stopped: %w", loc, err)
		}
		return b, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", loc, err)
	}
	req.Header.Set("User-Agent", "ogpnode-harvest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", loc, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: %s", loc, resp.Status)
	}
	return readAtMost(resp.Body, loc, opts.MaxBytes)
}

// readLocal reads the regular file at path, of at most max bytes, and
// names it where in its errors. Anything else is refused before it is
// opened: a named pipe blocked the run until something wrote to it, and a
// device never ends.
func readLocal(path, where string, max int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", where, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", where)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("read %s: %w", where, tooLargeError{max})
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", where, errors.Unwrap(err))
	}
	defer f.Close()
	return readAtMost(f, where, max)
}

// untilDone returns what read, a read of loc on this machine, returns, or
// ctx's error as soon as ctx is done, leaving read's goroutine to end when
// read does. A read of this machine's files blocks in the kernel, where no
// context reaches: on a share whose server went away (a hard NFS mount),
// it held the run, and the node's stop, for as long as the share was
// gone. With reads, a location one of whose reads was left so, and has
// not returned yet, is not read again: each scheduled run started one
// more, a goroutine and a thread each, until the share came back.
func untilDone[T any](ctx context.Context, reads *LocalReads, loc string, read func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if reads.stuck(loc) {
		return zero, fmt.Errorf("read %s: a read of it left before has not returned yet (the file system does not answer): it is read again once that one has", loc)
	}
	var mu sync.Mutex
	finished, left := false, false
	done := make(chan result, 1)
	go func() {
		v, err := read()
		mu.Lock()
		finished = true
		if left {
			reads.returned(loc)
		}
		mu.Unlock()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		mu.Lock()
		if !finished {
			left = true
			reads.left(loc)
		}
		mu.Unlock()
		return zero, ctx.Err()
	}
}

// LocalReads are the reads of locations on this machine that untilDone
// left under way, for a scheduler's runs to share. A nil one keeps none.
type LocalReads struct {
	mu      sync.Mutex
	pending map[string]int // by location, the reads left under way
}

// NewLocalReads makes the reads of a scheduler's runs.
func NewLocalReads() *LocalReads { return &LocalReads{pending: map[string]int{}} }

// stuck reports whether a read of loc left under way has not returned.
func (l *LocalReads) stuck(loc string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pending[loc] > 0
}

// left notes a read of loc left under way.
func (l *LocalReads) left(loc string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending[loc]++
}

// returned notes that a read of loc left under way returned.
func (l *LocalReads) returned(loc string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pending[loc]--; l.pending[loc] <= 0 {
		delete(l.pending, loc)
	}
}

func readAtMost(r io.Reader, loc string, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", loc, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("read %s: %w", loc, tooLargeError{max})
	}
	return b, nil
}

// tooLargeError is a file larger than a read's bound.
type tooLargeError struct{ max int64 }

func (e tooLargeError) Error() string { return fmt.Sprintf("larger than %d bytes", e.max) }

// readPubliccode reads publiccode.yml files from a file, a URL, a folder
// or a git repository.
func readPubliccode(ctx context.Context, loc string, opts ReadOptions) ([]*catalogv1.HarvestEntry, []*catalogv1.RejectedEntry, error) {
	switch {
	case isGit(loc):
		dir, err := os.MkdirTemp("", "ogpnode-harvest-*")
		if err != nil {
			return nil, nil, err
		}
		defer os.RemoveAll(dir)
		if err := shallowClone(ctx, loc, dir, opts); err != nil {
			return nil, nil, err
		}
		return readPubliccodeDir(ctx, dir, opts)
	case isHTTP(loc):
		data, err := fetch(ctx, loc, opts)
		if err != nil {
			return nil, nil, err
		}
		e, r := parsePubliccode(data, WithoutSecrets(loc)) // where: in the public report
		return e, r, nil
	default:
		// A folder on this machine is read until the run is stopped,
		// however long it takes (see untilDone), a file within the
		// deadline of a fetch.
		type read struct {
			folder   bool
			entries  []*catalogv1.HarvestEntry
			rejected []*catalogv1.RejectedEntry
		}
		r, err := untilDone(ctx, opts.Reads, loc, func() (read, error) {
			if !isDir(loc) {
				return read{}, nil
			}
			e, r, err := readPubliccodeDir(ctx, loc, opts)
			return read{true, e, r}, err
		})
		if err != nil || r.folder {
			return r.entries, r.rejected, err
		}
		data, err := fetch(ctx, loc, opts)
		if err != nil {
			return nil, nil, err
		}
		e, rs := parsePubliccode(data, loc)
		return e, rs, nil
	}
}

// shallowClone clones the last commit of a repository into dir.
func shallowClone(ctx context.Context, loc, dir string, opts ReadOptions) error {
	remote := strings.TrimPrefix(loc, "git+")
	ctx, cancel := context.WithTimeout(ctx, opts.HTTPTimeout)
	defer cancel()
	// Never ask for a password on a terminal: a harvest runs unattended.
	env := append(childEnviron(), "GIT_TERMINAL_PROMPT=0")
	if u, err := url.Parse(remote); err == nil && u.User != nil && (u.Scheme == "http" || u.Scheme == "https") {
		// A user and password in the URL go to git in its environment,
		// which only the node's user reads, as a header of its requests:
		// on git's command line, every user of the machine read them
		// (ps), and git wrote them in the clone's .git/config. The
		// header would go along with a redirect to another host: none
		// is followed.
		password, _ := u.User.Password()
		auth := base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + password))
		u.User = nil
		remote = u.String()
		env = append(env, "GIT_CONFIG_COUNT=2",
			"GIT_CONFIG_KEY_0=http.extraHeader", "GIT_CONFIG_VALUE_0=Authorization: Basic "+auth,
			"GIT_CONFIG_KEY_1=http.followRedirects", "GIT_CONFIG_VALUE_1=false")
	}
	if os.Getenv("GIT_SSH_COMMAND") == "" && os.Getenv("GIT_SSH") == "" && !gitConfigured(ctx, "core.sshCommand") {
		// Nor for a host key or a passphrase: ssh asks on the terminal
		// the node may have, and the run waited for an answer. (An ssh
		// command the operator configured for git is theirs to make
		// so.)
		env = append(env, "GIT_SSH_COMMAND=ssh -o BatchMode=yes")
	}
	// git's messages go to a file: a pipe's reader waits for every
	// process that holds its end, and git's helpers (git-remote-https,
	// ssh) may outlive it.
	stderr, err := os.CreateTemp("", "ogpnode-git-*.log")
	if err != nil {
		return fmt.Errorf("clone %s: %w", remote, err)
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()
	cmd := exec.CommandContext(ctx, "git", "clone", "--quiet", "--depth", "1", "--single-branch", "--", remote, dir)
	cmd.Env, cmd.Stderr = env, stderr
	// The deadline and the node's stop end git and the helpers it starts,
	// all of its process group: killing git alone, the clone of a server
	// that never answers waited for the server.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if cmd.Process != nil {
		// Whatever ended git, the helpers it left end too.
		endGroup(cmd.Process.Pid)
	}
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("clone %s: git is not installed", remote)
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("clone %s: not done within %s", remote, opts.HTTPTimeout)
		}
		said, _ := os.ReadFile(stderr.Name())
		return fmt.Errorf("clone %s: %v: %s", remote, err, strings.TrimSpace(string(clip.Bytes(string(said), 4<<10))))
	}
	return nil
}

// gitConfigured reports whether git's configuration sets key.
func gitConfigured(ctx context.Context, key string) bool {
	cmd := exec.CommandContext(ctx, "git", "config", "--get", key)
	cmd.Env = childEnviron()
	return cmd.Run() == nil
}

// endGroup kills the process group pgid, and, on a goroutine, reaps those
// of its processes the node is the parent of by now: a node that is its
// container's first process (PID 1) inherits the orphans of the group,
// which else stayed as zombies, two a clone past its deadline.
func endGroup(pgid int) {
	if syscall.Kill(-pgid, syscall.SIGKILL) != nil {
		return // no process left in it
	}
	go func() {
		for {
			if _, err := syscall.Wait4(-pgid, nil, 0, nil); err != nil && !errors.Is(err, syscall.EINTR) {
				return // ECHILD: none of them is the node's
			}
		}
	}()
}

// publiccodeFiles lists the files of a folder a harvest reads: those named
// publiccode.yml or publiccode.yaml at any depth when there are some (a
// repository keeps other YAML files, for CI and the like), else every .yml
// and .yaml file (a folder of catalog entries). Hidden files and folders
// (.git) are skipped. A link to a file counts as the file (a mounted
// ConfigMap is made of them) when it leads to a file inside the folder;
// a link that leads out of it (a repository's contributors write its
// links: one to /etc/passwd, or to the node's key, would publish it in
// the report), or to nothing, is refused: the file it stands for is
// reported, not read, and the read is not complete, so no tool is deleted
// for it. Links to folders inside are not followed, so a loop cannot trap
// the walk; the folder itself may be given by a link.
func publiccodeFiles(root string) (files []string, refused []*catalogv1.RejectedEntry, err error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, fmt.Errorf("read folder %s: %w", root, err)
	}
	var named, all []string
	var namedRefused, allRefused []*catalogv1.RejectedEntry
	// A folder given by a link to it (a deployment's "current", a share
	// linked into place) is walked through the link: WalkDir does not
	// follow a root that is one, and found nothing in it.
	walkRoot := root
	if info, err := os.Lstat(root); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		walkRoot = root + string(filepath.Separator)
	}
	err = filepath.WalkDir(walkRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != walkRoot {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		name := strings.ToLower(d.Name())
		isNamed := name == "publiccode.yml" || name == "publiccode.yaml"
		if !isNamed && !strings.HasSuffix(name, ".yml") && !strings.HasSuffix(name, ".yaml") {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if why := linkRefusal(realRoot, path); why != "" {
				where, _ := filepath.Rel(root, path)
				r := &catalogv1.RejectedEntry{Where: filepath.ToSlash(where), Findings: []*catalogv1.Finding{{Message: why}}}
				if isNamed {
					namedRefused = append(namedRefused, r)
				} else {
					allRefused = append(allRefused, r)
				}
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if isNamed {
			named = append(named, path)
		} else {
			all = append(all, path)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read folder %s: %w", root, err)
	}
	if len(named) > 0 || len(namedRefused) > 0 {
		all, allRefused = named, namedRefused
	}
	sort.Strings(all)
	return all, allRefused, nil
}

// linkRefusal says why the link at path is not read as a file of the
// folder whose real path is realRoot, or "" when it leads to a regular
// file inside it.
func linkRefusal(realRoot, path string) string {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "is a link to a file that does not exist (or cannot be reached): not read, and no tool of the source is deleted while it stands"
	}
	if rel, err := filepath.Rel(realRoot, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "is a link to a file outside the folder harvested: not read, and no tool of the source is deleted while it stands"
	}
	if st, err := os.Stat(target); err != nil || !st.Mode().IsRegular() {
		return "is a link to something other than a file: not read, and no tool of the source is deleted while it stands"
	}
	return ""
}

// readPubliccodeDir parses a folder's files on every core. Two files of the
// same repository (the same url) are one entry: the second is rejected.
func readPubliccodeDir(ctx context.Context, root string, opts ReadOptions) ([]*catalogv1.HarvestEntry, []*catalogv1.RejectedEntry, error) {
	files, refused, err := publiccodeFiles(root)
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 && len(refused) == 0 {
		// An empty folder is more likely a share that is not mounted than
		// a catalog that dropped every tool: not a complete read.
		return nil, nil, fmt.Errorf("found no publiccode.yml or .yml file in %s", root)
	}
	type parsed struct {
		entry    *catalogv1.HarvestEntry
		rejected *catalogv1.RejectedEntry
		err      error
	}
	results := make([]parsed, len(files))
	var (
		wg   sync.WaitGroup
		next = make(chan int)
		mu   sync.Mutex
		done int
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				where, _ := filepath.Rel(root, files[i])
				where = filepath.ToSlash(where)
				data, err := readLocal(files[i], where, opts.MaxBytes)
				if errors.As(err, new(tooLargeError)) {
					// Anyone who commits to a repository harvested can
					// write such a file: reported, with no source id,
					// so that no tool is deleted for it.
					results[i].rejected = &catalogv1.RejectedEntry{Where: where, Findings: []*catalogv1.Finding{{Message: fmt.Sprintf("is larger than %d bytes: not read, and no tool of the source is deleted while it stands", opts.MaxBytes)}}}
					continue
				}
				if err != nil {
					results[i].err = err
					continue
				}
				es, rs := parsePubliccode(data, where)
				if len(es) > 0 {
					results[i].entry = es[0]
				}
				if len(rs) > 0 {
					results[i].rejected = rs[0]
				}
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(files))
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var (
		entries  []*catalogv1.HarvestEntry
		rejected = refused // without a source id: they keep every tool from deletion
		errs     []error
		seen     = map[string]string{}
	)
	for _, r := range results {
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
		case r.rejected != nil:
			rejected = append(rejected, r.rejected)
		case r.entry != nil:
			form := finding.IDForm(r.entry.GetSourceId()) // the same repository, whatever its spelling
			if first, dup := seen[form]; dup {
				rejected = append(rejected, &catalogv1.RejectedEntry{SourceId: r.entry.GetSourceId(), Where: r.entry.GetWhere(),
					Findings: []*catalogv1.Finding{{Key: "url", Message: fmt.Sprintf("the repository %s is already described by %s", r.entry.GetSourceId(), first)}}})
				continue
			}
			seen[form] = r.entry.GetWhere()
			entries = append(entries, r.entry)
		}
	}
	return entries, rejected, errors.Join(errs...)
}

// parsePubliccode parses one file into an entry or a rejected entry.
func parsePubliccode(data []byte, where string) ([]*catalogv1.HarvestEntry, []*catalogv1.RejectedEntry) {
	res := publiccode.Parse(data, where)
	if res.Entry != nil && len(res.Errors) == 0 {
		res.Entry.Warnings = res.Warnings // what the tool leaves out, for the report
		return []*catalogv1.HarvestEntry{res.Entry}, nil
	}
	r := &catalogv1.RejectedEntry{Where: where, Findings: res.Errors, SourceId: res.SourceID}
	if len(r.Findings) == 0 {
		r.Findings = []*catalogv1.Finding{{Message: "not a publiccode.yml file"}}
	}
	return nil, []*catalogv1.RejectedEntry{r}
}

// childEnviron is the node's environment without its own settings
// (OGPNODE_*), for the programs it runs: git and the helpers git starts
// (git-remote-https, ssh, a credential helper) need neither the admin
// token nor the gossip key that a node may be given there.
func childEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OGPNODE_") {
			env = append(env, kv)
		}
	}
	return env
}
