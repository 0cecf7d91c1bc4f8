package storage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// contactOf is a tool whose maintenance names a person, of e-mail
// address email, with a description of long bytes (past a page: overflow
// pages).
func contactOf(id, email string, long int) *catalogv1.Tool {
	t := tool("Tool "+id, "a tool")
	t.Descriptions["en"].LongDescription = strings.Repeat("lorem ipsum ", long/12)
	t.Maintenance = &catalogv1.Maintenance{Type: "community", Contacts: []*catalogv1.Contact{{Name: "Dario Bianchi", Email: email, Phone: "+391624231322"}}}
	return t
}

// awaitCheckpointed checkpoints s's log until all of it is in the file.
func awaitCheckpointed(t *testing.T, s *Store) {
	t.Helper()
	for range 100 {
		if _, complete, err := s.checkpoints.checkpoint(context.Background()); err == nil && complete {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the log never checkpointed")
}

// awaitGone waits until no file beside path holds s: the checkpointer
// cuts the log to nothing after a commit that erased rows (see
// checkpointer.erased), at once the first time.
func awaitGone(t *testing.T, path, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(filesOf(t, path, s)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%q is still in %v", s, filesOf(t, path, s))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// filesOf are the files beside path (the catalog's, its log's, its
// index's) whose bytes hold s.
func filesOf(t *testing.T, path, s string) []string {
	t.Helper()
	var out []string
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(s)) {
			out = append(out, filepath.Base(f))
		}
	}
	return out
}

// TestHarvestDeletedContactGoneFromTheLog: a harvest creates a city's
// hundred tools, each naming its maintainer; the next drops one of them.
// Soon after, neither the catalog nor its write-ahead log (what a kill -9
// leaves, what a copy of the data folder takes) holds the dropped
// maintainer's address: the log started over at the front, and what the
// delete wrote there covered a few of the frames the hundred creates
// left, which held it.
func TestHarvestDeletedContactGoneFromTheLog(t *testing.T) {
	s, path := openTest(t)
	var ws []Write
	for i := range 100 {
		ws = append(ws, Write{Op: OpCreate, ID: fmt.Sprintf("t%d", i), Resource: contactOf(fmt.Sprint(i), fmt.Sprintf("maintainer%d@city.example.org", i), 200)})
	}
	if _, err := s.Apply(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	awaitCheckpointed(t, s)
	if _, err := s.Apply(context.Background(), []Write{{Op: OpDelete, Kind: KindTool, ID: "t90"}}); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, path, "maintainer90@city.example.org")
}

// TestLongRecordContactGoneFromTheLog: a tool whose long description
// takes overflow pages, deleted: its pages go to the freelist, zeroed, and
// the log's copies of them are cut.
func TestLongRecordContactGoneFromTheLog(t *testing.T) {
	s, path := openTest(t)
	create(t, s, "long", contactOf("long", "long.maintainer@city.example.org", 20000))
	create(t, s, "other", tool("Other", "kept"))
	awaitCheckpointed(t, s)
	if _, err := s.Apply(context.Background(), []Write{{Op: OpDelete, Kind: KindTool, ID: "long"}}); err != nil {
		t.Fatal(err)
	}
	awaitGone(t, path, "long.maintainer@city.example.org")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if files := filesOf(t, path, "long.maintainer@city.example.org"); len(files) > 0 {
		t.Errorf("closed: still in %v", files)
	}
}
