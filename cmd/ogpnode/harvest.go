package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest"
	"github.com/ogptoolbox/federation/harvest/csvfile"
	"github.com/ogptoolbox/federation/node"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// errSourceFailed makes harvest exit non-zero when a source could not be
// read completely, after every source has had its run.
var errSourceFailed = errors.New("a source could not be read completely")

// harvestOptions are harvest's flags.
type harvestOptions struct {
	kind, name, columns string
	authoritative       bool
	allowEmpty          bool
	offline             bool // --data into a catalog of a federation, knowingly
	origin, dataDir     string
	nodeURL, tokenFile  string
	timeout             time.Duration
	sources             []string
}

// parseHarvest reads harvest's flags; --origin and --data also come from
// OGPNODE_ORIGIN and OGPNODE_DATA, and from the file of --config, as serve
// takes them.
func parseHarvest(args []string, getenv func(string) string, stderr io.Writer) (harvestOptions, error) {
	def := node.DefaultConfig()
	var o harvestOptions
	var configFile string
	fs := flag.NewFlagSet("ogpnode harvest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: ogpnode harvest [flags] SOURCE...

Harvests each SOURCE (a file, a folder, an http(s) URL or a git repository)
into the node's own origin: into the data folder of --data, or into the
running node at --node. Flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.kind, "kind", "", "the kind of every SOURCE: "+strings.Join(harvest.Kinds(), ", ")+" (default: detected from each)")
	fs.StringVar(&o.name, "name", "", "the source's name, which ties its runs and records together (default: KIND:LOCATION); one SOURCE only")
	fs.StringVar(&o.columns, "columns", "", "for csv: the column of each tool field, as field=Column,field=Column")
	fs.BoolVar(&o.authoritative, "authoritative", false, "the source overwrites hand edits of the tools it made")
	fs.BoolVar(&o.allowEmpty, "allow-empty", false, "the source may list nothing, and so delete every tool it made (else taken for a broken export)")
	fs.StringVar(&configFile, "config", "", "serve's YAML configuration file, for origin and data")
	fs.StringVar(&o.origin, "origin", "", "the node's origin (default: as serve, "+def.Origin+")")
	fs.StringVar(&o.dataDir, "data", "", "the data folder to harvest into (default: as serve, "+def.DataDir+")")
	fs.BoolVar(&o.offline, "offline", false, "with --data: harvest into a catalog that remembers members of a federation without asking them first, as the node does at start (only for a catalog that holds every record of its origin: not one restored from an older copy)")
	fs.StringVar(&o.nodeURL, "node", "", "harvest into the running node at this HTTP URL instead (needs the admin token)")
	fs.StringVar(&o.tokenFile, "admin-token-file", "", "with --node: a file holding the admin token (default: OGPNODE_ADMIN_TOKEN)")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "bound on each fetch or clone of a source")
	if err := fs.Parse(args); err != nil {
		return o, parseError(err)
	}
	o.sources = fs.Args()
	if len(o.sources) == 0 {
		fs.Usage()
		return o, usagef("harvest: no source given")
	}
	for _, src := range o.sources {
		// Flags end at the first source: one after it would be read as a
		// source, and its value too, while the harvest went into the
		// default data folder and origin.
		if len(src) > 1 && src[0] == '-' {
			return o, usagef("harvest: %q comes after a source: give the flags before SOURCE (a source whose name starts with -, as ./%s)", src, src)
		}
	}
	if o.name != "" && len(o.sources) > 1 {
		return o, usagef("harvest: --name names one source, and several are given")
	}
	if o.kind != "" && !harvest.IsKind(o.kind) {
		return o, usagef("harvest: --kind %q is not one of %s", o.kind, strings.Join(harvest.Kinds(), ", "))
	}
	if o.nodeURL != "" && (o.dataDir != "" || o.origin != "" || o.offline) {
		return o, usagef("harvest: give --node or --data and --origin (and --offline), not both")
	}
	if o.nodeURL != "" {
		// Checked before the sources are read (a clone may be long).
		if u, err := url.Parse(o.nodeURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, usagef("harvest: --node %q is not the node's http(s) URL (such as http://127.0.0.1:8080)", o.nodeURL)
		}
	}
	pick, err := settingsOf(configFile, getenv)
	if err != nil {
		return o, err
	}
	if o.nodeURL == "" {
		o.origin = pick(o.origin, "OGPNODE_ORIGIN", "origin", def.Origin)
		o.dataDir = pick(o.dataDir, "OGPNODE_DATA", "data", def.DataDir)
	}
	return o, nil
}

// settingsOf returns how a command other than serve finds serve's settings
// it needs (origin, data): pick returns the flag's value if given, else the
// environment's, else the key's in the --config file (or OGPNODE_CONFIG's),
// else fallback.
func settingsOf(configFile string, getenv func(string) string) (pick func(flagValue, env, key, fallback string) string, err error) {
	if configFile == "" {
		configFile = getenv("OGPNODE_CONFIG")
	}
	fromFile := map[string]configValue{}
	if configFile != "" {
		if fromFile, err = readConfigFile(configFile); err != nil {
			return nil, err
		}
	}
	return func(flagValue, env, key, fallback string) string {
		if flagValue != "" {
			return flagValue
		}
		if v := getenv(env); v != "" {
			return v
		}
		if v := fromFile[key]; v.set {
			return v.text
		}
		return fallback
	}, nil
}

// runHarvest harvests every source of o, each in its own run.
func runHarvest(ctx context.Context, o harvestOptions, getenv func(string) string, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var mapping csvfile.Mapping
	if o.columns != "" {
		m, err := csvfile.ParseMapping(o.columns)
		if err != nil {
			return fmt.Errorf("harvest: --columns: %w", err)
		}
		mapping = m
	}
	var sources []harvest.Source
	var importErrs []error // a source that fails does not keep the next from their runs
	for _, loc := range o.sources {
		src, err := harvest.Source{Name: o.name, Kind: o.kind, Location: loc, Authoritative: o.authoritative, AllowEmpty: o.allowEmpty, Columns: mapping}.Resolve()
		if err != nil {
			// Not there and its kind not told by its name, or of a name
			// an import refuses: the others still have their runs, as
			// they do when a source of a known kind cannot be read.
			importErrs = append(importErrs, fmt.Errorf("harvest: %w", err))
			continue
		}
		sources = append(sources, src)
	}
	if len(sources) == 0 {
		return errors.Join(importErrs...)
	}

	var importHarvest func(context.Context, *catalogv1.ImportHarvestRequest) (*catalogv1.HarvestRun, error)
	if o.nodeURL != "" {
		token, err := readToken(o.tokenFile, getenv)
		if err != nil {
			return err
		}
		client := &nodeClient{base: strings.TrimRight(o.nodeURL, "/"), token: token}
		importHarvest = client.importHarvest
	} else {
		if marker, ok := node.HoldsWrites(o.dataDir); ok {
			// Even with --offline: the folder says what it lacks.
			return fmt.Errorf("harvest: %s says its catalog lacks records of its origin that its federation holds (restored from a backup, or made anew after it was wiped), and a harvest here would write seqs they hold already, which never reach them; "+
				"start the node (it gets its records back, then deletes the file), and harvest through it (--node URL), or delete %s if no record of the origin was written since", o.dataDir, marker)
		}
		if !o.offline && node.KeyWithoutCatalog(o.dataDir) {
			return fmt.Errorf("harvest: %s holds the node's key but no catalog (wiped?): its federation holds the records of its origin, and a catalog made anew here would write seqs they hold already, which never reach them; "+
				"start the node with --join (it gets its records back), and harvest through it (--node URL), or give --offline if the origin never wrote a record", o.dataDir)
		}
		if !o.offline {
			if err := refuseIfFederated(ctx, o.dataDir); err != nil {
				return err
			}
		}
		cat, err := node.OpenCatalog(ctx, o.origin, o.dataDir, log)
		if err != nil {
			return fmt.Errorf("harvest: %w", err)
		}
		defer cat.Close()
		importHarvest = harvest.NewImporter(cat.Store, nil, log).Import
	}

	var failed bool
	for _, src := range sources {
		progress := newProgress(stderr, src.Location)
		req := harvest.Read(ctx, src, harvest.ReadOptions{HTTPTimeout: o.timeout, Progress: progress.update})
		progress.done()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		run, err := importHarvest(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			importErrs = append(importErrs, fmt.Errorf("harvest %s: %w", src.Name, err))
			continue
		}
		printRun(stdout, run)
		if !req.GetComplete() {
			failed = true
		}
	}
	if failed {
		importErrs = append(importErrs, errSourceFailed)
	}
	return errors.Join(importErrs...)
}

// refuseIfFederated refuses a harvest into a catalog that remembers
// members of a federation, without its node: the node holds its writes at
// start until the members have given back the records of its origin that
// they hold and the catalog lacks (one restored from an older copy), so
// that no write takes a seq they hold already, where a harvest here would
// ask no one. A write of such a seq never reaches them, and the record they
// hold at it is lost to this node.
func refuseIfFederated(ctx context.Context, dataDir string) error {
	members, err := node.RememberedMembers(ctx, dataDir)
	if err != nil {
		return fmt.Errorf("harvest: %w", err)
	}
	if members == 0 {
		return nil
	}
	return fmt.Errorf("harvest: the catalog of %s belongs to a federation (%d members remembered), whose node waits for them at start "+
		"to get back the records of its origin this copy may lack (one restored from an older copy), and a harvest here would not: "+
		"start the node and harvest through it (--node URL), or give --offline if this catalog holds every record of its origin", dataDir, members)
}

// readToken reads the admin token for --node.
func readToken(file string, getenv func(string) string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("harvest: --admin-token-file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if t := strings.TrimSpace(getenv("OGPNODE_ADMIN_TOKEN")); t != "" { // a secret written by echo ends with a newline
		return t, nil
	}
	return "", errors.New("harvest: --node needs the admin token: --admin-token-file or OGPNODE_ADMIN_TOKEN")
}

// printRun writes a run's report: its counts, then each rejected entry and
// its reasons, and each entry imported without some of its values, with
// them.
func printRun(w io.Writer, run *catalogv1.HarvestRun) {
	fmt.Fprintf(w, "%s: %d created, %d updated, %d unchanged, %d deleted, %d rejected",
		run.GetSource().GetName(), run.GetCreated(), run.GetUpdated(), run.GetUnchanged(), run.GetDeleted(), run.GetRejected())
	if n := run.GetWarned(); n > 0 {
		fmt.Fprintf(w, ", %d imported without some values", n)
	}
	if n := run.GetKeptHandEdits(); n > 0 {
		fmt.Fprintf(w, ", %d hand edits kept", n)
	}
	fmt.Fprintf(w, " (%s)\n", run.GetName())
	if e := run.GetError(); e != "" {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	for _, r := range run.GetRejectedEntries() {
		where := r.GetWhere()
		if where == "" {
			where = r.GetSourceId()
		}
		fmt.Fprintf(w, "  rejected %s:\n", where)
		for _, f := range r.GetFindings() {
			fmt.Fprintf(w, "    %s\n", describeFinding(f))
		}
	}
	if more := int(run.GetRejected()) - len(run.GetRejectedEntries()); more > 0 {
		fmt.Fprintf(w, "  and %d more rejected entries, which the report does not list\n", more)
	}
	for _, r := range run.GetWarnedEntries() {
		where := cmp.Or(r.GetWhere(), r.GetSourceId())
		fmt.Fprintf(w, "  imported without some values, %s:\n", where)
		for _, f := range r.GetFindings() {
			fmt.Fprintf(w, "    %s\n", describeFinding(f))
		}
	}
	if more := int(run.GetWarned()) - len(run.GetWarnedEntries()); more > 0 {
		fmt.Fprintf(w, "  and %d more entries imported without some values, which the report does not list\n", more)
	}
}

func describeFinding(f *catalogv1.Finding) string {
	var b strings.Builder
	if f.GetKey() != "" {
		b.WriteString(f.GetKey())
	}
	if f.GetLine() > 0 {
		fmt.Fprintf(&b, " (line %d)", f.GetLine())
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(f.GetMessage())
	return b.String()
}

// nodeClient imports harvests into a running node over REST.
type nodeClient struct {
	base, token string
}

func (c *nodeClient) importHarvest(ctx context.Context, req *catalogv1.ImportHarvestRequest) (*catalogv1.HarvestRun, error) {
	// The columns a csv source was read by are the report's to keep of a
	// scheduled run; a node of an earlier version, which the federation's
	// members may still run, refuses the field as unknown.
	if len(req.GetSource().GetColumns()) > 0 {
		req = proto.CloneOf(req)
		req.Source.Columns = nil
	}
	body, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := url.Parse(c.base); err != nil {
		return nil, fmt.Errorf("--node %q: %w", c.base, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/harvests:import", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("--node %q: %w", c.base, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the node's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var st struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &st) == nil && st.Message != "" {
			return nil, fmt.Errorf("the node answered %s: %s", resp.Status, st.Message)
		}
		return nil, fmt.Errorf("the node answered %s", resp.Status)
	}
	run := &catalogv1.HarvestRun{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, run); err != nil {
		return nil, fmt.Errorf("read the node's answer: %w", err)
	}
	return run, nil
}

// progress shows how far the reading of a folder has come: a bar redrawn
// in place on a terminal, a log line every tenth otherwise.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	what     string
	terminal bool
	shown    bool
	lastTick int
}

func newProgress(w io.Writer, what string) *progress {
	p := &progress{w: w, what: what}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// update is called with the files read so far; small sources stay quiet.
func (p *progress) update(done, total int) {
	if total < 200 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		const width = 30
		filled := done * width / total
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d files", p.what, strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total)
		p.shown = true
		return
	}
	if tick := done * 10 / total; tick > p.lastTick {
		p.lastTick = tick
		fmt.Fprintf(p.w, "harvest %s: read %d of %d files\n", p.what, done, total)
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
