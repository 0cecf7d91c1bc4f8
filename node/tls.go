package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// peerTLS is the node's mutual TLS between peers: its certificate, and the
// federation's CA that signs every member's.
type peerTLS struct {
	cert  tls.Certificate
	pool  *x509.CertPool
	names []string // the names the certificate is valid for
}

// loadTLS reads --tls-cert, --tls-key and --tls-ca; nil when none is set.
func loadTLS(cfg Config) (*peerTLS, error) {
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
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert and --tls-key: %w", err)
	}
	caPEM, err := os.ReadFile(cfg.TLSCA)
	if err != nil {
		return nil, fmt.Errorf("--tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", cfg.TLSCA)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("--tls-cert: %w", err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("--tls-cert is not signed by --tls-ca: %w", err)
	}
	t := &peerTLS{cert: cert, pool: pool, names: leaf.DNSNames}
	for _, ip := range leaf.IPAddresses {
		t.names = append(t.names, ip.String())
	}
	if len(t.names) == 0 {
		return nil, fmt.Errorf("--tls-cert names no host (no DNS or IP subject alternative name): peers could not check it")
	}
	return t, nil
}

// server is the gRPC server's TLS: any client may connect (the public API
// stays open to all), and a client certificate, when given, must be signed
// by the federation's CA; peer calls need one (see requirePeerCert).
func (t *peerTLS) server() credentials.TransportCredentials {
	return credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{t.cert},
		ClientCAs:    t.pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS13,
	})
}

// client is the TLS of calls to peers, and of the gateway's calls to its
// own node: it presents the node's certificate and checks the other's
// against the federation's CA. serverName, when set, is the name to check
// instead of the address's host.
func (t *peerTLS) client(serverName string) credentials.TransportCredentials {
	return credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{t.cert},
		RootCAs:      t.pool,
		ServerName:   serverName,
		MinVersion:   tls.VersionTLS13,
	})
}

// peerMethods are the calls only peers may make when TLS is on.
func peerMethods() map[string]bool {
	svc := "/" + federationv1.FederationService_ServiceDesc.ServiceName + "/"
	return map[string]bool{svc + "Pull": true, svc + "GetDigests": true}
}

// errNoPeerCert refuses a peer call without a verified client certificate.
var errNoPeerCert = status.Error(codes.Unauthenticated, "peer calls need a client certificate signed by the federation's CA (mutual TLS)")

func hasVerifiedCert(ctx context.Context) bool {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	return ok && len(info.State.VerifiedChains) > 0
}

// requirePeerCert makes peer calls need a verified client certificate.
func requirePeerCert() (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	methods := peerMethods()
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if methods[info.FullMethod] && !hasVerifiedCert(ctx) {
			return nil, errNoPeerCert
		}
		return handler(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if methods[info.FullMethod] && !hasVerifiedCert(ss.Context()) {
			return errNoPeerCert
		}
		return handler(srv, ss)
	}
	return unary, stream
}

// describe names the certificate's names, for logs.
func (t *peerTLS) describe() string { return strings.Join(t.names, ",") }
