package harvest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCloneGetsNoSecretsOfTheNode: a node given its admin token and gossip
// key in its environment (OGPNODE_ADMIN_TOKEN, OGPNODE_GOSSIP_KEY, as the
// README offers) harvests a git repository: git, and the helpers it starts
// (git-remote-https, ssh, a credential helper), need neither. They got the
// node's whole environment.
func TestCloneGetsNoSecretsOfTheNode(t *testing.T) {
	bin := t.TempDir()
	seen := filepath.Join(t.TempDir(), "env")
	script := "#!/bin/sh\nenv >> '" + seen + "'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("OGPNODE_ADMIN_TOKEN", "admin-token-of-the-node-0123456789")
	t.Setenv("OGPNODE_GOSSIP_KEY", "c2VjcmV0LWdvc3NpcC1rZXktMDEyMzQ1Njc4OWFiY2Q=")
	src, err := Source{Kind: KindPubliccode, Location: "https://git.example.org/city/catalog.git"}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	Read(context.Background(), src, ReadOptions{HTTPTimeout: 10 * time.Second})
	b, err := os.ReadFile(seen)
	if err != nil {
		t.Fatalf("git was not run: %v", err)
	}
	for _, secret := range []string{"admin-token-of-the-node-0123456789", "c2VjcmV0LWdvc3NpcC1rZXktMDEyMzQ1Njc4OWFiY2Q="} {
		if strings.Contains(string(b), secret) {
			t.Errorf("git's environment holds a secret of the node: %s", secret[:12]+"…")
		}
	}
}
