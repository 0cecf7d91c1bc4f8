package node

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/lockedbuf"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// testCA is a certificate authority for tests.
type testCA struct {
	cert  *x509.Certificate
	key   *ecdsa.PrivateKey
	pem   []byte
	chain []byte // for an intermediate CA, its certificate, which follows those it issues in their files
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// write writes the CA's certificate into dir, and returns its path.
func (ca *testCA) write(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(path, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// certOpts are what a test certificate differs by: its extended key
// usages (both serverAuth and clientAuth when nil), its validity (an hour
// either side of now when zero), whether it is a CA's, and the DNS names
// it holds (127.0.0.1 and localhost when nil).
type certOpts struct {
	ekus                []x509.ExtKeyUsage
	notBefore, notAfter time.Time
	isCA                bool
	hosts               []string
}

// issue writes a certificate for 127.0.0.1 and its key into dir, and
// returns their paths and the pair.
func (ca *testCA) issue(t *testing.T, dir, name string) (certPath, keyPath string, pair tls.Certificate) {
	t.Helper()
	return ca.issueWith(t, dir, name, certOpts{})
}

// issueWith is issue with opts; the certificate file holds the issuing
// CA's certificate after it when that CA is an intermediate one.
func (ca *testCA) issueWith(t *testing.T, dir, name string, opts certOpts) (certPath, keyPath string, pair tls.Certificate) {
	t.Helper()
	c, key := ca.sign(t, name, opts)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), ca.chain...)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPath, keyPath = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pair, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath, pair
}

// sign makes a certificate for 127.0.0.1 and localhost, signed by ca.
func (ca *testCA) sign(t *testing.T, name string, opts certOpts) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ekus := opts.ekus
	if ekus == nil {
		ekus = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	notBefore, notAfter := opts.notBefore, opts.notAfter
	if notBefore.IsZero() {
		notBefore, notAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: notBefore, NotAfter: notAfter,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: ekus, KeyUsage: x509.KeyUsageDigitalSignature}
	if opts.hosts != nil {
		tmpl.IPAddresses, tmpl.DNSNames = nil, opts.hosts
	}
	if opts.isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// intermediate is a CA that ca signs; the certificates it issues carry it
// in their files.
func (ca *testCA) intermediate(t *testing.T, name string) *testCA {
	t.Helper()
	c, key := ca.sign(t, name, certOpts{isCA: true})
	der := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	return &testCA{cert: c, key: key, pem: der, chain: der}
}

// TestMutualTLS starts two nodes with mutual TLS between them: they
// replicate, the public API answers TLS clients without a certificate, and
// peer calls need a certificate of the federation's CA.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	withTLS := func(origin string, join ...string) func(*Config) {
		cert, key, _ := ca.issue(t, dir, origin)
		return func(c *Config) {
			c.Origin, c.TLSCert, c.TLSKey, c.TLSCA = origin, cert, key, caPath
			c.GossipTimings, c.Join = "local", join
		}
	}
	fr := startNode(t, withTLS("fr"))
	de := startNode(t, withTLS("de", fr.GossipAddr()))

	code, body := fr.doJSON(t, "POST", "/v1/origins/fr/tools?tool_id=decidim", testToken, `{"display_name": "Decidim", "descriptions": {"en": {"short_description": "Participation"}}}`)
	if code != 200 {
		t.Fatalf("create: %d %v", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _ := de.doJSON(t, "GET", "/v1/origins/fr/tools/decidim", "", "")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tool did not reach de over mutual TLS: %d", code)
		}
		time.Sleep(20 * time.Millisecond) // a poll interval
	}

	dial := func(creds credentials.TransportCredentials) *grpc.ClientConn {
		conn, err := grpc.NewClient(fr.GRPCAddr(), grpc.WithTransportCredentials(creds))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)

	// A TLS client without a certificate reads the public API, but may not
	// pull.
	anonymous := dial(credentials.NewTLS(&tls.Config{RootCAs: pool}))
	if _, err := catalogv1.NewCatalogServiceClient(anonymous).GetNodeInfo(context.Background(), &catalogv1.GetNodeInfoRequest{}); err != nil {
		t.Errorf("GetNodeInfo over TLS without a client certificate: %v", err)
	}
	if err := pullAll(anonymous); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a pull without a client certificate: %v, want Unauthenticated", err)
	}
	// A certificate of another CA does not get through the handshake.
	_, _, rogue := newTestCA(t, "rogue CA").issue(t, dir, "rogue")
	if err := pullAll(dial(credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{rogue}}))); err == nil {
		t.Error("a pull with a certificate of another CA succeeded")
	}
	// A member's certificate pulls.
	_, _, member := ca.issue(t, dir, "member")
	if err := pullAll(dial(credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{member}}))); err != nil {
		t.Errorf("a pull with a member's certificate: %v", err)
	}
	// Plaintext gets nowhere.
	if err := pullAll(dial(insecure.NewCredentials())); err == nil {
		t.Error("a plaintext pull succeeded")
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	cert, key, _ := ca.issue(t, dir, "fr")
	otherCert, otherKey, _ := newTestCA(t, "other").issue(t, dir, "other")
	expiredCert, expiredKey, _ := ca.issueWith(t, dir, "expired", certOpts{notBefore: time.Now().Add(-2 * time.Hour), notAfter: time.Now().Add(-time.Hour)})
	serverCert, serverKey, _ := ca.issueWith(t, dir, "server-only", certOpts{ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	clientCert, clientKey, _ := ca.issueWith(t, dir, "client-only", certOpts{ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	leafOnly, leafOnlyKey, _ := ca.intermediate(t, "intermediate CA").issue(t, dir, "leaf-only")
	os.WriteFile(leafOnly, bytes.SplitAfter(must(os.ReadFile(leafOnly)), []byte("-----END CERTIFICATE-----\n"))[0], 0o600) // its intermediate left out
	for _, tc := range []struct {
		name            string
		cert, key, caf  string
		wantErrContains string
	}{
		{"only a certificate", cert, "", "", "go together"},
		{"a certificate of another CA", otherCert, otherKey, caPath, "not signed by --tls-ca"},
		{"a key that is not the certificate's", cert, otherKey, caPath, "--tls-cert and --tls-key"},
		{"no CA in the file", cert, key, cert + ".missing", "--tls-ca"},
		{"an expired certificate", expiredCert, expiredKey, caPath, "not now"},
		{"a certificate for servers only", serverCert, serverKey, caPath, "clientAuth"},
		{"a certificate for clients only", clientCert, clientKey, caPath, "serverAuth"},
		{"a certificate of an intermediate CA, without it", leafOnly, leafOnlyKey, caPath, "intermediate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = tc.cert, tc.key, tc.caf
			if _, err := loadTLS(cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), tc.wantErrContains) {
				t.Errorf("got %v, want an error with %q", err, tc.wantErrContains)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestTLSChainAndReload loads a certificate of an intermediate CA, whose
// file holds the intermediate after it, against the root alone; then
// replaces the files on disk: the node presents the new certificate at its
// next look at them, and keeps it when a replacement that does not do
// (another CA's) comes after. A failed handshake is logged.
func TestTLSChainAndReload(t *testing.T) {
	dir := t.TempDir()
	root := newTestCA(t, "federation CA")
	caPath := root.write(t, dir)
	via := root.intermediate(t, "intermediate CA")
	cert, key, _ := via.issue(t, dir, "fr")
	var logs lockedbuf.Buffer
	cfg := DefaultConfig()
	cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = cert, key, caPath
	pt, err := loadTLS(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("a certificate of an intermediate CA, with it in its file: %v", err)
	}
	serial := func() *big.Int { return pt.current().Leaf.SerialNumber }
	first := serial()

	renewals := 0
	look := func() {
		pt.mu.Lock()
		pt.checked = time.Time{} // as after reloadCheckEvery
		pt.mu.Unlock()
	}
	renew := func(ca *testCA, opts certOpts) *big.Int {
		t.Helper()
		certPath, keyPath, pair := ca.issueWith(t, dir, "fr", opts)
		// A modification time of its own, whatever the clock's grain.
		renewals++
		for _, f := range []string{certPath, keyPath} {
			if err := os.Chtimes(f, time.Time{}, time.Now().Add(time.Duration(renewals)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		look()
		return pair.Leaf.SerialNumber
	}
	if renewed := renew(via, certOpts{}); serial().Cmp(renewed) != 0 || renewed.Cmp(first) == 0 {
		t.Fatalf("after renewal on disk, the node presents serial %v, want the renewed %v", serial(), renewed)
	}
	kept := serial()
	renew(newTestCA(t, "rogue CA"), certOpts{})
	if serial().Cmp(kept) != 0 {
		t.Errorf("a replacement of another CA was taken")
	}
	// A renewal not valid yet (its CA's clock runs ahead) is taken once
	// it is.
	later := renew(via, certOpts{notBefore: time.Now().Add(time.Second), notAfter: time.Now().Add(time.Hour)})
	if serial().Cmp(kept) != 0 {
		t.Errorf("a renewal not valid yet was taken")
	}
	deadline := time.Now().Add(10 * time.Second)
	for look(); serial().Cmp(later) != 0; look() {
		if time.Now().After(deadline) {
			t.Fatalf("a renewal that became valid is not taken")
		}
		time.Sleep(50 * time.Millisecond) // a poll interval
	}
	if l := logs.String(); !strings.Contains(l, "certificate reloaded") || !strings.Contains(l, "keeping the certificate and CA loaded") {
		t.Errorf("the log does not say what came of the renewals:\n%s", l)
	}

	// A host the certificate does not name is said at start.
	pt.checkNames("127.0.0.1")
	if strings.Contains(logs.String(), "does not name the host") {
		t.Errorf("a host the certificate names is said not to be")
	}
	pt.checkNames("node.example.org")
	if !strings.Contains(logs.String(), "does not name the host") {
		t.Errorf("a host the certificate does not name is not said")
	}

	// The server side logs a handshake it refuses.
	addr := serveTLS(t, pt)
	call := func(addr string, creds credentials.TransportCredentials) error { return callTLS(t, addr, creds) }
	if err := call(addr, insecure.NewCredentials()); err == nil {
		t.Fatal("a plaintext call to a TLS port succeeded")
	}
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "a TLS handshake on the gRPC port failed") {
		if time.Now().After(deadline) {
			t.Fatalf("the refused handshake is not logged:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond) // a poll interval
	}

}

// TestTLSCARotation rotates the federation's CA without a restart: a CA
// added to --tls-ca's file is taken at the next look, on both sides of a
// handshake; a CA file that would not verify the node's own certificate
// is refused, and the CA before it kept, until a certificate of the new
// CA comes. The node's calls check the host they dial against the peer's
// certificate.
func TestTLSCARotation(t *testing.T) {
	dir := t.TempDir()
	oldCA, newCA := newTestCA(t, "federation CA 2026"), newTestCA(t, "federation CA 2027")
	caPath := oldCA.write(t, dir)
	cert, key, _ := oldCA.issue(t, dir, "fr")
	var logs lockedbuf.Buffer
	cfg := DefaultConfig()
	cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = cert, key, caPath
	fr := must(loadTLS(cfg, slog.New(slog.NewTextHandler(&logs, nil))))
	frAddr := serveTLS(t, fr)
	changes := 0
	change := func(path string, content []byte) {
		t.Helper()
		changes++
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		// A modification time of its own, whatever the clock's grain.
		if err := os.Chtimes(path, time.Time{}, time.Now().Add(time.Duration(changes)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		fr.mu.Lock()
		fr.checked = time.Time{} // as after reloadCheckEvery
		fr.mu.Unlock()
	}

	// Two members, whose files are never looked at: de renewed from the
	// new CA first, es not yet; both know both CAs.
	both := x509.NewCertPool()
	both.AppendCertsFromPEM(oldCA.pem)
	both.AppendCertsFromPEM(newCA.pem)
	member := func(ca *testCA, name string, opts certOpts) *peerTLS {
		_, _, pair := ca.issueWith(t, dir, name, opts)
		return &peerTLS{pool: both, log: fr.log, cert: &pair, checked: time.Now()}
	}
	de, es := member(newCA, "de", certOpts{}), member(oldCA, "es", certOpts{})
	deAddr, esAddr := serveTLS(t, de), serveTLS(t, es)
	through := func(err error) bool { return status.Code(err) == codes.Unimplemented } // a server without the service
	expect := func(when string, calls map[string]bool) {
		t.Helper()
		for what, want := range calls {
			var err error
			switch what {
			case "fr calls de":
				err = callTLS(t, deAddr, fr.client())
			case "fr calls es":
				err = callTLS(t, esAddr, fr.client())
			case "de calls fr":
				err = callTLS(t, frAddr, de.client())
			case "es calls fr":
				err = callTLS(t, frAddr, es.client())
			}
			if through(err) != want {
				t.Errorf("%s, %s: %v, want through the handshake %v", when, what, err, want)
			}
		}
	}
	expect("before the rotation", map[string]bool{"fr calls de": false, "de calls fr": false, "fr calls es": true, "es calls fr": true})

	change(caPath, append(slices.Clone(oldCA.pem), newCA.pem...))
	expect("with both CAs", map[string]bool{"fr calls de": true, "de calls fr": true, "fr calls es": true, "es calls fr": true})
	if !strings.Contains(logs.String(), "federation CA reloaded") {
		t.Errorf("the CA's reload is not said:\n%s", logs.String())
	}

	// The new CA alone does not verify fr's certificate yet: refused.
	change(caPath, newCA.pem)
	expect("with the new CA alone, before fr's renewal", map[string]bool{"fr calls de": true, "es calls fr": true})
	if !strings.Contains(logs.String(), "together they do not do") {
		t.Errorf("a CA file refused is not said:\n%s", logs.String())
	}
	// Once fr's certificate is renewed from it, both are taken.
	renewedCert, renewedKey, _ := newCA.issue(t, t.TempDir(), "fr")
	change(key, must(os.ReadFile(renewedKey)))
	change(cert, must(os.ReadFile(renewedCert)))
	if got := fr.current().Leaf.Issuer.CommonName; got != "federation CA 2027" {
		t.Fatalf("after its renewal, fr presents a certificate of %q", got)
	}
	expect("after fr's renewal", map[string]bool{"fr calls de": true, "de calls fr": true, "fr calls es": false, "es calls fr": false})
	// A peer's certificate of the CA that does not name the host dialled
	// is refused, as crypto/tls would.
	elsewhere := member(newCA, "elsewhere", certOpts{hosts: []string{"node.example.org"}})
	err := callTLS(t, serveTLS(t, elsewhere), fr.client())
	if through(err) || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("a call to a peer whose certificate names another host: %v, want refused for the host", err)
	}
}

// callTLS calls GetNodeInfo at addr with creds.
func callTLS(t *testing.T, addr string, creds credentials.TransportCredentials) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = catalogv1.NewCatalogServiceClient(conn).GetNodeInfo(ctx, &catalogv1.GetNodeInfoRequest{})
	return err
}

// serveTLS serves gRPC, with no service, on a loopback port with the TLS of
// pt, until the test ends, and returns its address.
func serveTLS(t *testing.T, pt *peerTLS) string {
	t.Helper()
	srv := grpc.NewServer(grpc.Creds(pt.server()))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestExpiredPeerCertRefusedOnItsConnection: mutual TLS checks a peer's
// certificate at the handshake, and peers keep their connection open,
// with pings: a member whose certificate expired went on pulling on the
// connection it opened before, while a new one was refused. Each peer
// call checks it again ("an expired certificate stops pulls").
func TestExpiredPeerCertRefusedOnItsConnection(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	cert, key, _ := ca.issue(t, dir, "fr")
	fr := startNode(t, func(c *Config) {
		c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = cert, key, caPath, "local"
	})
	notAfter := time.Now().Add(2 * time.Second)
	_, _, member := ca.issueWith(t, dir, "member", certOpts{notBefore: time.Now().Add(-time.Hour), notAfter: notAfter})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	dial := func() *grpc.ClientConn {
		// As dialPeer does: keepalive pings, one connection kept.
		conn, err := grpc.NewClient(fr.GRPCAddr(),
			grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{member}, MinVersion: tls.VersionTLS13})),
			grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: peerPing, Timeout: 10 * time.Second, PermitWithoutStream: true}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	kept := dial()
	if err := pullAll(kept); err != nil {
		t.Fatalf("a pull with a valid member certificate: %v", err)
	}
	// Past its end (a certificate's times are to the second).
	time.Sleep(time.Until(notAfter.Add(1100 * time.Millisecond)))
	if err := pullAll(dial()); err == nil {
		t.Fatal("a new connection with the expired certificate pulled")
	}
	if err := pullAll(kept); status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "expired") {
		t.Errorf("a pull on the connection opened before the member's certificate expired: %v, want UNAUTHENTICATED saying it expired", err)
	}
}

// pullAll pulls every origin over conn, to the end: nil once the stream
// ended well.
func pullAll(conn *grpc.ClientConn) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := federationv1.NewFederationServiceClient(conn).Pull(ctx, &federationv1.PullRequest{AllOrigins: true})
	if err != nil {
		return err
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
