package node

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ogptoolbox/federation/internal/lockedbuf"
)

// TestHTTPS serves REST and the web pages over HTTPS with a certificate of
// a CA the client trusts, refuses plain HTTP there, sets its cookies
// Secure, says Strict-Transport-Security (a browser that was there once
// never goes to the node's name over plain HTTP, where a network's
// attacker would serve a sign-in form of its own), and serves a certificate renewed on disk without a restart
// (keeping the one loaded while the new files do not load).
func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "public CA")
	certPath, keyPath, _ := ca.issueWith(t, dir, "www", certOpts{ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	var logs lockedbuf.Buffer
	n := startNode(t, func(c *Config) { c.HTTPTLSCert, c.HTTPTLSKey = certPath, keyPath })
	n.https.mu.Lock()
	n.https.log = slog.New(slog.NewTextHandler(&logs, nil))
	n.https.mu.Unlock()
	if !strings.HasPrefix(n.base, "http://") {
		t.Fatalf("base %s", n.base)
	}
	base := "https://" + strings.TrimPrefix(n.base, "http://")
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	var served *x509.Certificate
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots,
		VerifyConnection: func(cs tls.ConnectionState) error { served = cs.PeerCertificates[0]; return nil }}}}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := get("/v1/node"); resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
		t.Errorf("GET /v1/node over HTTPS: %d, Strict-Transport-Security %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	if resp := get("/?lang=fr"); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Set-Cookie"), "Secure") || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("the web page over HTTPS: %d, cookie %q; want it Secure, and Strict-Transport-Security", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	first := served.SerialNumber
	if resp, err := http.Get(n.base + "/v1/node"); err == nil && resp.StatusCode == 200 {
		t.Error("plain HTTP on the HTTPS listener was served")
	}

	look := func() {
		n.https.mu.Lock()
		n.https.checked = time.Time{} // as after reloadCheckEvery
		n.https.mu.Unlock()
		client.CloseIdleConnections() // a new handshake
	}
	touch := func(minutes int) {
		for _, f := range []string{certPath, keyPath} {
			if err := os.Chtimes(f, time.Time{}, time.Now().Add(time.Duration(minutes)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A key that is not the certificate's: kept the one loaded, said.
	other, _, _ := ca.issueWith(t, t.TempDir(), "other", certOpts{ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	b, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	touch(1)
	look()
	get("/healthz")
	if served.SerialNumber.Cmp(first) != 0 || !strings.Contains(logs.String(), "do not load") {
		t.Errorf("files that do not load: served %v (first %v); logs:\n%s", served.SerialNumber, first, logs.String())
	}
	// Renewed: served at the next handshake.
	ca.issueWith(t, dir, "www", certOpts{ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	touch(2)
	look()
	get("/healthz")
	if served.SerialNumber.Cmp(first) == 0 || served.SerialNumber.Cmp(big.NewInt(0)) == 0 || !strings.Contains(logs.String(), "HTTPS certificate reloaded") {
		t.Errorf("a renewed certificate: served %v, the first %v; logs:\n%s", served.SerialNumber, first, logs.String())
	}
}

// TestHTTPSConfigErrors checks the starts refused for HTTPS settings.
func TestHTTPSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "public CA")
	certPath, keyPath, _ := ca.issue(t, dir, "www")
	expired, expiredKey, _ := ca.issueWith(t, dir, "old", certOpts{notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)})
	for what, tc := range map[string]struct{ cert, key, want string }{
		"a certificate without its key": {certPath, "", "go together"},
		"a key that is not its":         {certPath, expiredKey, "--http-tls-cert and --http-tls-key"},
		"an expired certificate":        {expired, expiredKey, "not now"},
		"a missing file":                {certPath + ".missing", keyPath, "--http-tls-cert and --http-tls-key"},
	} {
		cfg := DefaultConfig()
		cfg.HTTPTLSCert, cfg.HTTPTLSKey = tc.cert, tc.key
		if _, err := loadHTTPS(cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", what, err, tc.want)
		}
	}
}

// TestHTTPSHandshakeFailuresLogBounded: connections that fail their TLS
// handshake on the HTTPS port (a scanner, plain HTTP) are said at most
// once in a while, as on the gRPC port: any host may knock, and each
// wrote a line at warn.
func TestHTTPSHandshakeFailuresLogBounded(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, "public CA")
	certPath, keyPath, _ := ca.issueWith(t, dir, "www", certOpts{ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	var logs lockedbuf.Buffer
	n := startNodeLogged(t, &logs, func(c *Config) { c.HTTPTLSCert, c.HTTPTLSKey = certPath, keyPath })
	for range 100 {
		conn, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte{0x16, 0x03, 0x01, 0x00, 0x05, 0, 0, 0, 0, 0}) // a ClientHello that is none
		io.Copy(io.Discard, conn)
		conn.Close()
	}
	said := func() int { return strings.Count(logs.String(), "TLS handshake error") }
	deadline := time.Now().Add(10 * time.Second)
	for said() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // a poll interval
	}
	if n := said(); n != 1 {
		t.Errorf("100 connections that failed their TLS handshake: %d lines in the log, want 1\n%.500s", n, logs.String())
	}
}
