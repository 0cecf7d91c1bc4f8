package storage

import (
	"context"
	"fmt"
	"time"
)

// Peer is a member of the federation as last seen.
type Peer struct {
	Origin     string
	GossipAddr string
	GRPCAddr   string
	// SeenTime is when the member was saved: when it last joined (Peers
	// sets it; SavePeer takes the store's clock).
	SeenTime time.Time
	// LastSync is when a pull from the member last succeeded (zero for
	// never), and Head the head it last announced, as the node last wrote
	// them: see SavePeerSync.
	LastSync time.Time
	Head     int64
}

// SavePeerSync remembers that a pull from the member of origin last
// succeeded at lastSync, and that it last announced head; nothing for a
// member not saved.
func (s *Store) SavePeerSync(ctx context.Context, origin string, lastSync time.Time, head int64) error {
	var synced int64 // never: 0, as Peers reads it
	if !lastSync.IsZero() {
		synced = lastSync.UnixMicro()
	}
	return s.writeOne(ctx, "save sync of peer "+origin, "UPDATE peers SET last_sync_time = ?, head_seq = ? WHERE origin = ?",
		synced, head, origin)
}

// SavePeer remembers a member, replacing what was known of its origin.
func (s *Store) SavePeer(ctx context.Context, p Peer) error {
	return s.writeOne(ctx, "save peer "+p.Origin, `INSERT INTO peers (origin, gossip_addr, grpc_addr, seen_time) VALUES (?, ?, ?, ?)
		ON CONFLICT (origin) DO UPDATE SET gossip_addr = excluded.gossip_addr, grpc_addr = excluded.grpc_addr, seen_time = excluded.seen_time`,
		p.Origin, p.GossipAddr, p.GRPCAddr, s.now().UnixMicro())
}

// writeOne runs one statement as a write of its own; what names it in
// errors.
func (s *Store) writeOne(ctx context.Context, what, query string, args ...any) error {
	if err := s.writeLock.lock(ctx); err != nil {
		return fmt.Errorf("%s: wait for the writes before: %w", what, err)
	}
	defer s.writeLock.Unlock()
	if err := s.execWrite(ctx, query, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	s.checkpoints.committed()
	return nil
}

// Peers returns the members remembered, most recently seen first.
func (s *Store) Peers(ctx context.Context) ([]Peer, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT origin, gossip_addr, grpc_addr, seen_time, last_sync_time, head_seq FROM peers ORDER BY seen_time DESC")
	if err != nil {
		return nil, fmt.Errorf("read peers: %w", err)
	}
	defer rows.Close()
	var out []Peer
	for rows.Next() {
		var p Peer
		var seen, synced int64
		if err := rows.Scan(&p.Origin, &p.GossipAddr, &p.GRPCAddr, &seen, &synced, &p.Head); err != nil {
			return nil, fmt.Errorf("read peers: %w", err)
		}
		p.SeenTime = time.UnixMicro(seen)
		if synced != 0 {
			p.LastSync = time.UnixMicro(synced)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read peers: %w", err)
	}
	return out, nil
}

// ForgetPeer forgets the member of origin: restarts no longer rejoin it.
func (s *Store) ForgetPeer(ctx context.Context, origin string) error {
	return s.writeOne(ctx, "forget peer "+origin, "DELETE FROM peers WHERE origin = ?", origin)
}

// ResetWatermark sets the catalog's watermark for origin back to 0, so
// that the next pull asks a peer for all of its records (applying changes
// only those missing or older): the repair of a divergence found by
// comparing digests. The node's own origin is never reset.
func (s *Store) ResetWatermark(ctx context.Context, origin string) error {
	if origin == s.origin {
		return fmt.Errorf("reset watermark: %s is this node's own origin", origin)
	}
	return s.writeOne(ctx, "reset watermark of "+origin, "UPDATE origins SET head_seq = 0 WHERE origin = ?", origin)
}
