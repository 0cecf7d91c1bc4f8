// Package findingtest holds the checks that the tests of the harvester's
// readers (sill, codejson, csvfile) share: what every accepted entry must
// be, what any result of a reader's Parse must be, and the comparison of
// rejected entries with the ones a test wants. Only tests import it.
package findingtest

import (
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/validate"
)

// CheckEntries checks what every accepted entry must be: a tool that
// passes the catalog's checks, under a source id that is neither empty nor
// another entry's, without the fields that the harvest engine or the node
// set (provenance, ogp_themes, name).
func CheckEntries(t testing.TB, entries []*catalogv1.HarvestEntry) {
	t.Helper()
	ids := map[string]bool{}
	for _, e := range entries {
		if e.SourceId == "" || ids[e.SourceId] {
			t.Errorf("%s: source id %q empty or repeated", e.Where, e.SourceId)
		}
		ids[e.SourceId] = true
		var v validate.Violations
		validate.Tool(&v, "tool", e.Tool)
		for _, f := range v.List {
			t.Errorf("%s (id %s): %s: %s", e.Where, e.SourceId, f.Field, f.Description)
		}
		if e.Tool.GetProvenance() != nil || len(e.Tool.GetOgpThemes()) > 0 || e.Tool.GetName() != "" {
			t.Errorf("%s: provenance, ogp_themes or name set", e.Where)
		}
	}
}

// CheckResult checks what a reader's Parse returns, whatever it read, as
// the readers' fuzz tests want it: nothing but the error when there is
// one; else accepted entries as CheckEntries wants them, and at least one
// finding in each rejected entry.
func CheckResult(t testing.TB, entries []*catalogv1.HarvestEntry, rejected []*catalogv1.RejectedEntry, err error) {
	t.Helper()
	if err != nil {
		if entries != nil || rejected != nil {
			t.Fatalf("entries returned with the error %v", err)
		}
		return
	}
	CheckEntries(t, entries)
	for _, r := range rejected {
		if len(r.Findings) == 0 {
			t.Fatalf("rejected %s without a finding", r.Where)
		}
	}
}

// Finding is a finding a test wants.
type Finding struct {
	Key          string
	Line, Column int32  // Column 0 takes any column from 1
	Message      string // a part of the message
}

// Rejected is a rejected entry a test wants, with all its findings in
// order.
type Rejected struct {
	Where, ID string
	Findings  []Finding
}

// CheckRejected checks that got are the rejected entries want, in order.
func CheckRejected(t testing.TB, got []*catalogv1.RejectedEntry, want []Rejected) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("rejected %v, want %d", got, len(want))
	}
	for i, w := range want {
		r := got[i]
		if r.Where != w.Where || r.SourceId != w.ID {
			t.Errorf("rejected %d: %s (%q), want %s (%q)", i, r.Where, r.SourceId, w.Where, w.ID)
		}
		if len(r.Findings) != len(w.Findings) {
			t.Errorf("%s: findings %v, want %d", r.Where, r.Findings, len(w.Findings))
			continue
		}
		for j, wf := range w.Findings {
			f := r.Findings[j]
			column := f.Column == wf.Column
			if wf.Column == 0 {
				column = f.Column >= 1
			}
			if f.Key != wf.Key || f.Line != wf.Line || !column || !strings.Contains(f.Message, wf.Message) {
				t.Errorf("%s finding %d: %q at %d:%d: %s; want %q at %d:%d: ...%s...",
					r.Where, j, f.Key, f.Line, f.Column, f.Message, wf.Key, wf.Line, wf.Column, wf.Message)
			}
		}
	}
}

// At is the finding a test wants: of key, at line and column (0 for any
// column), with a message that holds message.
func At(key string, line, column int32, message string) Finding {
	return Finding{Key: key, Line: line, Column: column, Message: message}
}

// Reject is the rejected entry a test wants: at where, with the source id
// id and the findings.
func Reject(where, id string, findings ...Finding) Rejected {
	return Rejected{Where: where, ID: id, Findings: findings}
}
