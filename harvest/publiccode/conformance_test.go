package publiccode

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/validate"
)

// The conformance test runs the reader on the reference parser's own test
// files (see ../shared/corpus/README.md): the valid ones must import, and
// the invalid ones must be rejected with an error on one of the keys the
// reference names, at the same line, unless only the network or the
// repository's files could tell them apart. Every file expected.json says
// the reference rejects offline is rejected, those that name an Italian
// administration missing from the iPA register among them.

// expectation is what expected.json says of one file.
type expectation struct {
	Expect   string `json:"expect"` // reject, accept or accept_offline
	Findings []struct {
		Kind                string `json:"kind"` // error or warning
		Key                 string `json:"key"`
		Line                int32  `json:"line"`
		Column              int32  `json:"column"`
		NeedsNetworkOrFiles bool   `json:"needs_network_or_files"`
	} `json:"findings"`
}

// corpusDir returns the publiccode corpus, ../shared/corpus/publiccode
// from the repository's root (the folder of go.mod). A missing corpus
// fails the test: it is what the test is about.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("no go.mod above the working directory: cannot find the repository's root, and so the corpus")
		}
		dir = parent
	}
	corpus := filepath.Join(dir, "..", "shared", "corpus", "publiccode")
	if _, err := os.Stat(filepath.Join(corpus, "expected.json")); err != nil {
		tb.Fatalf("the publiccode.yml corpus is missing: %v (it is expected at ../shared/corpus/publiccode from the repository's root, see shared/corpus/README.md)", err)
	}
	return corpus
}

// corpusFiles lists the .yml files of a folder of the corpus and of its
// no-network subfolder, relative to v0/.
func corpusFiles(tb testing.TB, corpus, folder string) []string {
	tb.Helper()
	var out []string
	for _, pattern := range []string{"*.yml", "no-network/*.yml"} {
		matches, err := filepath.Glob(filepath.Join(corpus, "v0", folder, pattern))
		if err != nil {
			tb.Fatal(err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(filepath.Join(corpus, "v0"), m)
			out = append(out, filepath.ToSlash(rel))
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no .yml file in %s/v0/%s", corpus, folder)
	}
	return out
}

func loadExpectations(t *testing.T, corpus string) map[string]expectation {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpus, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]expectation
	if err := json.Unmarshal(data, &exp); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	return exp
}

func parseCorpusFile(t *testing.T, corpus, rel string) Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpus, "v0", rel))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(data, rel)
}

// mustAccept checks that a file imports and makes a tool the catalog
// takes.
func mustAccept(t *testing.T, rel string, res Result) {
	t.Helper()
	if res.Entry == nil || len(res.Errors) > 0 {
		t.Errorf("%s: rejected, want accepted; errors:\n%s", rel, listFindings(res.Errors))
		return
	}
	var v validate.Violations
	validate.Tool(&v, "tool", res.Entry.GetTool())
	for _, f := range v.List {
		t.Errorf("%s: the tool fails the catalog's checks: %s: %s", rel, f.Field, f.Description)
	}
	if res.Entry.GetSourceId() == "" || res.Entry.GetWhere() != rel {
		t.Errorf("%s: entry source_id %q where %q", rel, res.Entry.GetSourceId(), res.Entry.GetWhere())
	}
}

func listFindings(fs []*catalogv1.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\t%s %d:%d: %s\n", f.GetKey(), f.GetLine(), f.GetColumn(), f.GetMessage())
	}
	return b.String()
}

func TestConformance(t *testing.T) {
	corpus := corpusDir(t)
	exp := loadExpectations(t, corpus)
	var valid, warned, offline, rejected, wantRejected int

	for _, folder := range []string{"valid", "valid_with_warnings"} {
		for _, rel := range corpusFiles(t, corpus, folder) {
			mustAccept(t, rel, parseCorpusFile(t, corpus, rel))
			if folder == "valid" {
				valid++
			} else {
				warned++
			}
		}
	}

	invalid := corpusFiles(t, corpus, "invalid")
	for _, rel := range invalid {
		if _, ok := exp[rel]; !ok {
			t.Errorf("%s: no expectation in expected.json", rel)
		}
	}
	for rel, e := range exp {
		if strings.HasPrefix(rel, "valid_with_warnings/") {
			continue // checked above with the valid files
		}
		if !slices.Contains(invalid, rel) {
			t.Errorf("expected.json names %s, which is not in the corpus", rel)
			continue
		}
		res := parseCorpusFile(t, corpus, rel)
		switch e.Expect {
		case "accept", "accept_offline":
			offline++
			mustAccept(t, rel, res)
		case "reject":
			wantRejected++
			if checkRejected(t, rel, e, res) {
				rejected++
			}
		default:
			t.Errorf("%s: unknown expectation %q", rel, e.Expect)
		}
	}
	if rejected != wantRejected {
		t.Errorf("%d of the %d reject files were rejected with a matching error, want all", rejected, wantRejected)
	}
	t.Logf("publiccode corpus: %d valid and %d valid-with-warnings files accepted, %d accept_offline files accepted, %d of %d reject files rejected with a matching error",
		valid, warned, offline, rejected, wantRejected)
}

// checkRejected wants the file rejected, with an error on one of the keys
// the reference gives (at its line, when it gives one) among the faults
// that need neither the network nor files, and reports whether it is.
func checkRejected(t *testing.T, rel string, e expectation, res Result) bool {
	t.Helper()
	if res.Entry != nil || len(res.Errors) == 0 {
		t.Errorf("%s: accepted, want rejected", rel)
		return false
	}
	var want []string
	for _, f := range e.Findings {
		if f.Kind != "error" || f.NeedsNetworkOrFiles {
			continue
		}
		want = append(want, fmt.Sprintf("%s (line %d)", f.Key, f.Line))
		for _, got := range res.Errors {
			if got.GetKey() == f.Key && (f.Line == 0 || got.GetLine() == f.Line) {
				return true
			}
		}
	}
	t.Errorf("%s: rejected, but no error names one of %v; errors:\n%s", rel, want, listFindings(res.Errors))
	return false
}
