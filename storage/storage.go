// Package storage is the node's catalog: one SQLite file that holds the
// signed records of every origin the node knows (its own and its peers'),
// and the in-memory search indexes (package search) built from them.
// Everything that writes to the catalog, the API through node/ and
// replication through sync/, goes through this package, and nothing else
// opens the database. It imports neither node/ nor sync/.
//
// The node's own writes take the next per-origin seq and are signed with the
// node's key inside the write transaction, so a record, its seq and its
// signature appear together or not at all. The search indexes are rebuilt
// from the records when the catalog opens, and take each write after it
// commits, in commit order; searches see a batch whole or not at all.
package storage

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ogptoolbox/federation/envelope"
	"github.com/ogptoolbox/federation/qualify"
	"github.com/ogptoolbox/federation/search"
	"modernc.org/sqlite" // the SQLite driver, registered as "sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The errors a caller tells apart with errors.Is; the returned errors wrap
// them with the record concerned.
var (
	// ErrNotFound: no live record by that name.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create named a live record.
	ErrAlreadyExists = errors.New("already exists")
	// ErrStale: the etag given is not the record's current one.
	ErrStale = errors.New("etag is stale")
	// ErrInvalid: a request the store cannot carry out as given.
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: the node cannot carry out the request now (it is
	// stopping); the same request may succeed later, or on another node.
	ErrUnavailable = errors.New("unavailable")
)

// DiskFull reports whether err is SQLite's: the disk (or the file's
// largest size) is full. Nothing of the write was applied, and the same
// write succeeds once space is freed.
//
// A disk full is also what stops the write-ahead log's index from growing
// (SQLITE_IOERR_SHMSIZE: the -shm file takes 32 KiB more every 4,096 pages
// of the log), which SQLite reports as an I/O error, once it has written
// the whole write into the log: commitWrite then writes over it.
func DiskFull(err error) bool {
	se := (*sqlite.Error)(nil)
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_FULL || se.Code() == sqlite3.SQLITE_IOERR_SHMSIZE)
}

// commitWrite commits tx, a transaction of the writer's connection.
func (s *Store) commitWrite(tx *sql.Tx) error {
	err := tx.Commit()
	s.overwriteRefused(err)
	return err
}

// execWrite runs a write of one statement on the writer's connection.
func (s *Store) execWrite(ctx context.Context, query string, args ...any) error {
	_, err := s.writer.ExecContext(ctx, query, args...)
	s.overwriteRefused(err)
	return err
}

// overwriteRefused makes sure that a write whose commit failed with err is
// not in the catalog. A commit that fails for an I/O error may have
// written the whole write into the write-ahead log, its commit page
// included, before SQLite failed to index it (the log's index cannot grow
// on a full disk): the catalog's connections do not see it, and the API
// says that nothing was written, but a node that stopped before its next
// write found it there when SQLite recovered the log on start. A write
// of a page follows at once, which SQLite appends where the refused one
// begins, on disk the refused one already took: it breaks the chain of
// the log's checksums before the refused commit, which a recovery then no
// longer finds. (Should that write's own index fail to grow, the write a
// recovery finds is that one: the time of the overwrite in meta.) The
// write must change what the page holds: SQLite writes no page a write
// leaves as it was.
func (s *Store) overwriteRefused(err error) {
	se := (*sqlite.Error)(nil)
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_IOERR {
		return // committed, refused before the log (a disk full), or never begun
	}
	if _, oerr := s.writer.ExecContext(context.Background(),
		"INSERT INTO meta (key, value) VALUES ('write_overwritten', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		time.Now().UTC().Format(time.RFC3339Nano)); oerr != nil && !DiskFull(oerr) {
		s.log.Error("a write the catalog refused for an I/O error may be left in its write-ahead log, where it would come back if the node stopped before its next write succeeded",
			"err", err, "overwrite", oerr)
	}
}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configure Open.
type Options struct {
	// Path of the SQLite file, created if missing.
	Path string
	// Origin of this node. A data folder belongs to the origin it was first
	// opened with; opening it with another is an error.
	Origin string
	// Key signs the node's own records.
	Key ed25519.PrivateKey
	// Now returns the current time (time.Now when nil); it is called
	// from several goroutines at once.
	Now func() time.Time
	// Logger (slog.Default when nil).
	Logger *slog.Logger
	// Trusted, when not nil, are the only origins whose records are
	// accepted from peers, each with its key (a --trust file). When nil, an
	// origin's key is pinned when its first records arrive.
	Trusted map[string]ed25519.PublicKey
	// Pinned are keys to hold origins under in place of those pinned (a
	// --pin file): the key a member that lost its own made anew. Unlike
	// Trusted, they refuse no other origin.
	Pinned map[string]ed25519.PublicKey

	// checkpoints, when set, replaces the checkpointer's timings (tests).
	checkpoints checkpointTimings
	// dayCheckEvery, when set, replaces how often the index looks whether
	// the day changed (tests).
	dayCheckEvery time.Duration
}

// Store is an open catalog. It is safe for concurrent use.
type Store struct {
	// writer has a single connection: SQLite has one writer at a time, and
	// writes queue here rather than spin on SQLITE_BUSY.
	writer *sql.DB
	// reader is a pool of read-only connections that WAL lets run beside
	// the writer.
	reader *sql.DB
	origin string
	key    ed25519.PrivateKey
	now    func() time.Time
	log    *slog.Logger

	// trusted, when not nil, are the only origins whose records the
	// catalog accepts from peers, with their keys.
	trusted map[string]ed25519.PublicKey
	// pins holds, by origin, every key pinned (an ed25519.PublicKey),
	// read when the catalog opens, and each pinned since, once committed:
	// gossip asks PinnedKey of every member's every message, under
	// memberlist's lock of its members, where a read of the catalog
	// waited for a reader among those the pulls and the API hold. A key
	// once pinned never changes while the catalog is open.
	pins sync.Map
	// forks holds, by origin, the first Fork met since the catalog opened.
	forks sync.Map

	// writeLock orders writes: each commits and queues its changes for the
	// indexer before the next begins, so the indexes see commit order.
	writeLock writeLock
	// indexer puts committed changes in the search indexes.
	indexer *indexer
	// tools and useCases index the live records of each kind for search.
	tools, useCases *search.Index
	// links tie use cases to tools and tools to their duplicates.
	links *links
	// qualifier qualifies the tools, for reads and for the index.
	qualifier qualify.Qualifier

	// sealBuffers hold the bytes of records being sealed, a chunk of a
	// batch in each, until they are stored (see sealAndStore).
	sealBuffers sync.Pool

	// checkpoints copies committed writes from the write-ahead log into
	// the database file, off the write path.
	checkpoints *checkpointer

	// ownWritesHeld, while set, holds the node's own writes (see
	// HoldOwnWrites).
	ownWritesHeld atomic.Pointer[OwnWritesHold]

	// changed is closed, and replaced, after each commit (see Changed).
	changedMu sync.Mutex
	changed   chan struct{}

	// timeless are the node's own records found at open with a timestamp
	// that is none, and their seqs then (see RepairTimes).
	timeless map[recordKey]int64
}

// OwnWritesHeld reports whether the node's own writes are held (see
// HoldOwnWrites).
func (s *Store) OwnWritesHeld() bool { return s.ownWritesHeld.Load() != nil }

// OwnWritesDecided returns a channel closed once the node's own writes
// are no longer held (released or refused; at once if they are not held).
func (s *Store) OwnWritesDecided() <-chan struct{} {
	if h := s.ownWritesHeld.Load(); h != nil {
		return h.decided
	}
	decided := make(chan struct{})
	close(decided)
	return decided
}

// HoldOwnWrites makes the node's own writes (Apply, ApplyHarvest) wait
// until the hold is released or refused, or their context ends. A node
// holds them at start until it has asked the federation for records of its
// origin that it signed and its catalog lost (wiped, its key kept, or
// restored from an older copy): a write made first would take a seq that
// peers hold already. There is one hold at a time: HoldOwnWrites panics
// while one holds the writes, or has refused them.
func (s *Store) HoldOwnWrites() *OwnWritesHold {
	h := &OwnWritesHold{store: s, decided: make(chan struct{})}
	if !s.ownWritesHeld.CompareAndSwap(nil, h) {
		panic("storage: HoldOwnWrites while the node's own writes are held already")
	}
	return h
}

// An OwnWritesHold holds the node's own writes (see HoldOwnWrites) until
// Release or Refuse; only the first of the two counts.
type OwnWritesHold struct {
	store   *Store
	once    sync.Once
	decided chan struct{} // closed by Release or Refuse
	refused error         // set before decided closes, by Refuse
	// failFast, while set, fails the writes held at once with its error,
	// rather than have them wait (see FailFast).
	failFast atomic.Pointer[error]
}

// FailFast makes the writes held fail at once with err, until Release or
// Refuse, rather than wait: for a hold that may last long (no member of
// the federation reachable), where a client would otherwise wait until
// its deadline. err should wrap ErrUnavailable.
func (h *OwnWritesHold) FailFast(err error) { h.failFast.Store(&err) }

// Release lets the writes held go ahead, and those after.
func (h *OwnWritesHold) Release() {
	h.once.Do(func() {
		h.store.ownWritesHeld.CompareAndSwap(h, nil)
		close(h.decided)
	})
}

// Refuse makes the writes held fail, and those after, as long as the
// catalog is open: the node stops before it could tell whether its origin
// is ahead of it in the federation, and its writes would risk taking a
// seq that peers hold already.
func (h *OwnWritesHold) Refuse() {
	h.once.Do(func() {
		h.refused = fmt.Errorf("write: the node is stopping, before it could ask the federation for this origin's records: %w", ErrUnavailable)
		close(h.decided)
	})
}

// wait waits until h is released or refused, or ctx ends.
func (h *OwnWritesHold) wait(ctx context.Context) error {
	if err := h.failFast.Load(); err != nil {
		select {
		case <-h.decided:
			return h.refused
		default:
			return *err
		}
	}
	select {
	case <-h.decided:
		return h.refused
	case <-ctx.Done():
		return fmt.Errorf("write: wait until the federation was asked for this origin's records: %w", ctx.Err())
	}
}

// Changed returns a channel that is closed at the next commit of a write,
// the node's own or a peer's page.
func (s *Store) Changed() <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	return s.changed
}

func (s *Store) notifyChanged() {
	s.checkpoints.committed()
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}

// Open opens (creating if needed) the catalog at opts.Path, applies pending
// migrations and checks that the file belongs to opts.Origin and its key.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if !envelope.ValidOrigin(opts.Origin) {
		return nil, fmt.Errorf("open catalog: invalid origin %q (a lowercase country code with optional -suffix, such as fr or fr-paris)", opts.Origin)
	}
	if len(opts.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("open catalog: no signing key")
	}
	s := &Store{origin: opts.Origin, key: opts.Key, now: opts.Now, log: opts.Logger, trusted: opts.Trusted, changed: make(chan struct{}), writeLock: newWriteLock()}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "storage")

	var err error
	if s.writer, err = openDB(opts.Path, roleWriter); err != nil {
		return nil, err
	}
	s.writer.SetMaxOpenConns(1)
	if err := s.checkOwner(ctx); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.migrate(ctx, opts.Path); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.checkWritable(ctx, opts.Path); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.claim(ctx); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.checkTrusted(ctx); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.pinGiven(ctx, opts.Pinned); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.computeDigests(ctx); err != nil {
		s.writer.Close()
		return nil, err
	}
	if err := s.loadPins(ctx); err != nil {
		s.writer.Close()
		return nil, err
	}
	if s.reader, err = openDB(opts.Path, roleReader); err != nil {
		s.writer.Close()
		return nil, err
	}
	// Each read under way holds a connection (two file descriptors, a
	// page cache of its own) until it ends: unbounded, any caller's
	// hundreds of reads at once opened hundreds, toward the process's
	// limit of files. Beyond these, a read waits for one to be free. No
	// read asks for a second while it holds one, so waiting cannot
	// deadlock; the pulls served hold one each, for up to 2 minutes, and
	// are fewer (see sync.NewServer's places).
	s.reader.SetMaxOpenConns(maxReaders)
	s.reader.SetMaxIdleConns(maxReaders)
	if s.checkpoints, err = startCheckpointer(opts.Path, s.log, s.writeLock, opts.checkpoints); err != nil {
		s.reader.Close()
		s.writer.Close()
		return nil, err
	}
	qualifiedOn := utcDay(s.now()) // the day the index is built on
	if err := s.buildIndexes(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.startIndexer()
	go s.requalifyDaily(qualifiedOn, cmp.Or(opts.dayCheckEvery, dayCheckEvery))
	return s, nil
}

// checkTrusted compares the trust list with the keys the catalog's records
// are signed with. It refuses a list that gives the node's own origin
// another key than the node's. An origin the list gives another key than
// the one pinned here wins the list's: the operator settled which key is
// the origin's (its member lost its key and started anew, or the first
// node to show the origin here was an impostor). Its records here, signed
// with the other key, are dropped, and it is pulled anew from seq 1, as a
// member that restarts after losing its key numbers its writes from 1.
func (s *Store) checkTrusted(ctx context.Context) error {
	if s.trusted == nil {
		return nil
	}
	return s.takeKeys(ctx, s.trusted, "trust list", false)
}

// pinGiven pins each origin of pins to its key: in place of the key pinned
// here, whose records are dropped (see repin), or as a member's own
// announcement would (see PinKey). It refuses a key for the node's own
// origin other than the node's, and one the trust list gives another.
func (s *Store) pinGiven(ctx context.Context, pins map[string]ed25519.PublicKey) error {
	accepted := make(map[string]ed25519.PublicKey, len(pins))
	for origin, key := range pins {
		if origin != s.origin && !s.Accepts(origin) {
			continue // the trust list refuses it: nothing of it is held
		}
		if trusted, ok := s.trusted[origin]; ok && !trusted.Equal(key) {
			return fmt.Errorf("open catalog: the pin file gives origin %s the key %x, and the trust list %x: give one", origin, []byte(key), []byte(trusted))
		}
		accepted[origin] = key
	}
	return s.takeKeys(ctx, accepted, "pin file", true)
}

// takeKeys holds each origin of keys under its key, as the operator's file
// (what names it) gives it: an origin pinned to another key is pinned
// anew (see repin); with pinUnmet, so is one not pinned yet. A key for the
// node's own origin other than its own is refused.
func (s *Store) takeKeys(ctx context.Context, keys map[string]ed25519.PublicKey, what string, pinUnmet bool) error {
	if key, ok := keys[s.origin]; ok && !key.Equal(s.PublicKey()) {
		return fmt.Errorf("open catalog: the %s gives this node's origin %s the key %x, but the node's key is %x: correct the %s",
			what, s.origin, []byte(key), []byte(s.PublicKey()), what)
	}
	for origin, key := range keys {
		if origin == s.origin {
			continue
		}
		var pinned []byte
		err := s.writer.QueryRowContext(ctx, "SELECT public_key FROM origins WHERE origin = ?", origin).Scan(&pinned)
		switch {
		case errors.Is(err, sql.ErrNoRows) && pinUnmet:
			err = s.execWrite(ctx, "INSERT INTO origins (origin, public_key, head_seq) VALUES (?, ?, 0)", origin, []byte(key))
		case errors.Is(err, sql.ErrNoRows):
			err = nil
		case err != nil:
		case pinned == nil && pinUnmet:
			err = s.execWrite(ctx, "UPDATE origins SET public_key = ? WHERE origin = ?", []byte(key), origin)
		case pinned != nil && !key.Equal(ed25519.PublicKey(pinned)):
			if err := s.repin(ctx, origin, key, pinned); err != nil {
				return err // which says what it did not do
			}
		}
		if err != nil {
			return fmt.Errorf("open catalog: hold %s under the %s's key: %w", origin, what, err)
		}
	}
	return nil
}

// repin pins origin to key, the trust list's (or the pin file's), in place
// of pinned, and drops the records of it signed with pinned.
func (s *Store) repin(ctx context.Context, origin string, key ed25519.PublicKey, pinned []byte) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("open catalog: pin %s to the trust list's key: %w", origin, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM records WHERE origin = ?", origin)
	if err != nil {
		return fmt.Errorf("open catalog: pin %s to the trust list's key: %w", origin, err)
	}
	dropped, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, "UPDATE origins SET public_key = ?, head_seq = 0, record_count = 0, digest = NULL, signed_digest = NULL WHERE origin = ?",
		[]byte(key), origin); err != nil {
		return fmt.Errorf("open catalog: pin %s to the trust list's key: %w", origin, err)
	}
	if err := s.commitWrite(tx); err != nil {
		return fmt.Errorf("open catalog: pin %s to the trust list's key: %w", origin, err)
	}
	s.log.Warn("the trust list (or pin file) gives an origin another key than the one pinned here: the origin now has that key, its records signed with the other are dropped, and it is pulled anew from its members",
		"origin", origin, "trusted_key", fmt.Sprintf("%x", []byte(key)), "pinned_key", fmt.Sprintf("%x", pinned), "records_dropped", dropped)
	return nil
}

// maxReaders bounds the read-only connections open at once: the pulls
// served at once (8, a node's setting) and as many reads of the API.
const maxReaders = 16

// connRole is what a connection to the catalog file is for; each role has
// its own pragmas.
type connRole int

const (
	// roleWriter is the single connection that writes. Its commits never
	// checkpoint the write-ahead log: the checkpointer does.
	roleWriter connRole = iota
	// roleReader is the pool of read-only connections (maxReaders).
	roleReader
	// roleCheckpointer copies the write-ahead log into the database file.
	roleCheckpointer
)

// fileURI is the SQLite URI of the file at path with the parameters q: a
// path is read as a URI's, so its "%", "?" and "#" are escaped (a data
// folder "backups#2" would be the file "backups").
func fileURI(path string, q url.Values) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path) + "?" + q.Encode()
}

func openDB(file string, role connRole) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "synchronous(normal)")
	q.Add("_pragma", "foreign_keys(on)")
	switch role {
	case roleReader:
		q.Add("_pragma", "query_only(on)")
	case roleCheckpointer:
		// A checkpoint that waits for the readers (restart mode) does so
		// holding the writers out: a second at most.
		q.Set("_pragma", "busy_timeout(1000)")
		q.Add("_pragma", "journal_mode(wal)")
		q.Add("_pragma", "synchronous(normal)")
		q.Add("_pragma", "foreign_keys(on)")
	case roleWriter:
		// Write transactions take the write lock at BEGIN, so two writers
		// never deadlock on a read-then-write upgrade.
		q.Set("_txlock", "immediate")
		// What a write deletes or replaces is overwritten with zeros: SQLite
		// otherwise leaves it in the page's free space, which checkpoints
		// copy into the file, and a deleted contact's e-mail address and
		// phone number stayed in catalog.db, on the node and on every peer
		// that applied the tombstone.
		q.Add("_pragma", "secure_delete(on)")
		q.Add("_pragma", "wal_autocheckpoint(0)")
		// After a burst of writes, the log file shrinks back to this
		// size when it starts over.
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit))
	}
	db, err := sql.Open("sqlite", fileURI(file, q))
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", file, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		if DiskFull(err) {
			return nil, fmt.Errorf("open catalog %s: its file system is full (SQLite opens a catalog through a small file beside it, the write-ahead log's index, which it could not write): free space there: %w", file, err)
		}
		return nil, fmt.Errorf("open catalog %s: %w", file, err)
	}
	return db, nil
}

// Close closes the catalog.
func (s *Store) Close() error {
	s.stopIndexer()
	// The connection closed last copies what the log still holds into the
	// database file and removes the log.
	return errors.Join(s.checkpoints.close(), s.reader.Close(), s.writer.Close())
}

// Origin is the node's own origin.
func (s *Store) Origin() string { return s.origin }

// PublicKey is the key that verifies the node's records.
func (s *Store) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// SignMember signs, with the node's key, the node's description as a
// member of the federation (see envelope.SignMember).
func (s *Store) SignMember(description []byte) []byte { return envelope.SignMember(s.key, description) }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping catalog: %w", err)
	}
	return nil
}

// checkWritable refuses a catalog SQLite can only read (a file made
// immutable, or read-only to the node's user, on a file system that lets
// it be read): SQLite opens such a file read-only without a word, the
// node would start, and every write and every pull would then fail. It
// runs a write that changes nothing (an update of no row still takes the
// write path), and rolls it back.
func (s *Store) checkWritable(ctx context.Context, path string) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("open catalog %s: %w", path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = value WHERE 0"); err != nil {
		return fmt.Errorf("open catalog %s: it cannot be written (%w): check the file's owner, permissions and attributes (lsattr), and that its file system is not mounted read-only", path, err)
	}
	return nil
}

// migrate applies, in order and each in its own transaction, the embedded
// migrations the file has not had yet.
func (s *Store) migrate(ctx context.Context, file string) error {
	if _, err := s.writer.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`); err != nil {
		return fmt.Errorf("migrate catalog: %w", err)
	}
	migrations, err := listMigrations()
	if err != nil {
		return err
	}
	var current int
	if err := s.writer.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return fmt.Errorf("migrate catalog: %w", err)
	}
	latest := migrations[len(migrations)-1].version
	if current > latest {
		return fmt.Errorf("migrate catalog: the file is at schema version %d, newer than this ogpnode knows (%d): run a newer ogpnode", current, latest)
	}
	if current > 0 && current < latest {
		if err := s.copyBeforeMigrating(ctx, file, current); err != nil {
			return err
		}
	}
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		if err := s.applyMigration(ctx, m); err != nil {
			return err
		}
		s.log.Info("applied migration", "version", m.version, "name", m.name)
	}
	return nil
}

// copyBeforeMigrating copies the catalog at file, at schema version
// current, to FILE.schema-CURRENT beside it before a migration changes it:
// an ogpnode before this one no longer opens a catalog migrated, and the
// copy is the way back to it (the copies of earlier upgrades, older, are
// removed once it is made). A copy that cannot be made refuses the
// migration.
func (s *Store) copyBeforeMigrating(ctx context.Context, file string, current int) error {
	copyPath := file + ".schema-" + strconv.Itoa(current)
	// Made under another name, then renamed: a copy cut short (the node
	// killed, the disk full) is never taken for the catalog as it was.
	partial := copyPath + ".partial"
	if err := os.Remove(partial); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("migrate catalog: remove %s: %w", partial, err)
	}
	if _, err := s.writer.ExecContext(ctx, "VACUUM INTO ?", partial); err != nil {
		os.Remove(partial)
		return fmt.Errorf("migrate catalog: copy it as it is (schema version %d) to %s before migrating, the way back to the ogpnode before: %w (free some space, or move the folder where there is)", current, copyPath, err)
	}
	if err := SyncFile(partial); err != nil {
		os.Remove(partial)
		return fmt.Errorf("migrate catalog: copy it before migrating: %w", err)
	}
	if err := os.Rename(partial, copyPath); err != nil {
		os.Remove(partial)
		return fmt.Errorf("migrate catalog: copy it before migrating: %w", err)
	}
	if err := SyncFile(filepath.Dir(copyPath)); err != nil {
		return fmt.Errorf("migrate catalog: copy it before migrating: %w", err)
	}
	// The copies of earlier upgrades are older than this one, which is
	// the way back to the ogpnode before: a node upgraded at each release
	// kept a copy of its catalog per release.
	entries, _ := os.ReadDir(filepath.Dir(file))
	for _, e := range entries {
		o := filepath.Join(filepath.Dir(file), e.Name())
		version, ok := strings.CutPrefix(e.Name(), filepath.Base(file)+".schema-")
		if _, err := strconv.Atoi(version); !ok || err != nil || o == copyPath || !e.Type().IsRegular() {
			continue // not a copy of an upgrade's (a .bak of the operator's, say)
		}
		if err := os.Remove(o); err != nil {
			s.log.Warn("remove the copy of the catalog an earlier upgrade made", "copy", o, "err", err)
		} else {
			s.log.Info("removed the copy of the catalog an earlier upgrade made: the one just made is the way back", "copy", o)
		}
	}
	s.log.Warn("copied the catalog as it was before migrating it: an ogpnode before this one can no longer open it once migrated; to go back to one, stop this node, put the copy in the catalog's place and create the file restored-from-backup beside it, as for a backup restored (the README's \"Upgrades\")",
		"schema_version", current, "copy", copyPath)
	return nil
}

// SyncFile syncs what was written to the file at path, or, for a folder,
// the files made or renamed in it.
func SyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

type migration struct {
	version int
	name    string
	sql     string
}

// listMigrations reads migrations/NNNN_name.sql, sorted by version.
func listMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

func (s *Store) applyMigration(ctx context.Context, m migration) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %d: %w", m.version, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, s.now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("migration %d: %w", m.version, err)
	}
	if err := s.commitWrite(tx); err != nil {
		return fmt.Errorf("migration %d: %w", m.version, err)
	}
	return nil
}

// claim records the origin and key on the first open of a file, and checks
// them on every later one: a data folder belongs to one origin, and the
// records it has signed verify only with its key.
// checkOwner refuses a catalog of another origin, or of another key,
// before a migration changes it: refused only after, as claim refuses, a
// start under a mistyped --origin left the file migrated, which the
// ogpnode before could then no longer open. A new catalog has no owner
// yet.
func (s *Store) checkOwner(ctx context.Context) error {
	var tables int
	if err := s.writer.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'origins')").Scan(&tables); err != nil {
		return fmt.Errorf("open catalog: %w", err)
	}
	if tables < 2 {
		return nil
	}
	var stored string
	switch err := s.writer.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'origin'").Scan(&stored); {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("open catalog: %w", err)
	case stored != s.origin:
		return fmt.Errorf("open catalog: this data folder belongs to origin %q, not %q: start with --origin %s, or use another --data folder", stored, s.origin, stored)
	}
	var pinned []byte
	switch err := s.writer.QueryRowContext(ctx, "SELECT public_key FROM origins WHERE origin = ?", s.origin).Scan(&pinned); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fmt.Errorf("open catalog: %w", err)
	case !s.PublicKey().Equal(ed25519.PublicKey(pinned)):
		return fmt.Errorf("open catalog: the node key is not the one this catalog's %q records are signed with: restore the data folder's original key file", s.origin)
	}
	return nil
}

// RememberedMembers is how many members of a federation the catalog at
// path remembers, read without changing the file (no migration): 0 for
// one that is not there yet.
func RememberedMembers(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	db, err := sql.Open("sqlite", fileURI(path, url.Values{"_pragma": {"busy_timeout(10000)", "query_only(on)"}}))
	if err != nil {
		return 0, fmt.Errorf("open catalog %s: %w", path, err)
	}
	defer db.Close()
	var tables, members int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'peers'").Scan(&tables); err != nil {
		return 0, fmt.Errorf("open catalog %s: %w", path, err)
	}
	if tables == 0 {
		return 0, nil
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM peers").Scan(&members); err != nil {
		return 0, fmt.Errorf("open catalog %s: %w", path, err)
	}
	return members, nil
}

func (s *Store) claim(ctx context.Context) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("open catalog: %w", err)
	}
	defer tx.Rollback()
	var stored string
	err = tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'origin'").Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('origin', ?)", s.origin); err != nil {
			return fmt.Errorf("open catalog: %w", err)
		}
	case err != nil:
		return fmt.Errorf("open catalog: %w", err)
	case stored != s.origin:
		return fmt.Errorf("open catalog: this data folder belongs to origin %q, not %q: start with --origin %s, or use another --data folder", stored, s.origin, stored)
	}
	pub := s.PublicKey()
	var pinned []byte
	err = tx.QueryRowContext(ctx, "SELECT public_key FROM origins WHERE origin = ?", s.origin).Scan(&pinned)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, "INSERT INTO origins (origin, public_key) VALUES (?, ?)", s.origin, []byte(pub)); err != nil {
			return fmt.Errorf("open catalog: %w", err)
		}
	case err != nil:
		return fmt.Errorf("open catalog: %w", err)
	case !pub.Equal(ed25519.PublicKey(pinned)):
		return fmt.Errorf("open catalog: the node key is not the one this catalog's %q records are signed with: restore the data folder's original key file", s.origin)
	}
	return s.commitWrite(tx)
}
