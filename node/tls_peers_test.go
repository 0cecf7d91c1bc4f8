package node

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ogptoolbox/federation/internal/lockedbuf"
)

// replaceFile writes content to path with a modification time of its own
// (whatever the clock's grain), as a renewal on disk does.
func replaceFile(t *testing.T, path string, content []byte, bump time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, time.Time{}, time.Now().Add(bump)); err != nil {
		t.Fatal(err)
	}
}

// lookNow makes pt look at its files at its next use, as after
// reloadCheckEvery.
func lookNow(pt *peerTLS) {
	pt.mu.Lock()
	pt.checked = time.Time{}
	pt.mu.Unlock()
}

func createTool(t *testing.T, n *testNode, origin, id string) {
	t.Helper()
	code, body := n.doJSON(t, "POST", "/v1/origins/"+origin+"/tools?tool_id="+id, testToken,
		`{"display_name": "Tool `+id+`", "descriptions": {"en": {"short_description": "Participation"}}}`)
	if code != 200 {
		t.Fatalf("create %s: %d %v", id, code, body)
	}
}

// pullFailsSince waits until n's last pull from origin failed, after
// the change that made the test's peer refuse it, and returns why.
func pullFailsSince(t *testing.T, n *testNode, origin string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, p := range n.repl.Peers() {
			if p.Origin == origin && p.LastError != "" {
				return p.LastError
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pulls from %s still go through", origin)
		}
		time.Sleep(50 * time.Millisecond) // a poll interval
	}
}

// reaches reports whether origins/ORIGIN/tools/ID is readable on n within d.
func reaches(t *testing.T, n *testNode, origin, id string, d time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if code, _ := n.doJSON(t, "GET", "/v1/origins/"+origin+"/tools/"+id, "", ""); code == 200 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond) // a poll interval
	}
}

// TestRenewedCertTakenOnKeptPeerConnections: de's operator renews its
// certificate on disk before the old one expires, and de's pulls from fr
// go on after the old one's end. de kept its connection to fr open
// (keepalive), and presented the renewed certificate on no new
// handshake: once the old one expired, fr refused every pull on that
// connection (verifiedNow), and de replicated nothing until it restarted.
func TestRenewedCertTakenOnKeptPeerConnections(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	frCert, frKey, _ := ca.issue(t, dir, "fr")
	fr := startNode(t, func(c *Config) {
		c.Origin, c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = "fr", frCert, frKey, caPath, "local"
	})
	notAfter := time.Now().Add(4 * time.Second)
	deCert, deKey, _ := ca.issueWith(t, dir, "de", certOpts{notBefore: time.Now().Add(-time.Hour), notAfter: notAfter})
	de := startNode(t, func(c *Config) {
		c.Origin, c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = "de", deCert, deKey, caPath, "local"
		c.Join = []string{fr.GossipAddr()}
	})
	createTool(t, fr, "fr", "first")
	if !reaches(t, de, "fr", "first", 5*time.Second) {
		t.Fatal("setup: the first tool did not reach de while its certificate was valid")
	}

	// Renewed on disk, well before the old certificate's end.
	renewedCert, renewedKey, _ := ca.issue(t, t.TempDir(), "de")
	replaceFile(t, deKey, must(os.ReadFile(renewedKey)), time.Minute)
	replaceFile(t, deCert, must(os.ReadFile(renewedCert)), time.Minute)
	lookNow(de.tls)
	if got := de.tls.current().Leaf.NotAfter; !got.After(notAfter.Add(time.Minute)) {
		t.Fatalf("setup: de did not load its renewed certificate (valid until %v)", got)
	}

	// Past the old certificate's end (its times are to the second).
	time.Sleep(time.Until(notAfter.Add(1100 * time.Millisecond)))
	createTool(t, fr, "fr", "second")
	if !reaches(t, de, "fr", "second", 20*time.Second) {
		_, peers := de.doJSON(t, "GET", "/v1/peers", "", "")
		t.Errorf("de renewed its certificate on disk and loaded it, but after the old one expired no record of fr reaches it any more: its kept connection still presents the old certificate; de's peers: %v", peers)
	}
}

// TestPullerRechecksServerCertOnKeptConnection: de's operator takes the
// CA that signed fr's certificate out of de's --tls-ca (fr did not renew
// from the new CA): de's pulls from fr stop, on the connection it opened
// before too. The puller checked the server's certificate only at the
// handshake, and went on pulling.
func TestPullerRechecksServerCertOnKeptConnection(t *testing.T) {
	dir := t.TempDir()
	oldCA, newCA := newTestCA(t, "federation CA 2026"), newTestCA(t, "federation CA 2027")
	both := append(slices.Clone(oldCA.pem), newCA.pem...)
	frCA, deCA := filepath.Join(dir, "fr-ca.crt"), filepath.Join(dir, "de-ca.crt")
	replaceFile(t, frCA, both, 0)
	replaceFile(t, deCA, both, 0)
	frCert, frKey, _ := oldCA.issue(t, dir, "fr") // not renewed from the new CA
	deCert, deKey, _ := newCA.issue(t, dir, "de")
	fr := startNode(t, func(c *Config) {
		c.Origin, c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = "fr", frCert, frKey, frCA, "local"
	})
	de := startNode(t, func(c *Config) {
		c.Origin, c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = "de", deCert, deKey, deCA, "local"
		c.Join = []string{fr.GossipAddr()}
	})
	createTool(t, fr, "fr", "first")
	if !reaches(t, de, "fr", "first", 10*time.Second) {
		t.Fatal("setup: the first tool did not reach de")
	}

	// de takes the old CA out.
	replaceFile(t, deCA, newCA.pem, time.Minute)
	lookNow(de.tls)
	if err := callTLS(t, fr.GRPCAddr(), de.tls.client()); err == nil {
		t.Fatal("setup: a new connection from de to fr, whose CA de no longer holds, went through")
	}

	createTool(t, fr, "fr", "second")
	why := pullFailsSince(t, de, "fr")
	if reaches(t, de, "fr", "second", 0) || !strings.Contains(why, "certificate") {
		t.Errorf("de pulled a record from fr, whose certificate its --tls-ca no longer verifies, on the connection it opened before (its pull's error: %q)", why)
	}
}

// TestCertNamesCheckedAgainstAnnouncedHost: gRPC on every interface,
// without --advertise-addr: the node announces the host gossip announces
// (here 127.0.0.1), which peers dial and check the certificate against.
// A certificate that does not name it is refused by every peer, and the
// start warns of it (it checked only the hosts of its flags).
func TestCertNamesCheckedAgainstAnnouncedHost(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	cert, key, _ := ca.issueWith(t, dir, "fr", certOpts{hosts: []string{"node.example.org"}})
	var logs lockedbuf.Buffer
	startNodeLogged(t, &logs, func(c *Config) {
		c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = cert, key, caPath, "local"
		c.GRPCAddr = "0.0.0.0:0"
	})
	// Said while the node starts.
	if !strings.Contains(logs.String(), "announcing the address gossip announces") {
		t.Fatalf("setup: the node did not say which gRPC address it announces:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "does not name the host") {
		t.Errorf("the node announces gRPC at 127.0.0.1, which its certificate (node.example.org) does not name, and does not warn:\n%s", logs.String())
	}
}

// TestExpiredOwnCertLoggedAsError: the node logs its certificate as an
// error once it expired, at the first handshake after, whenever its last
// daily warning was. The error waited for the next daily look: for up
// to 24 hours the certificate was expired, refused by every peer, and the
// log said nothing of it.
func TestExpiredOwnCertLoggedAsError(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	// Valid a few seconds more: it must load first, which under the race
	// detector on a busy machine took more than a second.
	notAfter := time.Now().Add(4 * time.Second)
	cert, key, _ := ca.issueWith(t, dir, "fr", certOpts{notBefore: time.Now().Add(-time.Hour), notAfter: notAfter})

	t.Run("peer TLS", func(t *testing.T) {
		var logs lockedbuf.Buffer
		cfg := DefaultConfig()
		cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = cert, key, caPath
		pt := must(loadTLS(cfg, slog.New(slog.NewTextHandler(&logs, nil))))
		time.Sleep(time.Until(notAfter.Add(1100 * time.Millisecond)))
		lookNow(pt)
		pt.current() // a handshake
		if !strings.Contains(logs.String(), "it has expired") {
			t.Errorf("the certificate in use expired, and a handshake looked at it: no error in the log:\n%s", logs.String())
		}
	})
	t.Run("HTTPS", func(t *testing.T) {
		var logs lockedbuf.Buffer
		notAfter := time.Now().Add(time.Second)
		cert, key, _ := ca.issueWith(t, dir, "www", certOpts{notBefore: time.Now().Add(-time.Hour), notAfter: notAfter})
		cfg := DefaultConfig()
		cfg.HTTPTLSCert, cfg.HTTPTLSKey = cert, key
		h := must(loadHTTPS(cfg, slog.New(slog.NewTextHandler(&logs, nil))))
		time.Sleep(time.Until(notAfter.Add(1100 * time.Millisecond)))
		h.mu.Lock()
		h.checked = time.Time{}
		h.mu.Unlock()
		h.config().GetCertificate(nil) // a handshake
		if !strings.Contains(logs.String(), "it has expired") {
			t.Errorf("the HTTPS certificate in use expired, and a handshake looked at it: no error in the log:\n%s", logs.String())
		}
	})
}

// TestTLSOperatorErrors: mistakes an operator makes with the files, and
// what the start says of them.
func TestTLSOperatorErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	cert, _, _ := ca.issue(t, dir, "fr")

	// An encrypted key (openssl genpkey -aes256, or an old "Proc-Type:
	// 4,ENCRYPTED" PEM): the node cannot use it, and should say why.
	c, k := ca.sign(t, "enc", certOpts{})
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 the format operators' old tools write
	block, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", der, []byte("secret"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	encCert, encKey := filepath.Join(dir, "enc.crt"), filepath.Join(dir, "enc.key")
	replaceFile(t, encCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0)
	replaceFile(t, encKey, pem.EncodeToMemory(block), 0)
	// A PKCS#8 encrypted key, as openssl 3 writes by default.
	p8Key := filepath.Join(dir, "enc-p8.key")
	replaceFile(t, p8Key, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x00}}), 0)

	for _, tc := range []struct {
		name, cert, key, ca, want string
	}{
		{"an encrypted key (Proc-Type)", encCert, encKey, caPath, "encrypted"},
		{"an encrypted key (PKCS#8)", encCert, p8Key, caPath, "encrypted"},
		// The node's own certificate given as the CA: it "verifies" itself,
		// and every peer is then refused.
		{"the node's certificate as --tls-ca", cert, filepath.Join(dir, "fr.key"), cert, "--tls-ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = tc.cert, tc.key, tc.ca
			_, err := loadTLS(cfg, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestMixedTLSFederationSaid: a member with TLS and one without: each
// says so, as an error, when the other joins.
func TestMixedTLSFederationSaid(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	cert, key, _ := ca.issue(t, dir, "fr")
	var frLogs, deLogs lockedbuf.Buffer
	fr := startNodeLogged(t, &frLogs, func(c *Config) {
		c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = cert, key, caPath, "local"
	})
	startNodeLogged(t, &deLogs, func(c *Config) {
		c.Origin, c.GossipTimings, c.Join = "de", "local", []string{fr.GossipAddr()}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(frLogs.String(), "disagree on mutual TLS") || !strings.Contains(deLogs.String(), "disagree on mutual TLS") {
		if time.Now().After(deadline) {
			t.Fatalf("not said on both sides:\nfr:\n%s\nde:\n%s", frLogs.String(), deLogs.String())
		}
		time.Sleep(50 * time.Millisecond) // a poll interval
	}
}

// TestPullerStopsOnExpiredServerCert: fr's certificate expires (its
// operator did not renew it): de's pulls from fr stop, on the connection
// it opened before too (they went on).
func TestPullerStopsOnExpiredServerCert(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	notAfter := time.Now().Add(4 * time.Second)
	frCert, frKey, _ := ca.issueWith(t, dir, "fr", certOpts{notBefore: time.Now().Add(-time.Hour), notAfter: notAfter})
	deCert, deKey, _ := ca.issue(t, dir, "de")
	fr := startNode(t, func(c *Config) {
		c.Origin, c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = "fr", frCert, frKey, caPath, "local"
	})
	de := startNode(t, func(c *Config) {
		c.Origin, c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = "de", deCert, deKey, caPath, "local"
		c.Join = []string{fr.GossipAddr()}
	})
	createTool(t, fr, "fr", "first")
	if !reaches(t, de, "fr", "first", 5*time.Second) {
		t.Fatal("setup: the first tool did not reach de while fr's certificate was valid")
	}
	time.Sleep(time.Until(notAfter.Add(1100 * time.Millisecond)))
	if err := callTLS(t, fr.GRPCAddr(), de.tls.client()); err == nil {
		t.Fatal("setup: a new connection from de to fr, whose certificate expired, went through")
	}
	createTool(t, fr, "fr", "second")
	why := pullFailsSince(t, de, "fr")
	if reaches(t, de, "fr", "second", 0) || !strings.Contains(why, "certificate") {
		t.Errorf("de pulled a record from fr, whose certificate expired, on the connection it opened before (its pull's error: %q)", why)
	}
}

// TestGRPCHostNameAnnounced: a node given its gRPC address by name
// (--grpc-addr localhost:PORT), without --advertise-addr, with a
// certificate of that name only: it announces the name, which its peers
// dial and find in the certificate, and its records reach them. It
// announced the address the name resolved to (127.0.0.1), which the
// certificate did not name: its peers refused it, and nothing was said
// at its start.
func TestGRPCHostNameAnnounced(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := ca.write(t, dir)
	frCert, frKey, _ := ca.issueWith(t, dir, "fr", certOpts{hosts: []string{"localhost"}})
	fr := startNode(t, func(c *Config) {
		c.Origin, c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = "fr", frCert, frKey, caPath, "local"
		c.GRPCAddr = "localhost:0"
	})
	if host, port, _ := net.SplitHostPort(fr.repl.AnnouncedGRPCAddr()); host != "localhost" || port == "0" {
		t.Errorf("fr announces %s, want localhost and the port it took", fr.repl.AnnouncedGRPCAddr())
	}
	deCert, deKey, _ := ca.issue(t, dir, "de")
	de := startNode(t, func(c *Config) {
		c.Origin, c.TLSCert, c.TLSKey, c.TLSCA, c.GossipTimings = "de", deCert, deKey, caPath, "local"
		c.Join = []string{fr.GossipAddr()}
	})
	createTool(t, fr, "fr", "named")
	if !reaches(t, de, "fr", "named", 10*time.Second) {
		t.Errorf("a record of fr, whose certificate names the host it announces, did not reach de: %s", pullFailsSince(t, de, "fr"))
	}
}
