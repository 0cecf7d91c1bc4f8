package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	gosync "sync"
	"sync/atomic"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc"
)

// PullResult counts what one pull brought.
type PullResult struct {
	Pages           int            // pages applied
	Applied         int            // records that changed the catalog
	AppliedByOrigin map[string]int // the same, by origin
	// Overtaken says the pull ended early, without error, because the
	// watermark of its next page's origin moved since the pull asked:
	// another pull applied those records already, or a divergence set the
	// watermark back to 0. Pulling again, from the watermarks then, brings
	// what it would have brought.
	Overtaken bool
	// OwnOriginRefused, when not nil, is the refusal of pages of the
	// node's own origin under another key than its own, which the pull
	// skipped: the federation knows the origin by another key.
	OwnOriginRefused error
	// Forked, when not nil, is the refusal of records of the node's own
	// origin given back at seqs it wrote again (see storage.RefusedForked),
	// whose pages the pull skipped.
	Forked error
	// OtherKey holds, by origin, the refusal of pages of another origin
	// than the node's signed under another key than the one the node
	// holds for it (see storage.RefusedError.OtherKey), whose pages the
	// pull skipped: the peer holds the origin under that key, maybe as
	// honestly as this node holds it under its own.
	OtherKey map[string]error
	// HeldKey holds the origins of which the pull applied a page, under
	// the key the node holds for them.
	HeldKey map[string]bool
	// FromStart lists the origins the catalog held at watermark 0 (pulled
	// again from the start, for a divergence) that a pull which ran to its
	// end asked for: the peer sent all it holds of them.
	FromStart []string
}

// after is res, a pull that followed first, with what first brought.
func (res PullResult) after(first PullResult) PullResult {
	res.FromStart = append(res.FromStart, first.FromStart...)
	res.Pages += first.Pages
	res.Applied += first.Applied
	for o, n := range first.AppliedByOrigin {
		if res.AppliedByOrigin == nil {
			res.AppliedByOrigin = map[string]int{}
		}
		res.AppliedByOrigin[o] += n
	}
	if res.OwnOriginRefused == nil {
		res.OwnOriginRefused = first.OwnOriginRefused
	}
	if res.Forked == nil {
		res.Forked = first.Forked
	}
	for o, err := range first.OtherKey {
		res.skipOtherKey(o, err)
	}
	for o := range first.HeldKey {
		if res.HeldKey == nil {
			res.HeldKey = map[string]bool{}
		}
		res.HeldKey[o] = true
	}
	return res
}

// skipOtherKey records the refusal of origin's pages under another key.
func (res *PullResult) skipOtherKey(origin string, err error) {
	if res.OtherKey == nil {
		res.OtherKey = map[string]error{}
	}
	if _, ok := res.OtherKey[origin]; !ok {
		res.OtherKey[origin] = err
	}
}

// PullFrom pulls from the peer behind conn every record it holds that store
// lacks, of every origin store accepts (all, or those of its trust list;
// of its own origin, what it signed and lost), applying each page as it
// comes.
// It stops at the first page the store refuses (a *storage.RefusedError,
// wrapped): a peer sending bad pages is not asked for more. Pages of the
// node's own origin under another key are skipped instead, and reported
// in the result: relays hold what the federation knows of the origin.
//
// Receiving and checking pages (their signatures, the decoding and the
// analysis for search) overlap with applying the one before: up to
// checkAhead pages are checked at once, each on a goroutine of its own,
// ahead of the write transaction, so that checking, the larger part of
// the work, runs beside the writer rather than in front of it, and the
// cores always have a page to check.
func PullFrom(ctx context.Context, store *storage.Store, conn grpc.ClientConnInterface, pageBytes int) (PullResult, error) {
	return pullAll(ctx, store, conn, pageBytes, true, nil)
}

// pullAll is PullFrom, of the node's own origin too if withOwn, and of
// none of the origins in exclude (those the peer holds under another key
// than the node: it would send their whole history again, at every pull,
// for the node to skip).
func pullAll(ctx context.Context, store *storage.Store, conn grpc.ClientConnInterface, pageBytes int, withOwn bool, exclude []string) (PullResult, error) {
	wms, err := store.Watermarks(ctx)
	if err != nil {
		return PullResult{}, err
	}
	// The node's own origin is asked for too, from its head: a peer holds
	// records of it above the head only if the catalog lost them (wiped,
	// or restored from an older copy), and gives them back.
	req := &federationv1.PullRequest{
		Watermarks:   wms,
		AllOrigins:   true,
		MaxPageBytes: int32(pageBytes),
	}
	if trusted := store.TrustedOrigins(); trusted != nil {
		// Only the origins the trust list names: a page of another would
		// be refused, and end the pull before the origins after it.
		req.Watermarks, req.AllOrigins = make(map[string]int64, len(trusted)+1), false
		for _, o := range append(trusted, store.Origin()) {
			req.Watermarks[o] = wms[o]
		}
	}
	if !withOwn {
		exclude = append(slices.Clip(exclude), store.Origin())
	}
	if len(exclude) > 0 {
		req.ExcludeOrigins = exclude
		// A map of its own: wms says where each origin's pages must
		// start, the node's own origin included.
		req.Watermarks = maps.Clone(req.Watermarks)
		for _, o := range exclude {
			delete(req.Watermarks, o)
		}
	}
	return pull(ctx, store, conn, req, wms)
}

// A LocalError is a pull that failed on this node's side: its catalog
// could not apply a page the peer sent, which passed every check (a full
// disk, a catalog that cannot be written). The peer is not at fault, and
// is not backed off for it.
type LocalError struct{ Err error }

func (e *LocalError) Error() string { return "this node could not apply the page: " + e.Err.Error() }
func (e *LocalError) Unwrap() error { return e.Err }

// pullOwnOrigin is PullFrom for the node's own origin alone: what the peer
// holds of it above the node's head, which the catalog lost.
func pullOwnOrigin(ctx context.Context, store *storage.Store, conn grpc.ClientConnInterface, pageBytes int) (PullResult, error) {
	wms, err := store.Watermarks(ctx)
	if err != nil {
		return PullResult{}, err
	}
	own := store.Origin()
	return pull(ctx, store, conn, &federationv1.PullRequest{
		Watermarks:   map[string]int64{own: wms[own]},
		MaxPageBytes: int32(pageBytes),
	}, wms)
}

// pull runs the pull req asks for, from the watermarks wms, as PullFrom
// says.
func pull(ctx context.Context, store *storage.Store, conn grpc.ClientConnInterface, req *federationv1.PullRequest, wms map[string]int64) (PullResult, error) {
	var res PullResult
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream, and the checker, when a page is refused
	codec := newPageCodec()
	stream, err := federationv1.NewFederationServiceClient(conn).Pull(ctx, req, grpc.ForceCodecV2(codec))
	if err != nil {
		return res, fmt.Errorf("pull: %w", err)
	}
	checked := make(chan chan checkedPage, checkAhead) // the pages being checked, in stream order
	go checkPages(ctx, store, stream, codec, req, checked)
	defer func() {
		cancel()
		for ch := range checked { // the checkers are gone when PullFrom returns
			<-ch
		}
	}()
	next := maps.Clone(wms)     // where the stream's next page of each origin must start (req may share wms)
	forked := map[string]bool{} // origins whose pages the pull skips
	for ch := range checked {
		cp := <-ch
		if cp.err == nil && forked[cp.page.Origin()] {
			continue
		}
		if ownOriginRefused(cp.err) {
			// The federation holds this node's origin under another key
			// (the node's key was lost and made anew): nothing of it
			// comes back, the peer is not at fault, and the other
			// origins still come.
			res.OwnOriginRefused = cp.err
			continue
		}
		if origin, ok := underOtherKey(cp.err); ok {
			// The peer holds the origin under another key than this
			// node does: the origins after it still come.
			res.skipOtherKey(origin, cp.err)
			continue
		}
		if cp.err != nil {
			return res, cp.err
		}
		origin := cp.page.Origin()
		// A page starts where the stream's last page of its origin
		// ended, or where this pull asked: what else it says is not
		// taken, even of a page the catalog would accept (a page of no
		// records, which changes nothing, could otherwise move where the
		// next must start, and make a replayed page look overtaken).
		if after, want := cp.page.AfterSeq(), next[origin]; after != want {
			reason, what := storage.RefusedStale, "sent already"
			if after > want {
				reason, what = storage.RefusedGap, "a gap"
			}
			return res, fmt.Errorf("pull: %w", &storage.RefusedError{Origin: origin, Reason: reason,
				Detail: fmt.Sprintf("the page starts after seq %d, but this pull stands at %d: %s", after, want, what)})
		}
		n, err := store.ApplyChecked(ctx, cp.page)
		if origin, ok := underOtherKey(err); ok {
			// Pinned under another key since the page was checked.
			res.skipOtherKey(origin, fmt.Errorf("pull: %w", err))
			continue
		}
		var re *storage.RefusedError
		if errors.As(err, &re) && (re.Reason == storage.RefusedStale || re.Reason == storage.RefusedGap) {
			// The page starts where this pull asked, and the watermark
			// moved since: another pull, from another peer, advanced it,
			// or a divergence found with another peer set it back to 0.
			// Not the peer's fault, and not a page to refuse.
			res.Overtaken = true
			return res, nil
		}
		if errors.As(err, &re) && re.Reason == storage.RefusedForked {
			// The node wrote at seqs of its origin it had lost, which
			// the peer holds: the node's fault, not the peer's. The
			// pull says so, and goes on with the other origins.
			res.Forked = fmt.Errorf("pull: %w", err)
			forked[origin] = true
			continue
		}
		if err != nil {
			if !errors.As(err, &re) && ctx.Err() == nil {
				// The page checked, and the catalog could not take it
				// (a full disk, say): this node's failure, not the peer's.
				err = &LocalError{Err: err}
			}
			return res, fmt.Errorf("pull: %w", err)
		}
		next[origin] = cp.page.ThroughSeq()
		res.Pages++
		res.Applied += n
		if cp.page.ThroughSeq() > cp.page.AfterSeq() { // records, under the key held
			if res.HeldKey == nil {
				res.HeldKey = map[string]bool{}
			}
			res.HeldKey[origin] = true
		}
		if n > 0 {
			if res.AppliedByOrigin == nil {
				res.AppliedByOrigin = map[string]int{}
			}
			res.AppliedByOrigin[origin] += n
		}
	}
	for o, w := range wms {
		if w == 0 && askedFor(req, o) {
			res.FromStart = append(res.FromStart, o)
		}
	}
	return res, nil
}

// checkAhead is how many pages a pull checks at once, beside the one it
// applies. One was too few: a page's check is longer than its write, and
// the second core went idle.
const checkAhead = 2

// checkedPage is a page ready to apply, or why the pull ends.
type checkedPage struct {
	page *storage.CheckedPage
	err  error
}

// checkPages receives pages from stream and checks each, on a goroutine of
// its own, at most checkAhead at a time, sending out a channel that will
// hold the page checked: out is in stream order. When the stream ends or
// fails, or a page fails its check, it stops receiving and closes out; an
// error is the last thing sent: a pull cut short by its context ends with
// the context's error, never as if the stream had ended. Sends block:
// PullFrom reads out to the end whatever happens, and a cancelled context
// ends Recv. A page's checker never blocks: its channel has room for the
// one result.
func checkPages(ctx context.Context, store *storage.Store, stream grpc.ServerStreamingClient[federationv1.PullResponse], codec pageCodec, req *federationv1.PullRequest, out chan<- chan checkedPage) {
	defer close(out)
	checking := make(chan struct{}, checkAhead) // a place for each check under way
	var failed atomic.Bool                      // a page failed its check: the peer is not asked for more
	// The refusal of a page of the node's own origin under another key:
	// once one page showed it, the others of the stream are skipped
	// unchecked, rather than verified one by one for nothing.
	var ownRefused atomic.Pointer[error]
	// The same for the origins the peer holds under another key than
	// this node (see underOtherKey).
	var otherKeyMu gosync.Mutex
	otherKey := map[string]error{}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) || failed.Load() {
			return
		}
		ch := make(chan checkedPage, 1)
		if err != nil {
			if re := codec.refused.Load(); re != nil {
				err = re // the page the codec refused, rather than gRPC's word for it
			}
			ch <- checkedPage{err: fmt.Errorf("pull: %w", err)}
			out <- ch
			return
		}
		if origin := msg.GetPage().GetOrigin(); !askedFor(req, origin) {
			// Refused before its signatures cost anything: the peer
			// breaks the protocol (and a page of the node's own origin,
			// excluded while its writes are held, would otherwise look
			// overtaken, and be pulled again at once).
			ch <- checkedPage{err: fmt.Errorf("pull: %w", &storage.RefusedError{Origin: origin, Reason: storage.RefusedUnasked,
				Detail: "a page of an origin the pull did not ask for"})}
			out <- ch
			return
		}
		checking <- struct{}{}
		// Looked at once a place is free: the checks before it have
		// ended, or are under way beside it.
		if refusal := ownRefused.Load(); refusal != nil && msg.GetPage().GetOrigin() == store.Origin() {
			<-checking
			ch <- checkedPage{err: *refusal}
			out <- ch
			continue
		}
		otherKeyMu.Lock()
		refusal := otherKey[msg.GetPage().GetOrigin()]
		otherKeyMu.Unlock()
		if refusal != nil {
			<-checking
			ch <- checkedPage{err: refusal}
			out <- ch
			continue
		}
		go func() {
			defer func() { <-checking }()
			cp, err := store.CheckPage(ctx, msg.GetPage())
			if err != nil {
				if !errors.As(err, new(*storage.RefusedError)) && ctx.Err() == nil {
					err = &LocalError{Err: err} // the catalog could not be read
				}
				err = fmt.Errorf("pull: %w", err)
				if ownOriginRefused(err) { // skipped: the stream goes on
					ownRefused.Store(&err)
				} else if origin, ok := underOtherKey(err); ok {
					otherKeyMu.Lock()
					otherKey[origin] = err
					otherKeyMu.Unlock()
				} else {
					failed.Store(true)
				}
			}
			ch <- checkedPage{page: cp, err: err}
		}()
		out <- ch
	}
}

// askedFor reports whether req asks for the records of origin.
func askedFor(req *federationv1.PullRequest, origin string) bool {
	if slices.Contains(req.GetExcludeOrigins(), origin) {
		return false
	}
	if _, ok := req.GetWatermarks()[origin]; ok {
		return true
	}
	return req.GetAllOrigins()
}

// underOtherKey reports whether err refuses the pages of another origin
// than the node's for their valid key, another than the node holds for it,
// and which origin. Such pages are skipped, and the pull goes on with the
// other origins: the peer may hold the origin under that key as honestly
// as the node holds it under its own (the first to show the origin to one
// of them was an impostor, or two nodes ran with one origin), and ending
// the pull there, as for a peer at fault, kept every origin after it from
// the node, from every relay, and backed each off.
func underOtherKey(err error) (origin string, ok bool) {
	var re *storage.RefusedError
	if errors.As(err, &re) && re.Reason == storage.RefusedKeyMismatch && re.OtherKey {
		return re.Origin, true
	}
	return "", false
}

// ownOriginRefused reports whether err refuses records of the node's own
// origin under another key than its own.
func ownOriginRefused(err error) bool {
	var re *storage.RefusedError
	return errors.As(err, &re) && re.Reason == storage.RefusedOwnOrigin
}
