// Package finding is what the harvester's readers of whole files (sill,
// codejson, csvfile) share to report a rejected entry. A reader maps each
// entry of its source (a SILL record, a code.json release, a CSV row) to a
// catalog Tool; an entry it cannot map to a tool that passes the catalog's
// checks (package validate) is rejected, with findings that name each
// fault in the source's own terms: the key or column the value came from,
// with its line and column in the file, rather than the catalog's field
// path, which the people who keep the source do not know (a fault that no
// key gave is a fault of the whole entry).
//
// An Entry gathers the findings of one entry while the reader maps it: its
// own faults (Fault), the source key of each catalog field it fills
// (From), and then the catalog's checks of the mapped tool, each violation
// named by the key its field came from (Check). A Batch gathers the
// entries of a source: the accepted ones, and the rejected ones with their
// findings located in the file (a Locator, such as InJSON for a JSON
// document). For the JSON readers it also reads a value as text, the
// wrong kind of value being a fault (Entry.Text), and names a value's
// kind in messages (DescribeValue, DescribeJSON). Package harvest runs the
// readers and imports what they return into the node's catalog.
package finding

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/identity"
	"github.com/ogptoolbox/federation/validate"
)

// An Entry gathers the findings of one entry of a source while a reader
// maps it to a tool. Its keys are the source's own: JSON paths
// ("[12].l", "releases[3].contact.email") or CSV column names. The zero
// Entry is ready to use; a reader sets its fields before it records
// anything.
type Entry struct {
	// Where is the entry's place in the source, as the harvest entry or
	// the rejected entry gives it: "[12]", "releases[3]", "row 4".
	Where string
	// ID is the entry's source id, "" until the reader has read it.
	ID string
	// Whole is the key of the findings about the entry as a whole, that
	// no key of the source gave: Where in a JSON document, "" in a CSV
	// row.
	Whole string
	// NoDescription, when it is not "", is the finding of a tool without
	// a description when the reader recorded no source key for
	// descriptions: the message names the keys or columns that would
	// have given one. When it is "", such a tool has the general finding
	// of a violation no key gave ("descriptions: is required: ...").
	NoDescription string
	// Findings are the faults recorded, in the order they were found,
	// each once.
	Findings []*catalogv1.Finding

	from map[string]string // catalog field path → the source key that gave it
}

// Fault records a fault of the value at key, unless the same fault of key
// is recorded already.
func (e *Entry) Fault(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, f := range e.Findings {
		if f.Key == key && f.Message == msg {
			return
		}
	}
	e.Findings = append(e.Findings, &catalogv1.Finding{Key: key, Message: msg})
}

// Faulted reports whether a fault of key is recorded.
func (e *Entry) Faulted(key string) bool {
	for _, f := range e.Findings {
		if f.Key == key {
			return true
		}
	}
	return false
}

// From records that the catalog field at path ("display_name",
// "descriptions.fr.features", "maintenance.contacts[0].email": a path of
// package validate without its "tool." prefix) took its value from the
// source's key, so that Check names key when the catalog's checks fault
// the field or a field within it. A later call for the same path wins.
func (e *Entry) From(path, key string) {
	if e.from == nil {
		e.from = map[string]string{}
	}
	e.from[path] = key
}

// indexSuffix is the index that ends a catalog field path ("[2]").
var indexSuffix = regexp.MustCompile(`\[\d+\]$`)

// Source returns the source key that the catalog field at path came from:
// the key recorded for path itself or, failing that, for the nearest field
// that holds it (a list index, then a name, dropped at a time:
// "maintenance.contacts[0].email", "maintenance.contacts[0]",
// "maintenance.contacts", "maintenance"). ok is false when no key was
// recorded for any of them.
func (e *Entry) Source(path string) (key string, ok bool) {
	for f := path; f != ""; {
		if key, ok := e.from[f]; ok {
			return key, true
		}
		if loc := indexSuffix.FindStringIndex(f); loc != nil {
			f = f[:loc[0]]
		} else if i := strings.LastIndexByte(f, '.'); i >= 0 {
			f = f[:i]
		} else {
			break
		}
	}
	return "", false
}

// Check runs the catalog's checks (validate.Tool) on the mapped tool and
// records each violation as a fault of the source key its field came from
// (see Source), unless reading that key already found a fault: the reader
// said better what is wrong with it. A violation of a field with no source
// key is a fault of the whole entry, its message prefixed by the field
// path (see NoDescription for the exception). A nil tool, that the reader
// could not map at all, has no checks.
//
// A reader checks the tool even when reading it found faults, so that the
// rejected entry names them all at once.
func (e *Entry) Check(tool *catalogv1.Tool) {
	if tool == nil {
		return
	}
	var v validate.Violations
	validate.Tool(&v, "tool", tool)
	for _, f := range v.List {
		e.violation(f)
	}
}

// violation records one violation of the mapped tool (see Check).
func (e *Entry) violation(v validate.Violation) {
	field := strings.TrimPrefix(v.Field, "tool.")
	if key, ok := e.Source(field); ok {
		if !e.Faulted(key) {
			e.Fault(key, "%s", v.Description)
		}
		return
	}
	if field == "descriptions" && e.NoDescription != "" {
		e.Fault(e.Whole, "%s", e.NoDescription)
		return
	}
	e.Fault(e.Whole, "%s: %s", field, v.Description)
}

// A Locator gives the line and column, both from 1, of the source key of
// a finding of the entry at where; 0, 0 when it cannot tell.
type Locator func(where, key string) (line, column int32)

// A Batch gathers what a reader makes of the entries of one source: an
// accepted entry for each entry without a finding, a rejected entry for
// each other. The zero Batch is empty and ready to use.
type Batch struct {
	Entries  []*catalogv1.HarvestEntry
	Rejected []*catalogv1.RejectedEntry

	seen map[string]string // source id → where the first entry with it is
}

// Claim claims the entry's source id for it. When an earlier entry of the
// source has the same id, or one spelled otherwise (see IDForm), it
// returns where that entry is and true, and the reader records the fault
// in its own words; the first entry keeps the id, rejected or not. An
// entry without an id claims nothing.
func (b *Batch) Claim(e *Entry) (first string, taken bool) {
	if e.ID == "" {
		return "", false
	}
	form := IDForm(e.ID)
	if first, taken := b.seen[form]; taken {
		return first, true
	}
	if b.seen == nil {
		b.seen = map[string]string{}
	}
	b.seen[form] = e.Where
	return "", false
}

// IDForm is what of a source id tells its entry: the identity of a URL
// (package identity: case where forges ignore it, a trailing ".git" or
// slash), else the id without surrounding spaces. Two entries of one
// source whose ids have one form are one entry told twice; an entry whose
// id changes only in spelling from one run to the next is the same.
func IDForm(sid string) string {
	if k := identity.NormalizeURL(sid); k != "" {
		return k
	}
	return strings.TrimSpace(sid)
}

// Add adds the entry: accepted, with tool, when it has no finding; else
// rejected, with its findings, each given the line and column where the
// locator finds its key (a nil locator leaves them as they are).
func (b *Batch) Add(e *Entry, tool *catalogv1.Tool, at Locator) {
	if len(e.Findings) == 0 {
		b.Entries = append(b.Entries, &catalogv1.HarvestEntry{SourceId: e.ID, Tool: tool, Where: e.Where})
		return
	}
	if at != nil {
		for _, f := range e.Findings {
			f.Line, f.Column = at(e.Where, f.Key)
		}
	}
	b.Rejected = append(b.Rejected, &catalogv1.RejectedEntry{SourceId: e.ID, Where: e.Where, Findings: e.Findings})
}

// checkEvery is how many entries a reader maps between two looks at its
// context: often enough that a node stopping waits a few milliseconds for
// a reader, not the seconds a file of 400,000 rows takes.
const checkEvery = 1024

// Stopped returns the context's error when ctx is done, looking at it
// once every checkEvery entries added: a reader calls it before each entry
// and, on an error, returns it and nothing else (the source was not read).
func (b *Batch) Stopped(ctx context.Context) error {
	if (len(b.Entries)+len(b.Rejected))%checkEvery != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped after %d entries: %w", len(b.Entries)+len(b.Rejected), err)
	}
	return nil
}
