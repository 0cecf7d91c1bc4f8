package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigErrorsQuoteNoGossipKey: a config file holding the
// federation's gossip key, with a mistake on another line, is refused,
// and the refusal (printed on stderr, the node's log under systemd) must
// not quote the key: anyone who reads the log could then read gossip.
// Nor the password of a harvest's location.
func TestConfigErrorsQuoteNoGossipKey(t *testing.T) {
	const key = "c2VjcmV0LWdvc3NpcC1rZXktMDEyMzQ1Njc4OWFiY2Q="
	for what, text := range map[string]string{
		"a list not closed":     "origin: fr\ngossip-key: " + key + "\njoin: [10.0.0.1:7946\n",
		"a tab for an indent":   "origin: fr\ngossip-key: " + key + "\nharvests:\n\t- location: x\n",
		"a mapping for a value": "origin: fr\ngossip-key: {" + key + ": 1}\n",
		"a key twice":           "gossip-key: " + key + "\ngossip-key: " + key + "\n",
		"a bad value after it":  "gossip-key: " + key + "\nhttp-addr: \"unclosed\n",
		// A harvest location's password, which the README says appears
		// nowhere but in the fetch.
		"a harvest after a private one": "harvests:\n  - location: https://harvester:s3cr3t@git.example.org/city/catalog.git\n    interval: 6h\n  - location: [x\n",
	} {
		file := filepath.Join(t.TempDir(), "ogpnode.yaml")
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard)
		if err == nil {
			t.Errorf("%s: accepted", what)
			continue
		}
		if strings.Contains(err.Error(), key) || strings.Contains(err.Error(), key[:20]) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the refusal quotes a secret of the file:\n%v", what, err)
		}
	}
}
