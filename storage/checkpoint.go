package storage

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// A commit appends pages to SQLite's write-ahead log; a checkpoint copies
// them into the database file and syncs it. By default SQLite checkpoints
// in the commit that takes the log past 1,000 pages, so that every few
// batches a writer waits for the copy and two fsyncs: a third of the time
// of raw batched inserts on the project's machine. The catalog's writer
// connection does not checkpoint (wal_autocheckpoint 0); a checkpointer
// does, on its own connection, after commits, so that writers and
// replication go on while the disk syncs.
//
// SQLite starts the log over, at the first commit after a checkpoint that
// copied all of it. A passive checkpoint never catches up with a writer
// that does not pause, as when a node catches up with the federation and
// applies page after page: the log then grew by everything written, a
// gigabyte for a million records, and every read looked through the
// log's index for each page it read. So once the log is longer than
// checkpointTimings.startOver, the checkpointer copies what is left
// holding the catalog's write lock, which keeps the writers out for that
// copy and its sync: the next commit starts the log over.

// checkpointInterval is the least time between two checkpoints: under a
// stream of writes, a checkpoint copies what a quarter of a second wrote
// (a few megabytes at most), rather than fsyncing after every commit.
const checkpointInterval = 250 * time.Millisecond

// logStartOver is the length of log, in bytes, past which a checkpoint
// that did not catch up with the writers finishes under their lock. The
// writers then wait for the copy of what they appended meanwhile and for
// the sync of the database file, which has every page copied since the log
// last started over to write (SQLite syncs it only at a checkpoint that
// reached the end of the log): about a tenth of a second for a log this
// long on the project's machine, a second or more on a slow disk, once in
// a few seconds of sustained writes (a write whose context ends meanwhile
// gives up: see writeLock). It is the size the log file is cut
// back to when it starts over, which then cuts back only what a turn
// wrote past it.
const logStartOver = walSizeLimit

// checkpointTimings are when the checkpointer works: checkpointInterval
// and logStartOver unless set (tests).
type checkpointTimings struct {
	interval  time.Duration
	startOver int64
}

// walSizeLimit is the size the log file is cut back to when it starts
// over after a burst of writes.
const walSizeLimit = 64 << 20

// walFrameHeader is the size of the header of each page in the log.
const walFrameHeader = 24

// checkpointer runs passive checkpoints, which neither wait for nor block
// readers and writers, on a connection of its own; only the one that lets
// a long log start over keeps the writers out (checkpointOnce).
type checkpointer struct {
	db  *sql.DB
	log *slog.Logger
	// writes is the catalog's write lock (Store.writeLock): no write
	// transaction is open while it is held.
	writes   sync.Locker
	interval time.Duration
	// startOverFrames is the threshold of logStartOver (or the tests'
	// own) in frames of the log.
	startOverFrames int
	// due has a value when a commit happened since the last checkpoint
	// began.
	due chan struct{}
	// erasing is set by a commit that replaced or deleted rows, until a
	// checkpoint cuts the log to nothing (see erased); lastCut is when one
	// last did (the checkpointer's own).
	erasing  atomic.Bool
	lastCut  time.Time
	stop     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

func startCheckpointer(file string, log *slog.Logger, writes sync.Locker, timings checkpointTimings) (*checkpointer, error) {
	if timings.interval == 0 {
		timings.interval = checkpointInterval
	}
	if timings.startOver == 0 {
		timings.startOver = logStartOver
	}
	db, err := openDB(file, roleCheckpointer)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	var pageSize int64
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		db.Close()
		return nil, fmt.Errorf("open checkpointer: %w", err)
	}
	c := &checkpointer{
		db: db, log: log, writes: writes, interval: timings.interval,
		startOverFrames: int(timings.startOver / (max(pageSize, 512) + walFrameHeader)),
		due:             make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	c.committed() // what Open itself wrote: migrations, the origin's claim
	go c.run()
	return c, nil
}

// committed tells the checkpointer that a commit added to the log. It
// never blocks.
func (c *checkpointer) committed() {
	select {
	case c.due <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	for {
		select {
		case <-c.stop:
			return
		case <-c.due:
		}
		if err := c.checkpointOnce(context.Background()); err != nil {
			c.log.Warn("checkpoint failed; the write-ahead log keeps the writes, and the next commit tries again", "err", err)
		}
		select {
		case <-c.stop:
			return
		case <-time.After(c.interval):
		}
	}
}

// erased tells the checkpointer that a commit replaced or deleted rows:
// the log still holds the pages as they were, which SQLite overwrites only
// as later commits take their place in it, and cuts back only to the
// length it keeps (walSizeLimit). A person's e-mail address, deleted and
// overwritten in the database file (secure_delete), stayed in the log
// file, which a kill -9 or a copy of the data folder keeps. The next
// checkpoint, at most every cutInterval, cuts the log to nothing. The
// caller holds the write lock.
func (c *checkpointer) erased() {
	c.erasing.Store(true)
	c.committed()
}

// cutInterval is the least time between two checkpoints that cut the log
// to nothing for erasures: each holds the writers while it copies the
// log's last pages and syncs, and a node catching up with updates would
// otherwise do so four times a second.
const cutInterval = 10 * time.Second

// checkpointOnce runs a checkpoint beside the writers; when the log has
// grown past startOver, another under their lock; and when a commit
// erased rows, one that cuts the log to nothing.
func (c *checkpointer) checkpointOnce(ctx context.Context) error {
	logFrames, _, err := c.checkpoint(ctx)
	if err != nil {
		return err
	}
	if c.erasing.Load() && time.Since(c.lastCut) >= cutInterval {
		return c.cut(ctx)
	}
	if logFrames <= c.startOverFrames {
		return nil
	}
	// Most of the log is in the file now; what the writers appended
	// meanwhile is copied with them kept out. A reader's snapshot older
	// than the log's end holds back the pages after it, and keeps the log
	// from starting over: the checkpoint waits for the readers to read
	// from the last snapshot (restart mode, up to the checkpointer's busy
	// timeout), which no reader holds for long (a pull served reads each
	// page by a statement of its own, see ReadPages). A checkpoint that
	// could not wait long enough copied what it could; a later turn tries
	// again.
	c.writes.Lock()
	defer c.writes.Unlock()
	_, _, err = c.checkpointMode(ctx, "RESTART")
	return err
}

// cut copies the log into the database file with the writers kept out,
// and cuts the log file to nothing, once no reader reads from it (up to
// the checkpointer's busy timeout; if one still does, a later turn tries
// again).
func (c *checkpointer) cut(ctx context.Context) error {
	c.writes.Lock()
	defer c.writes.Unlock()
	c.lastCut = time.Now()
	c.erasing.Store(false) // no commit now until the lock is let go
	if _, complete, err := c.checkpointMode(ctx, "TRUNCATE"); err != nil || !complete {
		c.erasing.Store(true)
		return err
	}
	return nil
}

// checkpoint copies into the database file every page of the log that no
// reader still needs. It returns the length of the log in frames, as it
// was when the checkpoint began, and whether the checkpoint copied all of
// that (a reader's snapshot holds back the pages after it until the next
// time; frames appended meanwhile are not counted).
func (c *checkpointer) checkpoint(ctx context.Context) (logFrames int, complete bool, err error) {
	return c.checkpointMode(ctx, "PASSIVE")
}

// checkpointMode is checkpoint in one of SQLite's modes: PASSIVE waits for
// no one; RESTART waits, up to the connection's busy timeout, for every
// reader to read from the last snapshot, so that the next commit starts
// the log over.
func (c *checkpointer) checkpointMode(ctx context.Context, mode string) (logFrames int, complete bool, err error) {
	var busy, copied int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logFrames, &copied); err != nil {
		return 0, false, fmt.Errorf("checkpoint: %w", err)
	}
	return logFrames, busy == 0 && copied == logFrames, nil
}

// close stops the checkpointer and closes its connection; a second call
// does nothing.
func (c *checkpointer) close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.stopped
	return c.db.Close()
}
