package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// testCA is a certificate authority for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
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

// issue writes a certificate for 127.0.0.1 and its key into dir, and
// returns their paths and the pair.
func (ca *testCA) issue(t *testing.T, dir, name string) (certPath, keyPath string, pair tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
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

// TestMutualTLS starts two nodes with mutual TLS between them: they
// replicate, the public API answers TLS clients without a certificate, and
// peer calls need a certificate of the federation's CA.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caPath, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
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
	pull := func(conn *grpc.ClientConn) error {
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

	// A TLS client without a certificate reads the public API, but may not
	// pull.
	anonymous := dial(credentials.NewTLS(&tls.Config{RootCAs: pool}))
	if _, err := catalogv1.NewCatalogServiceClient(anonymous).GetNodeInfo(context.Background(), &catalogv1.GetNodeInfoRequest{}); err != nil {
		t.Errorf("GetNodeInfo over TLS without a client certificate: %v", err)
	}
	if err := pull(anonymous); status.Code(err) != codes.Unauthenticated {
		t.Errorf("a pull without a client certificate: %v, want Unauthenticated", err)
	}
	// A certificate of another CA does not get through the handshake.
	_, _, rogue := newTestCA(t, "rogue CA").issue(t, dir, "rogue")
	if err := pull(dial(credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{rogue}}))); err == nil {
		t.Error("a pull with a certificate of another CA succeeded")
	}
	// A member's certificate pulls.
	_, _, member := ca.issue(t, dir, "member")
	if err := pull(dial(credentials.NewTLS(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{member}}))); err != nil {
		t.Errorf("a pull with a member's certificate: %v", err)
	}
	// Plaintext gets nowhere.
	if err := pull(dial(insecure.NewCredentials())); err == nil {
		t.Error("a plaintext pull succeeded")
	}
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "federation CA")
	caPath := filepath.Join(dir, "ca.crt")
	os.WriteFile(caPath, ca.pem, 0o600)
	cert, key, _ := ca.issue(t, dir, "fr")
	otherCert, otherKey, _ := newTestCA(t, "other").issue(t, dir, "other")
	for _, tc := range []struct {
		name            string
		cert, key, caf  string
		wantErrContains string
	}{
		{"only a certificate", cert, "", "", "go together"},
		{"a certificate of another CA", otherCert, otherKey, caPath, "not signed by --tls-ca"},
		{"a key that is not the certificate's", cert, otherKey, caPath, "--tls-cert and --tls-key"},
		{"no CA in the file", cert, key, cert + ".missing", "--tls-ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.TLSCert, cfg.TLSKey, cfg.TLSCA = tc.cert, tc.key, tc.caf
			if _, err := loadTLS(cfg); err == nil || !strings.Contains(err.Error(), tc.wantErrContains) {
				t.Errorf("got %v, want an error with %q", err, tc.wantErrContains)
			}
		})
	}
}
