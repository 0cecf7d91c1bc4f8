package storage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
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
