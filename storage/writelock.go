package storage

import "context"

// writeLock is the catalog's write lock: a mutex whose waiters give up when
// their context ends. A write can wait a while for it: behind a peer's page
// of thousands of records, or the checkpoint that lets a long write-ahead
// log start over, which syncs the database file (a second or more on a
// slow disk). A request whose deadline passes meanwhile then fails with
// its context's error at once, instead of when the lock comes free.
//
// Waiters get the lock in the order they asked for it (a channel's
// blocked senders are served first in, first out).
type writeLock struct{ held chan struct{} }

func newWriteLock() writeLock { return writeLock{held: make(chan struct{}, 1)} }

// lock takes the lock, or returns ctx's error if ctx ends first.
func (l writeLock) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case l.held <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Lock takes the lock, however long that takes: for the checkpointer,
// which has no caller to answer.
func (l writeLock) Lock() { l.held <- struct{}{} }

// Unlock releases the lock, which must be held.
func (l writeLock) Unlock() {
	select {
	case <-l.held:
	default:
		panic("storage: unlock of the write lock, which is not held")
	}
}
