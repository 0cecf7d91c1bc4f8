package node

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ogptoolbox/federation/envelope"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

// Keepalive settings that peers' clients and servers agree on: a client
// pings every peerPing, no more often than the server permits (minPing).
const (
	peerPing = 30 * time.Second
	minPing  = 20 * time.Second
)

// gossipKeyring is the federation's gossip keys as the configuration gives
// them: the one gossip is encrypted with, and the others it is decrypted
// with too, during a rotation.
type gossipKeyring struct {
	primary []byte
	others  [][]byte
}

// gossipKeys reads the federation's gossip keys from the configuration: no
// primary key when there is none. Keys are separated by commas or lines.
func gossipKeys(cfg Config) (gossipKeyring, error) {
	text, source := cfg.GossipKey, "--gossip-key"
	if cfg.GossipKeyFile != "" {
		b, err := os.ReadFile(cfg.GossipKeyFile)
		if err != nil {
			return gossipKeyring{}, fmt.Errorf("--gossip-key-file: %w", err)
		}
		text, source = string(b), "--gossip-key-file "+cfg.GossipKeyFile
	}
	var keys [][]byte
	for i, field := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '\n' }) {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(field)
		if err != nil {
			return gossipKeyring{}, fmt.Errorf("%s: key %d: not base64: %w", source, i+1, err)
		}
		if n := len(key); n != 16 && n != 24 && n != 32 {
			return gossipKeyring{}, fmt.Errorf("%s: key %d is %d bytes; want 16, 24 or 32 (as from `head -c 32 /dev/urandom | base64`)", source, i+1, n)
		}
		keys = append(keys, key)
	}
	switch {
	case len(keys) == 0 && cfg.GossipKeyFile != "":
		// A file left empty (a secret not written yet, a pipe that
		// failed) would turn the encryption asked for off.
		return gossipKeyring{}, fmt.Errorf("%s: the file holds no key; want base64 of 16, 24 or 32 bytes (as from `head -c 32 /dev/urandom | base64`)", source)
	case len(keys) == 0:
		return gossipKeyring{}, nil
	}
	return gossipKeyring{primary: keys[0], others: keys[1:]}, nil
}

// decodeKey decodes a public key written in hex or in base64, which the
// lengths tell apart: 64 hex digits, 44 characters of base64 (43 without
// padding).
func decodeKey(s string) ([]byte, bool) {
	var key []byte
	var err error
	switch len(s) {
	case 2 * ed25519.PublicKeySize:
		key, err = hex.DecodeString(s)
	case base64.StdEncoding.EncodedLen(ed25519.PublicKeySize):
		if key, err = base64.StdEncoding.DecodeString(s); err != nil {
			key, err = base64.URLEncoding.DecodeString(s)
		}
	case base64.RawStdEncoding.EncodedLen(ed25519.PublicKeySize):
		if key, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			key, err = base64.RawURLEncoding.DecodeString(s)
		}
	default:
		return nil, false
	}
	return key, err == nil && len(key) == ed25519.PublicKeySize
}

// readOriginKeys reads a file of origins' keys, the file of flag (--trust
// or --pin): a line per origin, its name and its public key in hex (as the
// node logs it at start and the federation page shows it) or in base64 (as
// GET /v1/node gives it), separated by spaces; # starts a comment.
func readOriginKeys(flag, path string) (map[string]ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	out := map[string]ed25519.PublicKey{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s %s:%d: want an origin and its key in hex or base64", flag, path, line)
		}
		origin, encoded := fields[0], fields[1]
		if !envelope.ValidOrigin(origin) {
			return nil, fmt.Errorf("%s %s:%d: %q is not an origin", flag, path, line, origin)
		}
		key, ok := decodeKey(encoded)
		if !ok {
			return nil, fmt.Errorf("%s %s:%d: the key of %s is not 32 bytes in hex (64 digits) or base64 (44 characters)", flag, path, line, origin)
		}
		if err := envelope.CheckPublicKey(key); err != nil {
			return nil, fmt.Errorf("%s %s:%d: the key of %s: %w", flag, path, line, origin, err)
		}
		if _, dup := out[origin]; dup {
			return nil, fmt.Errorf("%s %s:%d: %s is listed twice", flag, path, line, origin)
		}
		out[origin] = key
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s %s: lists no origin", flag, path)
	}
	return out, nil
}

// readTrust reads a --trust file (see readOriginKeys).
func readTrust(path string) (map[string]ed25519.PublicKey, error) {
	return readOriginKeys("--trust", path)
}

// dialPeer opens a client connection to a peer's gRPC address, over mutual
// TLS when it is on.
func (n *Node) dialPeer(addr string) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if n.tls != nil {
		unary, stream := n.tls.recheckServer()
		opts = []grpc.DialOption{grpc.WithTransportCredentials(n.tls.client()),
			grpc.WithChainUnaryInterceptor(unary), grpc.WithChainStreamInterceptor(stream)}
	}
	return grpc.NewClient(addr, append(opts,
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: peerPing, Timeout: 10 * time.Second, PermitWithoutStream: true}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxPeerMessageBytes)))...)
}

// maxPeerMessageBytes bounds a message from a peer: a page ends once its
// records pass storage.MaxPageBytes (4 MiB), so it is that and one record,
// and the largest tool the API takes (a hundred languages of long
// descriptions and features) is about 12 MB. A peer's message decodes to
// several times its size (30 at most, see storage's bound on a record's
// messages), and a pull holds a few at once: 64 MiB let one page take
// gigabytes.
const maxPeerMessageBytes = storage.MaxPageBytes + 16<<20
