package node

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestDiskFullIsResourceExhausted: a write that finds the node's disk full
// answers RESOURCE_EXHAUSTED (gRPC's code for a file system out of space),
// saying nothing was written, rather than INTERNAL, which a client does
// not retry.
func TestDiskFullIsResourceExhausted(t *testing.T) {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the pragma is the connection's
	for _, q := range []string{"CREATE TABLE t (x BLOB)", "PRAGMA max_page_count = 2"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, full := db.Exec("INSERT INTO t VALUES (zeroblob(100000))")
	if full == nil {
		t.Fatal("the insert found room")
	}
	err = statusOf(fmt.Errorf("apply: %w", full))
	if s := status.Convert(err); s.Code() != codes.ResourceExhausted || !strings.Contains(s.Message(), "disk is full") {
		t.Errorf("a write on a full disk: %v; want RESOURCE_EXHAUSTED saying the disk is full", err)
	}
}
