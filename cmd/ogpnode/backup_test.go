package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/node"
	"github.com/ogptoolbox/federation/storage"
)

// TestBackupBesideANode backs up a data folder whose catalog is open and
// written, as a running node holds it, then opens the backup as a data
// folder: it holds the records written before the backup, not those after,
// and the same key. A second backup into the same folder, or one of a
// folder without a catalog, is refused and leaves nothing behind. The
// folder the backup goes in is made if it is not there (/backups, the
// first time).
func TestBackupBesideANode(t *testing.T) {
	ctx := context.Background()
	data, dest := t.TempDir(), filepath.Join(t.TempDir(), "backups", "backup")
	cat, err := node.OpenCatalog(ctx, "fr", data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	write := func(id string) {
		t.Helper()
		tool := &catalogv1.Tool{DisplayName: id, Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}}}
		if _, err := cat.Store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: id, Resource: tool}}); err != nil {
			t.Fatal(err)
		}
	}
	write("before")
	backup := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"backup"}, args...), func(string) string { return "" }, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	if out, err := backup("--data", data, dest); err != nil || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	write("after")
	if _, err := backup("--data", data, dest); err == nil {
		t.Error("a backup into a folder that exists was taken")
	}
	key := cat.Store.PublicKey()
	if err := cat.Close(); err != nil {
		t.Fatal(err)
	}
	// The backup says it is one: a node started on it holds its writes
	// until its federation gave back the records written since.
	if b, err := os.ReadFile(filepath.Join(dest, "restored-from-backup")); err != nil || !strings.Contains(string(b), "holds its writes") {
		t.Errorf("the backup's note that it is one: %q, %v", b, err)
	}
	for _, name := range []string{"node.key", "admin-token"} {
		if _, err := os.Stat(filepath.Join(data, name)); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		st, err := os.Stat(filepath.Join(dest, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s in the backup: %v, %v", name, st, err)
		}
	}

	// The folder of a stopped node, its log copied into the file.
	stopped := filepath.Join(t.TempDir(), "stopped")
	if out, err := backup("--data", data, stopped); err != nil {
		t.Fatalf("backup of a stopped node's folder: %v\n%s", err, out)
	}
	again, err := node.OpenCatalog(ctx, "fr", stopped, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Store.Get(ctx, storage.KindTool, "fr", "after"); err != nil {
		t.Errorf("the backup of the stopped node lacks its last tool: %v", err)
	}
	again.Close()

	restored, err := node.OpenCatalog(ctx, "fr", dest, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("the backup does not open as a data folder: %v", err)
	}
	defer restored.Close()
	if !restored.Store.PublicKey().Equal(key) {
		t.Error("the backup has another key")
	}
	if _, err := restored.Store.Get(ctx, storage.KindTool, "fr", "before"); err != nil {
		t.Errorf("the tool written before the backup: %v", err)
	}
	if _, err := restored.Store.Get(ctx, storage.KindTool, "fr", "after"); err == nil {
		t.Error("the tool written after the backup is in it")
	}

	empty, none := t.TempDir(), filepath.Join(t.TempDir(), "none")
	if _, err := backup("--data", empty, none); err == nil {
		t.Error("a folder without a catalog was backed up")
	}
	if _, err := os.Stat(none); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed backup left %s: %v", none, err)
	}
	if _, err := backup("--data", data); !errors.As(err, new(usageError)) {
		t.Errorf("a backup without its folder: %v", err)
	}
}

// TestFoldersNamedWithURICharacters backs up a data folder named with "#",
// "?" and "%" into another: SQLite reads a file's path as a URI's, where
// they cut it or escape, so the catalog was opened, and the backup checked,
// at another path.
func TestFoldersNamedWithURICharacters(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	data, dest := filepath.Join(parent, "data#1?x%41"), filepath.Join(parent, "backup#2")
	cat, err := node.OpenCatalog(ctx, "fr", data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tool := &catalogv1.Tool{DisplayName: "One", Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}}}
	if _, err := cat.Store.Apply(ctx, []storage.Write{{Op: storage.OpCreate, ID: "one", Resource: tool}}); err != nil {
		t.Fatal(err)
	}
	if err := node.BackupDataDir(ctx, data, dest); err != nil {
		t.Fatal(err)
	}
	cat.Close()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 {
		t.Errorf("the folder holds %q, want the data folder and its backup only", names)
	}
	if _, err := os.Stat(filepath.Join(data, "catalog.db")); err != nil {
		t.Errorf("the catalog is not in its folder: %v", err)
	}
	restored, err := node.OpenCatalog(ctx, "fr", dest, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if _, err := restored.Store.Get(ctx, storage.KindTool, "fr", "one"); err != nil {
		t.Errorf("the backup lacks the tool: %v", err)
	}
}
