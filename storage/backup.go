package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
)

// Backup writes a copy of the catalog file at path to dest, a file that
// must not exist, as it was at one moment: SQLite's VACUUM INTO, on a
// read-only connection of its own, so that it runs beside a node that
// serves and writes (no write waits for it, and it sees none that commits
// meanwhile). The copy is checked before Backup returns; a failed one is
// removed.
func Backup(ctx context.Context, path, dest string) (err error) {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("back up the catalog: %w", err) // rather than an empty one made
	}
	if _, err := os.Lstat(dest); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("back up the catalog: %s exists already", dest)
	}
	defer func() {
		if err != nil {
			os.Remove(dest)
		}
	}()
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", fileURI(path, q))
	if err != nil {
		return fmt.Errorf("back up the catalog: %w", err)
	}
	defer db.Close()
	// The catalog read first, so that what fails reading it is not said
	// of dest: on a full disk, SQLite cannot make the small file through
	// which it reads a catalog in write-ahead log mode.
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(new(int)); err != nil {
		if DiskFull(err) {
			return fmt.Errorf("back up the catalog: read %s: its file system is full (SQLite reads a catalog through a small file beside it, the write-ahead log's index, which it could not write): free space there, or copy the file itself while the node is stopped: %w", path, err)
		}
		return fmt.Errorf("back up the catalog: read %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("back up the catalog into %s: %w", dest, err)
	}
	copied, err := sql.Open("sqlite", fileURI(dest, q))
	if err != nil {
		return fmt.Errorf("check the backup %s: %w", dest, err)
	}
	defer copied.Close()
	var check string
	if err := copied.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil || check != "ok" {
		return fmt.Errorf("check the backup %s: %q, %v", dest, check, err)
	}
	return nil
}
