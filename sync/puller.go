package sync

import (
	"context"
	"errors"
	"fmt"
	"io"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc"
)

// PullResult counts what one pull brought.
type PullResult struct {
	Pages           int            // pages applied
	Applied         int            // records that changed the catalog
	AppliedByOrigin map[string]int // the same, by origin
	// Overtaken says the pull ended early, without error, because another
	// pull had applied the records of its next page already: pulling
	// again, from the watermarks then, brings what it would have brought.
	Overtaken bool
}

// PullFrom pulls from the peer behind conn every record it holds that store
// lacks, of every origin but store's own, applying each page as it comes.
// It stops at the first page the store refuses (a *storage.RefusedError,
// wrapped): a peer sending bad pages is not asked for more.
//
// Receiving and checking a page (its signatures, on every core) overlap
// with applying the one before: a goroutine runs one page ahead of the
// write transaction, so that verifying, the larger part of the work, runs
// beside the writer rather than in front of it.
func PullFrom(ctx context.Context, store *storage.Store, conn grpc.ClientConnInterface, pageBytes int) (PullResult, error) {
	var res PullResult
	wms, err := store.Watermarks(ctx)
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream, and the checker, when a page is refused
	stream, err := federationv1.NewFederationServiceClient(conn).Pull(ctx, &federationv1.PullRequest{
		Watermarks:     wms,
		AllOrigins:     true,
		ExcludeOrigins: []string{store.Origin()},
		MaxPageBytes:   int32(pageBytes),
	})
	if err != nil {
		return res, fmt.Errorf("pull: %w", err)
	}
	checked := make(chan checkedPage) // unbuffered: one page checked ahead, no more
	go checkPages(ctx, store, stream, checked)
	defer func() {
		cancel()
		for range checked { // the checker is gone when PullFrom returns
		}
	}()
	next := wms // where the stream's next page of each origin must start
	for cp := range checked {
		if cp.err != nil {
			return res, cp.err
		}
		origin := cp.page.Origin()
		n, err := store.ApplyChecked(ctx, cp.page)
		var re *storage.RefusedError
		if errors.As(err, &re) && re.Reason == storage.RefusedStale && cp.page.AfterSeq() == next[origin] {
			// The page starts where this pull asked: another pull, from
			// another peer, advanced the watermark since. Not the peer's
			// fault, and not a page to refuse.
			res.Overtaken = true
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("pull: %w", err)
		}
		next[origin] = cp.page.ThroughSeq()
		res.Pages++
		res.Applied += n
		if n > 0 {
			if res.AppliedByOrigin == nil {
				res.AppliedByOrigin = map[string]int{}
			}
			res.AppliedByOrigin[origin] += n
		}
	}
	return res, nil
}

// checkedPage is a page ready to apply, or why the pull ends.
type checkedPage struct {
	page *storage.CheckedPage
	err  error
}

// checkPages receives pages from stream and checks them, sending each to
// out, until the stream ends or a page fails; then it closes out. An error
// is the last thing sent: a pull cut short by its context ends with the
// context's error, never as if the stream had ended. Sends block: PullFrom
// reads out to the end whatever happens, and a cancelled context ends
// Recv.
func checkPages(ctx context.Context, store *storage.Store, stream grpc.ServerStreamingClient[federationv1.PullResponse], out chan<- checkedPage) {
	defer close(out)
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			out <- checkedPage{err: fmt.Errorf("pull: %w", err)}
			return
		}
		cp, err := store.CheckPage(ctx, msg.GetPage())
		if err != nil {
			out <- checkedPage{err: fmt.Errorf("pull: %w", err)}
			return
		}
		out <- checkedPage{page: cp}
	}
}
