package node

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/ogptoolbox/federation/envelope"
	"github.com/ogptoolbox/federation/harvest"
	"github.com/ogptoolbox/federation/internal/lockout"
)

// Config is what a node is started with. DefaultConfig gives the contract's
// defaults: `ogpnode serve` with no flags is a working single node.
type Config struct {
	// Origin is the member this node speaks for ("fr", "fr-paris"). A data
	// folder belongs to the origin it was first started with.
	Origin string
	// DataDir holds the catalog, the node key and the admin token.
	DataDir string
	// HTTPAddr is where REST, /openapi.json, /healthz and /metrics listen.
	HTTPAddr string
	// GRPCAddr is where the gRPC API listens.
	GRPCAddr string
	// GossipAddr is where federation gossip listens.
	GossipAddr string
	// AdvertiseAddr, when set, is the host peers reach this node at, for
	// gossip and gRPC (behind NAT, or when listening on 0.0.0.0).
	AdvertiseAddr string
	// Join are gossip addresses (host:port) of members to join at start.
	Join []string
	// GossipKey is the federation's shared gossip key, base64 of 16, 24 or
	// 32 bytes, unless GossipKeyFile holds it (a line each). Without one
	// gossip is in the clear. Several keys, separated by commas (or lines
	// in the file), rotate the key: gossip is encrypted with the first and
	// decrypted with any of them.
	GossipKey     string
	GossipKeyFile string
	// GossipTimings is wan (the default), lan or local (tests).
	GossipTimings string
	// TLSCert, TLSKey and TLSCA turn on mutual TLS on the gRPC port: the
	// node's certificate and key, and the federation's CA.
	TLSCert, TLSKey, TLSCA string
	// HTTPTLSCert and HTTPTLSKey turn on HTTPS on the HTTP listener (REST,
	// the web pages, /metrics): its certificate and key, of a CA that
	// browsers and REST clients trust.
	HTTPTLSCert, HTTPTLSKey string
	// TrustFile, when set, lists the only origins whose records the node
	// accepts, each with its public key.
	TrustFile string
	// TrustedProxies are the addresses of reverse proxies in front of the
	// HTTP port whose X-Forwarded-For names the reader, for the count of
	// wrong admin tokens by address (see lockout.ClientAddr).
	TrustedProxies []string
	// PinFile, when set, lists origins, each with the public key to hold
	// it under in place of the one pinned (a member that lost its key and
	// made a new one), in the trust file's format; it refuses no origin.
	PinFile string
	// AdminToken authorizes writes, unless AdminTokenFile is set.
	AdminToken string
	// AdminTokenFile holds the admin token.
	AdminTokenFile string
	// MaxRequestBytes bounds a request's body.
	MaxRequestBytes int
	// MaxHarvestBytes bounds the body of a harvest import, which carries a
	// whole source.
	MaxHarvestBytes int
	// Harvests are the sources the node harvests itself, on a schedule.
	Harvests []harvest.Scheduled
	// Version is reported by GetNodeInfo.
	Version string
	// httpTimeouts bound the HTTP listener's connections; tests shorten
	// them.
	httpTimeouts httpTimeouts
}

// httpTimeouts bound how long an HTTP connection may stand idle, or
// stall, so that no client holds connections for ever: a request must be
// read within read, and answered within write, a harvest import within
// importTime (it may be --max-harvest-bytes, on a slow link); a
// keep-alive connection is closed after idle without a request. When the
// node stops, calls under way have grace to end.
type httpTimeouts struct {
	header, read, write, idle, importTime, grace time.Duration
}

var defaultHTTPTimeouts = httpTimeouts{
	header: 10 * time.Second, read: time.Minute, write: 2 * time.Minute, idle: 2 * time.Minute, importTime: 30 * time.Minute,
	grace: 10 * time.Second,
}

// DefaultConfig returns the defaults of the design's contract.
func DefaultConfig() Config {
	return Config{
		Origin:          "local",
		DataDir:         "ogpnode-data",
		HTTPAddr:        "127.0.0.1:8080",
		GRPCAddr:        "127.0.0.1:7400",
		GossipAddr:      "127.0.0.1:7946",
		GossipTimings:   "wan",
		MaxRequestBytes: 1 << 20,
		MaxHarvestBytes: 128 << 20,
		Version:         "dev",
		httpTimeouts:    defaultHTTPTimeouts,
	}
}

// checkOrigin refuses an origin that is not one.
func checkOrigin(origin string) error {
	if !envelope.ValidOrigin(origin) {
		return fmt.Errorf("--origin %q: want a lowercase country code with an optional -suffix, such as fr or fr-paris", origin)
	}
	return nil
}

func (c Config) check() error {
	// Checked here, before the data folder is touched: a start refused
	// for it creates neither key nor token.
	if err := checkOrigin(c.Origin); err != nil {
		return err
	}
	for _, a := range []struct{ name, addr string }{
		{"http-addr", c.HTTPAddr}, {"grpc-addr", c.GRPCAddr}, {"gossip-addr", c.GossipAddr},
	} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("--%s %q: want host:port: %w", a.name, a.addr, err)
		}
	}
	for _, a := range c.Join {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("--join %q: want host:port: %w", a, err)
		}
	}
	if ip := net.ParseIP(c.AdvertiseAddr); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("--advertise-addr %q: every interface, which no peer can reach: give the address peers reach this node at", c.AdvertiseAddr)
	}
	if host, _, err := net.SplitHostPort(c.GossipAddr); err == nil && c.AdvertiseAddr == "" {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() && ip.To4() == nil {
			// Checked before the data folder is made: gossip on "::"
			// has no address to announce (see sync.Start).
			return fmt.Errorf("--gossip-addr %q: every IPv6 interface, which gossip cannot announce: give --advertise-addr, the address peers reach this node at", c.GossipAddr)
		}
	}
	if a := c.AdvertiseAddr; strings.Contains(a, ":") && net.ParseIP(a) == nil {
		inner := strings.TrimSuffix(strings.TrimPrefix(a, "["), "]")
		switch ip, err := netip.ParseAddr(inner); {
		case err == nil && ip.Zone() != "":
			return fmt.Errorf("--advertise-addr %q: an address with a zone (%%%s), which gossip cannot announce: give an address of the machine that is not link-local", a, ip.Zone())
		case err == nil:
			return fmt.Errorf("--advertise-addr %q: write the address without brackets (%s): the flag takes a host, its ports are those of --gossip-addr and --grpc-addr", a, ip)
		case strings.HasPrefix(a, "["):
			return fmt.Errorf("--advertise-addr %q: not an IP address: want a host, without a port", a)
		default:
			return fmt.Errorf("--advertise-addr %q: want a host (an IP address or a name), without a port", a)
		}
	}
	switch c.GossipTimings {
	case "wan", "lan", "local":
	default:
		return fmt.Errorf("--gossip-timings %q: want wan, lan or local", c.GossipTimings)
	}
	if c.GossipKey != "" && c.GossipKeyFile != "" {
		return fmt.Errorf("--gossip-key and --gossip-key-file: give one of them")
	}
	if c.DataDir == "" {
		return fmt.Errorf("--data: no data folder")
	}
	for _, p := range c.TrustedProxies {
		if _, err := lockout.ParseProxy(p); err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
	}
	if c.MaxRequestBytes <= 0 {
		return fmt.Errorf("--max-request-bytes %d is not positive", c.MaxRequestBytes)
	}
	if c.MaxHarvestBytes < c.MaxRequestBytes {
		return fmt.Errorf("--max-harvest-bytes %d is smaller than --max-request-bytes %d", c.MaxHarvestBytes, c.MaxRequestBytes)
	}
	if _, _, err := harvest.CheckSchedule(c.Harvests); err != nil {
		return err
	}
	return nil
}
