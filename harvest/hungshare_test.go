package harvest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hungShare mounts a file system whose server never answers (a FUSE
// mount nobody serves: every lookup in it blocks in the kernel, as on a
// hard NFS mount whose server went away) and returns its folder. The
// cleanup closes the device, which fails the blocked calls, then unmounts.
func hungShare(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	dev, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no FUSE here to simulate a share whose server went away: %v", err)
	}
	opts := fmt.Sprintf("fd=%d,rootmode=40000,user_id=%d,group_id=%d", dev.Fd(), os.Getuid(), os.Getgid())
	if err := syscall.Mount("hungshare", dir, "fuse.hungshare", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		dev.Close()
		t.Skipf("cannot mount FUSE here to simulate a share whose server went away: %v", err)
	}
	t.Cleanup(func() {
		dev.Close() // the server "comes back" failing: every blocked call returns
		syscall.Unmount(dir, syscall.MNT_DETACH)
	})
	return dir
}

// stuckReads counts the goroutines blocked in readLocal.
func stuckReads() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "harvest.readLocal(") {
			n++
		}
	}
	return n
}

// TestScheduledHarvestOfAHungShareKeepsOneRead: a scheduled source on a
// share whose server went away (a hard NFS mount) must not start a new
// read at every interval while the last one is still blocked in the
// kernel. Each such read holds a goroutine and an OS thread until the
// share comes back: at an interval of 5 minutes, a weekend's outage
// leaves 700 threads, and Go stops the process at 10,000.
func TestScheduledHarvestOfAHungShareKeepsOneRead(t *testing.T) {
	share := hungShare(t)
	s := openStore(t)
	im := NewImporter(s, nil, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []Scheduled{{Source: Source{Kind: KindSILL, Name: "sill", Location: filepath.Join(share, "sill.json")}, Interval: "1s"}},
			im, ReadOptions{HTTPTimeout: 100 * time.Millisecond}, quietLog())
	}()
	t.Cleanup(func() { cancel(); <-done })

	runs := 0
	waitFor(t, "four runs reported", func() bool {
		rs, err := s.HarvestRuns(ctx, "sill", 100)
		runs = len(rs)
		return err == nil && runs >= 4
	})
	rs, _ := s.HarvestRuns(ctx, "sill", 1)
	if !strings.Contains(rs[0].GetError(), "a read of it left before has not returned yet") {
		t.Errorf("the last run says %q, want it to say the last read has not returned", rs[0].GetError())
	}
	if n := stuckReads(); n > 1 {
		t.Errorf("after %d scheduled runs of a source on a hung share, %d reads of it are blocked at once (one goroutine and one OS thread each, until the share comes back); want at most 1", runs, n)
	}
}
