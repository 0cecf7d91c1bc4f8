package sync

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	gosync "sync"
	"testing"
	"time"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/storage"
	dto "github.com/prometheus/client_model/go"
)

// keyLost is the federation of aa and bb after bb's operator lost bb's
// data folder, its key with it (a dead disk, no backup), and started bb
// anew under its origin, with a new key, and wrote: aa pinned bb's first
// key when bb's first records came, and holds them. It returns aa's
// folder (aa stopped), bb anew, and bb's new public key.
func keyLost(t *testing.T) (aaDir string, bb *testNode, newKey ed25519.PublicKey) {
	t.Helper()
	aaDir = t.TempDir()
	aa := startNode(t, aaDir, "aa", clusterOpts{})
	old := startNode(t, t.TempDir(), "bb", clusterOpts{join: []string{aa.repl.GossipAddr()}})
	writeTools(t, old, "before-loss", 3)
	waitFor(t, 30*time.Second, "aa holds bb's records", func() bool { return converged(t, []*testNode{aa, old}, 1) })
	old.stop()
	aa.stop()
	// bb anew: a new folder, a new key, the same origin. It joins no one
	// here (aa is down): its writes go ahead.
	key := nodeKey("bb, after the loss")
	bb = startNode(t, t.TempDir(), "bb", clusterOpts{key: key})
	writeTools(t, bb, "after-loss", 5)
	return aaDir, bb, key.Public().(ed25519.PublicKey)
}

// TestLostKeySettledThroughTrust follows the README: aa's operator, told
// bb's new key by bb's operator, restarts aa with a trust list that gives
// bb that key. aa takes bb's new records, and drops those signed with the
// lost key, which nobody can update or delete any more. (Before, the list
// left bb out, and bb could never come back under its origin.)
func TestLostKeySettledThroughTrust(t *testing.T) {
	aaDir, bb, newKey := keyLost(t)
	aa := startNode(t, aaDir, "aa", clusterOpts{join: []string{bb.repl.GossipAddr()},
		trusted: map[string]ed25519.PublicKey{"bb": newKey}})
	ctx := context.Background()
	waitFor(t, 20*time.Second, "aa takes bb's records under its new key", func() bool {
		w, err := aa.store.Watermark(ctx, "bb")
		return err == nil && w == 5
	})
	for id, want := range map[string]bool{"after-loss-0": true, "after-loss-4": true, "before-loss-0": false} {
		if _, err := aa.store.Get(ctx, storage.KindTool, "bb", id); (err == nil) != want {
			t.Errorf("aa holds bb's %s: %v, want %v", id, err == nil, want)
		}
	}
}

// TestLostKeySettledThroughPin follows the README's lost key: aa's
// operator, who runs no trust list, gives bb's new key in a --pin file.
// aa takes bb's new records, drops those of the lost key, and still takes
// the records of every other origin: a trust list would have refused them.
func TestLostKeySettledThroughPin(t *testing.T) {
	ctx := context.Background()
	aaDir, bb, newKey := keyLost(t)
	cc := startNode(t, t.TempDir(), "cc", clusterOpts{join: []string{bb.repl.GossipAddr()}})
	aa := startNode(t, aaDir, "aa", clusterOpts{join: []string{bb.repl.GossipAddr()}, pinned: map[string]ed25519.PublicKey{"bb": newKey}})
	writeTools(t, cc, "c", 2)
	waitFor(t, 20*time.Second, "aa takes bb's records under its new key, and cc's", func() bool {
		b, err1 := aa.store.Watermark(ctx, "bb")
		c, err2 := aa.store.Watermark(ctx, "cc")
		return err1 == nil && err2 == nil && b == 5 && c == 2
	})
	if _, err := aa.store.Get(ctx, storage.KindTool, "bb", "before-loss-0"); err == nil {
		t.Error("aa holds bb's records of the lost key")
	}
}

// TestMemberOfAnotherKeySaid: a member refused for announcing its origin
// with another key than the node holds it under is listed, gone, with why
// as its last error, as a member of another protocol is: only the log
// said it.
func TestMemberOfAnotherKeySaid(t *testing.T) {
	aa := startNode(t, t.TempDir(), "aa", clusterOpts{})
	old := startNode(t, t.TempDir(), "bb", clusterOpts{join: []string{aa.repl.GossipAddr()}})
	writeTools(t, old, "before-loss", 3)
	waitFor(t, 30*time.Second, "aa holds bb's records", func() bool { return converged(t, []*testNode{aa, old}, 1) })
	old.stop()
	bb := startNode(t, t.TempDir(), "bb", clusterOpts{key: nodeKey("bb, after the loss"), join: []string{aa.repl.GossipAddr()}})
	writeTools(t, bb, "after-loss", 2)
	var got PeerStatus
	waitFor(t, 20*time.Second, "aa lists bb with why it refuses it", func() bool {
		for _, p := range aa.repl.Peers() {
			if p.Origin == "bb" && strings.Contains(p.LastError, "announces its origin with the key") {
				got = p
				return true
			}
		}
		return false
	})
	if got.Alive || !strings.Contains(got.LastError, "--trust") {
		t.Errorf("aa lists bb %+v; want it gone, saying how to settle it", got)
	}
}

// TestRelayCannotPinALiveMembersOrigin: once a node has seen an origin's
// own member announce its key (its metadata signed with it), a relay that
// holds the origin under another key (an impostor's) cannot make it pin
// that one: its pages are refused, and the member's records taken. Before,
// the relay's first page pinned the impostor's key, and the node refused
// the live member and its records for good.
func TestRelayCannotPinALiveMembersOrigin(t *testing.T) {
	ctx := context.Background()
	aa := startNode(t, t.TempDir(), "aa", clusterOpts{})
	join := []string{aa.repl.GossipAddr()}
	bb := startNode(t, t.TempDir(), "bb", clusterOpts{join: join})
	waitFor(t, 10*time.Second, "aa pins the key bb announces", func() bool {
		key, err := aa.store.PinnedKey(ctx, "bb")
		return err == nil && key.Equal(bb.store.PublicKey())
	})
	// cc holds a record of origin bb signed by a forger, and relays it.
	cc := startNode(t, t.TempDir(), "cc", clusterOpts{})
	for _, page := range pagesOfOneTool(t, "bb", nodeKey("forger"), "forged") {
		if _, err := cc.store.ApplyPage(ctx, page); err != nil {
			t.Fatal(err)
		}
	}
	writeTools(t, cc, "c", 1)
	cc.stop()
	cc = startNode(t, cc.dir, "cc", clusterOpts{join: join})
	waitFor(t, 20*time.Second, "aa pulls from cc", func() bool {
		w, err := aa.store.Watermark(ctx, "cc")
		return err == nil && w == 1
	})
	writeTools(t, bb, "genuine", 2)
	waitFor(t, 20*time.Second, "aa takes bb's own records", func() bool {
		_, err := aa.store.Get(ctx, storage.KindTool, "bb", "genuine-1")
		return err == nil
	})
	if _, err := aa.store.Get(ctx, storage.KindTool, "bb", "forged"); err == nil {
		t.Error("aa took cc's forged record of bb")
	}
}

// TestOwnOriginUnderAnotherKeySaidWhereOperatorLooks: a node whose origin
// its federation holds under another key (started on a new folder after a
// loss, or on a mistyped --data) writes into a dead end: every member
// refuses its records. The member's entry in the node's peers says so, as
// its last error, where only the log did (once every ten minutes).
func TestOwnOriginUnderAnotherKeySaidWhereOperatorLooks(t *testing.T) {
	aa := startNode(t, t.TempDir(), "aa", clusterOpts{})
	old := startNode(t, t.TempDir(), "bb", clusterOpts{join: []string{aa.repl.GossipAddr()}})
	writeTools(t, old, "before", 3)
	waitFor(t, 30*time.Second, "aa holds bb's records", func() bool { return converged(t, []*testNode{aa, old}, 1) })
	old.stop()
	bb := startNode(t, t.TempDir(), "bb", clusterOpts{key: nodeKey("bb, a new folder"), join: []string{aa.repl.GossipAddr()}})
	waitFor(t, 20*time.Second, "bb's pulls meet its origin under another key", func() bool {
		var d dto.Metric
		if err := bb.repl.m.refused.WithLabelValues(storage.RefusedOwnOrigin).Write(&d); err != nil {
			t.Fatal(err)
		}
		return d.GetCounter().GetValue() > 0
	})
	waitFor(t, 20*time.Second, "bb lists aa saying it refuses bb's records", func() bool {
		for _, p := range bb.repl.Peers() {
			if p.Origin == "aa" && strings.Contains(p.LastError, "holds this node's origin under another key") {
				return true
			}
		}
		return false
	})
}

// TestNotifyAliveReadsNoCatalog: memberlist asks the node of each member's
// announcement under its lock of its members; the key pinned for the
// member's origin is in memory, not read from the catalog, where every
// reader may be held (the pulls served, each for as long as its caller
// takes, and the API's reads): gossip stalled, members were suspected.
func TestNotifyAliveReadsNoCatalog(t *testing.T) {
	ctx := context.Background()
	aa := startNode(t, t.TempDir(), "aa", clusterOpts{})
	writeTools(t, aa, "t", 3)
	// Every reader of the catalog held, by pulls whose callers read
	// nothing.
	stop := make(chan struct{})
	held := make(chan struct{}, 64)
	var wg gosync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	for range 64 {
		wg.Go(func() {
			aa.store.ReadPages(ctx, storage.PullSpec{AllOrigins: true, MaxPageBytes: 1}, func(*federationv1.OriginPage) error {
				held <- struct{}{}
				<-stop
				return errors.New("stopped")
			})
		})
	}
	for range 16 { // as many as the catalog's readers; the others wait for one
		<-held
	}
	answered := make(chan error, 1)
	go func() {
		answered <- (delegate{aa.repl}).NotifyAlive(signedMember(t, meta{Origin: "nm", GRPCAddr: "127.0.0.1:7400", Protocol: ProtocolVersion}, nodeKey("nm")))
	}()
	select {
	case err := <-answered:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("NotifyAlive waits for a reader of the catalog")
	}
}
