// Package node is one running ogpnode: it opens the data folder and the
// catalog, serves the public API over gRPC and, through grpc-gateway, over
// REST, with auth, validation, metrics and health, and shuts all of it down
// in one place. Requests enter here; node validates them and hands them to
// storage. cmd/ogpnode builds a Config and calls New and Run; tests do the
// same on loopback ports.
package node

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	federation "github.com/ogptoolbox/federation"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/harvest"
	"github.com/ogptoolbox/federation/internal/lockout"
	"github.com/ogptoolbox/federation/storage"
	ogpsync "github.com/ogptoolbox/federation/sync"
	"github.com/ogptoolbox/federation/web"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
)

// Node is a running node. New opens everything and listens; Run serves
// until its context ends.
type Node struct {
	cfg     Config
	log     *slog.Logger
	auth    *adminAuth // the admin token, and the guard against guessing it
	lock    *os.File   // the data folder's
	store   *storage.Store
	grpcLis net.Listener
	httpLis net.Listener
	grpcSrv *grpc.Server // on grpcLis: peers and gRPC callers
	// localSrv serves the API to the gateway and the web pages, over
	// localLis, which only this process reaches.
	localSrv *grpc.Server
	localLis *bufconn.Listener
	health   *health.Server
	httpSrv  *http.Server
	conn     *grpc.ClientConn // the gateway's connection to localSrv
	repl     *ogpsync.Replicator
	// importer imports harvests, from the API and from the schedule.
	importer *harvest.Importer
	tls      *peerTLS   // nil without mutual TLS
	https    *httpsCert // nil without HTTPS on the HTTP listener
	// restoredMarker is the file that held the node's writes at start
	// (restored-from-backup), "" if none did: its deletion lets them go
	// (watchRestoredMarker).
	restoredMarker string
}

// New opens the data folder (creating it, the node key and the admin token
// on first start), the catalog, and the listeners. Close it with Run's end,
// or with Close if Run is never called.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Node, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: log.With("component", "node")}
	if err := n.open(ctx, log); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// open does New's work; on error, New closes what it opened.
func (n *Node) open(ctx context.Context, log *slog.Logger) error {
	cfg := n.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	var err error
	if n.lock, err = lockDataDir(cfg.DataDir, "a node runs on it: give each node a folder of its own, with --data"); err != nil {
		return err
	}
	gossip, err := gossipKeys(cfg)
	if err != nil {
		return err
	}
	var trusted map[string]ed25519.PublicKey
	if cfg.TrustFile != "" {
		if trusted, err = readTrust(cfg.TrustFile); err != nil {
			return err
		}
		n.log.Info("accepting records only of the origins of the trust file", "path", cfg.TrustFile, "origins", len(trusted))
	}
	var pinned map[string]ed25519.PublicKey
	if cfg.PinFile != "" {
		if pinned, err = readOriginKeys("--pin", cfg.PinFile); err != nil {
			return err
		}
	}
	if n.tls, err = loadTLS(cfg, n.log); err != nil {
		return err
	}
	if n.https, err = loadHTTPS(cfg, n.log); err != nil {
		return err
	}
	if n.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return fmt.Errorf("listen for gRPC on %s: %w", cfg.GRPCAddr, err)
	}
	if n.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return fmt.Errorf("listen for HTTP on %s: %w", cfg.HTTPAddr, err)
	}
	if err := gossipPortFree(cfg.GossipAddr); err != nil {
		return err
	}
	if err := ogpsync.CheckAdvertiseHost(cfg.AdvertiseAddr, cfg.GossipAddr); err != nil {
		return err
	}
	// The admin token and the node key, created in the data folder on a
	// first start, once every setting given was found good and the ports
	// taken: a start refused for a setting, or a port, or for a catalog
	// whose key is lost, creates neither.
	if err := keyNotLost(cfg.DataDir); err != nil {
		return err
	}
	token, tokenPath, err := adminToken(cfg)
	if err != nil {
		return err
	}
	if tokenPath != "" {
		n.log.Info("created the admin token: writes need it as Authorization: Bearer TOKEN", "path", tokenPath)
	}
	wiped := KeyWithoutCatalog(cfg.DataDir)
	if wiped {
		// As a restored backup does (see BackupDataDir), the folder says
		// its catalog lacks records its federation holds: the node holds
		// its writes until a member has given them back, however long
		// its seeds are away (it wrote at once from seq 1, and lost its
		// own records at those seqs for good), through a restart too.
		why := fmt.Sprintf("ogpnode found the node's key in %s without its catalog (wiped) at %s: the catalog made anew lacks the records of its origin its federation holds",
			cfg.DataDir, time.Now().UTC().Format(time.RFC3339))
		if err := markWritesHeld(cfg.DataDir, why); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("mark the wiped catalog: %w", err)
		}
	}
	if wiped && len(cfg.Join) == 0 {
		n.log.Warn("the data folder holds the node's key but no catalog (wiped?): the records of its origin it signed come back from the federation's members, which this node joins only with --join (or a restart that remembers them); until then, its writes take seqs the members may hold already, and never reach them",
			"data", cfg.DataDir)
	}
	var created bool
	n.store, created, err = openWithKey(ctx, cfg.DataDir, storage.Options{Origin: cfg.Origin, Logger: log, Trusted: trusted, Pinned: pinned}, tokenPath)
	if err != nil {
		return err
	}
	if created {
		n.log.Info("created the node key", "path", filepath.Join(cfg.DataDir, keyFile))
	}
	// The files the node made are its alone; those an operator gives may
	// be shared with a group of operators on purpose (as ssl-cert shares
	// TLS keys), not with every user.
	made := []string{filepath.Join(cfg.DataDir, keyFile)}
	if cfg.AdminTokenFile == "" && strings.TrimSpace(cfg.AdminToken) == "" {
		made = append(made, filepath.Join(cfg.DataDir, adminTokenFile))
	}
	warnReadableSecrets(n.log, 0o077, made...)
	warnReadableSecrets(n.log, 0o007, cfg.AdminTokenFile, cfg.GossipKeyFile, cfg.TLSKey, cfg.HTTPTLSKey)

	m := newMetrics(n.store, n.log)
	// The API is served by two gRPC servers, over the same services and
	// interceptors, which differ in the largest message they read, as
	// grpc-go reads a message whole before any interceptor sees it, and
	// has no limit per method. grpcSrv, on the gRPC port, serves peers
	// and every caller: it reads requests of twice --max-request-bytes,
	// or 4 MiB, at most, so an anonymous read cannot make the node take
	// in a harvest's size. localSrv, which only this process reaches,
	// over an in-memory connection, serves the gateway and the web
	// pages: a harvest import over REST, where the admin token is checked
	// before the body is read, may be as large as --max-harvest-bytes.
	n.importer = harvest.NewImporter(n.store, nil, log)
	if scrubbed, err := n.importer.ScrubReports(ctx); err != nil {
		log.Error("could not take the credentials of sources' locations out of the harvest reports an earlier version kept", "err", err)
	} else if scrubbed > 0 {
		log.Warn("took the credentials of sources' locations out of the harvest reports an earlier version kept", "reports", scrubbed)
	}
	n.health = health.NewServer()
	syncSrv := ogpsync.NewServer(n.store, maxConcurrentPulls, log)
	harvests := &harvestServer{importer: n.importer, store: n.store, maxPartBytes: cfg.MaxRequestBytes, maxBytes: cfg.MaxHarvestBytes}
	register := func(srv *grpc.Server) {
		catalogv1.RegisterCatalogServiceServer(srv, &catalogServer{store: n.store, version: cfg.Version})
		catalogv1.RegisterHarvestServiceServer(srv, harvests)
		syncSrv.Register(srv)
		healthpb.RegisterHealthServer(srv, n.health)
	}
	var proxies []net.IP
	for _, p := range cfg.TrustedProxies {
		ip, _ := lockout.ParseProxy(p) // checked with the configuration
		proxies = append(proxies, ip)
	}
	auth := &adminAuth{want: []byte(token), guard: lockout.New(nil), proxies: lockout.Proxies(proxies)}
	n.auth = auth
	observeUnary, observeStream := observeInterceptors(n.log, m)
	unseen := grpc.StatsHandler(unseenCalls{count: callCounter(n.log, m)})
	authUnary, authStream := authInterceptors(token)
	codec := newRequestCodec()
	undecodedUnary, undecodedStream := codec.interceptors()
	opts := []grpc.ServerOption{grpc.ForceServerCodecV2(codec)}
	unary := []grpc.UnaryServerInterceptor{
		observeUnary,
		undecodedUnary,
		sizeInterceptor(cfg.MaxRequestBytes, cfg.MaxRequestBytes, cfg.MaxHarvestBytes),
		authUnary,
	}
	stream := []grpc.StreamServerInterceptor{observeStream, undecodedStream, authStream}
	if n.tls != nil {
		// Peer calls need a certificate of the federation's CA only where
		// there are certificates: without TLS, any caller may pull, as
		// any may read.
		unaryPeer, streamPeer := n.tls.requirePeerCert()
		unary = append(unary, unaryPeer)
		stream = append(stream, streamPeer)
		opts = append(opts, grpc.Creds(n.tls.server()))
		n.log.Info("mutual TLS on the gRPC port", "certificate_names", n.tls.describe())
		n.tls.checkNames(announcedHost(cfg))
	}
	n.grpcSrv = grpc.NewServer(append(opts,
		// gRPC's own limit sits above ours, so a request a little too
		// large gets the interceptor's clear INVALID_ARGUMENT rather than
		// a bare refusal.
		grpc.MaxRecvMsgSize(max(grpcMessageLimit(cfg.MaxRequestBytes), minPortMessageBytes)),
		grpc.InTapHandle(authTap(auth, false, n.log, m)),
		unseen,
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: minPing, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 2 * time.Minute, Timeout: 20 * time.Second}),
		// Each stream is a goroutine and buffers: without a bound, one
		// connection of anyone's held thousands open (health watches that
		// never end), and grpc-go's guard against streams reset as soon
		// as opened is off. A peer uses a few at once.
		grpc.MaxConcurrentStreams(maxStreamsPerConnection),
		grpc.ChainUnaryInterceptor(unary...),
		grpc.ChainStreamInterceptor(stream...),
	)...)
	register(n.grpcSrv)
	reflection.Register(n.grpcSrv)
	n.localSrv = grpc.NewServer(
		grpc.MaxRecvMsgSize(grpcMessageLimit(cfg.MaxHarvestBytes)),
		grpc.InTapHandle(authTap(auth, true, n.log, m)),
		unseen,
		grpc.ChainUnaryInterceptor(
			observeUnary,
			sizeInterceptor(cfg.MaxRequestBytes, cfg.MaxHarvestBytes, cfg.MaxHarvestBytes),
			authUnary,
		),
		grpc.ChainStreamInterceptor(observeStream, authStream),
	)
	register(n.localSrv)
	n.localLis = bufconn.Listen(localBufferBytes)

	handler, err := n.httpHandler(ctx, m, token, log)
	if err != nil {
		return err
	}
	t := cmp.Or(cfg.httpTimeouts, defaultHTTPTimeouts)
	n.httpSrv = &http.Server{Handler: handler, ErrorLog: httpServerLog(n.log),
		ReadHeaderTimeout: t.header, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle}
	if n.https != nil {
		n.httpSrv.TLSConfig = n.https.config()
	}

	// A folder restored from a backup says so (see BackupDataDir), and
	// so does one whose catalog was wiped (above): its catalog lacks
	// records of its origin its federation holds.
	marker, held := HoldsWrites(cfg.DataDir)
	restored := ""
	if held {
		restored = "this catalog was restored from a backup, or made anew after it was wiped (" + marker + " says so; delete it to write without the federation's records)"
	}
	n.repl, err = ogpsync.Start(ctx, ogpsync.Config{
		Restored: restored,
		OnRestored: func(answered bool) {
			if err := os.Remove(marker); err != nil && !errors.Is(err, fs.ErrNotExist) {
				n.log.Error("the restored catalog's writes go ahead, but the file that says it is restored stays", "path", marker, "err", err)
				return
			}
			if answered {
				n.log.Info("the restored catalog is up to date with its federation: its writes go ahead", "removed", marker)
			}
		},
		Origin:          cfg.Origin,
		GossipAddr:      cfg.GossipAddr,
		AdvertiseHost:   cfg.AdvertiseAddr,
		GRPCAddr:        announcedAddr(cfg.GRPCAddr, n.GRPCAddr()),
		HTTPAddr:        announcedAddr(cfg.HTTPAddr, n.HTTPAddr()),
		Join:            cfg.Join,
		GossipKey:       gossip.primary,
		OtherGossipKeys: gossip.others,
		Timings:         ogpsync.Timings(cfg.GossipTimings),
		Dial:            n.dialPeer,
		TLS:             n.tls != nil,
		Metrics:         m.registry,
	}, n.store, log)
	if err != nil {
		return err
	}
	syncSrv.Serve(n.repl)
	if held {
		n.restoredMarker = marker
	}
	if n.tls != nil && announcedHost(cfg) == "" {
		// The host peers dial is known once gossip announces it (gRPC
		// on every interface, without --advertise-addr).
		if host, _, err := net.SplitHostPort(n.repl.AnnouncedGRPCAddr()); err == nil && host != "" {
			n.tls.checkNames(host)
		}
	}
	label := n.repl.OriginLabel
	m.records.label.Store(&label)
	return nil
}

// gossipPortFree checks, before the node creates anything, that gossip
// will be able to listen on addr, on the address package sync takes for
// it, TCP and UDP as memberlist's transport listens: it takes the port
// later, once the catalog is open. A port 0 is any free one.
func gossipPortFree(addr string) error {
	host, port, err := ogpsync.GossipBind(addr)
	if err != nil {
		return err
	}
	if port == 0 {
		return nil
	}
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.ParseIP(host), Port: port})
	if err != nil {
		return fmt.Errorf("listen for gossip on %s: %w", addr, err)
	}
	l.Close()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host), Port: port})
	if err != nil {
		return fmt.Errorf("listen for gossip on %s (UDP): %w", addr, err)
	}
	pc.Close()
	return nil
}

// grpcMessageLimit is the largest message a gRPC server reads, or the
// gateway sends, when requests may be up to max bytes: twice that, as the
// size of a request is checked once decoded, where gRPC's own refusal
// would say less, with room for the message's framing.
func grpcMessageLimit(max int) int { return 2*max + 1024 }

// minPortMessageBytes is the least the gRPC port reads of a message, gRPC's
// own default, whatever --max-request-bytes says: a peer's pull names
// every origin its catalog holds, with its watermark (about 45 bytes
// each), which no setting of this node should keep it from sending. A
// request of 4 MiB holds about 90,000 origins.
const minPortMessageBytes = 4 << 20

// localBufferBytes is the buffer of each in-memory connection to the
// local gRPC server: HTTP/2's flow control paces what goes through it.
const localBufferBytes = 256 << 10

// maxConcurrentPulls bounds the pulls of peers served at once.
const maxConcurrentPulls = 8

// maxStreamsPerConnection bounds the calls under way on one connection to
// the gRPC port; a client's next ones wait for a place.
const maxStreamsPerConnection = 100

// GossipAddr is the address federation gossip listens on.
func (n *Node) GossipAddr() string { return n.repl.GossipAddr() }

// GRPCAddr is the address the gRPC API listens on.
func (n *Node) GRPCAddr() string { return n.grpcLis.Addr().String() }

// httpScheme is how the HTTP listener is reached: https when
// --http-tls-cert is given.
func (n *Node) httpScheme() string {
	if n.https != nil {
		return "https"
	}
	return "http"
}

// repairTimes writes anew, once the node's own writes go ahead, its
// records that an earlier version stored with a time that is none (see
// storage.Store.RepairTimes), which peers refuse.
func (n *Node) repairTimes(ctx context.Context) {
	select {
	case <-n.store.OwnWritesDecided():
	case <-ctx.Done():
		return
	}
	written, err := n.store.RepairTimes(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		n.log.Error("could not write anew the records of this origin that hold a time that is none: peers refuse its pages from the first of them; update or delete them through the API", "err", err)
	case written > 0:
		n.log.Warn("wrote anew, without their times that were none, the records of this origin an earlier version stored so, which peers refused", "records", written)
	}
}

// HTTPAddr is the address REST listens on.
func (n *Node) HTTPAddr() string { return n.httpLis.Addr().String() }

// Run serves until ctx ends, then stops gracefully: in-flight calls get
// the grace of its timeouts (10 s) to finish. It closes the node.
func (n *Node) Run(ctx context.Context) error {
	n.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	n.health.SetServingStatus(catalogv1.CatalogService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	n.health.SetServingStatus(federationv1.FederationService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	n.health.SetServingStatus(catalogv1.HarvestService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	n.log.Info("serving", "origin", n.cfg.Origin, "data", n.cfg.DataDir,
		"http", n.httpScheme()+"://"+n.HTTPAddr(), "grpc", n.GRPCAddr(), "public_key", fmt.Sprintf("%x", []byte(n.store.PublicKey())))

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := n.grpcSrv.Serve(n.grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("serve gRPC: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		if err := n.localSrv.Serve(n.localLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			return fmt.Errorf("serve the gateway's gRPC: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		serve := n.httpSrv.Serve
		if n.https != nil {
			serve = func(l net.Listener) error { return n.httpSrv.ServeTLS(l, "", "") } // the certificate of TLSConfig
		}
		if err := serve(n.httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve HTTP: %w", err)
		}
		return nil
	})
	if len(n.cfg.Harvests) > 0 {
		g.Go(func() error { return harvest.Run(ctx, n.cfg.Harvests, n.importer, harvest.ReadOptions{}, n.log) })
	}
	if n.restoredMarker != "" {
		g.Go(func() error { n.watchRestoredMarker(ctx, time.Second); return nil })
	}
	g.Go(func() error { n.repairTimes(ctx); return nil })
	g.Go(func() error {
		<-ctx.Done()
		n.log.Info("shutting down")
		n.health.Shutdown()
		n.repl.RefuseHeldWrites()
		grace := cmp.Or(n.cfg.httpTimeouts, defaultHTTPTimeouts).grace
		stopCtx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := n.httpSrv.Shutdown(stopCtx); err != nil {
			// A request still running, or a client still sending one:
			// cut, and the stop goes on as planned (it is not the
			// node's failure).
			n.log.Warn("HTTP requests still under way at the end of the grace period were cut", "grace", grace, "err", err)
			n.httpSrv.Close()
		}
		stopped := make(chan struct{})
		go func() {
			var wg sync.WaitGroup
			wg.Go(n.grpcSrv.GracefulStop)
			wg.Go(n.localSrv.GracefulStop)
			wg.Wait()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-stopCtx.Done():
			n.grpcSrv.Stop()
			n.localSrv.Stop()
		}
		return nil
	})
	err := g.Wait()
	// "stopped" once the node left the federation and closed its
	// catalog, not before: an operator, or a supervisor, takes it as the
	// node's last word.
	if cerr := n.Close(); cerr != nil {
		n.log.Warn("close", "err", cerr)
	}
	n.log.Info("stopped")
	return err
}

// announcedAddr is the address of a listener the node announces to its
// peers, given as configured (--grpc-addr, --http-addr) and bound: the
// host configured when it is a name, which peers resolve and a TLS
// certificate names ("node-fr.example.org:7400"), else the address bound
// (a port 0 is then the one taken). Announcing the address the name
// resolved to had peers dial an IP the certificate did not name, and
// refuse it. (--advertise-addr, when set, replaces the host: see package
// sync.)
func announcedAddr(configured, bound string) string {
	host, _, err := net.SplitHostPort(configured)
	_, port, err2 := net.SplitHostPort(bound)
	if err != nil || err2 != nil || host == "" || net.ParseIP(host) != nil {
		return bound
	}
	return net.JoinHostPort(host, port)
}

// watchRestoredMarker lets the node's writes go ahead once the file that
// holds them (restored-from-backup) is gone, looking every interval while
// they are held: its operator deleted it, as the README and every refused
// write say to, to write without the federation's records. (The node
// deletes it too, once a member answered: the writes are not held then.)
func (n *Node) watchRestoredMarker(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for n.repl.WritesHeld() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := os.Stat(n.restoredMarker); errors.Is(err, fs.ErrNotExist) && n.repl.WritesHeld() {
			n.log.Warn("the file that held this node's writes was deleted: they go ahead, without the records of its origin its federation may hold", "path", n.restoredMarker)
			n.repl.ReleaseHeldWrites()
			return
		}
	}
}

// Close releases what New opened. Run calls it; call it directly only if
// Run is never called.
func (n *Node) Close() error {
	var errs []error
	if n.repl != nil {
		errs = append(errs, n.repl.Close())
		n.repl = nil
	}
	for _, srv := range []*grpc.Server{n.grpcSrv, n.localSrv} {
		if srv != nil {
			srv.Stop()
		}
	}
	if n.conn != nil {
		errs = append(errs, n.conn.Close())
		n.conn = nil
	}
	if n.localLis != nil {
		n.localLis.Close()
	}
	for _, l := range []net.Listener{n.grpcLis, n.httpLis} {
		if l != nil {
			l.Close()
		}
	}
	if n.store != nil {
		errs = append(errs, n.store.Close())
		n.store = nil
	}
	if n.lock != nil {
		errs = append(errs, n.lock.Close())
		n.lock = nil
	}
	return errors.Join(errs...)
}

// httpHandler serves REST through grpc-gateway, which calls localSrv over
// a client connection in memory, so every interceptor (auth, limits,
// metrics, logs) runs for REST as for gRPC. Beside it: /openapi.json,
// /healthz and /metrics. The web pages (package web) take every other path; they call
// the API over the same connection, with the admin token for writes.
func (n *Node) httpHandler(ctx context.Context, m *metrics, token string, log *slog.Logger) (http.Handler, error) {
	var err error
	restUnary, restStream := restClientInterceptors()
	n.conn, err = grpc.NewClient("passthrough:///ogpnode-local",
		grpc.WithChainUnaryInterceptor(restUnary), grpc.WithChainStreamInterceptor(restStream),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return n.localLis.DialContext(ctx) }),
		// In memory, within the process: nothing to encrypt.
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// As large answers as requests: a list's page ends at 2 MiB,
		// but one record, or a harvest's report, may be larger than
		// gRPC's default of 4 MiB, and REST would fail on it.
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(grpcMessageLimit(n.cfg.MaxHarvestBytes)), grpc.MaxCallRecvMsgSize(grpcMessageLimit(n.cfg.MaxHarvestBytes))))
	if err != nil {
		return nil, fmt.Errorf("gateway: connect to gRPC: %w", err)
	}
	gw := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   jsonOptions(),
			UnmarshalOptions: protojson.UnmarshalOptions{},
		}),
		runtime.WithHealthzEndpoint(healthpb.NewHealthClient(n.conn)),
		runtime.WithIncomingHeaderMatcher(forwardedHeader),
		runtime.WithRoutingErrorHandler(routingError),
		// The gateway's own errors (a parameter or body it cannot read)
		// quote what the caller sent, as the API's do: cut them alike;
		// and they are counted as the API's.
		runtime.WithErrorHandler(restError(callCounter(n.log, m))),
	)
	if err := federationv1.RegisterFederationServiceHandler(ctx, gw, n.conn); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if err := catalogv1.RegisterCatalogServiceHandler(ctx, gw, n.conn); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if err := catalogv1.RegisterHarvestServiceHandler(ctx, gw, n.conn); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", headAsGet(limitBody(gw, n.cfg.MaxRequestBytes)))
	mux.Handle("POST /v1/harvests:import", tokenBeforeBody(limitBody(gw, n.cfg.MaxHarvestBytes), n.auth, catalogv1.HarvestService_ImportHarvest_FullMethodName,
		cmp.Or(n.cfg.httpTimeouts, defaultHTTPTimeouts).importTime, n.log, m))
	// HEAD too (a load balancer's probe), and 405 with Allow for the rest.
	mux.Handle("GET /healthz", headAsGet(gw))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(federation.OpenAPIDocument())
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	// A form's body may be three times the request the API takes of it:
	// URL encoding writes each byte of a non-ASCII letter as %XX.
	pages, err := web.New(web.Config{Conn: n.conn, Origin: n.cfg.Origin, AdminToken: token, TokenGuard: n.auth.guard, TrustedProxy: n.auth.proxies, MaxFormBytes: 3 * n.cfg.MaxRequestBytes, Logger: log})
	if err != nil {
		return nil, err
	}
	mux.Handle("/", pages)
	return securityHeaders(restCalls(requireUTF8(asciiHeaders(mux)))), nil
}

// securityHeaders sets on every answer of the HTTP port what a browser
// must not guess: its content type as given (a JSON answer quotes a peer's
// text, which may look like HTML), and, over HTTPS, that the host is
// reached over HTTPS alone for a year (the sign-in form takes the admin
// token: a network's attacker serving it over plain HTTP would read it).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// forwardedHeader passes on to the API, as gRPC metadata, the headers it
// reads besides the admin token, which the gateway passes on itself: the
// languages a client reads (for its violations). The gateway passed every
// header HTTP defines, and logged an error on stderr for each whose value
// gRPC metadata cannot carry (a User-Agent not ASCII), once a request,
// for any caller.
func forwardedHeader(key string) (string, bool) {
	if k := strings.ToLower(key); k == "accept-language" {
		return k, true
	}
	return "", false
}

// asciiHeaders answers a write of the API whose admin token is not ASCII
// (no token is: the gateway dropped it, and the write was refused for
// sending none) with 401 saying so, and drops an Accept-Language not ASCII
// (no language tag is), which the gateway could not pass on, and such a
// token of a read, which is public.
func asciiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		if !asciiValues(r.Header.Values("Accept-Language")) {
			r = r.Clone(r.Context())
			r.Header.Del("Accept-Language")
		}
		if asciiValues(r.Header.Values("Authorization")) {
			next.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context()) // without it, which the gateway would log
		r.Header.Del("Authorization")
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		if err := status.Error(codes.Unauthenticated, "the Authorization header holds characters that are not ASCII, which no admin token does: send Authorization: Bearer TOKEN"); refuseLater(r, err) {
			next.ServeHTTP(w, r)
		} else {
			writeStatus(w, r, err)
		}
	})
}

// asciiValues reports whether every value is printable ASCII, as gRPC
// metadata carries it.
func asciiValues(values []string) bool {
	for _, v := range values {
		for i := range len(v) {
			if v[i] < 0x20 || v[i] > 0x7e {
				return false
			}
		}
	}
	return true
}

// routingError answers a request the gateway has no method for: a method
// the path does not take gets 405, where the gateway's own answer was 501
// (gRPC's UNIMPLEMENTED: it is the client's mistake, not a missing
// feature); the rest as the gateway does.
func routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if rc := restCallOf(ctx); rc != nil && rc.refusal != nil { // of no method: not counted
		writeStatus(w, r, rc.refusal)
		return
	}
	if httpStatus != http.StatusMethodNotAllowed {
		runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
		return
	}
	msg := r.Method + " is not a method of " + r.URL.Path
	bound(&msg)
	body, err := m.Marshal(status.New(codes.Unimplemented, msg).Proto())
	if err != nil {
		body = []byte(`{"code": 12, "message": "method not allowed"}`)
	}
	w.Header().Set("Content-Type", m.ContentType(nil))
	if allow := allowedMethods(r.URL.Path); allow != "" {
		w.Header().Set("Allow", allow)
	}
	w.WriteHeader(http.StatusMethodNotAllowed)
	w.Write(body)
}

// headAsGet serves a HEAD request as the GET of the same address, whose
// body net/http leaves out: the gateway routes HEAD nowhere.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			r = r.Clone(r.Context())
			r.Method = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}

// requireUTF8 answers a request whose path or query parameters, decoded,
// are not valid UTF-8 with 400 naming the parameter: the API's strings
// must be, and the gateway failed to marshal such a request into a gRPC
// call as an internal error (500), the web pages as well.
func requireUTF8(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		field := ""
		if !utf8.ValidString(r.URL.Path) {
			field = "path"
		}
		for k, vs := range r.URL.Query() {
			if field != "" {
				break
			}
			if !utf8.ValidString(k) {
				field = "a query parameter's name" // not the name itself, which no answer can carry
				break
			}
			for _, v := range vs {
				if !utf8.ValidString(v) {
					field = k
				}
			}
		}
		switch {
		case field == "":
			next.ServeHTTP(w, r)
		case strings.HasPrefix(r.URL.Path, "/v1/"):
			if err := invalidField(field, "is not valid UTF-8"); refuseLater(r, err) {
				next.ServeHTTP(w, r)
			} else {
				writeStatus(w, r, err)
			}
		default:
			http.Error(w, field+" is not valid UTF-8", http.StatusBadRequest)
		}
	})
}

// limitBody answers a request whose body is larger than max with the same
// INVALID_ARGUMENT JSON a gRPC call would get, without reading past max.
func limitBody(next http.Handler, max int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, int64(max)+1))
		r.Body.Close()
		refuse := func(err error) {
			if refuseLater(r, err) { // answered and counted by the gateway
				next.ServeHTTP(w, r)
			} else {
				writeStatus(w, r, err)
			}
		}
		if err != nil {
			refuse(status.Error(codes.InvalidArgument, "read request body: "+err.Error()))
			return
		}
		if len(body) > max {
			refuse(invalidField("body", "is more than the %d bytes this node takes", max))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// tokenBeforeBody refuses a request of fullMethod without the admin token
// before its body is read: a harvest import may be as large as
// --max-harvest-bytes, which an anonymous caller could otherwise make the
// node read and hold. The refusal is the API's own, counted as authTap's.
//
// Once the token is checked, the request has the time longer to be read
// and answered.
func tokenBeforeBody(next http.Handler, auth *adminAuth, fullMethod string, longer time.Duration, log *slog.Logger, m *metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := lockout.ClientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), auth.proxies)
		if err := auth.check(addr, r.Header.Values("Authorization")); err != nil {
			countRefused(log, m, fullMethod, err)
			writeStatus(w, r, err)
			return
		}
		// The admin's import may take longer than a request: its body
		// is large, and its work too.
		rc := http.NewResponseController(w)
		end := time.Now().Add(longer)
		if err := errors.Join(rc.SetReadDeadline(end), rc.SetWriteDeadline(end)); err != nil {
			log.Warn("could not give a harvest import its time", "err", err)
		}
		next.ServeHTTP(w, r)
	})
}

// jsonOptions are how REST writes JSON: proto field names, and every
// field with zero values too, so that a JSON client sees "met": false and
// "deleted": false rather than having to know proto3's defaults; but not a
// message the resource has none of (a tool without maintenance), which
// would be null where the OpenAPI document says object.
func jsonOptions() protojson.MarshalOptions {
	return protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}
}

func writeStatus(w http.ResponseWriter, r *http.Request, err error) {
	m := &runtime.JSONPb{MarshalOptions: jsonOptions()}
	runtime.DefaultHTTPErrorHandler(r.Context(), runtime.NewServeMux(), m, bearerChallenge{w}, r, err)
}

// bearerChallenge writes a 401's WWW-Authenticate as the challenge RFC
// 9110 and RFC 6750 ask for: the gateway puts the error's message there.
type bearerChallenge struct{ http.ResponseWriter }

func (w bearerChallenge) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ogpnode"`)
	}
	w.ResponseWriter.WriteHeader(code)
}
