package sync

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/ogptoolbox/federation/envelope"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/clip"
	"github.com/ogptoolbox/federation/storage"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ProtocolVersion is the version of the federation protocol this node
// speaks, carried in its gossip metadata; members of another version are
// refused. Version 3 signs each member's metadata with its origin's key
// (see meta.Sig): in version 2 it named the key, which is public, and a
// member that copied another's into metadata of its own took its name
// while it restarted, and kept it out of the federation. Version 2
// verifies signatures by the rules of package envelope (the cofactored
// equation, which batch verification needs, and no keys of small order);
// version 1 verified them as crypto/ed25519 does. The two disagree only on
// signatures an origin would have to craft, but a node of one version
// must not relay to a node of the other what it refuses.
const ProtocolVersion = 3

// Timings of gossip and anti-entropy.
type Timings string

// The timing profiles: wan suits nodes across the world (the default), lan
// a data centre, local tests on one machine.
const (
	TimingsWAN   Timings = "wan"
	TimingsLAN   Timings = "lan"
	TimingsLocal Timings = "local"
)

// Config configures a Replicator.
type Config struct {
	// Origin is the node's origin, and its name in the federation.
	Origin string
	// GossipAddr is where gossip listens (host:port; port 0 picks one).
	GossipAddr string
	// AdvertiseHost, when set, is the host peers reach this node's gossip
	// and gRPC ports at, instead of the hosts they listen on: an IP
	// address or a name (gossip announces the address it resolves to).
	AdvertiseHost string
	// GRPCAddr and HTTPAddr are the node's API addresses, announced to
	// peers.
	GRPCAddr, HTTPAddr string
	// Join are gossip addresses of members to join at start; the members
	// remembered from earlier runs are joined as well.
	Join []string
	// GossipKey encrypts gossip (16, 24 or 32 bytes); without one gossip
	// is in the clear.
	GossipKey []byte
	// OtherGossipKeys decrypt gossip too, besides GossipKey: during a
	// rotation of the federation's key, the key members are moving to,
	// or moving from.
	OtherGossipKeys [][]byte
	// Timings is the profile of gossip and anti-entropy intervals.
	Timings Timings
	// AntiEntropyInterval is the mean time between pulls from a few random
	// peers; 0 takes the profile's.
	AntiEntropyInterval time.Duration
	// PullTimeout bounds one pull from a peer.
	PullTimeout time.Duration
	// MaxDeadMembers is how many members not seen alive the node keeps
	// (in Peers, and among those a restart rejoins): members that gossip
	// holds for dead, and members remembered from earlier runs that it has
	// not seen in this one. Past it, it forgets those gone longest; a
	// member that comes back is learnt again, by gossip. 0: 1,024.
	MaxDeadMembers int
	// PageBytes bounds the pages asked for (0: the serving node's bound).
	PageBytes int
	// OwnRecordsPatience bounds how long the node's writes wait, at start,
	// for the members to give back records of its origin (0: a minute,
	// or 5 s with the local timings).
	OwnRecordsPatience time.Duration
	// Dial opens a client connection to a peer's gRPC address.
	Dial func(addr string) (*grpc.ClientConn, error)
	// TLS says the gRPC port speaks mutual TLS (and Dial does): members
	// announce it, and a node says when a member does not as it does.
	TLS bool
	// Restored says the catalog is a copy restored from a backup, which
	// lacks the records of the node's origin written since; its writes
	// then wait for a member's answer however long it takes (see
	// holdOwnWrites), failing at once meanwhile with Restored's words.
	// OnRestored is called once the writes go ahead: members answered
	// (answered), or they go ahead without an answer, as the node knows
	// no member to ask or was told to let them go (ReleaseHeldWrites).
	Restored   string
	OnRestored func(answered bool)
	// Metrics, when set, registers replication's metrics.
	Metrics prometheus.Registerer
	// WrapTransport, when set, wraps gossip's network transport (tests cut
	// the network with it).
	WrapTransport func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport
}

// meta is what a node tells the federation of itself, in its gossip
// metadata (at most 512 bytes).
type meta struct {
	Origin   string `json:"o"`
	GRPCAddr string `json:"g"`
	HTTPAddr string `json:"h,omitempty"`
	Key      []byte `json:"k"`
	Protocol int    `json:"v"`
	Head     int64  `json:"s"` // the node's own head seq
	// TLS says the member's gRPC port speaks mutual TLS (not announced by
	// earlier versions: they said nothing either way).
	TLS *bool `json:"t,omitempty"`
	// Sig is the signature, by the origin's key, of the metadata and the
	// gossip address it is announced from (see description): a member
	// proves it holds the key it names, and metadata copied whole works
	// from its member's own address only, where gossip reaches that
	// member.
	Sig []byte `json:"x,omitempty"`
}

// description is what Sig signs: every field but Sig, and the gossip
// address (host:port) the member announces, in a form of their own rather
// than JSON's (which a later version could write otherwise).
func (m meta) description(gossipAddr string) []byte {
	tls := ""
	if m.TLS != nil {
		tls = strconv.FormatBool(*m.TLS)
	}
	return fmt.Appendf(nil, "origin %q\ngossip %q\ngrpc %q\nhttp %q\nkey %x\nprotocol %d\nhead %d\ntls %q\n",
		m.Origin, gossipAddr, m.GRPCAddr, m.HTTPAddr, m.Key, m.Protocol, m.Head, tls)
}

// verify checks that the member announced from gossipAddr signed m with
// the key m names.
func (m meta) verify(gossipAddr string) error {
	if len(m.Sig) == 0 {
		return errors.New("its metadata is not signed")
	}
	if !envelope.VerifyMember(m.Key, m.description(gossipAddr), m.Sig) {
		return fmt.Errorf("its metadata is not signed by the key it names, for the address %s it gossips from", gossipAddr)
	}
	return nil
}

// Replicator makes the node a member of the federation and keeps its
// catalog in step with the other members'.
type Replicator struct {
	cfg   Config
	store *storage.Store
	log   *slog.Logger
	ml    *memberlist.Memberlist
	m     *metrics
	// localGossip is the address gossip announces, read at start.
	localGossip string
	// reconnecting says reconnect's joins run, off the anti-entropy loop.
	reconnecting atomic.Bool
	// digestBatch is how many origins compareDigests asks a peer for at
	// once (defaultDigestBatch; fewer in tests), and heldPullTimeout
	// bounds the pulls of the node's own origin while its writes are held
	// (0: the constant's; shorter in tests).
	digestBatch     int
	heldPullTimeout time.Duration

	mu    gosync.Mutex
	self  meta
	peers map[string]*peer // by origin
	// resetAt is when compareDigests last reset each origin's watermark;
	// resetting, the origins it is resetting.
	resetAt   map[string]time.Time
	resetting map[string]bool

	// news carries memberlist's events to newsLoop: memberlist calls its
	// delegates holding its own locks, so they must not wait on anything.
	news newsQueue
	// keysToPin carries to pinLoop the keys members announce of origins
	// that have none pinned (see NotifyAlive).
	keysToPin chan memberKey

	// pullSlot lets one pull run at a time. Pulls bring every origin a
	// peer holds, from the watermarks at their start: two at once would
	// bring the same records twice (a node joining a federation of fifty
	// would take in the whole catalog from each member), and the page
	// applied second would be refused as stale, the peer backed off. One
	// after the other, each starts where the last ended. (A pull does not
	// wait for a long one past pullSlotPatience: see waitForPullSlot.)
	pullSlot chan struct{}

	// releaseHeld lets the node's own writes go ahead, and refuseHeld
	// makes them fail, if Start held them (see holdOwnWrites); only the
	// first call of either counts. Both are nil when the writes were not
	// held.
	releaseHeld func(answered bool)
	refuseHeld  func()
	// holding is true from the hold of the node's writes to its end
	// (WritesHeld).
	holding atomic.Bool
	// extendHold starts the held writes' patience again (see
	// holdOwnWrites); nil when the writes were not held.
	extendHold func()
	// awaited are the members whose answers the node's held writes still
	// wait for (see holdOwnWrites). For a restored catalog, awaitJoins
	// says that the writes also wait for the members that join while they
	// are held, restoredAnswered that a member answered, and
	// restoredPatient that the patience passed before one did.
	awaited                                       map[string]bool
	awaitJoins, restoredAnswered, restoredPatient bool
	// ownOriginLogged, forkLogged, aheadLogged, conflictLogged and
	// otherKeyLogged are when ownOriginRefused, saidForked,
	// ownOriginAnswer, NotifyConflict and saidOtherKey last logged.
	ownOriginLogged, forkLogged, aheadLogged, conflictLogged, otherKeyLogged time.Time
	// verified are the members' metadata whose signatures NotifyAlive
	// checked.
	verified verifiedMetadata
	// unsignedLogged, memberConflictLogged, keyRefusedLogged and
	// unreachableLogged are when NotifyAlive last logged a member whose
	// metadata its key does not sign, conflictOfMember a member taken at
	// another address, and NotifyAlive a member refused for its key or
	// for addresses no member can reach, in unix nanoseconds: memberlist
	// calls them under its lock of its members, and they take no lock of
	// the node's (see logDueAtomic).
	unsignedLogged, memberConflictLogged, keyRefusedLogged, unreachableLogged atomic.Int64
	// refusedMembers holds, by member, why NotifyAlive refused it (it
	// speaks another protocol, or shows another key than the one its
	// origin has here), which Peers gives as its last error (else it
	// showed as gone, without a word); see noteRefused. Peers forgets
	// those of no member it knows.
	refusedMembers gosync.Map
	refusedCount   atomic.Int64
	// seriesMu orders the additions to metrics' series by origin and the
	// deletion of those of a member forgotten (see addByOrigin). It is
	// taken without r.mu held, and takes it (OriginLabel).
	seriesMu gosync.Mutex

	ctx    context.Context
	cancel context.CancelFunc
	wg     gosync.WaitGroup
}

// news is an event of a member.
type news struct {
	node  memberlist.Node
	alive bool
}

// newsQueue holds the news of each member not yet learnt, in the order
// members first had news: the latest, and the leave before it when the
// latest is a join (a member that left and came back is learnt as such:
// its backoff ends, its new address is remembered). It never drops any,
// and grows to at most two news a member, however many come at once: a
// bounded channel once dropped what did not fit (a join storm), and a
// member whose join was dropped stayed unknown until its metadata changed.
type newsQueue struct {
	mu     gosync.Mutex
	latest map[string]news
	left   map[string]news // a leave that came before latest, a join
	order  []string
	ready  chan struct{} // holds a token while news waits
}

func newNewsQueue() newsQueue {
	return newsQueue{latest: map[string]news{}, left: map[string]news{}, ready: make(chan struct{}, 1)}
}

// push queues n, in place of the news of its member not learnt yet but
// the last leave, kept before a join.
func (q *newsQueue) push(n news) {
	q.mu.Lock()
	name := n.node.Name
	switch last, ok := q.latest[name]; {
	case !ok:
		q.order = append(q.order, name)
	case n.alive && !last.alive:
		q.left[name] = last
	case !n.alive:
		delete(q.left, name) // learnt as gone, whatever came before
	}
	q.latest[name] = n
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take empties the queue, and returns what it held in order.
func (q *newsQueue) take() []news {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]news, 0, len(q.order))
	for _, name := range q.order {
		if l, ok := q.left[name]; ok {
			out = append(out, l)
		}
		out = append(out, q.latest[name])
	}
	q.order, q.latest, q.left = nil, map[string]news{}, map[string]news{}
	return out
}

// peer is another member, as this node knows it.
type peer struct {
	meta       meta
	gossipAddr string
	alive      bool
	deadSince  time.Time // when gossip last held it for dead, while it does
	conn       *grpc.ClientConn
	pulling    bool // a pull runs
	again      bool // pull again when it ends
	failures   int
	busy       int       // pulls refused in a row as the peer served too many
	retryAt    time.Time // backed off until
	movedRetry time.Time // when a new address last ended its backoff
	// otherKey holds the origins whose pages the peer gave under another
	// key than this node holds, with when it last did: their digests
	// are not compared with the peer's, even in a pull that brings no
	// page of them (the peer at the same seq), for otherKeyRemembered.
	otherKey map[string]time.Time
	// staleConn says conn waited for the member while it was away: gRPC's
	// delay between attempts to connect grew meanwhile, up to 2 minutes,
	// in which each pull fails at once. The next pull dials anew.
	staleConn bool
	retrying  bool // a pull is due when the backoff ends: at retryDue, by the timer of retryGen
	retryDue  time.Time
	retryGen  uint64
	retry     *time.Timer
	lastSync  time.Time
	syncSaved time.Time // the last sync the store holds (see savePeerSyncEvery)
	headSaved int64     // and the head
	lastErr   string
}

// syncToSaveLocked is p's last sync and head, to write to the store (see
// saveSync).
func (p *peer) syncToSaveLocked() *storage.Peer {
	return &storage.Peer{Origin: p.meta.Origin, LastSync: p.lastSync, Head: p.meta.Head}
}

// saveSync writes a member's last sync and head to the store, and marks
// them written once they are: a write that failed (the node stopping, say)
// is tried again at the next pull, or at close.
func (r *Replicator) saveSync(ctx context.Context, sv *storage.Peer) error {
	if err := r.store.SavePeerSync(ctx, sv.Origin, sv.LastSync, sv.Head); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.peers[sv.Origin]; p != nil && !sv.LastSync.Before(p.syncSaved) {
		p.syncSaved, p.headSaved = sv.LastSync, sv.Head
	}
	return nil
}

// remembered is what the store keeps of p, to rejoin it after a restart.
func (p *peer) remembered() storage.Peer {
	return storage.Peer{Origin: p.meta.Origin, GossipAddr: p.gossipAddr, GRPCAddr: p.meta.GRPCAddr}
}

// PeerStatus is what Peers reports of a member.
type PeerStatus struct {
	Origin, GRPCAddr, HTTPAddr, GossipAddr string
	Alive                                  bool
	Head                                   int64 // the member's own head seq, as it announced
	Watermark                              int64 // this node's, for the member's origin
	Lag                                    int64 // Head - Watermark, at least 0; 0 for an origin the node does not take
	LastSync                               time.Time
	LastError                              string
}

// Start joins the federation and starts replicating.
func Start(ctx context.Context, cfg Config, store *storage.Store, logger *slog.Logger) (*Replicator, error) {
	if cfg.Timings == "" {
		cfg.Timings = TimingsWAN
	}
	if cfg.PullTimeout == 0 {
		cfg.PullTimeout = 2 * time.Minute
	}
	if cfg.MaxDeadMembers <= 0 {
		cfg.MaxDeadMembers = 1024
	}
	r := &Replicator{cfg: cfg, store: store, log: logger.With("component", "sync"), peers: map[string]*peer{}, resetAt: map[string]time.Time{}, resetting: map[string]bool{}, news: newNewsQueue(), keysToPin: make(chan memberKey, maxKeysToPin), pullSlot: make(chan struct{}, 1), digestBatch: defaultDigestBatch}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.m = newMetrics(cfg.Metrics, r)
	wms, err := store.Watermarks(ctx)
	if err != nil {
		return nil, err
	}
	r.self = meta{Origin: cfg.Origin, GRPCAddr: r.advertised(cfg.GRPCAddr), HTTPAddr: r.advertised(cfg.HTTPAddr),
		Key: store.PublicKey(), Protocol: ProtocolVersion, Head: wms[cfg.Origin], TLS: &cfg.TLS}
	// Checked now, with the longest head it will announce: past the limit,
	// the node would announce no metadata, and every member refuse it.
	longest := r.self
	longest.Head, longest.Sig = math.MaxInt64, make([]byte, ed25519.SignatureSize)
	if b, _ := json.Marshal(longest); len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("gossip metadata of %d bytes, more than gossip carries (%d): the gRPC and HTTP addresses announced (%s, %s) are too long",
			len(b), memberlist.MetaMaxSize, r.self.GRPCAddr, r.self.HTTPAddr)
	}

	mc, err := r.memberlistConfig()
	if err != nil {
		return nil, err
	}
	if r.ml, err = memberlist.Create(mc); err != nil {
		return nil, fmt.Errorf("start gossip on %s: %w", cfg.GossipAddr, err)
	}
	if len(cfg.GossipKey) == 0 {
		r.log.Warn("gossip is not encrypted: give the federation's key with --gossip-key or --gossip-key-file")
	}
	// Read once, now: memberlist rewrites its node in place, unlocked for
	// its callers, at each announcement of the node's head.
	local := r.ml.LocalNode()
	r.mu.Lock()
	r.localGossip = net.JoinHostPort(local.Addr.String(), strconv.Itoa(int(local.Port)))
	r.mu.Unlock()
	if host, _, _ := net.SplitHostPort(r.localGossip); unspecifiedHost(host) {
		// Gossip on "::" announces it as it is, and a member that dials
		// "::" reaches itself: its pulls from this node would be answered
		// by its own.
		r.ml.Shutdown()
		return nil, fmt.Errorf("gossip on %s, every interface, announces no address peers can reach: give --advertise-addr, the address peers reach this node at", cfg.GossipAddr)
	}
	r.log.Info("gossip listening", "addr", r.localGossip, "timings", cfg.Timings)
	r.announceReachable()
	// Announced again, signed for the address gossip announces, which the
	// first announcement (made as memberlist started) could not know.
	if err := r.ml.UpdateNode(time.Second); err != nil { // no member yet: nothing to wait for
		r.ml.Shutdown()
		return nil, fmt.Errorf("gossip metadata: %w", err)
	}

	seeds := append([]string(nil), cfg.Join...)
	known, err := store.Peers(ctx)
	if err != nil {
		r.ml.Shutdown()
		return nil, err
	}
	r.mu.Lock()
	for _, k := range known {
		if k.Origin != cfg.Origin {
			seeds = append(seeds, k.GossipAddr)
			// Listed, as gone, until gossip says more: a member down when
			// the node restarts is the one its operator most needs to
			// see, with its last sync. (Gossip news, queued until
			// newsLoop starts, come after.)
			r.peers[k.Origin] = &peer{meta: meta{Origin: k.Origin, GRPCAddr: k.GRPCAddr, Head: k.Head}, gossipAddr: k.GossipAddr,
				deadSince: k.SeenTime, lastSync: k.LastSync, syncSaved: k.LastSync, headSaved: k.Head}
		}
	}
	r.mu.Unlock()
	if len(seeds) > 0 {
		err := r.joinSeeds(ctx, seeds)
		// Judged by the members gossip knows, not by the seeds that
		// answered: a seed may be the node's own address (one --join list
		// for every node).
		var members []string
		for _, m := range r.ml.Members() {
			if m.Name != cfg.Origin {
				members = append(members, m.Name)
			}
		}
		if len(members) == 0 {
			args := []any{"seeds", seeds, "err", err}
			if hint := gossipKeyHint(err); hint != "" {
				args = append(args, "hint", hint)
			}
			r.log.Warn("joined no member yet; gossip will keep trying through peers that reach this node", args...)
			if cfg.Restored != "" {
				// The first member that joins is asked.
				r.holdOwnWrites(wms[cfg.Origin], nil)
			}
		} else {
			r.log.Info("joined the federation", "members", len(members))
			// Whatever the catalog holds of the node's origin: one
			// restored from an older copy, or that lost its last commits
			// in a crash of the machine, holds fewer records of it than
			// peers may. (No write comes before Start returns.)
			r.holdOwnWrites(wms[cfg.Origin], members)
		}
	}
	if len(seeds) == 0 && cfg.Restored != "" {
		r.log.Warn("this catalog was restored from a backup, and this node knows no member of a federation to give back the records of its origin written since (no --join, none remembered): if it wrote any, they are lost, and its writes go ahead")
		r.restored(false)
	}
	r.wg.Add(4)
	go r.newsLoop()
	go r.announceLoop()
	go r.antiEntropyLoop()
	go r.pinLoop()
	return r, nil
}

// A memberKey is the key a member announced of its origin, signed.
type memberKey struct {
	origin string
	key    ed25519.PublicKey
}

// maxKeysToPin bounds the keys waiting for pinLoop; past it, a member's
// announcement is not queued, and its next one is.
const maxKeysToPin = 256

// pinLoop pins, for each origin a member announced with its key, proved by
// the signature of its metadata, that key, if the catalog has none pinned
// yet: a node first met a relay holding the origin under another key (an
// impostor's, or one the origin had before), whose first page pinned that
// one, and then refused the origin's own member and records for good.
func (r *Replicator) pinLoop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case mk := <-r.keysToPin:
			if err := r.store.PinKey(r.ctx, mk.origin, mk.key); err != nil && r.ctx.Err() == nil {
				r.log.Warn("pin the key a member announced of its origin", "origin", mk.origin, "err", err)
			}
		}
	}
}

// logDueAtomic reports whether a log line whose last time last holds is
// due, at most every ownOriginRefusedLogEvery, and notes it. A last time
// ahead of now can only mean the clock was set back since: due, rather
// than silent for as long as it went back.
func logDueAtomic(last *atomic.Int64) bool {
	now, was := time.Now().UnixNano(), last.Load()
	return (now-was >= int64(ownOriginRefusedLogEvery) || now < was) && last.CompareAndSwap(was, now)
}

// restored tells the node that its restored catalog needs no more
// waiting: a member answered, or not.
func (r *Replicator) restored(answered bool) {
	if r.cfg.OnRestored != nil {
		r.cfg.OnRestored(answered)
	}
}

// gossipKeyHint says what a failed join's error means when gossip's own
// words do not say it to an operator: the seeds hold another gossip key
// than this node, or one of the two has none.
func gossipKeyHint(err error) string {
	if err == nil {
		return ""
	}
	switch msg := err.Error(); {
	case strings.Contains(msg, "no installed keys could decrypt"):
		return "the seeds use another gossip key than this node: every member needs the federation's one key (--gossip-key-file)"
	case strings.Contains(msg, "encryption is not configured"), strings.Contains(msg, "remote state is not encrypted"):
		return "the seeds encrypt gossip and this node does not, or the other way round: every member needs the federation's one key (--gossip-key-file)"
	}
	return ""
}

// joinSeeds has gossip join the seeds, each on a goroutine of its own (at
// most maxParallelJoins at once), and returns once one brought a member
// and the others had joinGrace more (joinGraceAlone after a join that
// brought none), or all ended, with the last failure. One
// call of memberlist's Join tries its seeds one after the other, and
// waits up to its TCP timeout (30 s with the WAN timings) for each that
// hangs (a frozen host, a firewall dropping packets): with a few members
// of a remembered list down that way, a start took minutes. A seed that
// answers brings every member it knows; those still trying go on in the
// background, until the node closes. When ctx ends (the operator stops
// the node while it starts), it returns at once.
func (r *Replicator) joinSeeds(ctx context.Context, seeds []string) error {
	// The node's own address, in a --join list shared by every node,
	// brings nobody.
	seeds = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(seeds))), func(seed string) bool {
		return seed == r.localGossip || seed == r.cfg.GossipAddr
	})
	results := make(chan error, len(seeds))
	go func() {
		slots := make(chan struct{}, maxParallelJoins)
		for _, seed := range seeds {
			select {
			case slots <- struct{}{}:
			case <-r.ctx.Done():
				return
			}
			go func() {
				defer func() { <-slots }()
				_, err := r.ml.Join([]string{seed})
				results <- err
			}()
		}
	}()
	var failed error
	var deadline time.Time // of the wait, once a seed answered
	var grace <-chan time.Time
	for range seeds {
		select {
		case err := <-results:
			if err != nil {
				failed = err
				continue
			}
			// A join that brought no member (a seed that is the node's
			// own address under another name, or whose members gossip
			// refuses) gives the others longer: one far away may bring
			// some.
			wait := joinGrace
			if r.ml.NumMembers() < 2 {
				wait = joinGraceAlone
			}
			if end := time.Now().Add(wait); deadline.IsZero() || end.Before(deadline) {
				deadline, grace = end, time.After(wait)
			}
		case <-grace:
			return failed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return failed
}

// heldPullTimeout bounds the pull of the node's own origin, and the digest
// that follows, while its writes are held: awaitedFailures of them, each
// after up to pullSlotPatience waiting for another pull, with the backoffs
// between (2 and maxAwaitedRetry), fit in the wait of a minute: 3 × (5 +
// 10) + 6 = 51 s.
const heldPullTimeout = 10 * time.Second

// savePeerSyncEvery bounds how often the last successful pull from a member
// is written to the store, for Peers after a restart: a pull an anti-entropy
// round makes every few seconds need not write each time.
const savePeerSyncEvery = time.Minute

// movedRetryEvery bounds how often a member announcing another gRPC address
// ends its backoff.
const movedRetryEvery = time.Minute

// maxParallelJoins bounds the seeds joinSeeds tries at once; joinGrace is
// how long it waits for the others once one brought a member, and
// joinGraceAlone once one answered without bringing any.
const (
	maxParallelJoins = 16
	joinGrace        = time.Second
	joinGraceAlone   = 5 * time.Second
)

// ownRecordsPatience bounds how long a node holds its writes at start,
// waiting for the members to give back any record of its origin it signed
// and its catalog no longer holds: a minute, or 5 s with the local timings
// (nodes on one machine, as in tests), unless Config.OwnRecordsPatience
// says otherwise.
func (r *Replicator) ownRecordsPatience() time.Duration {
	switch {
	case r.cfg.OwnRecordsPatience > 0:
		return r.cfg.OwnRecordsPatience
	case r.cfg.Timings == TimingsLocal:
		return 5 * time.Second
	}
	return time.Minute
}

// holdOwnWrites holds the node's own writes, at start, until each of
// members (those gossip knows alive once the node has joined) has
// answered, or its patience passes (ownRecordsPatience), or the node
// stops. The catalog, at head, may have lost records of the node's origin
// that peers hold still: wiped (its key kept), restored from an older
// copy, or short of its last commits after a crash of the machine. Pulls
// give them back, and the writes then take the seqs after them; a write
// made first would take a seq that peers hold already, and never reach
// them.
//
// Each member must answer, not the first only: one may lack records of the
// node's origin that another holds (it was cut off from the node when they
// were written). A member answers by a pull of the node's origin that ends
// without error and digests that then show no more of it than the node
// holds (or cannot be had; see ownOriginAnswer); by a pull that finds it
// holds the origin under another key, or other records of it than the
// node's (it cannot give them back); or by failing awaitedFailures pulls
// in a row, unless it cannot be reached (it may be restarting, while
// gossip holds it alive). One that leaves is still waited for: it may be
// the one holding the records, restarting.
//
// A restored catalog (Config.Restored) lacks for certain the records of
// its origin written since its backup: its writes wait for a member's
// answer however long it takes, and fail at once meanwhile; members that
// join while they wait are awaited too (none may have joined at start);
// the patience lets the writes go ahead only once a member answered, and
// if none had when it passed, the first answer does.
func (r *Replicator) holdOwnWrites(head int64, members []string) {
	restored := r.cfg.Restored != ""
	if len(members) == 0 && !restored {
		return
	}
	hold := r.store.HoldOwnWrites()
	r.holding.Store(true)
	r.mu.Lock()
	r.awaited = map[string]bool{}
	for _, m := range members {
		r.awaited[m] = true
	}
	r.awaitJoins = restored
	r.mu.Unlock()
	patience := r.ownRecordsPatience()
	if restored {
		hold.FailFast(fmt.Errorf("write: %s, and no member of its federation has given back yet the records of its origin written since: writes wait for one: %w", r.cfg.Restored, storage.ErrUnavailable))
		r.log.Warn("this catalog was restored from a backup: this node's writes wait for a member to give back the records of its origin written since, however long it takes, and fail meanwhile", "head", head, "members", len(members))
	} else {
		r.log.Info("this node's writes wait for each member to give back any record of its origin it signed and its catalog lost", "head", head, "members", len(members), "at_most", patience)
	}
	// Whichever ends the hold first (every answer, the patience, or the
	// node stopping) settles it; the others do nothing.
	var once gosync.Once
	end := func(settle func()) {
		once.Do(func() {
			r.stopAwaiting()
			// Not held from here: the node's watch of the file that held
			// them (which settle may delete) takes its absence then for
			// the node's own doing.
			r.holding.Store(false)
			settle()
		})
	}
	release := func(answered bool) {
		hold.Release()
		if restored {
			r.restored(answered)
		}
	}
	timer := time.AfterFunc(patience, func() {
		r.mu.Lock()
		noAnswer := restored && !r.restoredAnswered
		r.restoredPatient = noAnswer // the first answer then releases the writes
		r.mu.Unlock()
		if noAnswer {
			r.log.Warn("this catalog was restored from a backup, and no member has answered yet: its writes keep waiting for the first answer", "waited", patience, "unanswered", r.stillAwaited())
			return
		}
		unanswered := r.stillAwaited() // before end forgets them
		end(func() {
			r.log.Warn("not every member answered that it held no more of this node's origin: this node's writes go ahead, and if its catalog lost records of its origin that peers hold, they will not take the writes of the same seqs", "waited", patience, "unanswered", unanswered)
			release(true) // of a restored catalog, once one answered
		})
	})
	r.releaseHeld = func(answered bool) { timer.Stop(); end(func() { release(answered) }) }
	r.refuseHeld = func() { timer.Stop(); end(hold.Refuse) }
	// The patience starts again while the node's own catalog cannot take
	// the records a member gives back: waiting on the member is not what
	// keeps the answer from coming.
	r.extendHold = func() { timer.Reset(patience) }
}

// localRetry is when a pull that failed on the node's own side (see
// LocalError) is tried again.
const localRetry = 5 * time.Second

// stopAwaiting forgets the members the node's writes waited for, once they
// no longer do: none is then asked again for its answer.
func (r *Replicator) stopAwaiting() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.awaited = nil
}

// maxAwaitedRetry bounds the backoff of a member whose pulls fail while
// the node's held writes wait for its answer: one restarting is asked
// again soon after it is back.
const maxAwaitedRetry = 4 * time.Second

// awaitedFailures is how many pulls in a row a member awaited (see
// holdOwnWrites) must fail to be taken for one that cannot tell what it
// holds: one failure may be a blip. A member that cannot be reached
// (UNAVAILABLE) is not given up on: it may be restarting, and gossip holds
// it alive meanwhile; the node's patience bounds the wait.
const awaitedFailures = 3

// RefuseHeldWrites makes the node's own writes fail, those waiting and
// those after, if Start holds them still (see holdOwnWrites): the node is
// stopping, and no pull will tell it whether the federation holds more of
// its origin. A node calls it first when it stops serving, so that calls
// waiting on a write end at once rather than at the end of their grace;
// Close calls it too.
func (r *Replicator) RefuseHeldWrites() {
	if r.refuseHeld != nil {
		r.refuseHeld()
	}
}

// answered notes that the member of origin holds no more of the node's
// origin than the node, or cannot tell it, and lets the node's held writes
// go ahead once every member awaited has answered (see holdOwnWrites).
func (r *Replicator) answered(origin string) {
	r.mu.Lock()
	awaited := r.awaited[origin]
	delete(r.awaited, origin)
	release := awaited && (len(r.awaited) == 0 || r.restoredPatient)
	r.restoredAnswered = r.restoredAnswered || awaited
	r.mu.Unlock()
	if release {
		r.releaseOwnWrites()
	}
}

// awaitedLocked reports whether the node's held writes wait for the member
// of origin's answer.
func (r *Replicator) awaitedLocked(origin string) bool { return r.awaited[origin] }

// stillAwaited are the members whose answers the node's held writes wait
// for, sorted.
func (r *Replicator) stillAwaited() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.awaited))
}

// releaseOwnWrites lets the node's own writes go ahead, if they are held:
// the members answered.
func (r *Replicator) releaseOwnWrites() {
	if r.releaseHeld != nil {
		r.releaseHeld(true)
	}
}

// WritesHeld reports whether the node's own writes wait still for members
// to give back records of its origin (see holdOwnWrites).
func (r *Replicator) WritesHeld() bool { return r.holding.Load() }

// ReleaseHeldWrites lets the node's own writes go ahead, if they are held,
// without waiting for the members' answers: its operator says so (for a
// restored catalog, by deleting the file that says it is restored).
func (r *Replicator) ReleaseHeldWrites() {
	if r.releaseHeld != nil {
		r.releaseHeld(false)
	}
}

// ownOriginRefusedLogEvery bounds how often a node says that the
// federation holds its origin under another key: each pull finds it.
const ownOriginRefusedLogEvery = 10 * time.Minute

// ownOriginRefused counts a pull's refusal of the node's own origin under
// another key, and says so, at most every ownOriginRefusedLogEvery: the
// node's key is not the one the federation knows its origin by (lost and
// made anew, or another node's origin taken), so its writes will be
// refused everywhere.
func (r *Replicator) ownOriginRefused(peer string, err error) {
	// The member has answered the node's held writes, if they wait for
	// it (see holdOwnWrites): it cannot give back records under another
	// key. (Any member could sign some under a key of its own: the hold
	// guards against honest mistakes, not against a member that lies.)
	r.m.refused.WithLabelValues(storage.RefusedOwnOrigin).Inc()
	if r.logDue(&r.ownOriginLogged) {
		r.log.Error("the federation holds this node's origin under another key: peers will refuse its records; restore the origin's key, or, if it is lost, have every member give the new one in --trust (see the README's \"Backup and restore\")", "peer", peer, "err", err)
	}
}

// logDue reports whether ownOriginRefusedLogEvery has passed since *last,
// which it then sets to now: what each pull finds again is logged no more
// often.
func (r *Replicator) logDue(last *time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(*last) < ownOriginRefusedLogEvery {
		return false
	}
	*last = time.Now()
	return true
}

// ownForked counts, and says at most every ownOriginRefusedLogEvery, that
// a peer holds other records of the node's own origin than the node, up
// to the same seq: the node lost records of its origin that were not all
// given back, or wrote at their seqs after losing them (its writes then
// took seqs peers hold, and peers will not take its records of those).
// Nothing repairs that: the node is the origin's authority. (A peer that
// lost records of the origin shows fewer, and repairs itself from the
// node.)
func (r *Replicator) ownForked(peer string, mine, theirs *federationv1.OriginDigest) {
	if theirs.GetCount() < mine.GetCount() {
		return
	}
	r.saidForked(peer, "seq", mine.GetWatermark(), "records", mine.GetCount(), "theirs", theirs.GetCount())
}

// saidForked counts a divergence of the node's own origin found with peer,
// and says so, with attrs, at most every ownOriginRefusedLogEvery: by its
// digest (ownForked), or by a pull's refusal of the node's records given
// back at seqs it wrote again.
func (r *Replicator) saidForked(peer string, attrs ...any) {
	r.m.divergences.WithLabelValues(r.cfg.Origin).Inc()
	if r.logDue(&r.forkLogged) {
		r.log.Error("a peer holds other records of this node's origin than the node: the node lost records of its origin that were not all given back, or wrote at their seqs after losing them, or another node runs with this origin; peers will not take its records of such seqs",
			append([]any{"peer", peer}, attrs...)...)
	}
}

// otherKeyRemembered is how long a node remembers that a peer holds an
// origin under another key (see peer.otherKey).
const otherKeyRemembered = time.Hour

// otherKeyOf records the origins p gave under another key in a pull, res,
// forgets those it gave under the key the node holds (its operator settled
// the key), and returns every origin it gave under another key within
// otherKeyRemembered.
func (r *Replicator) otherKeyOf(p *peer, res PullResult) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for o := range res.HeldKey {
		if _, again := res.OtherKey[o]; !again {
			delete(p.otherKey, o)
		}
	}
	otherKey := slices.Collect(maps.Keys(res.OtherKey))
	if res.OwnOriginRefused != nil {
		// The node's own origin, which the peer holds under another key
		// (the node's key was made anew): the same.
		otherKey = append(otherKey, r.cfg.Origin)
	}
	for _, o := range otherKey {
		if p.otherKey == nil {
			p.otherKey = map[string]time.Time{}
		}
		p.otherKey[o] = now
	}
	out := map[string]bool{}
	for o, at := range p.otherKey {
		if now.Sub(at) > otherKeyRemembered {
			delete(p.otherKey, o)
			continue
		}
		out[o] = true
	}
	return out
}

// heldUnderOtherKey lists the origins p held under another key than the
// node within otherKeyRemembered, which the node's pulls from p leave out
// (see pullAll) until p's digests show it holds them under the node's key,
// or the time is past and a pull asks again.
func (r *Replicator) heldUnderOtherKey(p *peer) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for o, at := range p.otherKey {
		if time.Since(at) <= otherKeyRemembered {
			out = append(out, o)
		}
	}
	return out
}

// settledKeys forgets, of the origins p held under another key, those no
// longer in otherKey: compareDigests found p's digest of them under the
// key the node holds.
func (r *Replicator) settledKeys(p *peer, otherKey map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for o := range p.otherKey {
		if !otherKey[o] {
			delete(p.otherKey, o)
		}
	}
}

// saidOtherKey counts and says the origins a peer holds under another key
// than this node (see PullResult.OtherKey), once every few minutes: an
// operator has to find which key is the origin's, and no pull will tell.
func (r *Replicator) saidOtherKey(peer string, otherKey map[string]error) {
	for origin, err := range otherKey {
		r.m.refused.WithLabelValues(storage.RefusedKeyMismatch).Inc()
		if r.logDue(&r.otherKeyLogged) {
			r.log.Error("a peer holds an origin under another key than this node, and this node skips its records of it: the first node to show the origin to one of them was an impostor, or two nodes run with the origin; find which key is the origin's (GET /v1/node on its node), and give it in --trust",
				"peer", peer, "origin", origin, "err", err)
		}
	}
}

// GossipAddr is the address gossip announces (and listens on, but for
// an advertised one).
func (r *Replicator) GossipAddr() string { return r.localGossip }

// announceReachable replaces, in the node's metadata, a gRPC or HTTP
// address on every interface (such as "0.0.0.0:7400"), which peers would
// dial as their own, with the host gossip announces (memberlist picks a
// private address of the machine when gossip too listens on every
// interface), and says so. It reports whether it changed anything.
func (r *Replicator) announceReachable() bool {
	host, _, _ := net.SplitHostPort(r.localGossip)
	changed := false
	r.mu.Lock()
	defer r.mu.Unlock()
	if unspecifiedHost(host) {
		return false // refused at start
	}
	for _, a := range []struct {
		what string
		addr *string
	}{{"gRPC", &r.self.GRPCAddr}, {"HTTP", &r.self.HTTPAddr}} {
		h, port, err := net.SplitHostPort(*a.addr)
		if err != nil || (h != "" && !net.ParseIP(h).IsUnspecified()) {
			continue
		}
		reachable := net.JoinHostPort(host, port)
		r.log.Info("announcing the address gossip announces: this node listens on every interface (--advertise-addr chooses another)", "api", a.what, "listens", *a.addr, "announced", reachable)
		*a.addr, changed = reachable, true
	}
	return changed
}

// unspecifiedHost reports whether host names no machine: every interface
// ("::", "0.0.0.0"), or none.
func unspecifiedHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// AnnouncedGRPCAddr is the gRPC address the node announces to its peers,
// which they dial (and check a TLS certificate against).
func (r *Replicator) AnnouncedGRPCAddr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.self.GRPCAddr
}

// advertised is addr with the advertised host, if one is set.
func (r *Replicator) advertised(addr string) string {
	if r.cfg.AdvertiseHost == "" || addr == "" {
		return addr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(r.cfg.AdvertiseHost, port)
}

func (r *Replicator) memberlistConfig() (*memberlist.Config, error) {
	var mc *memberlist.Config
	antiEntropy := 30 * time.Second
	switch r.cfg.Timings {
	case TimingsWAN:
		mc = memberlist.DefaultWANConfig()
	case TimingsLAN:
		mc = memberlist.DefaultLANConfig()
		antiEntropy = 10 * time.Second
	case TimingsLocal:
		mc = memberlist.DefaultLocalConfig()
		mc.GossipInterval = 20 * time.Millisecond
		mc.ProbeInterval = 200 * time.Millisecond
		mc.PushPullInterval = 2 * time.Second
		// Announcements must reach every node by gossip alone, well before
		// a push-pull. Each node that hears one passes it to
		// RetransmitMult × ⌈log10(n+1)⌉ random members, so a member misses
		// it with a chance of about e^-(that): at 50 members, 4 left one
		// member out for one write in 3,600, which a push-pull, seconds
		// later, then made up; 6 leaves out one in 180,000.
		mc.RetransmitMult = 6
		// Loopback has bandwidth to spare, and memberlist's LZW allocates
		// a 64 KiB table for each message it compresses: with tens of
		// nodes in one process, that garbage kept the collector busy.
		mc.EnableCompression = false
		antiEntropy = time.Second
	default:
		return nil, fmt.Errorf("gossip timings %q: use wan, lan or local", r.cfg.Timings)
	}
	if r.cfg.AntiEntropyInterval == 0 {
		r.cfg.AntiEntropyInterval = antiEntropy
	}
	// A member that died (a crash, no leave) and comes back at another
	// address (a new container's, a new port) takes its name back a few
	// probes after it was found dead, rather than being refused as a
	// conflict until gossip forgets the dead one (GossipToTheDeadTime:
	// a minute, and push-pulls as long, with the WAN timings). Its key
	// must still be the one pinned (NotifyAlive).
	mc.DeadNodeReclaimTime = 5 * mc.ProbeInterval
	host, p, err := GossipBind(r.cfg.GossipAddr)
	if err != nil {
		return nil, err
	}
	if given, _, _ := net.SplitHostPort(r.cfg.GossipAddr); given != "" && given != host {
		r.log.Info("gossip listens on the address of its host name", "host", given, "addr", host)
	}
	mc.Name = r.cfg.Origin
	mc.BindAddr, mc.BindPort = host, p
	if r.cfg.WrapTransport != nil {
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{host}, BindPort: p, Logger: log.New(&slogWriter{r.log}, "", 0)})
		if err != nil {
			return nil, fmt.Errorf("gossip on %s: %w", r.cfg.GossipAddr, err)
		}
		if p == 0 {
			mc.BindPort = nt.GetAutoBindPort()
		}
		mc.Transport = r.cfg.WrapTransport(nt)
	}
	if r.cfg.AdvertiseHost != "" {
		ip, err := resolveHost(r.cfg.AdvertiseHost, host, net.LookupIP)
		if err != nil {
			return nil, fmt.Errorf("advertised host: %w", err)
		}
		if ip != r.cfg.AdvertiseHost {
			r.log.Info("gossip announces the advertised host's address", "host", r.cfg.AdvertiseHost, "addr", ip)
		}
		mc.AdvertiseAddr, mc.AdvertisePort = ip, mc.BindPort // the port chosen, for port 0
	}
	if len(r.cfg.GossipKey) > 0 {
		// Encrypted with the first key; any of them decrypts.
		keyring, err := memberlist.NewKeyring(r.cfg.OtherGossipKeys, r.cfg.GossipKey)
		if err != nil {
			return nil, fmt.Errorf("gossip keys: %w", err)
		}
		mc.Keyring, mc.SecretKey = keyring, r.cfg.GossipKey
	}
	mc.Delegate = delegate{r}
	mc.Events = events{r}
	mc.Alive = delegate{r}
	mc.Conflict = delegate{r}
	mc.Logger = log.New(&slogWriter{r.log}, "", 0)
	return mc, nil
}

// GossipBind is the address and port gossip listens on for the gossip
// address addr (host:port): no host is "0.0.0.0" (memberlist would listen
// on "::" and announce it; on "0.0.0.0" it announces a private address of
// the machine), and a host name is resolved (memberlist takes an address
// only, and listens on every interface for anything else, "localhost"
// too, announcing none its peers can reach).
func GossipBind(addr string) (host string, port int, err error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("gossip address %q: %w", addr, err)
	}
	if port, err = strconv.Atoi(ps); err != nil {
		return "", 0, fmt.Errorf("gossip address %q: bad port", addr)
	}
	if host == "" {
		return "0.0.0.0", port, nil
	}
	if host, err = resolveHost(host, "", net.LookupIP); err != nil {
		return "", 0, fmt.Errorf("gossip address %q: %w", addr, err)
	}
	return host, port, nil
}

// CheckAdvertiseHost reports an advertised host (Config.AdvertiseHost)
// gossip could not announce for the gossip address gossipAddr, a name
// that does not resolve: what Start refuses, for a node to refuse the
// setting before it makes anything in its data folder.
func CheckAdvertiseHost(advertise, gossipAddr string) error {
	if advertise == "" {
		return nil
	}
	bind, _, err := GossipBind(gossipAddr)
	if err != nil {
		return err
	}
	if _, err := resolveHost(advertise, bind, net.LookupIP); err != nil {
		return fmt.Errorf("advertised host: %w", err)
	}
	return nil
}

// resolveHost is the IP address gossip announces for host (or listens on,
// with no bind), which gossip takes only as an address: host itself if it
// is one, else the first address it resolves to of the family gossip
// listens on (bind, its host): IPv6 for an IPv6 address, IPv4 for an IPv4
// one, either for 0.0.0.0 or "::" (or none), on which Go listens in both
// families, IPv4 first. A name with no address of the family gossip
// listens on is refused: announced, its address of the other family
// reached nothing.
// (The gRPC and HTTP addresses announced keep the name, which TLS
// certificates may be for.)
func resolveHost(host, bind string, lookup func(string) ([]net.IP, error)) (string, error) {
	if net.ParseIP(host) != nil {
		return host, nil
	}
	ips, err := lookup(host)
	if err != nil {
		return "", fmt.Errorf("host %q: %w", host, err)
	}
	if len(ips) == 0 {
		return "", fmt.Errorf("host %q: no address", host)
	}
	b := net.ParseIP(bind)
	bothFamilies := b == nil || b.IsUnspecified()
	wantIPv6 := !bothFamilies && b.To4() == nil
	for _, ip := range ips {
		if (ip.To4() == nil) == wantIPv6 {
			return ip.String(), nil
		}
	}
	if bothFamilies {
		return ips[0].String(), nil
	}
	family := "IPv4"
	if wantIPv6 {
		family = "IPv6"
	}
	return "", fmt.Errorf("host %q has no %s address, the family gossip listens on (%s): give an address of it, or gossip on every interface (0.0.0.0 or [::], both families)", host, family, bind)
}

// Close leaves the federation and stops replicating.
func (r *Replicator) Close() error {
	r.RefuseHeldWrites()
	r.mu.Lock()
	r.cancel() // under mu: pull sees it before it starts anything
	r.mu.Unlock()
	err := r.ml.Leave(time.Second)
	r.wg.Wait()
	err = errors.Join(err, r.ml.Shutdown())
	r.saveSyncs()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.peers {
		if p.conn != nil {
			p.conn.Close()
		}
	}
	return err
}

// saveSyncs writes to the store the last sync and head of each member not
// written yet, as the node stops (a pull writes them at most every
// savePeerSyncEvery).
func (r *Replicator) saveSyncs() {
	var saves []*storage.Peer
	r.mu.Lock()
	for _, p := range r.peers {
		// The head too of a member never synced (its gRPC port out of
		// reach, say): a restart lists it with the head it announced,
		// and the lag it leaves.
		if !p.lastSync.Equal(p.syncSaved) || p.meta.Head != p.headSaved {
			saves = append(saves, p.syncToSaveLocked())
		}
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, sv := range saves {
		if err := r.saveSync(ctx, sv); err != nil {
			r.log.Warn("remember the last sync of a member", "origin", sv.Origin, "err", err)
			return
		}
	}
}

// addByOrigin adds n to the series of vec of origin's label. A pull that
// labelled its records an instant before forgetDead deleted the series of
// a member it forgot, and added to it an instant after, made the series
// again for good: both go under seriesMu, and forgetDead takes the member
// out of r.peers before, so that a label taken after names "other".
func (r *Replicator) addByOrigin(vec *prometheus.CounterVec, origin string, n float64) {
	r.seriesMu.Lock()
	defer r.seriesMu.Unlock()
	vec.WithLabelValues(r.OriginLabel(origin)).Add(n)
}

// OriginLabel is origin as metrics label it: itself for the node's own
// origin, an origin the trust list names, or that of a member the node
// knows (remembered ones too), and "other" for the rest. Records of any
// origin are relayed, so a member making up thousands of origins would
// otherwise add a series per metric and origin to every node's /metrics.
func (r *Replicator) OriginLabel(origin string) string {
	if origin == r.cfg.Origin || r.store.Trusts(origin) {
		return origin
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peers[origin] != nil {
		return origin
	}
	return OtherOrigins
}

// OtherOrigins is the origin label of the origins OriginLabel does not name.
const OtherOrigins = "other"

// Peers reports the members this node knows, sorted by origin.
func (r *Replicator) Peers() []PeerStatus {
	wms, _ := r.store.Watermarks(r.ctx) // none on error: lag then shows all
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]PeerStatus, 0, len(r.peers))
	for _, p := range r.peers {
		w := wms[p.meta.Origin]
		var lag int64
		if p.meta.Head > w { // a difference that cannot wrap: w is at least 0
			lag = p.meta.Head - w
		}
		if !r.store.Accepts(p.meta.Origin) {
			lag = 0 // an origin the trust list leaves out: not lacked, refused
		}
		lastErr := p.lastErr
		if why, ok := r.refusedMembers.Load(p.meta.Origin); ok && !p.alive {
			lastErr = why.(string)
		}
		out = append(out, PeerStatus{Origin: p.meta.Origin, GRPCAddr: p.meta.GRPCAddr, HTTPAddr: p.meta.HTTPAddr,
			GossipAddr: p.gossipAddr, Alive: p.alive, Head: p.meta.Head, Watermark: w, Lag: lag,
			LastSync: p.lastSync, LastError: lastErr})
	}
	slices.SortFunc(out, func(a, b PeerStatus) int { return strings.Compare(a.Origin, b.Origin) })
	// The refusals of names no member the node knows has: they are shown
	// nowhere, and made-up names would hold every place.
	r.refusedMembers.Range(func(name, _ any) bool {
		if r.peers[name.(string)] == nil {
			r.forgetRefused(name.(string))
		}
		return true
	})
	return out
}

func (r *Replicator) newsLoop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.news.ready:
			for _, n := range r.news.take() {
				r.learn(&n.node, n.alive)
			}
		}
	}
}

// announceLoop tells the federation the node's new head after each write.
func (r *Replicator) announceLoop() {
	defer r.wg.Done()
	for {
		changed := r.store.Changed()
		head, err := r.store.Watermark(r.ctx, r.cfg.Origin)
		if err == nil && head != r.headAnnounced() {
			r.mu.Lock()
			r.self.Head = head
			r.mu.Unlock()
			// UpdateNode waits until gossip has spread the news, up to
			// its timeout; a stop does not wait for it (Close waited up
			// to 5 s), and the wait ends by the timeout at most.
			announced := make(chan error, 1)
			go func() { announced <- r.ml.UpdateNode(5 * time.Second) }()
			select {
			case err := <-announced:
				if err != nil {
					r.log.Warn("announce head", "err", err)
				}
			case <-r.ctx.Done():
				return
			}
		}
		select {
		case <-r.ctx.Done():
			return
		case <-changed:
		}
	}
}

func (r *Replicator) headAnnounced() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.self.Head
}

// antiEntropyLoop pulls, at jittered intervals, from a few random live
// peers: whatever an announcement missed, and records of origins this node
// never talks to, relayed.
func (r *Replicator) antiEntropyLoop() {
	defer r.wg.Done()
	const fanout = 3
	for {
		d := r.cfg.AntiEntropyInterval
		d = d/2 + time.Duration(rand.Int64N(int64(d))) // 0.5 to 1.5 times
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(d):
		}
		r.mu.Lock()
		var live []string
		for o, p := range r.peers {
			if p.alive {
				live = append(live, o)
			}
		}
		r.mu.Unlock()
		rand.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
		for _, o := range live[:min(fanout, len(live))] {
			r.pull(o)
		}
		r.reconnect(fanout)
		r.forgetDead()
	}
}

// forgetDead forgets, past MaxDeadMembers members not seen alive, those
// gone longest. Every name that ever joined would stay otherwise, in Peers
// and among the addresses reconnect keeps trying, and a holder of the
// federation's key can make up thousands. A bound rather than a time:
// members forgotten after a long partition could not find each other again.
//
// A member remembered from an earlier run, and not seen by gossip in this
// one, has gone unseen since it was saved, when it last joined: Start
// lists it so (its deadSince).
func (r *Replicator) forgetDead() {
	type gone struct {
		origin string
		since  time.Time
	}
	// Members gossip sees alive, whose news learn may not have taken in
	// yet (asked before r.mu: memberlist calls the delegates, which take
	// r.mu, holding its own locks).
	aliveInGossip := map[string]bool{}
	for _, n := range r.ml.Members() {
		aliveInGossip[n.Name] = true
	}
	var dead []gone
	r.mu.Lock()
	for o, p := range r.peers {
		if !p.alive && !p.deadSince.IsZero() && !aliveInGossip[o] {
			dead = append(dead, gone{o, p.deadSince})
		}
	}
	if len(dead) <= r.cfg.MaxDeadMembers {
		r.mu.Unlock()
		return
	}
	slices.SortFunc(dead, func(a, b gone) int { return a.since.Compare(b.since) })
	var forgotten []gone
	for _, d := range dead[:len(dead)-r.cfg.MaxDeadMembers] {
		if p := r.peers[d.origin]; p != nil {
			if p.pulling { // its pull ends soon; a later turn forgets it
				continue
			}
			if p.conn != nil {
				p.conn.Close()
			}
			delete(r.peers, d.origin)
		}
		forgotten = append(forgotten, d)
	}
	r.mu.Unlock()
	for _, d := range forgotten {
		r.log.Info("forgetting a member not seen alive, beyond the most kept", "origin", d.origin, "since", d.since, "most", r.cfg.MaxDeadMembers)
		if err := r.store.ForgetPeer(r.ctx, d.origin); err != nil && r.ctx.Err() == nil {
			r.log.Warn("forget member", "origin", d.origin, "err", err)
		}
		// A member that came back meanwhile was saved again by learn,
		// maybe before the row went: save it once more.
		r.mu.Lock()
		p := r.peers[d.origin]
		back := p != nil && p.alive
		var saved storage.Peer
		if back {
			saved = p.remembered()
		}
		r.mu.Unlock()
		if back {
			if err := r.store.SavePeer(r.ctx, saved); err != nil && r.ctx.Err() == nil {
				r.log.Warn("remember member", "origin", d.origin, "err", err)
			}
		} else {
			// Its series go too, as its records now count under
			// "other": a gossip-key holder making up member after
			// member added series without end. (Under seriesMu: see
			// addByOrigin.)
			r.seriesMu.Lock()
			if r.OriginLabel(d.origin) == OtherOrigins {
				r.m.applied.DeleteLabelValues(d.origin)
				r.m.divergences.DeleteLabelValues(d.origin)
			}
			r.seriesMu.Unlock()
		}
	}
}

// reconnect tries to join again up to n remembered members that gossip
// does not see alive: after a partition heals, or when members come back,
// each side may hold the other for dead and stop gossiping to it.
func (r *Replicator) reconnect(n int) {
	r.mu.Lock()
	var addrs []string
	for _, p := range r.peers { // the remembered ones too, since Start
		if !p.alive && p.gossipAddr != "" {
			addrs = append(addrs, p.gossipAddr)
		}
	}
	r.mu.Unlock()
	rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	addrs = addrs[:min(n, len(addrs))]
	if len(addrs) == 0 || !r.reconnecting.CompareAndSwap(false, true) {
		return // the last round's joins still wait for members that hang
	}
	// Off the anti-entropy loop, which Close waits for: a join waits up to
	// gossip's TCP timeout (30 s with the WAN timings) for a member that
	// hangs, and memberlist cannot cut it short.
	go func() {
		defer r.reconnecting.Store(false)
		if _, err := r.ml.Join(addrs); err != nil && r.ctx.Err() == nil {
			r.log.Debug("reconnect", "addrs", addrs, "err", err)
		}
	}()
}

// pull starts a pull from the peer of origin, unless one runs (then it
// runs again when done) or the peer is backed off.
func (r *Replicator) pull(origin string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[origin]
	if p == nil || !p.alive || r.ctx.Err() != nil {
		return
	}
	if p.pulling {
		p.again = true
		return
	}
	if time.Now().Before(p.retryAt) {
		r.retryLaterLocked(origin, p)
		return
	}
	p.pulling = true
	r.wg.Add(1)
	go r.pullLoop(origin)
}

func (r *Replicator) pullLoop(origin string) {
	defer r.wg.Done()
	for {
		// The slot first: what the peer announces while this waits, its
		// address included, the pull then starts from.
		slot, err := r.waitForPullSlot()
		r.mu.Lock()
		p := r.peers[origin]
		p.again = false
		if p.staleConn && p.conn != nil {
			p.conn.Close()
			p.conn = nil
		}
		p.staleConn = false
		conn, addr := p.conn, p.meta.GRPCAddr
		r.mu.Unlock()

		if err == nil && conn == nil {
			if conn, err = r.cfg.Dial(addr); err == nil {
				r.mu.Lock()
				moved := p.meta.GRPCAddr != addr
				if !moved {
					p.conn = conn
				}
				r.mu.Unlock()
				if moved {
					// The peer announced another address while this
					// dialed: pull from that one. (Kept, this
					// connection would outlive the change that closes
					// the one to the old address.)
					conn.Close()
					if slot {
						<-r.pullSlot
					}
					continue
				}
			}
		}
		var res PullResult
		var diverged []string
		ownAheadStill := false // the peer's digest shows more of the node's origin than it gave back
		start := time.Now()
		if err == nil {
			ctx, cancel := context.WithTimeout(r.ctx, r.cfg.PullTimeout)
			ownFirst := r.store.OwnWritesHeld()
			if ownFirst {
				// The node's own records first, in a pull of their own,
				// while its writes wait for them: a pull brings origins
				// in name order, and a first one, of a large federation,
				// could outlast the wait.
				// Within a deadline of its own, shorter than the wait:
				// a peer that stalls it fails, and after awaitedFailures
				// such has answered, before the patience runs out.
				ownCtx, ownCancel := context.WithTimeout(ctx, min(r.cfg.PullTimeout, cmp.Or(r.heldPullTimeout, heldPullTimeout)))
				res, err = pullOwnOrigin(ownCtx, r.store, conn, r.cfg.PageBytes)
				switch {
				case err != nil || res.Overtaken:
				case res.OwnOriginRefused != nil || res.Forked != nil:
					// What it holds of the node's origin, it cannot give
					// back: its answer, as far as it goes.
					r.answered(origin)
				default:
					// Whether the peer answers, before the pull of the
					// rest, which may be long.
					ownAheadStill, err = r.ownOriginAnswer(ownCtx, origin, conn)
				}
				ownCancel()
			}
			if err == nil && !res.Overtaken {
				// Of the node's own origin again only if not asked for
				// just before.
				var all PullResult
				all, err = pullAll(ctx, r.store, conn, r.cfg.PageBytes, !ownFirst, r.heldUnderOtherKey(p))
				res = all.after(res)
			}
			if res.OwnOriginRefused != nil {
				r.ownOriginRefused(origin, res.OwnOriginRefused)
			}
			if res.Forked != nil {
				r.saidForked(origin, "err", res.Forked)
			}
			r.saidOtherKey(origin, res.OtherKey)
			if err == nil && !res.Overtaken {
				otherKey := r.otherKeyOf(p, res)
				diverged, err = r.compareDigests(ctx, origin, conn, res.FromStart, otherKey)
				r.settledKeys(p, otherKey)
			}
			cancel()
		}
		if slot {
			<-r.pullSlot
		}

		result := "ok"
		switch {
		case err != nil && peerBusy(err):
			result = "busy" // not a failure (see below)
		case err != nil:
			result = "error"
			var re *storage.RefusedError
			if errors.As(err, &re) {
				r.m.refused.WithLabelValues(re.Reason).Inc()
			}
		}
		r.m.pulls.WithLabelValues(result).Observe(time.Since(start).Seconds())
		for o, n := range res.AppliedByOrigin {
			r.addByOrigin(r.m.applied, o, float64(n))
		}
		r.mu.Lock()
		if err != nil && peerBusy(err) && r.ctx.Err() == nil {
			// The peer serves as many pulls as it will: not a failure. Ask
			// again shortly, and meanwhile another live member, which may
			// hold the same records already (any node relays any origin).
			// A peer that keeps refusing is asked ever less often, up to
			// maxBusyRetry, and so are the others in its place.
			p.pulling, p.lastErr = false, errorText(err)
			p.busy++
			wait := min(busyRetry<<min(p.busy-1, 16), maxBusyRetry)
			p.retryAt = time.Now().Add(wait + time.Duration(rand.Int64N(int64(wait))))
			r.retryLaterLocked(origin, p)
			relay := r.randomAliveLocked(origin)
			r.mu.Unlock()
			if relay != "" {
				r.pull(relay)
			}
			return
		}
		p.busy = 0
		if len(diverged) > 0 || res.Overtaken {
			p.again = true // pull the origins reset, or what is left
		}
		// The peer announced another address while this pull ran on the
		// old one, whose connection learn closed: not its failure. Pull
		// again, at the new address. A page refused is the peer's
		// failure wherever it lives, and a member that moves during
		// each pull is excused once every movedRetryEvery at most, as
		// learn ends a backoff for a move: it would be pulled again and
		// again, its bad pages checked each time, never backed off.
		now := time.Now()
		movedAway := err != nil && p.meta.GRPCAddr != addr && r.ctx.Err() == nil &&
			!errors.As(err, new(*storage.RefusedError)) && now.Sub(p.movedRetry) >= movedRetryEvery
		if movedAway {
			p.movedRetry = now
			r.log.Debug("pull cut short by the peer's new address", "peer", origin, "old", addr, "new", p.meta.GRPCAddr, "err", err)
			p.again = true
		}
		gaveUp := false            // on the member's answer to the node's held writes
		var saveSync *storage.Peer // the last sync to write to the store
		switch {
		case movedAway:
		case errors.As(err, new(*LocalError)):
			// This node's catalog could not take the peer's records: no
			// failure of the peer's, no backoff of its, and no answer to
			// the node's held writes, which stay held the while (a write
			// made once the catalog takes records again could take a seq
			// of the node's origin the peer holds).
			p.lastErr = errorText(err)
			p.retryAt = time.Now().Add(localRetry)
			if r.ctx.Err() == nil {
				r.log.Error("pull failed on this node's side", "peer", origin, "err", p.lastErr, "retry_in", localRetry)
			}
			if r.awaitedLocked(origin) && r.extendHold != nil {
				r.extendHold()
			}
			r.retryLaterLocked(origin, p)
		case err != nil:
			p.failures++
			p.lastErr = errorText(err)
			if status.Code(err) == codes.Unauthenticated && p.conn == conn && conn != nil {
				// The credentials of this connection, checked again at
				// each call (certificates that expired, or whose CA is
				// no longer trusted, on either side), no longer do: the
				// next pull dials anew, so that its handshake takes the
				// certificates and CAs as they are then (a renewal).
				p.conn.Close()
				p.conn = nil
			}
			// A member the node's held writes wait for is asked again
			// when its backoff ends, which stays short (the writes wait
			// a minute at most), until it has failed too often to tell
			// what it holds of the node's origin.
			awaited := r.awaitedLocked(origin)
			backoff := min(time.Second<<min(p.failures, 9), 5*time.Minute)
			if awaited {
				backoff = min(backoff, maxAwaitedRetry)
			}
			p.retryAt = time.Now().Add(backoff)
			if r.ctx.Err() == nil {
				r.log.Warn("pull failed", "peer", origin, "addr", addr, "err", p.lastErr, "retry_in", backoff)
			}
			// A pull cut by its deadline after it gave records back (a
			// large restore, slowly) is progress, not a failure to count
			// toward the member's answer.
			progressed := res.Applied > 0 && (errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded)
			gaveUp = awaited && p.failures >= awaitedFailures && status.Code(err) != codes.Unavailable && !progressed
			if p.again || (awaited && !gaveUp) {
				r.retryLaterLocked(origin, p)
			}
		default:
			p.failures, p.lastErr, p.retryAt = 0, "", time.Time{}
			if res.OwnOriginRefused != nil {
				// The pull went well, but says what the operator must
				// know, where they look: the member refuses every record
				// this node writes.
				p.lastErr = "holds this node's origin under another key, and refuses every record this node writes (restore the origin's key, or, if it is lost, have every member give the new one in --trust): " + errorText(res.OwnOriginRefused)
			}
			p.lastSync = time.Now()
			if p.lastSync.Sub(p.syncSaved) >= savePeerSyncEvery {
				saveSync = p.syncToSaveLocked()
			}
			if res.Applied > 0 {
				r.log.Debug("pulled", "peer", origin, "records", res.Applied, "pages", res.Pages, "took", time.Since(start))
			}
			if ownAheadStill && r.awaitedLocked(origin) {
				// The peer's digest shows more of the node's origin
				// than its pull gave back: it took in more since the
				// pull's snapshot, or withholds it. Ask again shortly,
				// while the node's writes wait for its answer.
				p.retryAt = time.Now().Add(ownRecordsRetry)
				r.retryLaterLocked(origin, p)
			}
		}
		done := !p.again || (err != nil && !movedAway) || r.ctx.Err() != nil
		if done {
			p.pulling = false
		}
		r.mu.Unlock()
		if saveSync != nil {
			if err := r.saveSync(r.ctx, saveSync); err != nil && r.ctx.Err() == nil {
				r.log.Warn("remember the last sync of a member", "origin", origin, "err", err)
			}
		}
		if gaveUp {
			r.answered(origin)
		}
		if done {
			return
		}
	}
}

// maxErrorText bounds the text of a pull's error that Peers shows (and
// the log says): it quotes what the peer sent (its status message, a
// record's fields), which a peer can make megabytes long.
const maxErrorText = 1 << 10

// errorText is err's text, cut to maxErrorText bytes.
func errorText(err error) string { return clip.Bytes(err.Error(), maxErrorText) }

// waitForPullSlot waits for the other pull under way, if one is, to end
// (see pullSlot), and reports whether it took the slot. A pull that holds
// the slot past pullSlotPatience (a large catch-up, or a peer that stalls
// until the pull's deadline) is not waited for longer: the pull runs
// beside it, and ends early if it comes to records the other applied
// first (PullResult.Overtaken).
func (r *Replicator) waitForPullSlot() (bool, error) {
	patience := time.NewTimer(pullSlotPatience)
	defer patience.Stop()
	select {
	case r.pullSlot <- struct{}{}:
		return true, nil
	case <-patience.C:
		return false, nil
	case <-r.ctx.Done():
		return false, r.ctx.Err()
	}
}

// pullSlotPatience is how long a pull waits for the one under way.
const pullSlotPatience = 5 * time.Second

// retryLaterLocked makes a pull from the backed-off peer of origin due
// when its backoff ends, once however many announcements ask for one
// meanwhile: without it, what the peer announced during the backoff would
// wait for anti-entropy, minutes away. A pull due later than the backoff
// now ends (a member back, whose long backoff started over, short) is
// made due at its end instead: the announcements of the short backoff
// waited for the end of the long one.
func (r *Replicator) retryLaterLocked(origin string, p *peer) {
	if p.retrying {
		if !p.retryDue.After(p.retryAt) {
			return
		}
		p.retry.Stop() // and if it fired already, the generation below makes it do nothing
	}
	p.retrying, p.retryDue = true, p.retryAt
	p.retryGen++
	gen := p.retryGen
	p.retry = time.AfterFunc(time.Until(p.retryAt), func() {
		r.mu.Lock()
		if p.retryGen != gen {
			r.mu.Unlock()
			return // made due sooner since
		}
		p.retrying = false
		r.mu.Unlock()
		r.pull(origin)
	})
}

// ownRecordsRetry is how soon a node whose writes are held asks again a
// peer whose digest shows more of its origin than its pull gave back.
const ownRecordsRetry = time.Second

// resetQuiet is how long after pulling an origin from the start, for a
// divergence, another divergence of it is taken as the fault of the peer
// that shows it, not a reason to pull it from the start again.
const resetQuiet = 10 * time.Minute

// forkResetEvery is resetQuiet for an origin whose fork the catalog met
// (see storage.Fork): its digests differ from some peers' for good, and a
// pull from the start meets the fork again, but it also repairs records
// lost since (a relay's page that left some out), which nothing else
// would.
const forkResetEvery = time.Hour

// maxDigestsBytes bounds a peer's answer to GetDigests: a digest takes
// under a hundred bytes (an origin's name is at most 32), so ten thousand
// origins fit, and defaultDigestBatch, the origins a node asks for at
// once, well within it (and its request, about 34 KB, within any sensible
// --max-request-bytes of the peer's).
const (
	maxDigestsBytes    = 1 << 20
	defaultDigestBatch = 1000
)

// busyRetry is about how long a node waits before asking again a peer that
// refused a pull because it served too many; the wait doubles at each
// refusal in a row, up to maxBusyRetry (and as much again at random).
const (
	busyRetry    = 50 * time.Millisecond
	maxBusyRetry = 5 * time.Second
)

// peerBusy reports whether err is a peer's refusal of a pull because it
// serves as many as it will: RESOURCE_EXHAUSTED with RetryInfo, or with the
// words of nodes of versions before it sent one. gRPC reports with the
// same code this node's own refusal of a message larger than it takes: a
// peer that sends one is failing, and is backed off as such.
func peerBusy(err error) bool {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.ResourceExhausted {
		return false
	}
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.RetryInfo); ok {
			return true
		}
	}
	return strings.Contains(st.Message(), "already serves")
}

// randomAliveLocked is a random live member other than except, or "".
func (r *Replicator) randomAliveLocked(except string) string {
	var live []string
	for o, p := range r.peers {
		if o != except && p.alive {
			live = append(live, o)
		}
	}
	if len(live) == 0 {
		return ""
	}
	return live[rand.IntN(len(live))]
}

// compareDigests compares the digests of the origins both nodes hold up to
// the same watermark, which must then be equal. Where they differ and the
// peer holds as many records or more, this node lost some: it resets its
// watermark for the origin, so that the next pull asks for them all again.
// (Where the peer holds fewer, the peer repairs itself from this node.) It
// returns the origins reset.
//
// A peer whose digest counts more records than its pulls send would have
// this node pull the origin from the start again and again: an origin reset
// less than resetQuiet ago is not reset again. If the pull from this peer
// just before asked for it from the start (fromStart, see PullResult), and
// so brought all the peer sends of it, the peer is at fault: the
// comparison fails, which backs the peer off, once it has compared the
// other origins. If another peer's pull brought the origin back from the
// start first (one that lacked records too, or lied the same way), this
// pull asked for it from where that one left it, and the peer is not at
// fault: the origin is left as it is until resetQuiet passes.
func (r *Replicator) compareDigests(ctx context.Context, peerOrigin string, conn grpc.ClientConnInterface, fromStart []string, otherKey map[string]bool) (reset []string, err error) {
	ours, err := r.store.PeerDigests(ctx, nil)
	if err != nil {
		return nil, err
	}
	mine := map[string]*federationv1.OriginDigest{}
	origins := make([]string, 0, len(ours))
	for _, d := range ours {
		mine[d.GetOrigin()] = d
		origins = append(origins, d.GetOrigin())
	}
	// Only the origins this node holds are compared: it asks for those,
	// digestBatch at a time, so that no answer grows with the origins the
	// federation holds (a member making up thousands once made every
	// answer too large, and every pull fail). An empty request would ask
	// for all.
	var theirs []*federationv1.OriginDigest
	for batch := range slices.Chunk(origins, cmp.Or(r.digestBatch, defaultDigestBatch)) {
		resp, err := federationv1.NewFederationServiceClient(conn).GetDigests(ctx, &federationv1.GetDigestsRequest{Origins: batch},
			grpc.MaxCallRecvMsgSize(maxDigestsBytes))
		if err != nil {
			return nil, fmt.Errorf("get digests: %w", err)
		}
		theirs = append(theirs, resp.GetDigests()...)
	}
	var faults []error
	for _, t := range theirs {
		m := mine[t.GetOrigin()]
		delete(mine, t.GetOrigin()) // an origin the peer lists twice counts once
		if theirs, ours := t.GetPublicKey(), m.GetPublicKey(); len(theirs) > 0 && len(ours) > 0 {
			// Peers of earlier versions name no key.
			if !bytes.Equal(theirs, ours) {
				continue // the peer holds it under another key: other records, and no pull brings them
			}
			delete(otherKey, t.GetOrigin()) // held under the node's key: settled (see settledKeys)
		}
		if otherKey[t.GetOrigin()] {
			continue
		}
		// Two histories of the node's origin (not while the node waits
		// for its records, nor at watermark 0, where a peer repairing
		// the origin stands).
		if t.GetOrigin() == r.cfg.Origin && t.GetWatermark() == m.GetWatermark() && m.GetWatermark() > 0 && !r.store.OwnWritesHeld() &&
			!sameRecords(m, t) {
			r.ownForked(peerOrigin, m, t)
		}
		if m == nil || t.GetOrigin() == r.cfg.Origin || m.GetWatermark() != t.GetWatermark() || sameRecords(m, t) {
			continue
		}
		r.addByOrigin(r.m.divergences, t.GetOrigin(), 1)
		// A fork, said when it was met: the peer holds what the origin
		// signed, and is not at fault.
		_, forked := r.store.ForkOf(t.GetOrigin())
		if t.GetCount() < m.GetCount() {
			if !forked { // else no pull repairs it, and the fork was said
				r.log.Warn("a peer holds fewer records of an origin at the same watermark; it will repair from this node",
					"peer", peerOrigin, "origin", t.GetOrigin(), "watermark", m.GetWatermark(), "ours", m.GetCount(), "theirs", t.GetCount())
			}
			continue
		}
		// Checked and marked at once: two comparisons that run side by
		// side (a pull does not wait past pullSlotPatience for another)
		// would otherwise both pull the origin from the start. One that
		// finds the origin being reset moves on: the pull it compares
		// did not ask for the origin from the start, nor should it have.
		r.mu.Lock()
		last, wasReset := r.resetAt[t.GetOrigin()]
		quiet := wasReset && time.Since(last) < resetQuiet
		if forked {
			quiet = wasReset && time.Since(last) < forkResetEvery
		}
		busy := r.resetting[t.GetOrigin()]
		if !quiet && !busy {
			r.resetting[t.GetOrigin()] = true
		}
		r.mu.Unlock()
		if busy {
			continue
		}
		if quiet {
			if slices.Contains(fromStart, t.GetOrigin()) && !forked {
				faults = append(faults, fmt.Errorf("%s: the peer's digest still counts %d records at seq %d, this node %d, after pulling the origin from the start %v ago: the peer's pulls do not send what its digest counts",
					t.GetOrigin(), t.GetCount(), t.GetWatermark(), m.GetCount(), time.Since(last).Round(time.Second)))
			}
			continue
		}
		r.log.Warn("records differ from a peer's at the same watermark: pulling the origin again",
			"peer", peerOrigin, "origin", t.GetOrigin(), "watermark", m.GetWatermark(), "ours", m.GetCount(), "theirs", t.GetCount())
		if err := r.store.ResetWatermark(ctx, t.GetOrigin()); err != nil {
			// This node's failure (the pull's deadline passed while
			// the write lock was held, say), not the peer's: the next
			// comparison tries again.
			r.log.Warn("could not reset a watermark to pull the origin again", "origin", t.GetOrigin(), "err", err)
			r.mu.Lock()
			delete(r.resetting, t.GetOrigin())
			r.mu.Unlock()
			continue
		}
		r.mu.Lock()
		delete(r.resetting, t.GetOrigin())
		r.resetAt[t.GetOrigin()] = time.Now()
		r.mu.Unlock()
		reset = append(reset, t.GetOrigin())
	}
	return reset, errors.Join(faults...)
}

// sameRecords reports whether two digests of an origin at one watermark
// show the same records: by their signed hashes when both nodes send one,
// which tell two records of one seq apart, else by their hashes of kinds,
// ids and seqs (a node that predates signed hashes).
func sameRecords(a, b *federationv1.OriginDigest) bool {
	if a.GetCount() != b.GetCount() {
		return false
	}
	if len(a.GetSignedHash()) > 0 && len(b.GetSignedHash()) > 0 {
		return bytes.Equal(a.GetSignedHash(), b.GetSignedHash())
	}
	return bytes.Equal(a.GetHash(), b.GetHash())
}

// ownAhead reports whether a peer's digest of the node's own origin,
// theirs, shows more than the node's, mine (nil when the node holds none):
// a higher watermark, or, below the node's or at 0, more records. (A peer
// repairing the origin holds records above its watermark, which it does
// not serve until its repair ends: they may still be records the node
// lost.) At the same watermark, other records are two histories of the
// origin (see ownForked), which no pull gives back.
func ownAhead(mine, theirs *federationv1.OriginDigest) bool {
	return theirs.GetWatermark() > mine.GetWatermark() ||
		((theirs.GetWatermark() < mine.GetWatermark() || theirs.GetWatermark() == 0) && theirs.GetCount() > mine.GetCount())
}

// ownOriginAnswer asks the peer of peerOrigin, after a pull of the node's
// own origin from it, for its digest of that origin, and counts its
// answer to the node's held writes when it shows no more than the node
// holds (see holdOwnWrites); it fails only if the node's own digest cannot
// be read. A peer whose digests cannot be had answers too: the pull, from one
// snapshot of its catalog, gave back all it held of the origin, and the
// digest would only have told of records it took in since (the pull's
// comparison of digests then fails, as it does for any origin).
func (r *Replicator) ownOriginAnswer(ctx context.Context, peerOrigin string, conn grpc.ClientConnInterface) (ahead bool, err error) {
	theirs, err := federationv1.NewFederationServiceClient(conn).GetDigests(ctx, &federationv1.GetDigestsRequest{Origins: []string{r.cfg.Origin}},
		grpc.MaxCallRecvMsgSize(maxDigestsBytes))
	if err != nil {
		r.answered(peerOrigin)
		return false, nil
	}
	ours, err := r.store.Digests(ctx, []string{r.cfg.Origin})
	if err != nil {
		return false, err
	}
	var mine *federationv1.OriginDigest
	if len(ours) > 0 {
		mine = ours[0]
	}
	for _, t := range theirs.GetDigests() {
		if t.GetOrigin() == r.cfg.Origin && ownAhead(mine, t) {
			if r.logDue(&r.aheadLogged) {
				r.log.Warn("a peer's digest shows more records of this node's origin than its pull gave back, while the node's writes wait for them",
					"peer", peerOrigin, "head", mine.GetWatermark(), "theirs", t.GetWatermark(), "records", mine.GetCount(), "their_records", t.GetCount())
			}
			return true, nil
		}
	}
	r.answered(peerOrigin)
	return false, nil
}

// learn records what a member's gossip says of it, and pulls from it at
// once when it announces records this node lacks.
func (r *Replicator) learn(n *memberlist.Node, alive bool) {
	if n.Name == r.cfg.Origin {
		return
	}
	var m meta
	if err := json.Unmarshal(n.Meta, &m); err != nil || m.Origin != n.Name {
		r.log.Warn("ignoring a member with unreadable metadata", "name", n.Name, "addr", n.Address())
		return
	}
	gossipAddr := net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
	r.mu.Lock()
	p := r.peers[m.Origin]
	if p == nil {
		p = &peer{}
		r.peers[m.Origin] = p
	}
	if alive && p.alive && p.gossipAddr != "" && gossipAddr != p.gossipAddr && m.Head < p.meta.Head {
		// The member is alive at another address, where it announced
		// a higher head (see conflictOfMember): gossip's news that it is
		// alive at this one, with a lower head, are of its old process,
		// or a copy of its earlier metadata. A leave is taken from any
		// address (gossip may never have held the member where the node
		// took it, and merges a leave and a join that follow): the member
		// is then taken wherever it is back, whatever its head (one
		// restored from a backup).
		r.mu.Unlock()
		return
	}
	moved := p.meta.GRPCAddr != m.GRPCAddr
	if p.conn != nil && moved {
		p.conn.Close()
		p.conn = nil
	}
	wasAlive := p.alive
	movedGossip := p.gossipAddr != gossipAddr
	p.meta, p.gossipAddr, p.alive = m, gossipAddr, alive
	// A member back (restarted) is not the one whose pulls failed: its
	// backoff ends. One that announces another gRPC address is asked at
	// once too, its failures kept (a member failing again backs off as
	// far as before), and at most every movedRetryEvery: a member could
	// otherwise escape its backoff by changing its address at will.
	retried := false
	switch now := time.Now(); {
	case alive && !wasAlive:
		p.failures, p.busy, p.retryAt = 0, 0, time.Time{}
		p.staleConn = p.conn != nil
		if r.awaitJoins && r.awaited != nil {
			// A restored catalog: this member may hold records of the
			// node's origin written since the backup, as those of the
			// start may not (or not answer).
			r.awaited[m.Origin] = true
		}
	case alive && moved && now.Before(p.retryAt) && now.Sub(p.movedRetry) >= movedRetryEvery:
		p.busy, p.retryAt, p.movedRetry, retried = 0, time.Time{}, now, true
	}
	switch {
	case alive:
		p.deadSince = time.Time{}
	case wasAlive || p.deadSince.IsZero():
		p.deadSince = time.Now()
	}
	remembered := p.remembered()
	r.mu.Unlock()
	if !alive {
		if wasAlive {
			r.log.Info("member left or failed", "origin", m.Origin)
		}
		return
	}
	if !wasAlive {
		r.log.Info("member joined", "origin", m.Origin, "grpc", m.GRPCAddr)
		if m.TLS != nil && *m.TLS != r.cfg.TLS {
			r.log.Error("a member and this node disagree on mutual TLS between peers: pulls between them fail; give every member --tls-cert, --tls-key and --tls-ca, or none",
				"origin", m.Origin, "member_tls", *m.TLS, "this_node_tls", r.cfg.TLS)
		}
	}
	// Saved at a join, and when the member moves while alive: a restart
	// would otherwise list, and rejoin, its address of before.
	if !wasAlive || moved || movedGossip {
		if err := r.store.SavePeer(r.ctx, remembered); err != nil && r.ctx.Err() == nil {
			r.log.Warn("remember member", "origin", m.Origin, "err", err)
		}
	}
	// The member's origin alone: news come for every write of every
	// member, and the catalog may hold many origins.
	w, err := r.store.Watermark(r.ctx, m.Origin)
	if err != nil {
		return
	}
	// A member's news of its own records brings nothing when the node
	// does not take them (an origin its trust list does not name); it may
	// still relay others'.
	if !wasAlive || retried || (m.Head > w && r.store.Accepts(m.Origin)) {
		r.pull(m.Origin)
	}
}

// delegate answers memberlist for this node.
type delegate struct{ r *Replicator }

func (d delegate) NodeMeta(limit int) []byte {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	b := d.r.signedSelfLocked()
	if len(b) > limit {
		d.r.log.Error("gossip metadata too long", "bytes", len(b), "limit", limit)
		return nil
	}
	return b
}

// signedSelfLocked is the node's gossip metadata, signed for the address
// gossip announces (unsigned while memberlist starts, before that address
// is known: Start announces it signed before any join). r.mu is held.
func (r *Replicator) signedSelfLocked() []byte {
	m := r.self
	if r.localGossip != "" {
		m.Sig = r.store.SignMember(m.description(r.localGossip))
	}
	b, _ := json.Marshal(m)
	return b
}

func (delegate) NotifyMsg([]byte)                           {}
func (delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (delegate) LocalState(join bool) []byte                { return nil }
func (delegate) MergeRemoteState(buf []byte, join bool)     {}

// NotifyAlive refuses a member whose name is not an origin's, whose
// metadata is unreadable, whose name is not its origin, that speaks another
// protocol, or that claims an origin pinned to another key (or, with a
// trust list, trusted with another). (A member's name keys the node's
// peers, the table of peers it rejoins and a series of metrics: what no
// origin could be named is not let in.) A member of an origin the trust
// list does not name is let in: it relays the records of others.
// maxRefusedMembers bounds the members refused a node keeps the reason
// of: names in gossip are any peer's to make up.
const maxRefusedMembers = 1024

func (d delegate) NotifyAlive(n *memberlist.Node) error {
	if n.Name == d.r.cfg.Origin {
		return nil
	}
	if !envelope.ValidOrigin(n.Name) {
		return fmt.Errorf("member %.64q: not an origin name", n.Name)
	}
	var m meta
	if err := json.Unmarshal(n.Meta, &m); err != nil {
		return fmt.Errorf("member %q: unreadable metadata", n.Name)
	}
	if m.Origin != n.Name {
		return fmt.Errorf("member %q claims origin %q", n.Name, m.Origin)
	}
	if m.Protocol != ProtocolVersion {
		d.r.noteRefused(n.Name, fmt.Sprintf("speaks gossip protocol %d, this node %d: members of two protocols do not replicate; upgrade every member to one (see the README's \"Upgrades\")", m.Protocol, ProtocolVersion))
		return fmt.Errorf("member %q speaks protocol %d, this node %d", n.Name, m.Protocol, ProtocolVersion)
	}
	if m.Head < 0 {
		return fmt.Errorf("member %q announces head seq %d", n.Name, m.Head)
	}
	gossipAddr := net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
	if !d.r.verified.has(n.Name, n.Meta, gossipAddr) {
		if err := m.verify(gossipAddr); err != nil {
			if logDueAtomic(&d.r.unsignedLogged) {
				d.r.log.Error("refusing a member that does not prove it holds the key it names", "origin", m.Origin, "addr", n.Address(), "err", err)
			}
			return fmt.Errorf("member %q: %w", n.Name, err)
		}
		d.r.verified.add(n.Name, n.Meta, gossipAddr)
	}
	want, err := d.r.store.OriginKey(d.r.ctx, m.Origin)
	if err == nil && want != nil && !bytes.Equal(want, m.Key) {
		why := fmt.Sprintf("announces its origin with the key %x, but this node holds the origin under the key %x (the first it met, or its trust list's): "+
			"if the origin's key was lost and made anew, give the new one in --trust (see the README's \"Backup and restore\")", m.Key, []byte(want))
		d.r.noteRefused(n.Name, why)
		if logDueAtomic(&d.r.keyRefusedLogged) {
			d.r.log.Error("refusing a member: its origin is pinned, or trusted, with another key", "origin", m.Origin, "addr", n.Address(), "why", why)
		}
		return fmt.Errorf("member %q: origin pinned, or trusted, with another key", n.Name)
	}
	if grpcHost, _, err := net.SplitHostPort(m.GRPCAddr); err != nil || unspecifiedHost(grpcHost) || n.Addr.IsUnspecified() {
		// A member listening on every interface, of a version that
		// announced it so: this node would dial itself, and take its own
		// answers for the member's. (Checked once the metadata is the
		// member's, of its key: anyone who gossips could otherwise say
		// this of it.)
		why := fmt.Sprintf("announces gRPC %s and gossip %s, which no member can reach (every interface, or no host): its node must be given --advertise-addr", m.GRPCAddr, gossipAddr)
		d.r.noteRefused(n.Name, why)
		if logDueAtomic(&d.r.unreachableLogged) {
			d.r.log.Error("refusing a member: it announces no address a member can reach", "origin", m.Origin, "why", why)
		}
		return fmt.Errorf("member %q announces gRPC %q, gossip %s: no address a member can reach", n.Name, m.GRPCAddr, gossipAddr)
	}
	d.r.forgetRefused(n.Name)
	if err == nil && want == nil {
		select {
		case d.r.keysToPin <- memberKey{origin: m.Origin, key: ed25519.PublicKey(bytes.Clone(m.Key))}:
		default: // the next announcement queues it
		}
	}
	return nil
}

// noteRefused keeps why NotifyAlive refused a member, for Peers to give as
// its last error; it takes no lock of the node's, and keeps at most
// maxRefusedMembers (names in gossip are any peer's to make up).
func (r *Replicator) noteRefused(name, why string) {
	if _, known := r.refusedMembers.Load(name); known {
		r.refusedMembers.Store(name, why)
	} else if r.refusedCount.Load() < maxRefusedMembers {
		if _, loaded := r.refusedMembers.LoadOrStore(name, why); !loaded {
			r.refusedCount.Add(1)
		}
	}
}

// forgetRefused forgets why a member was refused, once it is let in.
func (r *Replicator) forgetRefused(name string) {
	if _, ok := r.refusedMembers.LoadAndDelete(name); ok {
		r.refusedCount.Add(-1)
	}
}

// verifiedMetadata remembers the last metadata of each member whose
// signature NotifyAlive checked, and the address it came from: memberlist
// hands over every copy of a member's announcement that gossip spreads,
// and every member's at each exchange of states, and a signature takes
// tens of microseconds to check, under memberlist's lock of its members.
type verifiedMetadata struct {
	mu   gosync.Mutex
	last map[string]string // by member: its metadata, then its address
}

// maxVerifiedMembers bounds verifiedMetadata, which starts over past it
// (names are a gossip-key holder's to make up).
const maxVerifiedMembers = 4096

func (v *verifiedMetadata) has(name string, meta []byte, addr string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	last, ok := v.last[name]
	return ok && len(last) == len(meta)+1+len(addr) && last[:len(meta)] == string(meta) && last[len(meta)+1:] == addr
}

func (v *verifiedMetadata) add(name string, meta []byte, addr string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.last == nil || len(v.last) >= maxVerifiedMembers {
		v.last = map[string]string{}
	}
	v.last[name] = string(meta) + "\x00" + addr
}

// NotifyConflict hears of a member claiming the name of another, at
// another address, which gossip refuses (memberlist logs it too, in its
// words). A node that finds its own origin claimed says what that means,
// at most every ownOriginRefusedLogEvery: two nodes run with one origin,
// and at most one of them can hold the key the federation knows it by.
func (d delegate) NotifyConflict(existing, other *memberlist.Node) {
	if existing.Name != d.r.cfg.Origin {
		d.r.conflictOfMember(existing, other)
		return
	}
	if !d.r.logDue(&d.r.conflictLogged) {
		return
	}
	d.r.log.Error("another node claims this node's origin: two nodes must not run with one origin (give each its own --origin); peers take the records of the one whose key they pinned, and refuse the other's",
		"origin", existing.Name, "this", existing.Address(), "other", other.Address())
}

// conflictOfMember hears of other claiming a member's name at another
// address than gossip holds it at (existing), which gossip refuses while
// existing answers its probes. other's metadata passed NotifyAlive just
// before, its signature checked: if it announces a higher head than
// existing, it is the member, back at another address, and existing its
// old process not yet found dead, or a copy of its earlier metadata
// announced from the address it left, by a gossip-key holder that answers
// there. The node takes other for the member, and pulls from it; learn
// then ignores what gossip says of the member at existing's address (see
// learn).
func (r *Replicator) conflictOfMember(existing, other *memberlist.Node) {
	var held, claimed meta
	if json.Unmarshal(existing.Meta, &held) != nil || json.Unmarshal(other.Meta, &claimed) != nil || claimed.Head <= held.Head {
		return
	}
	if logDueAtomic(&r.memberConflictLogged) {
		r.log.Warn("a member announces a higher head from another address than gossip holds it at: taking it there (gossip's holder may be a copy of its earlier metadata)",
			"origin", other.Name, "held", existing.Address(), "head", held.Head, "announced", other.Address(), "announced_head", claimed.Head)
	}
	events{r}.NotifyJoin(other)
}

// events hears memberlist's news of members.
type events struct{ r *Replicator }

func (e events) NotifyJoin(n *memberlist.Node)   { e.tell(n, true) }
func (e events) NotifyUpdate(n *memberlist.Node) { e.tell(n, true) }
func (e events) NotifyLeave(n *memberlist.Node)  { e.tell(n, false) }

func (e events) tell(n *memberlist.Node, alive bool) {
	c := *n
	c.Meta = bytes.Clone(n.Meta)
	e.r.news.push(news{c, alive})
}

// slogWriter turns memberlist's log lines into slog records.
type slogWriter struct{ log *slog.Logger }

func (w *slogWriter) Write(b []byte) (int, error) {
	line := strings.TrimSpace(string(b))
	level := slog.LevelDebug
	switch {
	case strings.Contains(line, "[ERR]"):
		level = slog.LevelError
	case strings.Contains(line, "[WARN]"):
		level = slog.LevelWarn
	}
	w.log.Log(context.Background(), level, line, "from", "memberlist")
	return len(b), nil
}

var _ io.Writer = (*slogWriter)(nil)
