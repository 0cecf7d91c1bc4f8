package sync

import (
	"context"
	"errors"
	"fmt"
	"net"
	gosync "sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/ogptoolbox/federation/storage"
)

// testNetwork cuts gossip between groups of nodes: a wrapped transport
// drops the packets and refuses the connections that cross a cut. (gRPC
// pulls go only to members gossip finds alive, so a cut in gossip cuts
// replication too.)
type testNetwork struct {
	mu     gosync.Mutex
	group  map[string]int // gossip address → group
	cut    bool
	byName map[string]*cutTransport
}

func newTestNetwork() *testNetwork {
	return &testNetwork{group: map[string]int{}, byName: map[string]*cutTransport{}}
}

// wrap returns the transport wrapper of the node origin (nil when tn is).
func (tn *testNetwork) wrap(origin string) func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
	if tn == nil {
		return nil
	}
	return func(t memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
		ct := &cutTransport{NodeAwareTransport: t, net: tn, packets: make(chan *memberlist.Packet)}
		tn.mu.Lock()
		tn.byName[origin] = ct
		tn.mu.Unlock()
		go ct.filterPackets()
		return ct
	}
}

// split puts each node in a group, and cuts between groups.
func (tn *testNetwork) split(groups ...[]*testNode) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	for g, nodes := range groups {
		for _, n := range nodes {
			tn.group[n.repl.GossipAddr()] = g
		}
	}
	tn.cut = true
}

func (tn *testNetwork) heal() {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	tn.cut = false
}

func (tn *testNetwork) blocked(from, to string) bool {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	gf, okf := tn.group[from]
	gt, okt := tn.group[to]
	return tn.cut && okf && okt && gf != gt
}

type cutTransport struct {
	memberlist.NodeAwareTransport
	net     *testNetwork
	packets chan *memberlist.Packet
	once    gosync.Once
	self    string
}

func (c *cutTransport) selfAddr() string {
	c.once.Do(func() {
		ip, port, _ := c.FinalAdvertiseAddr("", 0)
		c.self = net.JoinHostPort(ip.String(), fmt.Sprint(port))
	})
	return c.self
}

func (c *cutTransport) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	if c.net.blocked(c.selfAddr(), addr.Addr) {
		return time.Now(), nil // lost on the way
	}
	return c.NodeAwareTransport.WriteToAddress(b, addr)
}

func (c *cutTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return c.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (c *cutTransport) DialAddressTimeout(addr memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if c.net.blocked(c.selfAddr(), addr.Addr) {
		return nil, errors.New("network cut")
	}
	return c.NodeAwareTransport.DialAddressTimeout(addr, timeout)
}

func (c *cutTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return c.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

func (c *cutTransport) PacketCh() <-chan *memberlist.Packet { return c.packets }

func (c *cutTransport) filterPackets() {
	for p := range c.NodeAwareTransport.PacketCh() {
		if !c.net.blocked(p.From.String(), c.selfAddr()) {
			c.packets <- p
		}
	}
}

// TestPartitionHeals splits a cluster in two halves that keep writing,
// then heals the split: every node ends with every record.
func TestPartitionHeals(t *testing.T) {
	tn := newTestNetwork()
	nodes := startCluster(t, 6, clusterOpts{net: tn})
	writeTools(t, nodes[0], "before", 5)
	waitFor(t, 30*time.Second, "convergence before the split", func() bool { return converged(t, nodes, 1) })

	left, right := nodes[:3], nodes[3:]
	tn.split(left, right)
	sees := func(n *testNode, others []*testNode, alive bool) bool {
		state := map[string]bool{}
		for _, p := range n.repl.Peers() {
			state[p.Origin] = p.Alive
		}
		for _, o := range others {
			if state[o.origin] != alive {
				return false
			}
		}
		return true
	}
	waitFor(t, 60*time.Second, "each half finds the other gone", func() bool {
		for _, n := range left {
			if !sees(n, right, false) {
				return false
			}
		}
		for _, n := range right {
			if !sees(n, left, false) {
				return false
			}
		}
		return true
	})
	writeTools(t, left[1], "left", 10)
	writeTools(t, right[2], "right", 10)
	waitFor(t, 30*time.Second, "each half converges on its own", func() bool {
		return converged(t, left, 2) && converged(t, right, 2)
	})
	if _, err := right[0].store.Get(context.Background(), storage.KindTool, left[1].origin, "left-0"); err == nil {
		t.Fatal("a record crossed the split")
	}

	tn.heal()
	waitFor(t, 60*time.Second, "every node holds every record after the split heals", func() bool { return converged(t, nodes, 3) })
}
