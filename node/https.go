package node

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// httpsCert is the certificate of HTTPS on the HTTP listener (REST, the
// web pages, /metrics), from --http-tls-cert and --http-tls-key: the one
// browsers and REST clients check, of a public CA as a rule, unlike the
// federation's between peers (peerTLS). The files are read again when
// they change (looked at no more than every reloadCheckEvery, at a
// handshake), so a certificate renewed on disk (by certbot, say) is
// served without a restart; files that do not load are said once, and the
// certificate before them kept.
type httpsCert struct {
	certPath, keyPath string
	log               *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   fileStamp // of the files cert was read from
	failed  fileStamp // of files that did not load, said once
	checked time.Time // when the files were last looked at
	warned  time.Time // when the nearing end was last said
}

// loadHTTPS reads --http-tls-cert and --http-tls-key; nil when neither is
// set.
func loadHTTPS(cfg Config, log *slog.Logger) (*httpsCert, error) {
	switch {
	case cfg.HTTPTLSCert == "" && cfg.HTTPTLSKey == "":
		return nil, nil
	case cfg.HTTPTLSCert == "" || cfg.HTTPTLSKey == "":
		return nil, errors.New("--http-tls-cert and --http-tls-key go together: give both, or neither")
	}
	h := &httpsCert{certPath: cfg.HTTPTLSCert, keyPath: cfg.HTTPTLSKey, log: log}
	h.stamp = h.fileStamp()
	cert, err := h.read()
	if err != nil {
		return nil, err
	}
	h.cert, h.checked, h.warned = cert, time.Now(), time.Now()
	h.say(cert, "HTTPS certificate loaded")
	return h, nil
}

// read reads the certificate and its key, and checks that the certificate
// is valid now.
func (h *httpsCert) read() (*tls.Certificate, error) {
	if err := keyNotEncrypted("--http-tls-key", h.keyPath); err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(h.certPath, h.keyPath)
	if err != nil {
		return nil, fmt.Errorf("--http-tls-cert and --http-tls-key: %w", err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("--http-tls-cert: %w", err)
		}
	}
	if now := time.Now(); now.Before(cert.Leaf.NotBefore) || now.After(cert.Leaf.NotAfter) {
		return nil, fmt.Errorf("--http-tls-cert is valid from %s to %s, not now", cert.Leaf.NotBefore.Format(time.RFC3339), cert.Leaf.NotAfter.Format(time.RFC3339))
	}
	return &cert, nil
}

// fileStamp is the size and modification time of the certificate and key
// files (zero for one that cannot be read).
func (h *httpsCert) fileStamp() fileStamp {
	var st fileStamp
	for i, path := range []string{h.certPath, h.keyPath} {
		if fi, err := os.Stat(path); err == nil {
			st[i].size, st[i].modTime = fi.Size(), fi.ModTime()
		}
	}
	return st
}

// config is the listener's TLS: each handshake takes the certificate as
// it is then.
func (h *httpsCert) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12, // browsers and clients of a few years still in use
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.refresh()
			return h.cert, nil
		},
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// refresh reads the files again if they changed, and takes them if they
// load; h.mu is held.
func (h *httpsCert) refresh() {
	now := time.Now()
	if now.Sub(h.checked) < reloadCheckEvery {
		return
	}
	h.checked = now
	if expirySayDue(h.cert.Leaf.NotAfter, h.warned, now) {
		h.warned = now
		h.say(h.cert, "HTTPS certificate in use")
	}
	stamp := h.fileStamp()
	if stamp == h.stamp {
		return
	}
	cert, err := h.read()
	switch {
	case err == nil:
		h.cert, h.stamp, h.failed = cert, stamp, fileStamp{}
		h.say(cert, "HTTPS certificate reloaded")
	case stamp != h.failed:
		h.failed = stamp
		h.log.Error("the files of --http-tls-cert or --http-tls-key changed, and do not load (yet): keeping the certificate loaded, and trying again",
			"err", err, "valid_until", h.cert.Leaf.NotAfter.Format(time.RFC3339))
	}
}

// say logs what was done with a certificate, and until when it is valid:
// as a warning when that is near (again once a day, at a handshake), as
// an error once it passed.
func (h *httpsCert) say(cert *tls.Certificate, what string) {
	attrs := []any{"names", cert.Leaf.DNSNames, "valid_until", cert.Leaf.NotAfter.Format(time.RFC3339)}
	if time.Until(cert.Leaf.NotAfter) <= 0 {
		h.log.Error(what+": it has expired, and clients refuse it; renew its files (the node reads them again when they change)", attrs...)
		return
	}
	if time.Until(cert.Leaf.NotAfter) < expiryWarning {
		h.log.Warn(what+": it expires soon; renew its files (the node reads them again when they change)", attrs...)
		return
	}
	h.log.Info(what, attrs...)
}

// httpServerLog is the HTTP server's log of what it cannot tell a caller:
// at warn, but a failed TLS handshake (a scanner, a client speaking plain
// HTTP to HTTPS) at most once every handshakeLogEvery, as on the gRPC
// port: any host may knock, and each wrote a line.
func httpServerLog(l *slog.Logger) *log.Logger {
	return log.New(&serverErrors{log: l}, "", 0)
}

type serverErrors struct {
	log           *slog.Logger
	lastHandshake atomic.Int64 // when one was last logged, unix nanoseconds
}

func (w *serverErrors) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	if strings.HasPrefix(msg, "http: TLS handshake error") {
		now, last := time.Now().UnixNano(), w.lastHandshake.Load()
		if (now-last < int64(handshakeLogEvery) && now >= last) || !w.lastHandshake.CompareAndSwap(last, now) { // a last time ahead: the clock went back
			return len(p), nil
		}
		msg += " (the next in " + handshakeLogEvery.String() + " are not said)"
	}
	w.log.Warn(msg)
	return len(p), nil
}
