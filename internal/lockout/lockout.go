// Package lockout slows down guessing the node's admin token, which the
// web pages' sign-in form and the API's writes take: past a few wrong
// tokens from one address (an IPv6 one by its /64), each wrong one locks
// the address out twice as long as the one before. An operator may choose a token of 16 characters
// a person can type; nothing slowed guessing it.
package lockout

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// A Guard counts each address's wrong tokens: past freeFailures, each
// wrong one locks the address out for twice as long as the one before
// (from a second up to MaxLockout), and a right one ends it. It is safe
// for use by several goroutines.
type Guard struct {
	mu    sync.Mutex
	now   func() time.Time
	addrs map[string]*failures
}

type failures struct {
	count int
	until time.Time // locked out until then
	last  time.Time
}

const (
	// FreeFailures are the wrong tokens an address may give before the
	// next locks it out.
	FreeFailures = 5
	// MaxLockout is the longest an address is locked out.
	MaxLockout = 15 * time.Minute
	// maxAddrs bounds the addresses a guard remembers; past it, those of
	// no failure for MaxLockout are forgotten, then the oldest.
	maxAddrs = 10_000
)

// New makes a guard of the clock now (time.Now when nil).
func New(now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{now: now, addrs: map[string]*failures{}}
}

// LockedOut is how long addr must wait before its next try, 0 for none.
func (g *Guard) LockedOut(addr string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.addrs[addr]
	if f == nil {
		return 0
	}
	return max(f.until.Sub(g.now()), 0)
}

// Failed counts a wrong token from addr, and returns the lockout it now
// has (0 within the free failures).
func (g *Guard) Failed(addr string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	f := g.addrs[addr]
	if f == nil {
		g.makeRoomLocked(now)
		f = &failures{}
		g.addrs[addr] = f
	}
	f.count++
	f.last = now
	if f.count <= FreeFailures {
		return 0
	}
	lockout := min(time.Second<<min(f.count-FreeFailures-1, 20), MaxLockout)
	f.until = now.Add(lockout)
	return lockout
}

// Succeeded forgets addr's failures.
func (g *Guard) Succeeded(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.addrs, addr)
}

func (g *Guard) makeRoomLocked(now time.Time) {
	if len(g.addrs) < maxAddrs {
		return
	}
	var oldest string
	for addr, f := range g.addrs {
		if now.Sub(f.last) > MaxLockout {
			delete(g.addrs, addr)
		} else if oldest == "" || f.last.Before(g.addrs[oldest].last) {
			oldest = addr
		}
	}
	if len(g.addrs) >= maxAddrs {
		delete(g.addrs, oldest)
	}
}

// ClientAddr is what a guard counts a request's tokens by (see countedAs):
// its connection's address (remote, without its port), unless that is a
// reverse proxy the operator trusts (trusted), which says in
// X-Forwarded-For (forwardedFor, the header's values) whom it forwards: the
// last address there. Behind a proxy, every reader came from its address,
// and six wrong tokens of anyone's locked the point of contact out; but the
// header is anyone's to write, and believed of any peer (a tunnel on the
// node's machine passes on what the stranger wrote) it let a guesser name
// itself anew at each guess.
func ClientAddr(remote string, forwardedFor []string, trusted func(ip net.IP) bool) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		remote = host
	}
	ip, err := netip.ParseAddr(remote)
	if err != nil || trusted == nil || !trusted(net.IP(ip.WithZone("").AsSlice())) {
		return countedAs(remote)
	}
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		parts := strings.Split(forwardedFor[i], ",")
		if last := strings.TrimSpace(parts[len(parts)-1]); last != "" {
			if host, _, err := net.SplitHostPort(last); err == nil {
				last = host // a proxy that gives the port too
			}
			return countedAs(last)
		}
	}
	return countedAs(remote)
}

// countedAs is the key of an address in a guard: an IPv4 address as it
// is, and an IPv6 one by its /64, the least a host is given, of which it
// picks any address: counted each apart, a guesser had five tries an
// address, a number without end. A zone is dropped, and an IPv4 address
// written as IPv6 (::ffff:192.0.2.1) counts as itself. What is no address
// counts as written.
func countedAs(addr string) string {
	if inner, ok := strings.CutPrefix(addr, "["); ok {
		addr = strings.TrimSuffix(inner, "]") // an IPv6 address a proxy bracketed, without a port
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		return ip.String()
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}

// ParseProxy reads the address of a reverse proxy to trust: an IP
// address, with a zone or not (fe80::1%eth0, for a proxy reached over a
// link-local address), which ClientAddr compares without it.
func ParseProxy(s string) (net.IP, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IP address", s)
	}
	return net.IP(ip.WithZone("").AsSlice()), nil
}

// Proxies is the set of addresses ClientAddr trusts as reverse proxies.
func Proxies(addrs []net.IP) func(ip net.IP) bool {
	return func(ip net.IP) bool {
		for _, a := range addrs {
			if a.Equal(ip) {
				return true
			}
		}
		return false
	}
}
