package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// smallDisk mounts a tmpfs of size (such as "8m") on a folder of the
// test's own, and returns the folder: a file system that runs out of
// space (ENOSPC) as a full disk does. It skips the test where it cannot
// mount (not root).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fillDisk writes the file dir/filler until the file system is full.
func fillDisk(t *testing.T, dir string) (filler string) {
	t.Helper()
	filler = filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			break
		}
	}
	for { // to the last byte
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	return filler
}

// logFrames is how many frames the catalog's write-ahead log file holds.
func logFrames(path string) int64 {
	st, err := os.Stat(path + "-wal")
	if err != nil {
		return 0
	}
	return (st.Size() - 32) / (4096 + 24)
}

// writeAtLogIndexGrowth writes tools into a catalog on a small disk until
// its write-ahead log is about to pass 4,062 frames, where the log's
// index (the -shm file, 32 KiB at first) needs 32 KiB more; it then fills
// the disk and writes on, freeing a page of the disk at each write refused
// as disk full: the write whose commit passes that mark finds room for its
// frames in the log, and none for the index. It returns the catalog, its
// path, the watermark before that write, the id it wrote and its error.
// The checkpointer is stopped so that the log grows as it does while a
// node catches up with its federation.
func writeAtLogIndexGrowth(t *testing.T) (s *Store, path string, before int64, id string, err error) {
	t.Helper()
	ctx := context.Background()
	dir := smallDisk(t, "24m")
	path = filepath.Join(dir, "catalog.db")
	s, err = Open(ctx, Options{Path: path, Origin: "fr", Key: testKey(1), Now: steppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// No checkpoint from now on (the checkpointer's first, of what the
	// open wrote, done): the log's length is its file's.
	if err := s.checkpoints.close(); err != nil {
		t.Fatal(err)
	}
	create(t, s, "first", tool("First", "x"))
	text := strings.Repeat("participation ", 450)
	i := 0
	for logFrames(path) < 4062-30 {
		create(t, s, fmt.Sprintf("t%d", i), tool(fmt.Sprintf("Tool %d", i), text))
		i++
	}
	filler := fillDisk(t, dir)
	for range 1000 {
		id = fmt.Sprintf("t%d", i)
		if before, err = s.Watermark(ctx, "fr"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Apply(ctx, []Write{{Op: OpCreate, ID: id, Resource: tool(fmt.Sprintf("Tool %d", i), text)}})
		switch {
		case err == nil:
			i++
		case DiskFull(err) && !logIndexFull(err) && logFrames(path) <= 4062+30:
			st, statErr := os.Stat(filler)
			if statErr != nil {
				t.Fatal(statErr)
			}
			if err := os.Truncate(filler, st.Size()-4096); err != nil {
				t.Fatal(err)
			}
		default:
			return s, path, before, id, err
		}
		if logFrames(path) > 4062+30 {
			t.Fatalf("the log passed 4,062 frames (%d) and no write failed as the index grew", logFrames(path))
		}
	}
	t.Fatal("no write met the disk full as the log's index grew")
	return
}

// logIndexFull reports whether err is SQLite's failure to grow the
// write-ahead log's index.
func logIndexFull(err error) bool {
	se := (*sqlite.Error)(nil)
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_IOERR_SHMSIZE
}

// TestDiskFullAsTheLogIndexGrowsSaysDiskFull: a write that finds the
// disk full when the write-ahead log's index must grow is a write that
// found the disk full (the API's RESOURCE_EXHAUSTED, 429, and nothing
// written), not an I/O error (INTERNAL, 500), and it writes nothing.
func TestDiskFullAsTheLogIndexGrowsSaysDiskFull(t *testing.T) {
	ctx := context.Background()
	s, _, before, id, err := writeAtLogIndexGrowth(t)
	if err == nil || !DiskFull(err) {
		t.Errorf("a write that found the disk full as the log's index grew: %v; want SQLite's disk full (DiskFull), which the API answers RESOURCE_EXHAUSTED", err)
	}
	if _, gerr := s.Get(ctx, KindTool, "fr", id); !errors.Is(gerr, ErrNotFound) {
		t.Errorf("the write that failed: %v, want not found", gerr)
	}
	if w, _ := s.Watermark(ctx, "fr"); w != before {
		t.Errorf("the write that failed moved the head from %d to %d", before, w)
	}
}

// TestWriteRefusedForFullDiskStaysUnwrittenThroughACrash: a write the
// catalog refused (it found the disk full as the log's index grew) is not
// in the catalog a node restarted after a crash opens: the API said
// nothing was written, and the client was told to retry.
func TestWriteRefusedForFullDiskStaysUnwrittenThroughACrash(t *testing.T) {
	ctx := context.Background()
	_, path, before, id, err := writeAtLogIndexGrowth(t)
	if err == nil {
		t.Fatal("the write went through")
	}
	// The machine crashes now: the catalog's file and its log are as the
	// disk holds them (the log's index, in shared memory, is lost).
	crashed := filepath.Join(t.TempDir(), "catalog.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crashed+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	restarted := openAt(t, crashed, "fr", testKey(1))
	w, _ := restarted.Watermark(ctx, "fr")
	if _, gerr := restarted.Get(ctx, KindTool, "fr", id); !errors.Is(gerr, ErrNotFound) || w != before {
		t.Errorf("the write refused with %q is in the catalog after a crash (%v; head %d, %d when it was refused)", err, gerr, w, before)
	}
}

// closedOnFullDisk makes a catalog of one tool, closes it (its log and
// the log's index removed), and fills its disk: it returns its path.
func closedOnFullDisk(t *testing.T) string {
	t.Helper()
	dir := smallDisk(t, "8m")
	path := filepath.Join(dir, "catalog.db")
	s := openAt(t, path, "fr", testKey(1))
	create(t, s, "decidim", tool("Decidim", "Participatory democracy"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fillDisk(t, dir)
	return path
}

// TestOpenOnFullDiskSaysSo: a catalog closed cleanly (its log and the
// log's index removed) on a disk that filled up meanwhile opens, or its
// open fails saying the disk is full, naming the catalog: not with an I/O
// error that points at a failing disk.
func TestOpenOnFullDiskSaysSo(t *testing.T) {
	ctx := context.Background()
	path := closedOnFullDisk(t)
	s, err := Open(ctx, Options{Path: path, Origin: "fr", Key: testKey(1)})
	if err == nil {
		defer s.Close()
		if _, err := s.Get(ctx, KindTool, "fr", "decidim"); err != nil {
			t.Errorf("read on a full disk: %v", err)
		}
		return
	}
	if !strings.Contains(err.Error(), path) || !(DiskFull(err) || strings.Contains(err.Error(), "full")) {
		t.Errorf("open on a full disk: %v; want it opened, or an error naming the catalog and saying its disk is full", err)
	}
}

// TestBackupOfACatalogOnAFullDisk: a catalog whose disk is full (the node
// stopped) is backed up to another disk that has room, as an operator
// does before freeing space; or the backup fails saying what is full, the
// catalog's disk, not the destination.
func TestBackupOfACatalogOnAFullDisk(t *testing.T) {
	ctx := context.Background()
	path := closedOnFullDisk(t)
	dest := filepath.Join(t.TempDir(), "backup.db") // a disk with room
	err := Backup(ctx, path, dest)
	if err == nil {
		return
	}
	if strings.Contains(err.Error(), "into "+dest) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "full") {
		t.Errorf("backup of a catalog on a full disk to a disk with room: %v; want it made, or an error naming the catalog's disk as full (not the destination)", err)
	}
	if _, serr := os.Stat(dest); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the failed backup left %s (%v)", dest, serr)
	}
}
