// Command ogpnode runs a node of the OGP tool catalog federation.
//
//	ogpnode serve [flags]                run a node (see ogpnode serve -h)
//	ogpnode harvest [flags] SOURCE...    harvest catalogs (see ogpnode harvest -h)
//	ogpnode backup [flags] FOLDER        back up the data folder, beside a running node
//	ogpnode version                      print the version
//
// Every flag of serve is also an environment variable (--http-addr is
// OGPNODE_HTTP_ADDR) and a key of the optional YAML file given by --config.
// Flags beat the environment, which beats the file.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/goccy/go-yaml"
	"github.com/ogptoolbox/federation/harvest"
	"github.com/ogptoolbox/federation/node"
)

func main() {
	// SIGHUP too (the terminal closed, or a supervisor's reload): the node
	// has nothing to reload by signal (it reads its TLS certificate again
	// when the files change), and a hangup's default ends it at once. But
	// not when it is ignored (nohup): asking for it would undo that.
	stopOn := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		stopOn = append(stopOn, syscall.SIGHUP)
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopOn...)
	defer stop()
	// Once the first signal asked for a graceful stop, a second ends the
	// process at once, as by default: an operator who presses Ctrl-C
	// again does not want to wait for it.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "ogpnode:", err)
		stop()
		os.Exit(exitStatus(err))
	}
}

// usageError is a command line that does not say what to do: an unknown
// command or flag, a flag's value of the wrong type, arguments missing or
// too many.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitStatus is the status the command exits with after err: 2 for a
// command line it could not take, as flag parsing does by convention, 1
// for a command that could not do what it was told (a node that could not
// start or stopped on an error, a harvest that failed), so that scripts
// and supervisors can tell a typo from a failure.
func exitStatus(err error) int {
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// run is the whole program, with its environment passed in, so tests can run
// it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return usagef("no command given")
	}
	switch args[0] {
	case "serve":
		cfg, logLevel, err := parseServe(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
		n, err := node.New(ctx, cfg, log)
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				// A signal while the node started (its search index built
				// from a large catalog): a stop asked for, as once it runs.
				log.Info("stopped while starting")
				return nil
			}
			return err
		}
		return n.Run(ctx)
	case "harvest":
		o, err := parseHarvest(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		return runHarvest(ctx, o, getenv, stdout, stderr)
	case "backup":
		dataDir, dest, err := parseBackup(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		if err := node.BackupDataDir(ctx, dataDir, dest); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backed up %s into %s\n", dataDir, dest)
		return nil
	case "version", "help", "-h", "--help":
		if len(args) > 1 {
			usage(stderr)
			return usagef("%s takes no arguments: %q", args[0], args[1:])
		}
		if args[0] == "version" {
			fmt.Fprintln(stdout, "ogpnode", version())
		} else {
			usage(stdout)
		}
		return nil
	}
	usage(stderr)
	return usagef("unknown command %q", args[0])
}

// parseBackup reads backup's flags and its folder; --data also comes from
// OGPNODE_DATA and from the file of --config, as serve reads them.
func parseBackup(args []string, getenv func(string) string, stderr io.Writer) (dataDir, dest string, err error) {
	var configFile string
	fs := flag.NewFlagSet("ogpnode backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: ogpnode backup [flags] FOLDER

Copies into FOLDER, which it makes, what the data folder must keep: the
catalog as it was at one moment (it runs beside a node that serves and
writes), the node's key and the admin token. Restore by putting FOLDER in
the data folder's place, the node stopped.

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&dataDir, "data", "", "the data folder to back up (default: as serve, "+node.DefaultConfig().DataDir+")")
	fs.StringVar(&configFile, "config", "", "serve's YAML configuration file, for data")
	if err := fs.Parse(args); err != nil {
		return "", "", parseError(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", "", usagef("backup: give one folder to back up into, got %d", fs.NArg())
	}
	pick, err := settingsOf(configFile, getenv)
	if err != nil {
		return "", "", err
	}
	return pick(dataDir, "OGPNODE_DATA", "data", node.DefaultConfig().DataDir), fs.Arg(0), nil
}

// parseError is the error of a flag set's Parse: a usage error, but for a
// request of help.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{err}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `ogpnode runs a node of the OGP tool catalog federation.

Usage:
  ogpnode serve [flags]                run a node (ogpnode serve -h lists the flags)
  ogpnode harvest [flags] SOURCE...    harvest catalogs into the node's origin (ogpnode harvest -h)
  ogpnode backup [flags] FOLDER        back up the data folder into a new FOLDER, beside a running node (ogpnode backup -h)
  ogpnode version                      print the version
`)
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// parseServe reads serve's configuration: defaults, then the --config file,
// then OGPNODE_* variables, then flags.
func parseServe(args []string, getenv func(string) string, stderr io.Writer) (node.Config, slog.Level, error) {
	cfg := node.DefaultConfig()
	cfg.Version = version()
	var configFile string
	var level logLevel
	fs := flag.NewFlagSet("ogpnode serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: ogpnode serve [flags]

Runs a node. Every flag is also an environment variable (--http-addr is
OGPNODE_HTTP_ADDR) and a key of the YAML file of --config (http-addr:);
flags beat the environment, which beats the file.

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&configFile, "config", "", "a YAML file whose keys are these flags' names")
	fs.StringVar(&cfg.Origin, "origin", cfg.Origin, "the member this node speaks for: a lowercase country code with an optional -suffix (fr, fr-paris)")
	fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "the data folder: catalog, node key, admin token")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "where REST, /openapi.json, /healthz and /metrics listen")
	fs.StringVar(&cfg.GRPCAddr, "grpc-addr", cfg.GRPCAddr, "where the gRPC API listens")
	var join string
	fs.StringVar(&cfg.GossipAddr, "gossip-addr", cfg.GossipAddr, "where federation gossip listens (memberlist, TCP and UDP)")
	fs.StringVar(&cfg.AdvertiseAddr, "advertise-addr", "", "the host (address or name) peers reach this node at, for gossip and gRPC (default: the hosts they listen on)")
	fs.StringVar(&join, "join", "", "comma-separated gossip addresses (host:port) of members to join; later starts also rejoin the members remembered")
	var proxies string
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated IP addresses of reverse proxies in front of --http-addr whose X-Forwarded-For names the reader, for the count of wrong admin tokens by address (default: none; each request counts by its connection's address)")
	fs.StringVar(&cfg.GossipKey, "gossip-key", "", "the federation's shared gossip key: base64 of 16, 24 or 32 bytes (without one, gossip is unencrypted)")
	fs.StringVar(&cfg.GossipKeyFile, "gossip-key-file", "", "a file holding the gossip key")
	fs.StringVar(&cfg.GossipTimings, "gossip-timings", cfg.GossipTimings, "gossip and anti-entropy intervals: wan, lan or local (tests on one machine)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "the node's TLS certificate (PEM): with --tls-key and --tls-ca, mutual TLS on the gRPC port, required of peers")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fs.StringVar(&cfg.TLSCA, "tls-ca", "", "the federation's CA certificate (PEM), which signs every member's certificate")
	fs.StringVar(&cfg.HTTPTLSCert, "http-tls-cert", "", "a TLS certificate (PEM, with its chain) for HTTPS on --http-addr: REST, the web pages, /metrics (read again when its file changes)")
	fs.StringVar(&cfg.HTTPTLSKey, "http-tls-key", "", "the private key of --http-tls-cert (PEM)")
	fs.StringVar(&cfg.TrustFile, "trust", "", "a file of the only origins whose records are accepted, a line each: ORIGIN PUBLIC-KEY, in hex or base64 (default: accept any origin, pinning its key at first sight)")
	fs.StringVar(&cfg.PinFile, "pin", "", "a file of origins to hold under a key in place of the one pinned (a member that lost its key and made a new one), as --trust writes them; it refuses no other origin")
	fs.StringVar(&cfg.AdminTokenFile, "admin-token-file", "", "a file holding the admin token that writes need (default: OGPNODE_ADMIN_TOKEN, else DATA/admin-token, created on first start)")
	fs.IntVar(&cfg.MaxRequestBytes, "max-request-bytes", cfg.MaxRequestBytes, "the largest request body accepted")
	fs.IntVar(&cfg.MaxHarvestBytes, "max-harvest-bytes", cfg.MaxHarvestBytes, "the largest harvest import accepted (it carries a whole source)")
	// A bad value on the command line is a usage error (status 2), one of
	// the environment or the file a setting refused (status 1), as for
	// every flag.
	fs.Var(&level, "log-level", "the `level` of what the log says: debug, info (the default), warn or error")
	if err := fs.Parse(args); err != nil {
		return cfg, 0, parseError(err)
	}
	if fs.NArg() > 0 {
		return cfg, 0, usagef("serve takes no arguments, got %q", fs.Args())
	}
	if configFile == "" {
		configFile = getenv("OGPNODE_CONFIG")
	}
	givenAt, err := fillUnset(fs, configFile, getenv)
	if err != nil {
		return cfg, 0, err
	}
	if configFile != "" {
		harvests, err := scheduledHarvests(configFile)
		if err != nil {
			return cfg, 0, err
		}
		cfg.Harvests = harvests
	}
	// The admin token given in the environment is the token of
	// --admin-token-file given another way: one setting, as the gossip
	// key's two flags are.
	if cfg.AdminToken = strings.TrimSpace(getenv("OGPNODE_ADMIN_TOKEN")); cfg.AdminToken != "" {
		givenAt[adminTokenVariable] = givenInEnvironment
	}
	if err := oneOfEach(givenAt, map[string]*string{
		"gossip-key": &cfg.GossipKey, "gossip-key-file": &cfg.GossipKeyFile,
		"admin-token-file": &cfg.AdminTokenFile, adminTokenVariable: &cfg.AdminToken,
	}); err != nil {
		return cfg, 0, err
	}
	for _, a := range strings.Split(join, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Join = append(cfg.Join, a)
		}
	}
	for _, a := range strings.Split(proxies, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.TrustedProxies = append(cfg.TrustedProxies, a)
		}
	}
	return cfg, level.Level, nil
}

// Where a setting was given, the command line beating the environment,
// which beats the config file.
type givenIn int

const (
	givenInFile givenIn = iota + 1
	givenInEnvironment
	givenOnCommandLine
)

func (g givenIn) String() string {
	return [...]string{givenInFile: "the config file", givenInEnvironment: "the environment", givenOnCommandLine: "the command line"}[g]
}

// adminTokenVariable names, among the flags, the admin token the
// environment gives (it has no flag: a token on a command line is seen by
// every user of the machine).
const adminTokenVariable = "OGPNODE_ADMIN_TOKEN"

// alternatives are the settings given by either of two flags (or the
// variable for a token): the gossip key, or its file; the admin token's
// file, or the token. Each pair is one setting as to which way wins.
func alternatives() [][2]string {
	return [][2]string{{"gossip-key", "gossip-key-file"}, {"admin-token-file", adminTokenVariable}}
}

// oneOfEach keeps, of each pair of alternatives, the one given where it
// wins (a --gossip-key on the command line beats a gossip-key-file of the
// config file, which is cleared), and refuses the two given at one level,
// where neither wins.
func oneOfEach(givenAt map[string]givenIn, values map[string]*string) error {
	// A flag given empty (--gossip-key "$KEY", KEY unset) gives nothing,
	// as a variable set empty does: it does not clear the other.
	given := func(name string) givenIn {
		if *values[name] == "" {
			return 0
		}
		return givenAt[name]
	}
	for _, pair := range alternatives() {
		a, b := given(pair[0]), given(pair[1])
		switch {
		case a == 0 || b == 0:
		case a == b && a == givenOnCommandLine:
			return usagef("%s and %s are both given: give one of them", flagName(pair[0]), flagName(pair[1]))
		case a == b:
			return fmt.Errorf("%s and %s are both given in %s: give one of them", flagName(pair[0]), flagName(pair[1]), a)
		case a > b:
			*values[pair[1]] = ""
		default:
			*values[pair[0]] = ""
		}
	}
	return nil
}

// flagName is how a setting is named to the operator: --gossip-key, or the
// variable.
func flagName(name string) string {
	if name == adminTokenVariable {
		return name
	}
	return "--" + name
}

// fillUnset gives each flag not set on the command line its value from the
// environment (OGPNODE_ and the flag's name in capitals, - as _), else from
// the config file, and returns where each flag given was.
func fillUnset(fs *flag.FlagSet, configFile string, getenv func(string) string) (map[string]givenIn, error) {
	fromFile := map[string]configValue{}
	if configFile != "" {
		var err error
		if fromFile, err = readConfigFile(configFile); err != nil {
			return nil, err
		}
		var unknown []string
		for k := range fromFile {
			if f := fs.Lookup(k); (f == nil && k != harvestsKey) || k == "config" {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, fmt.Errorf("config %s: unknown keys %s (the keys are the flags of ogpnode serve -h)", configFile, strings.Join(unknown, ", "))
		}
	}
	delete(fromFile, harvestsKey)
	givenAt := map[string]givenIn{}
	fs.Visit(func(f *flag.Flag) { givenAt[f.Name] = givenOnCommandLine })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if givenAt[f.Name] != 0 || f.Name == "config" {
			return
		}
		env := "OGPNODE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
			givenAt[f.Name] = givenInEnvironment
			return
		}
		if v := fromFile[f.Name]; v.set {
			if err := f.Value.Set(v.text); err != nil {
				errs = append(errs, fmt.Errorf("config %s: %s: %w", configFile, f.Name, err))
			}
			givenAt[f.Name] = givenInFile
		}
	})
	return givenAt, errors.Join(errs...)
}

// logLevel is the flag of the log's level, which it names in lower case,
// as it takes it.
type logLevel struct{ slog.Level }

func (l *logLevel) String() string     { return strings.ToLower(l.Level.String()) }
func (l *logLevel) Set(s string) error { return l.UnmarshalText([]byte(s)) }

// harvestsKey is the config file's list of scheduled harvests, the one
// key that is not a flag.
const harvestsKey = "harvests"

// A configValue is the value of a key of the config file, as its flag
// takes it: set is false for a key left empty (YAML's null), which leaves
// the setting unset, as in a template whose optional keys are not filled
// in.
type configValue struct {
	text string
	set  bool
}

// readConfigFile reads the config file at path: each key's value as its
// flag takes it. A scalar is taken as written (0700 stays 0700, 1.10 stays
// 1.10, where YAML would read the numbers 448 and 1.1), a list (of --join
// seeds, say) is the flag's comma-separated value; a mapping is refused.
// The harvests key is scheduledHarvests' to read.
func readConfigFile(path string) (map[string]configValue, error) {
	b, err := readConfigBytes(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]yaml.RawMessage
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, yamlError(err))
	}
	out := make(map[string]configValue, len(raw))
	for key, v := range raw {
		if key == harvestsKey {
			out[key] = configValue{}
			continue
		}
		value, err := configText(v)
		if err != nil {
			return nil, fmt.Errorf("config %s: %s: %w", path, key, yamlError(err))
		}
		out[key] = value
	}
	return out, nil
}

// configText is the value of a key of the config file, raw its YAML.
func configText(raw yaml.RawMessage) (configValue, error) {
	var v any
	if err := yaml.Unmarshal(raw, &v); err != nil {
		return configValue{}, err
	}
	switch v := v.(type) {
	case nil:
		return configValue{}, nil
	case string:
		return configValue{text: v, set: true}, nil
	case []any:
		for i, item := range v {
			switch item.(type) {
			case []any, map[string]any:
				// Refused before each item is decoded anew: a flag's
				// list is of values, and lists of lists of aliases
				// cost that decoding at each level.
				return configValue{}, fmt.Errorf("item %d: a list or a mapping, where the flag takes a value or a list of values", i+1)
			}
		}
		var items []yaml.RawMessage
		if err := yaml.Unmarshal(raw, &items); err != nil {
			return configValue{}, err
		}
		texts := make([]string, 0, len(items))
		for i, item := range items {
			iv, err := configText(item)
			if err != nil {
				return configValue{}, fmt.Errorf("item %d: %w", i+1, err)
			}
			if iv.set {
				texts = append(texts, iv.text)
			}
		}
		return configValue{text: strings.Join(texts, ","), set: true}, nil
	case map[string]any:
		return configValue{}, errors.New("a mapping, where the flag takes a value or a list")
	}
	// A number or a boolean: as written, but for an alias (*name), whose
	// text is the anchor's name, and a value with a tag (!!int 2048).
	if text := strings.TrimSpace(string(raw)); text != "" && text[0] != '*' && text[0] != '!' {
		return configValue{text: text, set: true}, nil
	}
	return configValue{text: fmt.Sprint(v), set: true}, nil
}

// scheduledHarvests reads the harvests a config file schedules:
//
//	harvests:
//	  - kind: sill
//	    location: https://code.gouv.fr/data/sill.json
//	    interval: 24h
//	  - location: https://git.example.org/city/catalog.git
//	    interval: 6h
//	    authoritative: true
func scheduledHarvests(configFile string) ([]harvest.Scheduled, error) {
	b, err := readConfigBytes(configFile)
	if err != nil {
		return nil, err
	}
	var file map[string]any
	if err := yaml.Unmarshal(b, &file); err != nil {
		return nil, fmt.Errorf("config %s: %w", configFile, yamlError(err))
	}
	list, ok := file[harvestsKey]
	if !ok {
		return nil, nil
	}
	// Strict within the list, so a misspelt key is an error, not a
	// harvest that silently differs from what was meant. Decoded from a
	// copy of the list, whose anchors and merge keys the file's decoding
	// resolved, and whose lines are not the file's: an error is then
	// looked for in the file's own node, which names the file's line, but
	// which does not resolve anchors (so its errors of those are not
	// taken).
	copied, err := yaml.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("config %s: harvests: %w", configFile, yamlError(err))
	}
	var harvests []harvest.Scheduled
	if err := yaml.UnmarshalWithOptions(copied, &harvests, yaml.Strict()); err != nil {
		if path, perr := yaml.PathString("$." + harvestsKey); perr == nil {
			if node, nerr := path.ReadNode(bytes.NewReader(b)); nerr == nil {
				serr := yaml.NodeToValue(node, new([]harvest.Scheduled), yaml.Strict())
				if serr != nil && !strings.Contains(serr.Error(), "alias") && !strings.Contains(serr.Error(), "duplicate key") {
					err = serr
				}
			}
		}
		return nil, fmt.Errorf("config %s: harvests: %w", configFile, yamlError(err))
	}
	return harvests, nil
}
