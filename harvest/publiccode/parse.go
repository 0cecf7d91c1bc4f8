package publiccode

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/validate"
)

// Result is what Parse makes of one file.
type Result struct {
	Entry    *catalogv1.HarvestEntry // nil when the file is rejected
	Errors   []*catalogv1.Finding    // faults that reject the file
	Warnings []*catalogv1.Finding    // faults that do not
	// SourceID is the file's url, even when the file is rejected, if it
	// could be read: a harvest then knows which entry failed, and keeps
	// its tool rather than delete it as gone.
	SourceID string
}

// Parse reads one publiccode.yml file. where says where it was read (a
// path or URL, for reports); it becomes the entry's where. The file is
// rejected, with an error finding per fault, when it breaks the standard
// as the reference parser checks it offline, or when it cannot make a
// Tool the catalog accepts; deprecated keys, and values the catalog cannot
// keep but can do without, give warnings.
//
// Parse never reads the network or the file system, and is safe for
// concurrent use.
func Parse(data []byte, where string) (res Result) {
	r := &reader{}
	defer func() {
		// A fault of this reader or of the YAML parser must cost one file,
		// not the whole harvest.
		if p := recover(); p != nil {
			r.errorf("", pos{}, "%s while reading the file: %v", internalError, p)
			res = r.result(nil)
		}
	}()
	entry := r.parse(data, where)
	return r.result(entry)
}

// internalError starts the message of a fault of the reader itself.
const internalError = "internal error"

// parse runs the reader's stages and returns the entry, or nil when the
// file is rejected.
func (r *reader) parse(data []byte, where string) *catalogv1.HarvestEntry {
	if len(data) > maxFileSize {
		r.errorf("", pos{}, "the file is %d bytes long, more than the %d a publiccode.yml may have here", len(data), maxFileSize)
		return nil
	}
	if !utf8.Valid(data) {
		r.errorf("", invalidUTF8At(data), "the file is not valid UTF-8, which the standard requires")
		return nil
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	root, more, err := loadYAML(data)
	if err != nil {
		r.errorf("", err.at, "%s", err.msg)
		return nil
	}
	if more {
		r.warnf("", pos{}, "the file holds several YAML documents: only the first is read")
	}
	if root.kind != kindMap {
		r.errorf("", root.pos, "the file must be a YAML mapping of publiccode.yml keys, not %s", root.describe())
		return nil
	}
	r.root = root
	if u := root.lookup("url"); u != nil && u.kind == kindScalar {
		r.sourceID = strings.TrimSpace(u.text)
	}
	if !r.checkVersion() {
		return nil
	}
	doc := r.readDocument()
	if len(r.errors) > 0 {
		return nil
	}
	tool, sourceID := r.toTool(doc)
	if len(r.errors) > 0 {
		return nil
	}
	// The mapping keeps every value within the catalog's limits; checking
	// with the catalog's own rules makes sure of it, so that a harvest can
	// never store a tool an API request could not.
	var v validate.Violations
	validate.Tool(&v, "tool", tool)
	for _, f := range v.List {
		r.errorf("", pos{}, "the catalog refuses the tool made from this file: %s %s", f.Field, f.Description)
	}
	if len(r.errors) > 0 {
		return nil
	}
	return &catalogv1.HarvestEntry{SourceId: sourceID, Tool: tool, Where: where}
}

// invalidUTF8At finds the line and column of the first byte that is not
// UTF-8.
func invalidUTF8At(data []byte) pos {
	p := pos{line: 1, col: 1}
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return p
		}
		if r == '\n' {
			p.line, p.col = p.line+1, 1
		} else {
			p.col++
		}
		data = data[size:]
	}
	return p
}

// reader collects what is wrong with one file while it reads it.
type reader struct {
	root     *node
	keys     map[int]string // keysByLine(root), once a wrong type needs it
	errors   []*catalogv1.Finding
	warnings []*catalogv1.Finding
	sourceID string
}

func finding(key string, at pos, format string, args ...any) *catalogv1.Finding {
	return &catalogv1.Finding{
		Key:     key,
		Line:    int32(at.line),
		Column:  int32(at.col),
		Message: fmt.Sprintf(format, args...),
	}
}

// errorf records a fault that rejects the file.
func (r *reader) errorf(key string, at pos, format string, args ...any) {
	r.errors = append(r.errors, finding(key, at, format, args...))
}

// warnf records a fault that does not.
func (r *reader) warnf(key string, at pos, format string, args ...any) {
	r.warnings = append(r.warnings, finding(key, at, format, args...))
}

// result hands the findings over in file order.
func (r *reader) result(entry *catalogv1.HarvestEntry) Result {
	byPlace := func(a, b *catalogv1.Finding) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	}
	slices.SortStableFunc(r.errors, byPlace)
	slices.SortStableFunc(r.warnings, byPlace)
	return Result{Entry: entry, Errors: r.errors, Warnings: r.warnings, SourceID: r.sourceID}
}

// checkVersion reads publiccodeYmlVersion. Without a version the reader
// supports it cannot know which rules apply, so, like the reference
// parser, it stops there.
func (r *reader) checkVersion() bool {
	const key = "publiccodeYmlVersion"
	var p *pair
	for i := range r.root.pairs {
		if r.root.pairs[i].key == key {
			p = &r.root.pairs[i]
		}
	}
	switch {
	case p == nil || p.value.kind == kindNull:
		r.errorf(key, r.root.pos, "is required: the version of the standard the file follows, such as \"0\"")
		return false
	case p.value.kind != kindScalar && p.value.kind != kindBool:
		r.wrongType(key, p.value, "a string such as \"0\"")
		return false
	}
	v := strings.TrimSpace(p.value.text)
	if !slices.Contains(supportedVersions[:], v) {
		r.errorf(key, p.keyPos, "unsupported version %q: this reader takes %s", clip(v), strings.Join(supportedVersions[:], ", "))
		return false
	}
	if !slices.Contains(latestVersions[:], v) {
		r.warnf(key, p.keyPos, "v%s is not the latest version of the standard: write \"0\" (the latest 0.x); the file is read with the rules of v0.7", v)
	}
	return true
}

// wrongType reports a value of the wrong type. Like the reference parser,
// it names the first key or list item on the value's line, so a mapping
// given for a list is named by its first key.
func (r *reader) wrongType(path string, v *node, want string) {
	key := path
	at := v.pos
	if r.keys == nil {
		r.keys = keysByLine(r.root)
	}
	if k := r.keys[v.pos.line]; k != "" && v.pos.line > 0 {
		key = k
	}
	what := v.describe()
	if v.kind == kindScalar && personal(path) {
		// A person's name, address or phone, which a public report,
		// kept after the entry is gone, would quote.
		what = "a text"
	}
	r.errorf(key, at, "wrong type: %s must be %s, not %s", path, want, what)
}

// personal reports whether the value at path may name a person: a
// maintenance contact or contractor, a publisher's contact.
func personal(path string) bool {
	return strings.HasPrefix(path, "maintenance.") || strings.Contains(path, "contact")
}
