package node

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/storage"
	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/protobuf/proto"
)

func TestReadTrust(t *testing.T) {
	dir := t.TempDir()
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	key := hex.EncodeToString(pub)
	zero := hex.EncodeToString(make([]byte, ed25519.PublicKeySize)) // a point of order 4
	write := func(text string) string {
		p := filepath.Join(dir, "trust")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := readTrust(write("# the federation\nfr " + key + "\n\nde-berlin " + key + " # a city\n"))
	if err != nil || len(got) != 2 || got["de-berlin"] == nil {
		t.Fatalf("a valid file: %v, %v", got, err)
	}
	// In base64 too, as GET /v1/node gives it, with or without padding.
	got, err = readTrust(write("fr " + base64.StdEncoding.EncodeToString(pub) + "\nes " + base64.RawURLEncoding.EncodeToString(pub) + "\n"))
	if err != nil || !got["fr"].Equal(pub) || !got["es"].Equal(pub) {
		t.Fatalf("keys in base64: %v, %v", got, err)
	}
	for _, tc := range []struct{ text, want string }{
		{"fr\n", ":1: want an origin and its key"},
		{"France " + key + "\n", `"France" is not an origin`},
		{"fr abcd\n", "not 32 bytes in hex (64 digits) or base64"},
		{"fr " + strings.Repeat("z", 64) + "\n", "not 32 bytes in hex"},
		{"fr " + strings.Repeat("!", 44) + "\n", "not 32 bytes in hex"},
		{"fr " + key + "\nfr " + key + "\n", ":2: fr is listed twice"},
		{"fr " + zero + "\n", "the key of fr: envelope: a public key of small order"},
		{"# nothing\n", "lists no origin"},
	} {
		if _, err := readTrust(write(tc.text)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.text, err, tc.want)
		}
	}
}

func TestGossipKey(t *testing.T) {
	for _, tc := range []struct {
		key   string
		sizes []int
		want  string
	}{
		{"", nil, ""},
		{"AAAAAAAAAAAAAAAAAAAAAA==", []int{16}, ""},
		{"AAAAAAAAAAAAAAAAAAAAAA==, AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", []int{16, 32}, ""}, // a rotation
		{"not base64!", nil, "not base64"},
		{"AAAA", nil, "3 bytes"},
		{"AAAAAAAAAAAAAAAAAAAAAA==,AAAA", nil, "key 2 is 3 bytes"},
	} {
		cfg := DefaultConfig()
		cfg.GossipKey = tc.key
		got, err := gossipKeys(cfg)
		if tc.want == "" && (err != nil || !slices.Equal(keySizes(got), tc.sizes)) {
			t.Errorf("%q: keys of %v bytes, %v; want %v", tc.key, keySizes(got), err, tc.sizes)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%q: %v, want an error with %q", tc.key, err, tc.want)
		}
	}

	// From a file, as `head -c 32 /dev/urandom | base64 > key` makes it.
	dir := t.TempDir()
	file := filepath.Join(dir, "gossip.key")
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	cfg := DefaultConfig()
	cfg.GossipKeyFile = file
	if got, err := gossipKeys(cfg); err != nil || !slices.Equal(keySizes(got), []int{32}) {
		t.Errorf("a key file: keys of %v bytes, %v; want 32", keySizes(got), err)
	}
	write("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nAAAAAAAAAAAAAAAAAAAAAA==\n")
	if got, err := gossipKeys(cfg); err != nil || !slices.Equal(keySizes(got), []int{32, 16}) {
		t.Errorf("a key file of two lines: keys of %v bytes, %v; want 32 then 16", keySizes(got), err)
	}
	// A file left empty asked for encryption all the same.
	for _, text := range []string{"", "\n", "  \t\n\n"} {
		write(text)
		if got, err := gossipKeys(cfg); err == nil || !strings.Contains(err.Error(), "--gossip-key-file") {
			t.Errorf("a key file of %q: keys of %v bytes, %v; want it refused, naming --gossip-key-file", text, keySizes(got), err)
		}
	}
	cfg.GossipKeyFile = filepath.Join(dir, "missing")
	if _, err := gossipKeys(cfg); err == nil || !strings.Contains(err.Error(), "--gossip-key-file") {
		t.Errorf("a missing key file: %v, want an error naming --gossip-key-file", err)
	}
}

// keySizes are the sizes of a keyring's keys, the primary first.
func keySizes(k gossipKeyring) []int {
	if k.primary == nil {
		return nil
	}
	sizes := []int{len(k.primary)}
	for _, o := range k.others {
		sizes = append(sizes, len(o))
	}
	return sizes
}

// TestKeepaliveAgreed holds the keepalive settings of peer clients and
// servers to each other: a client that pinged more often than servers
// permit would have its connections closed (GOAWAY "too_many_pings").
func TestKeepaliveAgreed(t *testing.T) {
	if peerPing < minPing {
		t.Errorf("peers ping every %v, servers permit no more often than every %v", peerPing, minPing)
	}
}

// TestLargestToolFitsAPeersMessage builds the largest tool the fields'
// bounds allow (every list full, every text at its longest, in characters
// of four bytes): a page holding it fits in the message a peer takes (a
// tool of a hundred contacts with e-mail addresses of 220 KB, which
// nothing bounded, took 22 MB, and no peer could pull it), and the API
// refuses it whole, past validate.MaxToolBytes, which a read or a page of a
// list of it would pass for a gRPC client's default message of 4 MiB.
func TestLargestToolFitsAPeersMessage(t *testing.T) {
	long := func(n int) string { return strings.Repeat("𝄞", n) }
	url := "https://example.org/" + strings.Repeat("a", 2048-len("https://example.org/"))
	tl := &catalogv1.Tool{DisplayName: long(200), Descriptions: map[string]*catalogv1.Description{},
		RepositoryUrl: url, LandingUrl: url, LogoUrl: url, SoftwareVersion: long(100), ReleaseDate: "2024-01-01",
		Maintenance: &catalogv1.Maintenance{Type: "community"}, Publisher: &catalogv1.Publisher{Name: long(300), Uri: url}}
	for i := range validate.MaxListItems {
		d := &catalogv1.Description{ShortDescription: long(150), LongDescription: long(10000), DocumentationUrl: url, ApiDocumentationUrl: url}
		for j := range 100 {
			d.Features = append(d.Features, fmt.Sprintf("%03d", j)+long(197))
		}
		tl.Descriptions[fmt.Sprintf("x-%03d", i)] = d
		tl.Maintenance.Contacts = append(tl.Maintenance.Contacts, &catalogv1.Contact{Name: long(300), Email: strings.Repeat("a", 254-len("@example.org")) + "@example.org", Phone: long(50), Affiliation: long(300)})
		tl.Maintenance.Contractors = append(tl.Maintenance.Contractors, &catalogv1.Contractor{Name: long(300), Website: url, Until: "2030-01-01"})
		tl.UsedBy = append(tl.UsedBy, fmt.Sprintf("%03d", i)+long(297))
		tl.Standards = append(tl.Standards, fmt.Sprintf("%03d", i)+long(197))
	}
	var v validate.Violations
	validate.Tool(&v, "tool", tl)
	if len(v.List) != 1 || v.List[0].Field != "tool" || !strings.Contains(v.List[0].Description, "bytes once encoded") {
		t.Fatalf("the API's violations of the largest tool: %v, want the tool's size alone", v.List[:min(3, len(v.List))])
	}
	if size := proto.Size(tl) + 4096; storage.MaxPageBytes+size > maxPeerMessageBytes { // the record's envelope, and its page's
		t.Errorf("the largest tool is %d bytes: a page of it takes %d, more than a peer takes (%d)", size, storage.MaxPageBytes+size, maxPeerMessageBytes)
	}
	// What the API takes: a list's page ends before 2 MiB, with a record
	// at least, and a qualification is a few kilobytes.
	if largest := max(maxPageBytes, validate.MaxToolBytes+64<<10); largest > 4<<20 {
		t.Errorf("a page of tools of the API may take %d bytes, more than a gRPC client's default 4 MiB", largest)
	}

	tl = validTool()
	tl.Maintenance = &catalogv1.Maintenance{Type: "community", Contacts: []*catalogv1.Contact{{Name: "Ana"}}}
	tl.Maintenance.Contacts[0].Email = strings.Repeat("a", 220_000) + "@example.org"
	v = validate.Violations{}
	validate.Tool(&v, "tool", tl)
	if len(v.List) != 1 || v.List[0].Field != "tool.maintenance.contacts[0].email" || len(v.List[0].Description) > 200 {
		t.Errorf("an e-mail address of 220 KB: %v", v.List)
	}
}

// TestGossipKeyRotated: the federation moves to a new gossip key member by
// member, as the README says: each first takes the new key besides the
// old one (old first: it still sends with the old), then sends with the
// new one (new first). Members at either step hear each other, and one
// that has not restarted yet.
func TestGossipKeyRotated(t *testing.T) {
	const oldKey, newKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc="
	keyFile := func(keys ...string) string {
		file := filepath.Join(t.TempDir(), "gossip.key")
		if err := os.WriteFile(file, []byte(strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	onKeys := func(origin string, join []string, keys ...string) func(*Config) {
		return func(c *Config) {
			c.Origin, c.GossipKeyFile, c.GossipTimings, c.Join = origin, keyFile(keys...), "local", join
		}
	}
	fr := startNode(t, onKeys("fr", nil, oldKey))                               // not restarted yet
	de := startNode(t, onKeys("de", []string{fr.GossipAddr()}, oldKey, newKey)) // the first step
	it := startNode(t, onKeys("it", []string{de.GossipAddr()}, newKey, oldKey)) // the second step
	createTool(t, fr, "fr", "before-the-rotation")
	createTool(t, it, "it", "with-the-new-key")
	for origin, n := range map[string]*testNode{"de": de, "it": it} {
		if !reaches(t, n, "fr", "before-the-rotation", 20*time.Second) {
			t.Errorf("%s does not hear fr, on the old key alone", origin)
		}
	}
	for origin, n := range map[string]*testNode{"fr": fr, "de": de} {
		if !reaches(t, n, "it", "with-the-new-key", 20*time.Second) {
			t.Errorf("%s does not hear it, at the rotation's second step", origin)
		}
	}
}
