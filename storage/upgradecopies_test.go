package storage

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestUpgradesDoNotPileUpCopies: each upgrade copies the whole catalog
// beside it (catalog.db.schema-N), the way back to the ogpnode before.
// Only the last copy is a way back to the ogpnode before; an older one is
// older than it. A node upgraded at each release must not keep one full
// copy of its catalog per release in its data folder for ever.
func TestUpgradesDoNotPileUpCopies(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := openAt(t, path, "fr", testKey(1))
	for i := range 500 {
		create(t, s, fmt.Sprintf("tool-%d", i), tool(fmt.Sprintf("Tool %d", i), "A tool for citizens' participation in public decisions"))
	}
	s.Close()
	// back takes the catalog back to the schema an earlier release left.
	back := func(undo ...string) {
		t.Helper()
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range undo {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	// An upgrade from a release of schema 6 to this one...
	back("DELETE FROM schema_migrations WHERE version >= 7", "ALTER TABLE records DROP COLUMN r_x", "ALTER TABLE origins DROP COLUMN signed_digest")
	openAt(t, path, "fr", testKey(1)).Close()
	// ...and, later, one from a release of schema 7 to this one (as if
	// the catalog had been upgraded to 7 first, then to 8).
	back("DELETE FROM schema_migrations WHERE version >= 8", "ALTER TABLE records DROP COLUMN r_x")
	openAt(t, path, "fr", testKey(1)).Close()

	// An operator's own file beside them is not an upgrade's copy.
	if err := os.WriteFile(path+".schema-6.bak", []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	// An upgrade from a release of schema 6 again.
	back("DELETE FROM schema_migrations WHERE version >= 7", "ALTER TABLE records DROP COLUMN r_x", "ALTER TABLE origins DROP COLUMN signed_digest")
	openAt(t, path, "fr", testKey(1)).Close()
	if _, err := os.Stat(path + ".schema-6.bak"); err != nil {
		t.Errorf("the operator's file beside the copies: %v", err)
	}
	copies, _ := filepath.Glob(path + ".schema-[0-9]")
	var bytes int64
	for _, c := range copies {
		if fi, err := os.Stat(c); err == nil {
			bytes += fi.Size()
		}
	}
	fi, _ := os.Stat(path)
	if len(copies) > 1 {
		t.Errorf("after two upgrades the data folder holds %d full copies of the catalog (%v), %d bytes, beside a catalog of %d bytes; want the last copy alone", len(copies), copies, bytes, fi.Size())
	}
}
