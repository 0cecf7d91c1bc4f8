package storage

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
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

// checkpointInterval is the least time between two checkpoints: under a
// stream of writes, a checkpoint copies what a quarter of a second wrote
// (a few megabytes at most), rather than fsyncing after every commit.
const checkpointInterval = 250 * time.Millisecond

// walSizeLimit is the size the log file is cut back to when it starts
// over after a burst of writes.
const walSizeLimit = 64 << 20

// checkpointer runs passive checkpoints, which neither wait for nor block
// readers and writers, on a connection of its own.
type checkpointer struct {
	db  *sql.DB
	log *slog.Logger
	// due has a value when a commit happened since the last checkpoint
	// began.
	due      chan struct{}
	stop     chan struct{}
	stopped  chan struct{}
	stopOnce sync.Once
}

func startCheckpointer(file string, log *slog.Logger) (*checkpointer, error) {
	db, err := openDB(file, roleCheckpointer)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	c := &checkpointer{db: db, log: log, due: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
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
		if _, err := c.checkpoint(context.Background()); err != nil {
			c.log.Warn("checkpoint failed; the write-ahead log keeps the writes, and the next commit tries again", "err", err)
		}
		select {
		case <-c.stop:
			return
		case <-time.After(checkpointInterval):
		}
	}
}

// checkpoint copies into the database file every page of the log that no
// reader still needs; complete says whether that was all of them (a
// reader's snapshot holds back the pages after it until the next time).
func (c *checkpointer) checkpoint(ctx context.Context) (complete bool, err error) {
	var busy, logPages, copied int
	if err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied); err != nil {
		return false, fmt.Errorf("checkpoint: %w", err)
	}
	return busy == 0 && copied == logPages, nil
}

// close stops the checkpointer and closes its connection; a second call
// does nothing.
func (c *checkpointer) close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.stopped
	return c.db.Close()
}
