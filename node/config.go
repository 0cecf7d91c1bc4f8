package node

import (
	"fmt"
	"net"
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
	// GossipAddr is where federation gossip is to listen. This release runs
	// one node alone and only checks the address.
	GossipAddr string
	// AdminToken authorizes writes, unless AdminTokenFile is set.
	AdminToken string
	// AdminTokenFile holds the admin token.
	AdminTokenFile string
	// MaxRequestBytes bounds a request's body.
	MaxRequestBytes int
	// Version is reported by GetNodeInfo.
	Version string
}

// DefaultConfig returns the defaults of the design's contract.
func DefaultConfig() Config {
	return Config{
		Origin:          "local",
		DataDir:         "ogpnode-data",
		HTTPAddr:        "127.0.0.1:8080",
		GRPCAddr:        "127.0.0.1:7400",
		GossipAddr:      "127.0.0.1:7946",
		MaxRequestBytes: 1 << 20,
		Version:         "dev",
	}
}

func (c Config) check() error {
	for _, a := range []struct{ name, addr string }{
		{"http-addr", c.HTTPAddr}, {"grpc-addr", c.GRPCAddr}, {"gossip-addr", c.GossipAddr},
	} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("--%s %q: want host:port: %w", a.name, a.addr, err)
		}
	}
	if c.DataDir == "" {
		return fmt.Errorf("--data: no data folder")
	}
	if c.MaxRequestBytes <= 0 {
		return fmt.Errorf("max request size %d is not positive", c.MaxRequestBytes)
	}
	return nil
}
