package web

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// signInGuard slows down guessing the admin token through the sign-in
// form: past freeSignInFailures wrong tokens from one address, each wrong
// one locks it out for twice as long as the one before (from a second up
// to maxSignInLockout), and a right one ends it. An operator may choose a
// token of 16 characters a person can type; nothing slowed guessing it,
// and each wrong guess wrote a warning in the log.
type signInGuard struct {
	mu    sync.Mutex
	now   func() time.Time
	addrs map[string]*signInFailures
}

type signInFailures struct {
	count int
	until time.Time // locked out until then
	last  time.Time
}

const (
	freeSignInFailures = 5
	maxSignInLockout   = 15 * time.Minute
	// maxGuardedAddrs bounds the addresses the guard remembers; past it,
	// those of no failure for maxSignInLockout are forgotten, then the
	// oldest.
	maxGuardedAddrs = 10_000
)

func newSignInGuard(now func() time.Time) *signInGuard {
	return &signInGuard{now: now, addrs: map[string]*signInFailures{}}
}

// signInAddr is the address a sign-in comes from, without its port.
func signInAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// lockedOut is how long addr must wait before its next try, 0 for none.
func (g *signInGuard) lockedOut(addr string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.addrs[addr]
	if f == nil {
		return 0
	}
	return max(f.until.Sub(g.now()), 0)
}

// failed counts a wrong token from addr, and returns the lockout it now
// has (0 within the free failures).
func (g *signInGuard) failed(addr string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	f := g.addrs[addr]
	if f == nil {
		g.makeRoomLocked(now)
		f = &signInFailures{}
		g.addrs[addr] = f
	}
	f.count++
	f.last = now
	if f.count <= freeSignInFailures {
		return 0
	}
	lockout := min(time.Second<<min(f.count-freeSignInFailures-1, 20), maxSignInLockout)
	f.until = now.Add(lockout)
	return lockout
}

// succeeded forgets addr's failures.
func (g *signInGuard) succeeded(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.addrs, addr)
}

func (g *signInGuard) makeRoomLocked(now time.Time) {
	if len(g.addrs) < maxGuardedAddrs {
		return
	}
	var oldest string
	for addr, f := range g.addrs {
		if now.Sub(f.last) > maxSignInLockout {
			delete(g.addrs, addr)
		} else if oldest == "" || f.last.Before(g.addrs[oldest].last) {
			oldest = addr
		}
	}
	if len(g.addrs) >= maxGuardedAddrs {
		delete(g.addrs, oldest)
	}
}
