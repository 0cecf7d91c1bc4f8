package storage

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// recordsInFileAlone counts the records a copy of the database file holds
// without its write-ahead log: what a commit has in the file once it is
// checkpointed. A copy taken while a checkpoint writes may be torn; that
// is an error, and the caller tries again.
func recordsInFileAlone(t *testing.T, path string) (int, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	cp := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+cp+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM records").Scan(&n)
	return n, err
}

// TestWritesReachTheDatabaseFile checks that a commit reaches the database
// file soon, with no more writes and without closing the catalog: a backup
// of the file alone misses at most the last moment of writes, and a power
// loss cannot take back writes that peers may already hold. SQLite by
// itself would leave them in the log until it held 1,000 pages.
func TestWritesReachTheDatabaseFile(t *testing.T) {
	ctx := context.Background()
	s, path := openTest(t)
	for round := 1; round <= 3; round++ {
		id := fmt.Sprintf("tool-%d", round)
		create(t, s, id, tool("Tool "+id, "A tool."))
		deadline := time.Now().Add(30 * time.Second)
		for {
			n, err := recordsInFileAlone(t, path)
			if err == nil && n == round {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the database file alone holds %d records (%v), want %d", round, n, err, round)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Errorf("after Close, the write-ahead log is still there (%v)", err)
	}
	s = openAt(t, path, "fr", testKey(1))
	if got, err := s.Get(ctx, KindTool, "fr", "tool-3"); err != nil || got == nil {
		t.Errorf("after reopening: %v", err)
	}
}

// logRestarts reads the count of restarts from the header of the
// write-ahead log file (its checkpoint sequence number, which SQLite adds
// one to each time the log starts over), 0 when there is no log yet.
func logRestarts(t *testing.T, logPath string) uint32 {
	t.Helper()
	f, err := os.Open(logPath)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var header [16]byte
	if _, err := f.ReadAt(header[:], 0); err != nil {
		return 0 // not written yet
	}
	return binary.BigEndian.Uint32(header[12:])
}

// TestLogStartsOverUnderSustainedWrites applies pages back to back, as a
// node catching up with the federation does, and checks that the
// write-ahead log starts over meanwhile: a passive checkpoint never
// catches up with a writer that does not pause, and SQLite starts the log
// over only after one has, so that the log grew by everything the pages
// wrote (three times the records, with the indexes' pages).
func TestLogStartsOverUnderSustainedWrites(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		// The writes run in Go (modernc.org/sqlite) and keep the one
		// processor: the checkpointer gets to run, and the lock, only
		// when the scheduler preempts them, too seldom in a test this
		// short to count restarts by.
		t.Skip("needs a processor for the checkpointer beside the writer")
	}
	ctx := context.Background()
	src, _ := openTest(t)
	long := strings.Repeat("Consultations, pétitions et budgets participatifs pour chaque collectivité. ", 25)
	for batch := 0; batch < 4; batch++ {
		var ws []Write
		for i := batch * 500; i < (batch+1)*500; i++ {
			ws = append(ws, Write{Op: OpCreate, ID: fmt.Sprintf("t%d", i), Resource: tool(fmt.Sprintf("Tool %d", i), long)})
		}
		if _, err := src.Apply(ctx, ws); err != nil {
			t.Fatal(err)
		}
	}

	path := filepath.Join(t.TempDir(), "replica.db")
	dst, err := Open(ctx, Options{Path: path, Origin: "de", Key: testKey(2),
		checkpoints: checkpointTimings{interval: time.Millisecond, startOver: 256 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	// Checked first, the pages are then applied with no pause between.
	var checked []*CheckedPage
	for _, p := range pages(t, src, dst, 32<<10) {
		cp, err := dst.CheckPage(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		checked = append(checked, cp)
	}
	// The first commit starts over the log of Open's writes, checkpointed
	// since: count from there.
	if _, err := dst.ApplyChecked(ctx, checked[0]); err != nil {
		t.Fatal(err)
	}
	before := logRestarts(t, path+"-wal")
	for _, cp := range checked[1:] {
		if _, err := dst.ApplyChecked(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	restarts := logRestarts(t, path+"-wal") - before
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the log started over %d times in %d pages, and was at most %d KiB", restarts, len(checked), st.Size()>>10)
	if restarts < 2 {
		t.Errorf("the log started over %d times while %d pages were applied back to back, and grew to %d KiB; want at least 2", restarts, len(checked), st.Size()>>10)
	}
	counts, err := dst.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []OriginCounts{{Origin: "de"}, {Origin: "fr", Tools: 2000, HeadSeq: 2000}}; !slices.Equal(counts, want) {
		t.Errorf("the replica holds %+v, want %+v", counts, want)
	}
}
