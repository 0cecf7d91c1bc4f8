package storage

import (
	"context"
	"testing"
)

// TestPeersRemembered checks that members saved are read back most
// recently saved first, each with when it was saved, and that a member
// forgotten is read back no more.
func TestPeersRemembered(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t) // its clock starts in 2026 and moves at each reading
	for _, o := range []string{"de", "es", "it"} {
		if err := s.SavePeer(ctx, Peer{Origin: o, GossipAddr: o + ".example.org:7946", GRPCAddr: o + ".example.org:7400"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ForgetPeer(ctx, "es"); err != nil {
		t.Fatal(err)
	}
	peers, err := s.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 2 || peers[0].Origin != "it" || peers[1].Origin != "de" {
		t.Fatalf("peers %+v, want it then de", peers)
	}
	if de, it := peers[1].SeenTime, peers[0].SeenTime; de.Year() != 2026 || !it.After(de) {
		t.Errorf("saved at %v (de) and %v (it): want the test clock's times, it after de", de, it)
	}
	if peers[1].GossipAddr != "de.example.org:7946" || peers[1].GRPCAddr != "de.example.org:7400" {
		t.Errorf("de read back as %+v", peers[1])
	}
}
