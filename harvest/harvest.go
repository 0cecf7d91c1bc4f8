// Package harvest brings the catalogs that points of contact already keep
// into the node's own origin: publiccode.yml files (one file, a folder of
// them, a URL or a git repository), France's SILL, code.json inventories
// and spreadsheets as CSV.
//
// A harvest has two halves. Read, where the source is (the ogpnode harvest
// command, or the node itself for harvests scheduled in its configuration),
// fetches the source and turns it into entries with the readers of the
// subpackages (publiccode, sill, codejson, csvfile). Importer.Import, in the
// node, writes them through the catalog's normal write path in one
// transaction: new entries are created, changed ones updated, unchanged ones
// left alone (no new seq), entries the source no longer lists deleted when
// it was read completely, and tools edited by hand since their last harvest
// keep the hand edit unless the source is authoritative. Every run leaves a
// report, served at GET /v1/harvests.
package harvest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/codejson"
	"github.com/ogptoolbox/federation/harvest/csvfile"
	"github.com/ogptoolbox/federation/harvest/sill"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The kinds of source.
const (
	KindPubliccode = "publiccode"
	KindSILL       = "sill"
	KindCodeJSON   = "codejson"
	KindCSV        = "csv"
)

// Kinds lists the kinds of source, sorted.
func Kinds() []string { return []string{KindCodeJSON, KindCSV, KindPubliccode, KindSILL} }

// IsKind reports whether k is a kind of source.
func IsKind(k string) bool { return slices.Contains(Kinds(), k) }

// Source is a catalog to harvest.
type Source struct {
	// Name ties the source's runs and records together; it must stay the
	// same from run to run. Default: the kind and the location
	// ("sill:https://example.org/sill.json").
	Name string `yaml:"name"`
	// Kind is one of Kinds; detected from the location when empty.
	Kind string `yaml:"kind"`
	// Location is a file, a folder, an http(s) URL or a git repository
	// (a URL ending in .git, a file:// URL or one prefixed with git+).
	Location string `yaml:"location"`
	// Authoritative sources overwrite hand edits.
	Authoritative bool `yaml:"authoritative"`
	// AllowEmpty lets the source list nothing, and so delete every tool
	// it made (else taken for a broken export).
	AllowEmpty bool `yaml:"allow_empty"`
	// Columns maps tool fields to CSV columns (csv sources only).
	Columns csvfile.Mapping `yaml:"columns"`
}

// Proto is the source as the API names it, its location without a user
// name or password (the node publishes it).
func (s Source) Proto() *catalogv1.HarvestSource {
	p := &catalogv1.HarvestSource{Name: s.Name, Kind: s.Kind, Location: WithoutSecrets(s.Location), Authoritative: s.Authoritative, AllowEmpty: s.AllowEmpty}
	if s.Kind == KindCSV { // the only kind read by columns
		p.Columns = maps.Clone(s.Columns)
	}
	return p
}

// Resolve fills in the kind and the name when they are not given, and
// checks the source.
func (s Source) Resolve() (Source, error) {
	if strings.TrimSpace(s.Location) == "" {
		return s, fmt.Errorf("a source needs a location")
	}
	if s.Kind == "" {
		k, err := detectKind(s.Location)
		if err != nil {
			return s, err
		}
		s.Kind = k
	}
	if !IsKind(s.Kind) {
		return s, fmt.Errorf("source kind %q is not one of %s", s.Kind, strings.Join(Kinds(), ", "))
	}
	if s.Kind == KindCSV && len(s.Columns) == 0 {
		return s, fmt.Errorf("source %s: a csv source needs a column mapping (columns, or --columns field=Column,...)", WithoutSecrets(s.Location))
	}
	given := s.Name != ""
	if !given {
		loc := s.Location
		if isLocalPath(loc) {
			if abs, err := filepath.Abs(loc); err == nil {
				loc = abs
			}
		}
		s.Name = s.Kind + ":" + WithoutSecrets(loc) // every node publishes it
	}
	// What an import would refuse (checkSource), said before the source
	// is read: at the node's start for a scheduled one, which else was
	// read at every run and never imported.
	if err := checkSource(s.Proto()); err != nil {
		if !given {
			return s, fmt.Errorf("source %s: its name, its kind and location (%w): give it a name (--name, or name: in the configuration)", WithoutSecrets(s.Location), err)
		}
		return s, fmt.Errorf("source %s: %w", WithoutSecrets(s.Location), err)
	}
	return s, nil
}

// userinfo is the user name and password of the URLs in a text (as in
// https://oauth2:TOKEN@git.example.org/city/catalog.git).
var userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@`) // to the last @ of the authority, as url.Parse reads it

// secretParameter is the value of a URL's query (or fragment) parameter
// that carries a credential: a token (GitLab's private_token, OAuth's
// access_token), a secret (client_secret), a key named as one (api_key,
// access_key, secret_key: not a bare "key", which names a document as
// often, as in Google's legacy spreadsheet links, and whose values would
// then make two sources one), a password, a signature or credential of a
// signed URL (S3's X-Amz-Signature and X-Amz-Credential, Azure's sig).
var secretParameter = regexp.MustCompile(`(?i)([?&#](?:[a-z0-9_.-]*(?:token|secret|password|passwd|credential|signature)|[a-z0-9_.]*[_.-]key|apikey|sig)=)[^&#\s"'<>]+`)

// WithoutSecrets is text with the credentials of each URL it holds taken
// out: their user name and password, and the values of the query
// parameters that carry one (secretParameter), each left as "…". A
// source's location may carry a token to read a private repository or a
// signed export, which must not reach what every node publishes (tools'
// provenance, harvest reports).
func WithoutSecrets(text string) string {
	return secretParameter.ReplaceAllString(userinfo.ReplaceAllString(text, "$1"), "$1…")
}

// detectKind guesses a source's kind from its location: git repositories
// and folders hold publiccode.yml files; files and URLs go by their name's
// extension, and a .json file by its name (sill, code). A local path whose
// kind its name does not tell, and that is not there, is said as missing
// (missingError).
func detectKind(loc string) (string, error) {
	if isGit(loc) {
		return KindPubliccode, nil
	}

	name := loc
	if u, err := url.Parse(loc); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		name = u.Path
	} else if isDir(loc) {
		return KindPubliccode, nil
	}
	switch ext := strings.ToLower(filepath.Ext(name)); {
	case ext == ".yml" || ext == ".yaml":
		return KindPubliccode, nil
	case ext == ".csv":
		return KindCSV, nil
	case strings.Contains(strings.ToLower(filepath.Base(name)), "sill"):
		return KindSILL, nil
	case ext == ".json" && strings.Contains(strings.ToLower(filepath.Base(name)), "code"):
		return KindCodeJSON, nil
	}
	// A path that is not there is said as missing, and, when its name is
	// a file's (not a folder's), that its name does not tell its kind: it
	// never will, once the file is there either.
	if err := localMissing(loc); err != nil {
		if isFileName(loc) {
			return "", missingError{loc: loc, kindUntold: true}
		}
		return "", err
	}
	// Without the location's user name and password: the message reaches
	// the terminal and the node's log.
	return "", fmt.Errorf("cannot tell the kind of source %s: give it (kind: in the configuration, --kind on the command line: %s)", WithoutSecrets(loc), strings.Join(Kinds(), "|"))
}

// isFileName reports whether the name of path ends as a file's of the
// formats catalogs come in (.json, .csv, .txt...): a folder may have a
// dot in its name (a share named for its host, publiccode.d), and is
// waited for when it is not there.
func isFileName(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".csv", ".tsv", ".txt", ".xml", ".yml", ".yaml", ".xls", ".xlsx", ".ods":
		return true
	}
	return false
}

// localMissing says so when loc is a path on this machine (not a URL, nor
// a git repository) where nothing is, with an error that is
// fs.ErrNotExist.
func localMissing(loc string) error {
	if !isLocalPath(loc) {
		return nil
	}
	if _, err := os.Stat(loc); errors.Is(err, fs.ErrNotExist) {
		return missingError{loc: loc}
	}
	return nil
}

// missingError is a source's location on this machine where nothing is.
// It is fs.ErrNotExist, so that callers can tell a source not there (yet:
// an export not written, a share not mounted) from one they cannot take.
type missingError struct {
	loc string
	// kindUntold: the location's name is a file's (isFileName), not a
	// folder's to be mounted, and does not tell its kind.
	kindUntold bool
}

func (e missingError) Error() string {
	if e.kindUntold {
		return fmt.Sprintf("source %s: there is no such file or folder, and its name does not tell its kind: give it (kind: in the configuration, --kind on the command line: %s)", e.loc, strings.Join(Kinds(), "|"))
	}
	return fmt.Sprintf("source %s: there is no such file or folder", e.loc)
}

func (e missingError) Is(target error) bool { return target == fs.ErrNotExist }

// ReadOptions bound what Read fetches.
type ReadOptions struct {
	// HTTPTimeout bounds each HTTP fetch, each git clone and each read
	// of a file on this machine (default 2 minutes).
	HTTPTimeout time.Duration
	// MaxBytes bounds a fetched file, and each file of a folder or a
	// clone (default 64 MiB).
	MaxBytes int64
	// Progress, when set, is told how many files of a folder have been read.
	Progress func(done, total int)
	// Reads, when set, are the reads of locations on this machine left
	// under way past their deadline, which keep the location from being
	// read again until they return (see untilDone); Run sets its own.
	Reads *LocalReads
}

func (o ReadOptions) withDefaults() ReadOptions {
	if o.HTTPTimeout <= 0 {
		o.HTTPTimeout = 2 * time.Minute
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	return o
}

// Read reads a resolved source where this process runs and returns the
// request that imports it. A source that cannot be read completely (a
// fetch that fails, a file that is not JSON) gives a request with
// complete false and read_error set, carrying whatever could be read, so
// that the run is still reported and nothing is deleted.
func Read(ctx context.Context, src Source, opts ReadOptions) *catalogv1.ImportHarvestRequest {
	opts = opts.withDefaults()
	req := &catalogv1.ImportHarvestRequest{Source: src.Proto(), StartTime: timestamppb.Now(), Complete: true}
	fail := func(err error) *catalogv1.ImportHarvestRequest {
		req.Complete = false
		// Without the location's credentials, wherever a
		// message (git's own) quotes them.
		msg := WithoutSecrets(err.Error())
		if u, err := url.Parse(src.Location); err == nil && u.User != nil && u.User.String() != "" {
			msg = strings.ReplaceAll(msg, u.User.String()+"@", "…@") // as written before a host, not wherever its words are
		}
		req.ReadError = msg
		return req
	}
	if src.Kind == KindPubliccode {
		entries, rejected, err := readPubliccode(ctx, src.Location, opts)
		req.Entries, req.Rejected = entries, rejected
		if err != nil {
			return fail(err)
		}
		return req
	}
	data, err := fetch(ctx, src.Location, opts)
	if err != nil {
		return fail(err)
	}
	var entries []*catalogv1.HarvestEntry
	var rejected []*catalogv1.RejectedEntry
	switch src.Kind {
	case KindSILL:
		entries, rejected, err = sill.Parse(ctx, data)
	case KindCodeJSON:
		entries, rejected, err = codejson.Parse(ctx, data)
	case KindCSV:
		entries, rejected, err = csvfile.Parse(ctx, data, src.Columns)
	default:
		err = fmt.Errorf("source kind %q is not one of %s", src.Kind, strings.Join(Kinds(), ", "))
	}
	req.Entries, req.Rejected = entries, rejected
	if err != nil {
		return fail(fmt.Errorf("%s: %w", src.Location, err))
	}
	return req
}
