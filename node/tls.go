package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// peerTLS is the node's mutual TLS between peers: its certificate, and the
// federation's CA that signs every member's. The certificate, key and CA
// files are read again when one of them changes (looked at no more than
// every reloadCheckEvery, at a handshake), so a certificate renewed on
// disk is served, and a CA added to --tls-ca's file (to rotate the
// federation's CA) is taken, without a restart; files that do not pass
// the checks of the start together are logged, and the certificate and
// CA before them kept.
type peerTLS struct {
	certPath, keyPath, caPath string
	log                       *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	pool    *x509.CertPool // the federation's CA, which signs peers' certificates
	names   []string       // the names the certificate is valid for
	host    string         // the host peers dial, when known (see checkNames)
	stamp   fileStamp      // of the files the certificate and CA were read from
	failed  fileStamp      // of files that did not do, said once
	checked time.Time      // when the files were last looked at
	warned  time.Time      // when the nearing end was last said
}

// fileStamp tells a file changed: its size and modification time, for the
// certificate, the key and the CA.
type fileStamp [3]struct {
	size    int64
	modTime time.Time
}

// reloadCheckEvery bounds how often a handshake looks at the certificate's
// files; expiryWarning is how long before its end a certificate is said to
// need renewing.
const (
	reloadCheckEvery = 10 * time.Second
	expiryWarning    = 14 * 24 * time.Hour
	expiryRepeat     = 24 * time.Hour // how often the nearing end is said again
)

// expirySayDue reports whether a certificate valid until notAfter, whose
// end was last said at warned, is to be said of now: once a day in its
// last expiryWarning, and at once when it has expired, whenever the last
// warning was.
func expirySayDue(notAfter, warned, now time.Time) bool {
	left := notAfter.Sub(now)
	return left < expiryWarning && (now.Sub(warned) >= expiryRepeat || (left <= 0 && !warned.After(notAfter)))
}

// loadTLS reads --tls-cert, --tls-key and --tls-ca; nil when none is set.
func loadTLS(cfg Config, log *slog.Logger) (*peerTLS, error) {
	set := 0
	for _, f := range []string{cfg.TLSCert, cfg.TLSKey, cfg.TLSCA} {
		if f != "" {
			set++
		}
	}
	switch set {
	case 0:
		return nil, nil
	case 3:
	default:
		return nil, errors.New("--tls-cert, --tls-key and --tls-ca go together: give all three, or none")
	}
	t := &peerTLS{certPath: cfg.TLSCert, keyPath: cfg.TLSKey, caPath: cfg.TLSCA, log: log}
	t.stamp = t.fileStamp()
	cert, pool, names, err := t.read()
	if err != nil {
		return nil, err
	}
	t.cert, t.pool, t.names, t.checked, t.warned = cert, pool, names, time.Now(), time.Now()
	t.sayExpiry(cert.Leaf, "certificate loaded")
	return t, nil
}

// read reads the certificate, key and CA files, and checks the
// certificate as peers will: signed by the CA (through the intermediates
// the file holds after it), valid now, and usable both to serve the gRPC
// port and to call peers (extended key usages serverAuth and clientAuth).
func (t *peerTLS) read() (*tls.Certificate, *x509.CertPool, []string, error) {
	caPEM, err := os.ReadFile(t.caPath)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, nil, nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", t.caPath)
	}
	if !anyCA(caPEM) {
		return nil, nil, nil, fmt.Errorf("--tls-ca %s holds no CA certificate (one with the basic constraint CA:TRUE): give the federation's CA, not a member's certificate", t.caPath)
	}
	if err := keyNotEncrypted("--tls-key", t.keyPath); err != nil {
		return nil, nil, nil, err
	}
	cert, err := tls.LoadX509KeyPair(t.certPath, t.keyPath)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--tls-cert and --tls-key: %w", err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, nil, nil, fmt.Errorf("--tls-cert: %w", err)
		}
		cert.Leaf = leaf
	}
	intermediates := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--tls-cert: a certificate after the first: %w", err)
		}
		intermediates.AddCert(c)
	}
	for _, usage := range []struct {
		eku  x509.ExtKeyUsage
		what string
	}{{x509.ExtKeyUsageServerAuth, "serverAuth, to serve the gRPC port"}, {x509.ExtKeyUsageClientAuth, "clientAuth, to call peers"}} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{usage.eku}})
		var invalid x509.CertificateInvalidError
		var unknown x509.UnknownAuthorityError
		switch {
		case err == nil:
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
			what := "--tls-cert"
			if invalid.Cert != leaf {
				what = fmt.Sprintf("the certificate of %q, in --tls-cert's chain,", invalid.Cert.Subject.CommonName)
			}
			return nil, nil, nil, fmt.Errorf("%s is valid from %s to %s, not now", what, invalid.Cert.NotBefore.Format(time.RFC3339), invalid.Cert.NotAfter.Format(time.RFC3339))
		case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
			return nil, nil, nil, fmt.Errorf("--tls-cert lacks the extended key usage %s: a node's certificate needs both serverAuth and clientAuth", usage.what)
		case errors.As(err, &unknown):
			return nil, nil, nil, fmt.Errorf("--tls-cert is not signed by --tls-ca (put any intermediate certificate after it, in its file): %w", err)
		default:
			return nil, nil, nil, fmt.Errorf("--tls-cert does not verify with --tls-ca: %w", err)
		}
	}
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return nil, nil, nil, fmt.Errorf("--tls-cert names no host (no DNS or IP subject alternative name): peers could not check it")
	}
	return &cert, pool, names, nil
}

// keyNotEncrypted refuses a key file whose key is encrypted with a
// passphrase, which the node has no way to be given, saying so (crypto/tls
// says only that it failed to parse the key).
func keyNotEncrypted(flag, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	for rest := b; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return fmt.Errorf("%s %s: the key is encrypted with a passphrase, which the node cannot be given: write it unencrypted, readable by the node's user alone (openssl pkey -in KEY -out PLAIN.key)", flag, path)
		}
	}
}

// anyCA reports whether the PEM holds a CA certificate.
func anyCA(b []byte) bool {
	for rest := b; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return false
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && c.BasicConstraintsValid && c.IsCA {
			return true
		}
	}
}

// fileStamp is the stamp of the certificate, key and CA files now (zero
// for one that cannot be read).
func (t *peerTLS) fileStamp() fileStamp {
	var st fileStamp
	for i, path := range []string{t.certPath, t.keyPath, t.caPath} {
		if fi, err := os.Stat(path); err == nil {
			st[i].size, st[i].modTime = fi.Size(), fi.ModTime()
		}
	}
	return st
}

// current is the certificate to present, read again first if its files
// changed (see refresh).
func (t *peerTLS) current() *tls.Certificate {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refresh()
	return t.cert
}

// roots is the federation's CA, read again first if its file changed (see
// refresh).
func (t *peerTLS) roots() *x509.CertPool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refresh()
	return t.pool
}

// refresh reads the certificate, key and CA files again if one changed,
// and takes them if they pass the checks of the start together. Files
// that do not do are tried again at each look (a certificate not valid
// yet, from a CA whose clock runs ahead, may do later; a CA file written
// before the certificate it signs, may once that is), and said once. The
// certificate presented is said again as its end nears. t.mu is held.
func (t *peerTLS) refresh() {
	now := time.Now()
	if now.Sub(t.checked) < reloadCheckEvery {
		return
	}
	t.checked = now
	if stamp := t.fileStamp(); stamp != t.stamp {
		cert, pool, names, err := t.read()
		switch {
		case err == nil:
			caChanged := stamp[2] != t.stamp[2]
			t.cert, t.pool, t.names, t.stamp, t.failed = cert, pool, names, stamp, fileStamp{}
			t.sayExpiry(cert.Leaf, "certificate reloaded")
			if caChanged {
				t.log.Info("federation CA reloaded", "path", t.caPath)
			}
			t.checkNamesLocked()
		case stamp != t.failed:
			t.failed = stamp
			t.log.Error("the files of --tls-cert, --tls-key or --tls-ca changed, and together they do not do (yet): keeping the certificate and CA loaded, and trying again",
				"err", err, "valid_until", t.cert.Leaf.NotAfter.Format(time.RFC3339))
		}
	}
	// Said again once a day in its last days, and at once when it
	// expires (whenever the last warning was).
	if expirySayDue(t.cert.Leaf.NotAfter, t.warned, now) {
		t.warned = now
		t.sayExpiry(t.cert.Leaf, "certificate in use")
	}
}

// sayExpiry logs what was done with a certificate, and until when it is
// valid: as a warning when that is near, as an error once it passed.
func (t *peerTLS) sayExpiry(leaf *x509.Certificate, what string) {
	left := time.Until(leaf.NotAfter)
	attrs := []any{"names", strings.Join(t.names, ","), "valid_until", leaf.NotAfter.Format(time.RFC3339)}
	switch {
	case left <= 0:
		t.log.Error(what+": it has expired, and peers refuse it; renew its files (the node reads them again when they change)", attrs...)
	case left < expiryWarning:
		t.log.Warn(what+": it expires soon; renew its files (the node reads them again when they change)", attrs...)
	default:
		t.log.Info(what, attrs...)
	}
}

// server is the gRPC server's TLS: any client may connect (the public API
// stays open to all), and a client certificate, when given, must be signed
// by the federation's CA; peer calls need one (see requirePeerCert). Each
// handshake takes the certificate and CA as they are then. A handshake
// that fails is logged (grpc-go keeps it to itself).
func (t *peerTLS) server() credentials.TransportCredentials {
	return &loggedHandshakes{TransportCredentials: credentials.NewTLS(&tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.refresh()
			return &tls.Config{
				Certificates: []tls.Certificate{*t.cert},
				ClientCAs:    t.pool,
				ClientAuth:   tls.VerifyClientCertIfGiven,
				MinVersion:   tls.VersionTLS13,
			}, nil
		},
		MinVersion: tls.VersionTLS13,
	}), log: t.log, last: new(atomic.Int64)}
}

// client is the TLS of calls to peers: it presents the node's certificate
// and checks the other's, for the host dialled, against the federation's
// CA as it is at the handshake.
func (t *peerTLS) client() credentials.TransportCredentials {
	return &caAtHandshake{TransportCredentials: credentials.NewTLS(t.clientConfig()), t: t}
}

func (t *peerTLS) clientConfig() *tls.Config {
	return &tls.Config{
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return t.current(), nil },
		RootCAs:              t.roots(),
		MinVersion:           tls.VersionTLS13,
	}
}

// caAtHandshake makes each client handshake check the peer against the CA
// read then: crypto/tls would keep the one of the connection's
// credentials, made once per peer, and fixed by a field rather than a
// callback (one that verifies the chain itself would not know the host
// dialled when it is an IP address, which TLS does not send).
type caAtHandshake struct {
	credentials.TransportCredentials
	t *peerTLS
}

func (c *caAtHandshake) ClientHandshake(ctx context.Context, authority string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return credentials.NewTLS(c.t.clientConfig()).ClientHandshake(ctx, authority, conn)
}

func (c *caAtHandshake) Clone() credentials.TransportCredentials {
	return &caAtHandshake{TransportCredentials: c.TransportCredentials.Clone(), t: c.t}
}

// loggedHandshakes logs the gRPC port's failed TLS handshakes, at most one
// every handshakeLogEvery (any host may knock): the operator of the node
// that refuses a peer's certificate sees why, as the peer's does.
type loggedHandshakes struct {
	credentials.TransportCredentials
	log  *slog.Logger
	last *atomic.Int64 // when one was last logged, unix nanoseconds
}

const handshakeLogEvery = 10 * time.Second

func (c *loggedHandshakes) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	out, info, err := c.TransportCredentials.ServerHandshake(conn)
	if err != nil && !errors.Is(err, io.EOF) { // not a prober closing at once, which gRPC keeps quiet too
		now, last := time.Now().UnixNano(), c.last.Load()
		if (now-last >= int64(handshakeLogEvery) || now < last) && c.last.CompareAndSwap(last, now) { // a last time ahead: the clock went back
			c.log.Warn("a TLS handshake on the gRPC port failed", "remote", conn.RemoteAddr().String(), "err", err)
		}
	}
	return out, info, err
}

func (c *loggedHandshakes) Clone() credentials.TransportCredentials {
	return &loggedHandshakes{TransportCredentials: c.TransportCredentials.Clone(), log: c.log, last: c.last}
}

// peerMethods are the calls only peers may make when TLS is on.
func peerMethods() map[string]bool {
	svc := "/" + federationv1.FederationService_ServiceDesc.ServiceName + "/"
	return map[string]bool{svc + "Pull": true, svc + "GetDigests": true}
}

// errNoPeerCert refuses a peer call without a verified client certificate.
var errNoPeerCert = status.Error(codes.Unauthenticated, "peer calls need a client certificate signed by the federation's CA (mutual TLS)")

// requirePeerCert makes peer calls need a client certificate that
// verifies at the call (see verifiedNow).
func (t *peerTLS) requirePeerCert() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	methods := peerMethods()
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if methods[info.FullMethod] {
			if err := t.verifiedNow(ctx); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if methods[info.FullMethod] {
			if err := t.verifiedNow(ss.Context()); err != nil {
				return err
			}
		}
		return handler(srv, ss)
	}
	return unary, stream
}

// verifiedNow checks the caller's certificate, verified at its
// connection's handshake, again: now, against the CA as it is now. A
// connection outlives both (peers keep theirs open, with pings), and a
// member whose certificate expired, or whose CA was taken out of
// --tls-ca, went on pulling on the connection it opened before.
func (t *peerTLS) verifiedNow(ctx context.Context) error {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return errNoPeerCert
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.PeerCertificates) == 0 {
		return errNoPeerCert
	}
	certs := info.State.PeerCertificates
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: t.roots(), Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return status.Errorf(codes.Unauthenticated, "the client certificate of this connection no longer verifies (connect again with one the federation's CA signs): %v", err)
	}
	return nil
}

// recheckServer makes each call to a peer check the peer's certificate,
// verified at its connection's handshake, again: now, against the CA as
// it is now, as verifiedNow does of the callers' on the server side. The
// puller keeps its connection to a peer open (pings), and went on pulling
// from a member whose certificate expired, or whose CA was taken out of
// --tls-ca, on the connection it opened before. A stream is checked
// before its request is sent; a unary call once it has its answer, which
// is dropped.
func (t *peerTLS) recheckServer() (grpc.UnaryClientInterceptor, grpc.StreamClientInterceptor) {
	unary := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		var p peer.Peer
		if err := invoker(ctx, method, req, reply, cc, append(opts, grpc.Peer(&p))...); err != nil {
			return err
		}
		return t.serverVerifiedNow(&p)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		ctx, cancel := context.WithCancel(ctx)
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			cancel()
			return nil, err
		}
		p, _ := peer.FromContext(cs.Context())
		if err := t.serverVerifiedNow(p); err != nil {
			cancel()
			return nil, err
		}
		return &cancelOnEnd{ClientStream: cs, cancel: cancel}, nil
	}
	return unary, stream
}

// cancelOnEnd releases a stream's context once the stream ended.
type cancelOnEnd struct {
	grpc.ClientStream
	cancel context.CancelFunc
}

func (s *cancelOnEnd) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.cancel()
	}
	return err
}

// serverVerifiedNow checks a peer's server certificate, of the
// connection a call went over, now and against the CA as it is now.
func (t *peerTLS) serverVerifiedNow(p *peer.Peer) error {
	if p == nil {
		return status.Error(codes.Unauthenticated, "the peer's connection has no TLS")
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return status.Error(codes.Unauthenticated, "the peer's connection has no TLS certificate")
	}
	certs := info.State.PeerCertificates
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(x509.VerifyOptions{Roots: t.roots(), Intermediates: intermediates, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return status.Errorf(codes.Unauthenticated, "the peer's certificate, on this connection, no longer verifies: %v", err)
	}
	return nil
}

// describe names the certificate's names, for logs.
func (t *peerTLS) describe() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.names, ",")
}

// checkNames warns when the certificate does not name host, the one peers
// dial ("" when not known before gossip starts): they check the name they
// dial against it, and refuse it otherwise. A certificate reloaded is
// checked again.
func (t *peerTLS) checkNames(host string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.host = host
	t.checkNamesLocked()
}

func (t *peerTLS) checkNamesLocked() {
	if t.host == "" {
		return
	}
	if err := t.cert.Leaf.VerifyHostname(t.host); err != nil {
		t.log.Warn("the certificate does not name the host peers reach this node at: they will refuse it (give --advertise-addr a name it holds, or a certificate for the host)",
			"host", t.host, "certificate_names", strings.Join(t.names, ","))
	}
}

// announcedHost is the host of the gRPC address peers are told, when it is
// known before gossip starts: --advertise-addr, else the host gRPC listens
// on, but an address on every interface.
func announcedHost(cfg Config) string {
	if cfg.AdvertiseAddr != "" {
		return cfg.AdvertiseAddr
	}
	host, _, err := net.SplitHostPort(cfg.GRPCAddr)
	if ip := net.ParseIP(host); err != nil || host == "" || (ip != nil && ip.IsUnspecified()) {
		return ""
	}
	return host
}
