package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ogptoolbox/federation/node"
)

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ogpnode.yaml")
	if err := os.WriteFile(file, []byte("origin: de\nhttp-addr: 0.0.0.0:1\ngrpc-addr: 0.0.0.0:2\ndata: /from/file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OGPNODE_HTTP_ADDR": "127.0.0.1:3", "OGPNODE_GRPC_ADDR": "127.0.0.1:4", "OGPNODE_ADMIN_TOKEN": "from-the-environment"}
	cfg, _, err := parseServe([]string{"--config", file, "--grpc-addr", "127.0.0.1:5"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.Origin, cfg.DataDir, cfg.HTTPAddr, cfg.GRPCAddr, cfg.GossipAddr, cfg.AdminToken}
	want := []string{"de", "/from/file", "127.0.0.1:3", "127.0.0.1:5", "127.0.0.1:7946", "from-the-environment"}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("file < env < flags (-got +want):\n%s", diff)
	}

	if err := os.WriteFile(file, []byte("orgin: de\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("a config file with an unknown key was accepted")
	}
}

// TestConfigJoinAsList: the seeds of a config file may be a YAML list.
func TestConfigJoinAsList(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ogpnode.yaml")
	if err := os.WriteFile(file, []byte("origin: de\njoin:\n  - 127.0.0.1:23947\n  - node.example.org:7946\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err != nil || !slices.Equal(cfg.Join, []string{"127.0.0.1:23947", "node.example.org:7946"}) {
		t.Errorf("join as a list: %v, %v", cfg.Join, err)
	}
}

// configFile is the path of a config file in a folder of the test's, and
// write puts s in it.
func configFile(t *testing.T) (file string, write func(s string)) {
	file = filepath.Join(t.TempDir(), "ogpnode.yaml")
	return file, func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConfigValuesAsWritten: a key left empty (`advertise-addr:`, as in
// a template whose optional keys are not filled in) is YAML's null, and
// leaves its setting unset, not the text "<nil>"; a number is taken as
// written (a folder named 0700, not 448), an anchor's value and a tagged
// one (!!int 2048) as YAML reads them; a mapping is refused, naming the
// key. Harvest reads serve's data and origin the same way.
func TestConfigValuesAsWritten(t *testing.T) {
	file, write := configFile(t)
	write("origin: fr\nadvertise-addr:\njoin:\nadmin-token-file:\ntrust: ~\ndata: 0700\ngrpc-addr: &grpc 127.0.0.1:7400\nhttp-addr: *grpc\nmax-request-bytes: !!int 2048\n")
	cfg, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.AdvertiseAddr, cfg.AdminTokenFile, cfg.TrustFile, strings.Join(cfg.Join, ","), cfg.DataDir, cfg.GRPCAddr, cfg.HTTPAddr, strconv.Itoa(cfg.MaxRequestBytes)}
	want := []string{"", "", "", "", "0700", "127.0.0.1:7400", "127.0.0.1:7400", "2048"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values of the file (-want +got):\n%s", diff)
	}

	write("origin: fr\njoin:\n  - 127.0.0.1:1\n  -\n  - 127.0.0.1:2\n")
	if cfg, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err != nil || !slices.Equal(cfg.Join, []string{"127.0.0.1:1", "127.0.0.1:2"}) {
		t.Errorf("a list with an empty item: %q, %v", cfg.Join, err)
	}
	write("origin: fr\nhttp-addr:\n  host: 127.0.0.1\n")
	if _, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "http-addr: a mapping") {
		t.Errorf("a mapping for a flag: %v", err)
	}

	write("origin: fr\ndata:\n")
	o, err := parseHarvest([]string{"--config", file, "source.json"}, func(string) string { return "" }, io.Discard)
	if err != nil || o.dataDir != node.DefaultConfig().DataDir || o.origin != "fr" {
		t.Errorf("harvest with data: left empty in serve's file: data %q, origin %q, %v", o.dataDir, o.origin, err)
	}
}

// TestConfigAliasBombRefused: a config file of lists of ten aliases of the
// list before ("billion laughs") is refused for its aliases, however few
// its bytes: 300 bytes of five levels took 90 s and 28 GB to be refused
// for their keys, each value being decoded anew at each level. The
// anchors of a real file (TestConfigValuesAsWritten, TestConfigHarvests)
// are read.
func TestConfigAliasBombRefused(t *testing.T) {
	file, write := configFile(t)
	var bomb strings.Builder
	bomb.WriteString("origin: fr\njoin: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&bomb, "k%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	write(bomb.String())
	_, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "aliases (*name) expand the file") {
		t.Errorf("serve --config of %d bytes of aliases: %v", bomb.Len(), err)
	}
	if _, err := parseHarvest([]string{"--config", file, "source.json"}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "aliases (*name) expand the file") {
		t.Errorf("harvest --config of %d bytes of aliases: %v", bomb.Len(), err)
	}
	// An alias within its own anchor: a value without end, which the
	// decoder followed until the process ran out of stack.
	write("origin: fr\nk: &a [x, *a]\n")
	if _, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "within that anchor's own value") {
		t.Errorf("serve --config of an alias within its own anchor: %v", err)
	}
	write("origin: fr\ndata: " + strings.Repeat("x", maxConfigBytes) + "\n")
	if _, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("serve --config of a file of %d MiB: %v", maxConfigBytes>>20, err)
	}
}

// TestConfigOfManySheetsSharingAMapping: a config file of 200
// spreadsheets, each a merge key of one shared source (kind, interval, a
// mapping of 20 columns) with its own name and location, is read: the
// aliases' budget counts what real files hold (a budget of the file's
// bytes refused this one, of 11 KB). A flag's list of lists is refused.
func TestConfigOfManySheetsSharingAMapping(t *testing.T) {
	file, write := configFile(t)
	var b strings.Builder
	b.WriteString("origin: fr\nharvests:\n  - &sheet\n    kind: csv\n    interval: 24h\n    name: c-first\n    location: c-first.csv\n    columns:\n")
	for _, f := range []string{"id", "display_name", "repository_url", "landing_url", "logo_url", "license", "development_status",
		"software_type", "software_version", "release_date", "categories", "platforms", "available_languages", "publisher.name",
		"maintenance.type", "descriptions.fr.short_description", "descriptions.fr.long_description", "descriptions.fr.features",
		"descriptions.en.short_description", "descriptions.en.long_description"} {
		fmt.Fprintf(&b, "      %s: C%d\n", f, len(f))
	}
	for i := range 200 {
		fmt.Fprintf(&b, "  - <<: *sheet\n    name: c%03d\n    location: c%03d.csv\n", i, i)
	}
	write(b.String())
	cfg, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err != nil || len(cfg.Harvests) != 201 || cfg.Harvests[200].Columns["license"] != "C7" {
		t.Errorf("a config of %d bytes, 200 sheets sharing one mapping: %d harvests, %v", b.Len(), len(cfg.Harvests), err)
	}

	write("origin: fr\njoin: [[127.0.0.1:1], 127.0.0.1:2]\n")
	if _, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "join: item 1: a list") {
		t.Errorf("a list of lists for --join: %v", err)
	}
}

// TestConfigHarvests reads the scheduled harvests of a config file, and
// refuses a misspelt key or a bad interval in them.
func TestConfigHarvests(t *testing.T) {
	file, write := configFile(t)
	write(`origin: fr
harvests:
  - kind: sill
    location: https://example.org/sill.json
    interval: 24h
    authoritative: true
  - kind: csv
    name: city-sheet
    location: /srv/outils.csv
    interval: 6h
    columns:
      id: Identifiant
      display_name: Nom
      descriptions.fr.short_description: Description
`)
	cfg, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Harvests) != 2 {
		t.Fatalf("harvests: %+v", cfg.Harvests)
	}
	sill, sheet := cfg.Harvests[0], cfg.Harvests[1]
	if sill.Kind != "sill" || sill.Interval != "24h" || !sill.Authoritative || sheet.Name != "city-sheet" || sheet.Columns["display_name"] != "Nom" {
		t.Errorf("harvests read as %+v and %+v", sill, sheet)
	}

	// An error names the line of the file, not of a copy of the list.
	write("origin: fr\nhttp-addr: 127.0.0.1:8080\n\nharvests:\n  - kind: sill\n    locaton: https://example.org/sill.json\n    interval: 24h\n")
	if _, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "[6:") {
		t.Errorf("a misspelt harvest key: %v, want an error naming line 6", err)
	}
	// Anchors and merge keys, which the whole file's decoding resolves.
	write("origin: fr\nharvests:\n  - &daily\n    kind: publiccode\n    interval: 24h\n    location: https://git.example.org/city/a.git\n  - <<: *daily\n    location: https://git.example.org/city/b.git\n")
	cfg, _, err = parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard)
	if err != nil || len(cfg.Harvests) != 2 || cfg.Harvests[1].Interval != "24h" || cfg.Harvests[1].Location != "https://git.example.org/city/b.git" {
		t.Errorf("harvests of an anchor and a merge key: %+v, %v", cfg.Harvests, err)
	}
	write("origin: fr\nharvests:\n  - kind: csv\n    location: a.csv\n    interval: 24h\n    columns: id=Id,display_name=Nom\n")
	if _, _, err := parseServe([]string{"--config", file}, func(string) string { return "" }, io.Discard); err == nil || !strings.Contains(err.Error(), "[6:") {
		t.Errorf("columns as a string: %v, want an error naming line 6", err)
	}
	write("harvests:\n  - kind: sill\n    location: https://example.org/sill.json\n    interval: often\n")
	cfg, _, err = parseServe([]string{"--config", file, "--data", filepath.Dir(file)}, func(string) string { return "" }, io.Discard)
	if err == nil {
		_, err = node.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	}
	if err == nil || !strings.Contains(err.Error(), "often") {
		t.Errorf("a bad interval: %v", err)
	}
}

// TestLogLevelOfTheEnvironmentIsASetting: status 2 is for a command line
// ogpnode cannot take, 1 for a setting refused (README, Configuration): a
// bad OGPNODE_LOG_LEVEL, or log-level: in the file, is a setting, as a bad
// OGPNODE_MAX_REQUEST_BYTES is; a bad --log-level, the command line.
func TestLogLevelOfTheEnvironmentIsASetting(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		env    map[string]string
		status int
	}{
		{nil, map[string]string{"OGPNODE_LOG_LEVEL": "verbose"}, 1},
		{nil, map[string]string{"OGPNODE_MAX_REQUEST_BYTES": "lots"}, 1},
		{[]string{"--log-level", "verbose"}, nil, 2},
	} {
		_, _, err := parseServe(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
		if got := exitStatus(err); err == nil || got != tc.status {
			t.Errorf("%v %v: status %d (%v), want %d", tc.args, tc.env, got, err, tc.status)
		}
	}
	_, level, err := parseServe(nil, func(k string) string { return map[string]string{"OGPNODE_LOG_LEVEL": "debug"}[k] }, io.Discard)
	if err != nil || level != slog.LevelDebug {
		t.Errorf("OGPNODE_LOG_LEVEL=debug: %v, %v", level, err)
	}
}

// TestStopWhileStartingIsAStop: a signal while the node starts (the search
// index of a large catalog takes a while to build) is a stop asked for:
// status 0, as once the node runs (README, Configuration), not the error
// of a start cut short.
func TestStopWhileStartingIsAStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	data := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"OGPNODE_ADMIN_TOKEN": "a-token-long-enough-for-the-node"}
	err := run(ctx, []string{"serve", "--origin", "fr", "--data", data, "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0"},
		func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err != nil {
		t.Errorf("a node stopped as it started: %v (status %d), want a stop", err, exitStatus(err))
	}
}

// TestConfigAlternativesOneSetting: the gossip key and its file are one
// setting, as are the admin token's file and OGPNODE_ADMIN_TOKEN: the one
// given where it wins is taken (the command line beats the environment,
// which beats the file), and two given at one level are refused. The
// environment's token is taken without the newline a secret's file ends
// with.
func TestConfigAlternativesOneSetting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "ogpnode.yaml")
	if err := os.WriteFile(file, []byte("gossip-key-file: /from/file/gossip.key\nadmin-token-file: /from/file/admin-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OGPNODE_ADMIN_TOKEN": "from-the-environment-0123\n"}
	cfg, _, err := parseServe([]string{"--config", file, "--gossip-key", "AAAAAAAAAAAAAAAAAAAAAA=="}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.GossipKey, cfg.GossipKeyFile, cfg.AdminToken, cfg.AdminTokenFile}
	want := []string{"AAAAAAAAAAAAAAAAAAAAAA==", "", "from-the-environment-0123", ""}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("the settings given two ways (-got +want):\n%s", diff)
	}
	// A flag given empty (a unit's --gossip-key "$KEY", KEY unset) gives
	// nothing: the file's key file stays, and gossip encrypted.
	cfg, _, err = parseServe([]string{"--config", file, "--gossip-key", ""}, func(string) string { return "" }, io.Discard)
	if err != nil || cfg.GossipKeyFile != "/from/file/gossip.key" {
		t.Errorf("--gossip-key \"\" and the file's gossip-key-file: key file %q, %v", cfg.GossipKeyFile, err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--gossip-key", "AAAAAAAAAAAAAAAAAAAAAA==", "--gossip-key-file", "/k"}, nil, "--gossip-key and --gossip-key-file are both given"},
		{nil, map[string]string{"OGPNODE_ADMIN_TOKEN": "from-the-environment-0123", "OGPNODE_ADMIN_TOKEN_FILE": "/t"}, "--admin-token-file and OGPNODE_ADMIN_TOKEN are both given in the environment"},
	} {
		if _, _, err := parseServe(tc.args, func(k string) string { return tc.env[k] }, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want an error with %q", tc.args, tc.env, err, tc.want)
		}
	}
}

// TestConfigTrustedProxies: --trusted-proxies is a comma-separated list,
// as the environment and the file give it too; an address that is none is
// refused at start, naming the flag.
func TestConfigTrustedProxies(t *testing.T) {
	cfg, _, err := parseServe([]string{"--trusted-proxies", "127.0.0.1, ::1"}, func(string) string { return "" }, io.Discard)
	if err != nil || !slices.Equal(cfg.TrustedProxies, []string{"127.0.0.1", "::1"}) {
		t.Errorf("--trusted-proxies: %q, %v", cfg.TrustedProxies, err)
	}
	cfg.TrustedProxies = []string{"proxy.example.org"}
	cfg.DataDir = t.TempDir()
	if _, err := node.New(context.Background(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "--trusted-proxies") {
		t.Errorf("a proxy that is no IP address: %v", err)
	}
}
