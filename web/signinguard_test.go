package web

import (
	"fmt"
	"testing"
	"time"
)

// TestSignInGuard: an address's first wrong tokens are free; each next one
// locks it out twice as long, up to 15 minutes; a right one forgets them;
// the others addresses are not locked out; and the addresses remembered
// are bounded.
func TestSignInGuard(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	g := newSignInGuard(func() time.Time { return now })
	for range freeSignInFailures {
		if wait := g.failed("192.0.2.1"); wait != 0 {
			t.Fatalf("a free failure locked out for %v", wait)
		}
	}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if wait := g.failed("192.0.2.1"); wait != want {
			t.Errorf("failure %d past the free ones: locked out for %v, want %v", i+1, wait, want)
		}
	}
	if wait := g.lockedOut("192.0.2.1"); wait != 4*time.Second {
		t.Errorf("locked out for %v, want 4s", wait)
	}
	if wait := g.lockedOut("192.0.2.2"); wait != 0 {
		t.Errorf("another address locked out for %v", wait)
	}
	now = now.Add(4 * time.Second)
	if wait := g.lockedOut("192.0.2.1"); wait != 0 {
		t.Errorf("locked out for %v once the lockout passed", wait)
	}
	for range 30 {
		g.failed("192.0.2.1")
	}
	if wait := g.lockedOut("192.0.2.1"); wait != maxSignInLockout {
		t.Errorf("after many failures: locked out for %v, want %v", wait, maxSignInLockout)
	}
	g.succeeded("192.0.2.1")
	if wait := g.lockedOut("192.0.2.1"); wait != 0 {
		t.Errorf("after a right token: locked out for %v", wait)
	}
	for i := range maxGuardedAddrs + 10 {
		g.failed(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if n := len(g.addrs); n > maxGuardedAddrs {
		t.Errorf("%d addresses remembered, more than %d", n, maxGuardedAddrs)
	}
}
