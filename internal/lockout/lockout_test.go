package lockout

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// TestGuard: an address's first wrong tokens are free; each next one
// locks it out twice as long, up to 15 minutes; a right one forgets them;
// the others addresses are not locked out; and the addresses remembered
// are bounded.
func TestGuard(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	g := New(func() time.Time { return now })
	for range FreeFailures {
		if wait := g.Failed("192.0.2.1"); wait != 0 {
			t.Fatalf("a free failure locked out for %v", wait)
		}
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if wait := g.Failed("192.0.2.1"); wait != want {
			t.Errorf("failure %d past the free ones: locked out for %v, want %v", i+1, wait, want)
		}
	}
	if wait := g.LockedOut("192.0.2.1"); wait != 4*time.Second {
		t.Errorf("locked out for %v, want 4s", wait)
	}
	if wait := g.LockedOut("192.0.2.2"); wait != 0 {
		t.Errorf("another address locked out for %v", wait)
	}
	now = now.Add(4 * time.Second)
	if wait := g.LockedOut("192.0.2.1"); wait != 0 {
		t.Errorf("locked out for %v once the lockout passed", wait)
	}
	for range 30 {
		g.Failed("192.0.2.1")
	}
	if wait := g.LockedOut("192.0.2.1"); wait != MaxLockout {
		t.Errorf("after many failures: locked out for %v, want %v", wait, MaxLockout)
	}
	g.Succeeded("192.0.2.1")
	if wait := g.LockedOut("192.0.2.1"); wait != 0 {
		t.Errorf("after a right token: locked out for %v", wait)
	}
	for i := range maxAddrs + 10 {
		g.Failed(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := len(g.addrs); n > maxAddrs {
		t.Errorf("%d addresses remembered, more than %d", n, maxAddrs)
	}
}

// TestClientAddr: a request's address is its connection's, unless that is
// a reverse proxy the operator trusts, whose X-Forwarded-For then says
// whom it forwards: the last address there; an IPv6 address counts by its
// /64 (a guesser that took a new address of its /64 at each guess was
// counted afresh each time, and never locked out).
func TestClientAddr(t *testing.T) {
	trusted := Proxies([]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")})
	for _, tc := range []struct {
		remote  string
		fwd     []string
		trusted func(net.IP) bool
		want    string
	}{
		{"203.0.113.7:51234", nil, trusted, "203.0.113.7"},
		{"203.0.113.7:51234", []string{"198.51.100.1"}, trusted, "203.0.113.7"}, // anyone's word, not a trusted proxy
		{"127.0.0.1:51234", []string{"198.51.100.1"}, nil, "127.0.0.1"},         // no proxy trusted: a tunnel beside the node passes anyone's word
		{"127.0.0.1:51234", []string{"198.51.100.1"}, trusted, "198.51.100.1"},
		{"[::1]:51234", []string{"10.0.0.1, 198.51.100.1:4711"}, trusted, "198.51.100.1"},
		{"127.0.0.1:51234", nil, trusted, "127.0.0.1"},
		{"127.0.0.1", []string{""}, trusted, "127.0.0.1"},
		// An IPv6 host picks any address of its /64: counted by it.
		{"[2001:db8:1:2::7]:51234", nil, trusted, "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:51234", nil, trusted, "2001:db8:1:2::/64"},
		{"[::1]:51234", []string{"2001:db8::7"}, trusted, "2001:db8::/64"},
		{"[::ffff:203.0.113.7]:51234", nil, trusted, "203.0.113.7"}, // IPv4, written as IPv6
		{"[::1]:51234", []string{"[2001:db8::7]"}, trusted, "2001:db8::/64"},
		// A proxy reached over a link-local address, its zone given.
		{"[fe80::1%eth0]:443", []string{"2001:db8::7"}, Proxies([]net.IP{net.ParseIP("fe80::1")}), "2001:db8::/64"},
		{"[fe80::1%eth0]:443", []string{"2001:db8::7"}, nil, "fe80::/64"},
	} {
		if got := ClientAddr(tc.remote, tc.fwd, tc.trusted); got != tc.want {
			t.Errorf("ClientAddr(%q, %q) = %q, want %q", tc.remote, tc.fwd, got, tc.want)
		}
	}
}
