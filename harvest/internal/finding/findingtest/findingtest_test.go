package findingtest

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// recorder is a testing.TB that records the failures of a check.
type recorder struct {
	testing.TB
	failures []string
	fatal    bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.fatal = true
	runtime.Goexit()
}

// run runs check as a test would, and returns its failures.
func run(t *testing.T, check func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		check(r)
	}()
	<-done
	return r
}

func tool(name string) *catalogv1.Tool {
	return &catalogv1.Tool{DisplayName: name, Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "A tool"}}}
}

func TestCheckEntries(t *testing.T) {
	good := &catalogv1.HarvestEntry{SourceId: "1", Where: "[0]", Tool: tool("A")}
	for name, c := range map[string]struct {
		entries  []*catalogv1.HarvestEntry
		failures int
	}{
		"valid":         {[]*catalogv1.HarvestEntry{good, {SourceId: "2", Where: "[1]", Tool: tool("B")}}, 0},
		"repeated id":   {[]*catalogv1.HarvestEntry{good, {SourceId: "1", Where: "[1]", Tool: tool("B")}}, 1},
		"empty id":      {[]*catalogv1.HarvestEntry{{Where: "[0]", Tool: tool("A")}}, 1},
		"invalid tool":  {[]*catalogv1.HarvestEntry{{SourceId: "1", Where: "[0]", Tool: tool("")}}, 1},
		"name set":      {[]*catalogv1.HarvestEntry{{SourceId: "1", Where: "[0]", Tool: func() *catalogv1.Tool { t := tool("A"); t.Name = "tools/a"; return t }()}}, 1},
		"themes set":    {[]*catalogv1.HarvestEntry{{SourceId: "1", Where: "[0]", Tool: func() *catalogv1.Tool { t := tool("A"); t.OgpThemes = []catalogv1.OgpTheme{1}; return t }()}}, 1},
		"several wrong": {[]*catalogv1.HarvestEntry{{Where: "[0]", Tool: tool("")}}, 2},
	} {
		r := run(t, func(tb testing.TB) { CheckEntries(tb, c.entries) })
		if len(r.failures) != c.failures || r.fatal {
			t.Errorf("%s: failures %q (fatal %v), want %d", name, r.failures, r.fatal, c.failures)
		}
	}
}

func TestCheckResult(t *testing.T) {
	entries := []*catalogv1.HarvestEntry{{SourceId: "1", Where: "[0]", Tool: tool("A")}}
	rejected := []*catalogv1.RejectedEntry{{Where: "[1]", Findings: []*catalogv1.Finding{{Key: "[1]", Message: "is wrong"}}}}
	for name, c := range map[string]struct {
		entries  []*catalogv1.HarvestEntry
		rejected []*catalogv1.RejectedEntry
		err      error
		fatal    bool
	}{
		"read":                 {entries, rejected, nil, false},
		"nothing read":         {nil, nil, nil, false},
		"error":                {nil, nil, errors.New("not JSON"), false},
		"error and entries":    {entries, nil, errors.New("not JSON"), true},
		"error and rejects":    {nil, rejected, errors.New("not JSON"), true},
		"reject with no cause": {nil, []*catalogv1.RejectedEntry{{Where: "[0]"}}, nil, true},
	} {
		r := run(t, func(tb testing.TB) { CheckResult(tb, c.entries, c.rejected, c.err) })
		if r.fatal != c.fatal || !c.fatal && len(r.failures) > 0 {
			t.Errorf("%s: failures %q (fatal %v), want fatal %v", name, r.failures, r.fatal, c.fatal)
		}
	}
}

func TestCheckRejected(t *testing.T) {
	got := []*catalogv1.RejectedEntry{{Where: "row 4", SourceId: "x", Findings: []*catalogv1.Finding{
		{Key: "Nom", Line: 5, Column: 17, Message: `"Nom" is required: the tool's name`},
		{Key: "", Line: 5, Column: 1, Message: "has no description"},
	}}}
	for name, c := range map[string]struct {
		want     []Rejected
		failures int
		fatal    bool
	}{
		"same":           {[]Rejected{Reject("row 4", "x", At("Nom", 5, 17, "is required"), At("", 5, 1, "has no description"))}, 0, false},
		"any column":     {[]Rejected{Reject("row 4", "x", At("Nom", 5, 0, "required"), At("", 5, 0, ""))}, 0, false},
		"other where":    {[]Rejected{Reject("row 5", "x", At("Nom", 5, 17, ""), At("", 5, 1, ""))}, 1, false},
		"other id":       {[]Rejected{Reject("row 4", "y", At("Nom", 5, 17, ""), At("", 5, 1, ""))}, 1, false},
		"other key":      {[]Rejected{Reject("row 4", "x", At("Name", 5, 17, ""), At("", 5, 1, ""))}, 1, false},
		"other line":     {[]Rejected{Reject("row 4", "x", At("Nom", 6, 17, ""), At("", 5, 1, ""))}, 1, false},
		"other column":   {[]Rejected{Reject("row 4", "x", At("Nom", 5, 16, ""), At("", 5, 2, ""))}, 2, false},
		"other message":  {[]Rejected{Reject("row 4", "x", At("Nom", 5, 17, "is empty"), At("", 5, 1, ""))}, 1, false},
		"fewer findings": {[]Rejected{Reject("row 4", "x", At("Nom", 5, 17, ""))}, 1, false},
		"more rejects":   {[]Rejected{Reject("row 4", "x"), Reject("row 5", "y")}, 1, true},
		"no reject":      {nil, 1, true},
	} {
		r := run(t, func(tb testing.TB) { CheckRejected(tb, got, c.want) })
		if len(r.failures) != c.failures || r.fatal != c.fatal {
			t.Errorf("%s: failures %q (fatal %v), want %d (fatal %v)", name, r.failures, r.fatal, c.failures, c.fatal)
		}
	}
	// Column 0 wants a column all the same.
	noColumn := []*catalogv1.RejectedEntry{{Where: "[0]", Findings: []*catalogv1.Finding{{Key: "[0].i", Line: 1, Message: "is required"}}}}
	r := run(t, func(tb testing.TB) {
		CheckRejected(tb, noColumn, []Rejected{Reject("[0]", "", At("[0].i", 1, 0, "is required"))})
	})
	if len(r.failures) != 1 {
		t.Errorf("a finding without a column: failures %q, want 1", r.failures)
	}
}
