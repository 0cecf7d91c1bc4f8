package storage

import (
	"context"
	"fmt"
)

// Peer is a member of the federation as last seen.
type Peer struct {
	Origin     string
	GossipAddr string
	GRPCAddr   string
}

// SavePeer remembers a member, replacing what was known of its origin.
func (s *Store) SavePeer(ctx context.Context, p Peer) error {
	if err := s.writeLock.lock(ctx); err != nil {
		return fmt.Errorf("save peer %s: wait for the writes before: %w", p.Origin, err)
	}
	defer s.writeLock.Unlock()
	_, err := s.writer.ExecContext(ctx, `INSERT INTO peers (origin, gossip_addr, grpc_addr, seen_time) VALUES (?, ?, ?, ?)
		ON CONFLICT (origin) DO UPDATE SET gossip_addr = excluded.gossip_addr, grpc_addr = excluded.grpc_addr, seen_time = excluded.seen_time`,
		p.Origin, p.GossipAddr, p.GRPCAddr, s.now().UnixMicro())
	if err != nil {
		return fmt.Errorf("save peer %s: %w", p.Origin, err)
	}
	s.checkpoints.committed()
	return nil
}

// Peers returns the members remembered, most recently seen first.
func (s *Store) Peers(ctx context.Context) ([]Peer, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT origin, gossip_addr, grpc_addr FROM peers ORDER BY seen_time DESC")
	if err != nil {
		return nil, fmt.Errorf("read peers: %w", err)
	}
	defer rows.Close()
	var out []Peer
	for rows.Next() {
		var p Peer
		if err := rows.Scan(&p.Origin, &p.GossipAddr, &p.GRPCAddr); err != nil {
			return nil, fmt.Errorf("read peers: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read peers: %w", err)
	}
	return out, nil
}

// ResetWatermark sets the catalog's watermark for origin back to 0, so
// that the next pull asks a peer for all of its records (applying changes
// only those missing or older): the repair of a divergence found by
// comparing digests. The node's own origin is never reset.
func (s *Store) ResetWatermark(ctx context.Context, origin string) error {
	if origin == s.origin {
		return fmt.Errorf("reset watermark: %s is this node's own origin", origin)
	}
	if err := s.writeLock.lock(ctx); err != nil {
		return fmt.Errorf("reset watermark of %s: wait for the writes before: %w", origin, err)
	}
	defer s.writeLock.Unlock()
	if _, err := s.writer.ExecContext(ctx, "UPDATE origins SET head_seq = 0 WHERE origin = ?", origin); err != nil {
		return fmt.Errorf("reset watermark of %s: %w", origin, err)
	}
	s.checkpoints.committed()
	return nil
}
