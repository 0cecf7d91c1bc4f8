package node

import (
	"strings"
	"testing"
)

// TestIPv6SettingsSaidAsWritten: IPv6 addresses as operators write them.
// An advertised address in brackets, or with a zone, was refused as if it
// held a port; a trusted proxy reached over a link-local address, given
// with its zone, was refused as no IP address.
func TestIPv6SettingsSaidAsWritten(t *testing.T) {
	for _, tc := range []struct{ advertise, want string }{
		{"[fd00::1]", "without brackets (fd00::1)"},
		{"fe80::1%eth0", "with a zone (%eth0)"},
		{"fd00::1:7946:x", "want a host (an IP address or a name), without a port"},
		{"node-fr.example.org:7946", "want a host (an IP address or a name), without a port"},
	} {
		c := DefaultConfig()
		c.AdvertiseAddr = tc.advertise
		if err := c.check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--advertise-addr %s: %v, want it refused saying %q", tc.advertise, err, tc.want)
		}
	}
	for _, unspecified := range []string{"0.0.0.0", "::"} {
		c := DefaultConfig()
		c.AdvertiseAddr = unspecified
		if err := c.check(); err == nil || !strings.Contains(err.Error(), "every interface") {
			t.Errorf("--advertise-addr %s: %v, want it refused", unspecified, err)
		}
	}
	for _, ok := range []string{"fd00::1", "192.0.2.1", "node-fr.example.org"} {
		c := DefaultConfig()
		c.AdvertiseAddr = ok
		if err := c.check(); err != nil {
			t.Errorf("--advertise-addr %s: %v", ok, err)
		}
	}
	c := DefaultConfig()
	c.TrustedProxies = []string{"fe80::1%eth0", "::1", "127.0.0.1"}
	if err := c.check(); err != nil {
		t.Errorf("--trusted-proxies of a link-local address with its zone: %v", err)
	}
	c.TrustedProxies = []string{"proxy.example.org"}
	if err := c.check(); err == nil || !strings.Contains(err.Error(), "not an IP address") {
		t.Errorf("--trusted-proxies of a name: %v", err)
	}
}
