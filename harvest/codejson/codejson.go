// Package codejson reads code.json files, the source code inventories that
// United States federal agencies publish under the code.gov metadata
// schema 2.0 (OMB M-16-21), for the harvester: every release of the file
// becomes a harvest entry. Package harvest runs it and imports what it
// returns into the node's catalog; this package reads bytes and never
// writes anything.
//
// Every release becomes a tool that passes the catalog's checks (package
// validate), or a rejected entry that names each fault by its key path in
// the file ("releases[3].permissions.licenses", "releases[3].contact.email")
// with its line and column.
//
// The mapping, key by key of a release:
//
//	repositoryURL         source id (any scheme), else name; repository_url when http or https
//	name                  display_name
//	description           descriptions.en (short_description, and long_description past 150 characters)
//	longDescription       descriptions.en.long_description (an extension some agencies use)
//	homepageURL           landing_url, when http or https
//	permissions.licenses  license, when every name is an SPDX identifier (several are joined with AND)
//	organization          publisher.name; else the file's agency
//	contact               maintenance.contacts: name (else the publisher's name), email, phone
//	status                development_status: Ideation concept, Development and Alpha development,
//	                      Beta and Release Candidate beta, Production stable, Archival obsolete
//	version               software_version
//	date.lastModified     release_date (YYYY-MM-DD, or the date of an ISO 8601 time)
//	tags                  categories, for the tags that are publiccode.yml categories
//
// Left out, because the catalog has no field with their meaning:
// permissions.usageType and exemptionText (the catalog lists closed tools
// too, with an empty license), languages (programming languages, not the
// languages of the user interface), laborHours, vcs, downloadURL,
// disclaimerURL, relatedCode, reusedCode, partners (agencies that worked on
// the release, not necessarily users), contact.URL, date.created and
// date.metadataLastUpdated, measurementType.
//
// Links with a scheme other than http or https (git://, ssh://) are left
// out: the catalog's links must open in a browser. A value that is no URL
// at all rejects the release, as any other value the catalog cannot take.
package codejson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/internal/finding"
	"github.com/ogptoolbox/federation/harvest/internal/jsonpos"
	"github.com/ogptoolbox/federation/harvest/internal/textfit"
	"github.com/ogptoolbox/federation/spdx"
	"github.com/ogptoolbox/federation/vocabulary"
)

// Parse reads a code.json file. It returns an entry for every release that
// maps to a valid tool and a rejected entry, with its faults, for every
// other release. It returns an error, and nothing else, only when the file
// cannot be read as a whole: it is not JSON (in UTF-8), it has no "releases" array
// (schema 1.0 files, which list "projects", are refused), or its agency is
// not a string; or ctx ended before every release was read. Then the
// source was not read.
//
// A bare JSON array of releases, as some agencies publish one per
// repository, is read as the releases of a file without an agency; its
// keys are then "[3].name".
func Parse(ctx context.Context, data []byte) ([]*catalogv1.HarvestEntry, []*catalogv1.RejectedEntry, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if err := jsonpos.CheckEncoding(data); err != nil {
		return nil, nil, fmt.Errorf("code.json: %w", err)
	}
	f, err := readFile(data)
	if err != nil {
		return nil, nil, fmt.Errorf("code.json: %w", err)
	}
	var (
		b  finding.Batch
		at = finding.InJSON(data)
	)
	for i, raw := range f.releases {
		if err := b.Stopped(ctx); err != nil {
			return nil, nil, fmt.Errorf("code.json: %w", err)
		}
		where := f.prefix + "[" + strconv.Itoa(i) + "]"
		r := &release{file: f, Entry: finding.Entry{Where: where, Whole: where}}
		tool := r.read(raw)
		if first, dup := b.Claim(&r.Entry); dup {
			r.Fault(r.idKey, "%q is also the source id of %s: each release must have its own repositoryURL (or name, without one)", r.ID, first)
		}
		r.Check(tool)
		b.Add(&r.Entry, tool, at)
	}
	return b.Entries, b.Rejected, nil
}

// file is what a code.json file says besides its releases.
type file struct {
	prefix   string // the key path of the releases array: "releases", or "" for a bare array
	agency   string
	releases []json.RawMessage
}

// readFile reads the file's top level.
func readFile(data []byte) (*file, error) {
	var top any
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonpos.SourceError(data, err, "a code.json object")
	}
	if _, ok := top.([]any); ok {
		f := &file{}
		return f, json.Unmarshal(data, &f.releases)
	}
	if _, ok := top.(map[string]any); !ok {
		return nil, fmt.Errorf("the document is %s, not a code.json object", finding.DescribeValue(top))
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	f := &file{prefix: "releases"}
	raw, ok := doc["releases"]
	if !ok {
		if _, old := doc["projects"]; old {
			return nil, errors.New(`it lists "projects", as code.gov schema 1.0 did: only schema 2.0 files, which list "releases", can be read`)
		}
		return nil, errors.New(`it has no "releases": not a code.gov schema 2.0 file`)
	}
	if err := json.Unmarshal(raw, &f.releases); err != nil || f.releases == nil {
		return nil, fmt.Errorf(`"releases" is %s, not an array`, finding.DescribeJSON(raw))
	}
	if raw, ok := doc["agency"]; ok {
		var agency *string
		if err := json.Unmarshal(raw, &agency); err != nil {
			return nil, fmt.Errorf(`"agency" is %s, not a string`, finding.DescribeJSON(raw))
		}
		if agency != nil {
			f.agency = strings.TrimSpace(*agency)
		}
	}
	return f, nil
}

// release is one release being read. Its finding.Entry takes the file's
// key paths ("releases[3].contact.email").
type release struct {
	finding.Entry
	file  *file
	idKey string // the key path the source id came from
}

// key is the key path of a key of the release ("releases[3].contact.email").
func (r *release) key(k string) string { return r.Where + "." + k }

// read decodes the release and maps it to a tool, recording the faults it
// finds on the way; nil when the release is not an object.
func (r *release) read(raw json.RawMessage) *catalogv1.Tool {
	var fields map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil || fields == nil {
		r.Fault(r.Where, "is %s, not a release (a JSON object)", finding.DescribeJSON(raw))
		return nil
	}
	o := object{r: r, path: r.Where, fields: fields}
	t := &catalogv1.Tool{}

	t.DisplayName = o.text("name")
	r.From("display_name", r.key("name"))
	if t.DisplayName == "" && !r.Faulted(r.key("name")) {
		r.Fault(r.key("name"), "is required: the release's name")
	}
	repo := o.text("repositoryURL")
	switch {
	case repo != "":
		r.ID, r.idKey = repo, r.key("repositoryURL")
	case r.Faulted(r.key("repositoryURL")):
		// Given, but not as text: the release's id is not known (its
		// tool was made under its repositoryURL), and its rejection,
		// without an id, keeps every tool of the source from deletion.
	case t.DisplayName != "":
		r.ID, r.idKey = t.DisplayName, r.key("name")
	}

	r.describe(t, o)
	t.RepositoryUrl = r.link(repo, "repository_url", "repositoryURL")
	t.LandingUrl = r.link(o.text("homepageURL"), "landing_url", "homepageURL")

	publisher, publisherKey := o.text("organization"), r.key("organization")
	if publisher == "" && r.file.agency != "" {
		publisher, publisherKey = r.file.agency, "agency"
	}
	if publisher != "" {
		t.Publisher = &catalogv1.Publisher{Name: publisher}
		r.From("publisher.name", publisherKey)
	}
	if perms := o.object("permissions"); perms != nil {
		t.License = perms.license()
	}
	if c := r.contact(o.object("contact"), publisher, publisherKey); c != nil {
		t.Maintenance = &catalogv1.Maintenance{Contacts: []*catalogv1.Contact{c}}
	}
	t.DevelopmentStatus = r.status(o.text("status"))
	r.From("development_status", r.key("status"))
	t.SoftwareVersion = o.text("version")
	r.From("software_version", r.key("version"))
	if date := o.object("date"); date != nil {
		t.ReleaseDate = date.date("lastModified")
		r.From("release_date", r.key("date.lastModified"))
	}
	t.Categories = categories(o.texts("tags"))
	r.From("categories", r.key("tags"))
	return t
}

// placeholder matches the descriptions that inventory generators write
// when a repository has none ("No description available...").
var placeholder = regexp.MustCompile(`(?i)^(no description( available| provided)?|n/?a|none|tbd|todo)[.!]*$`)

// describe maps description (and the longDescription some agencies add)
// to the English description: code.json is the United States' format, in
// English.
func (r *release) describe(t *catalogv1.Tool, o object) {
	text, long := o.text("description"), o.text("longDescription")
	key := r.key("description")
	r.From("descriptions.en", key)
	r.From("descriptions", key)
	switch {
	case placeholder.MatchString(text):
		r.Fault(key, "%q is a placeholder, not a description of the tool", text)
		return
	case text == "" && !r.Faulted(key):
		r.Fault(key, "is required: what the tool is and does")
		return
	case text == "":
		return
	}
	d := &catalogv1.Description{}
	d.ShortDescription, d.LongDescription = textfit.Describe(text)
	if long != "" {
		d.LongDescription = textfit.Shorten(long, textfit.MaxLongDescription)
		r.From("descriptions.en.long_description", r.key("longDescription"))
	}
	t.Descriptions = map[string]*catalogv1.Description{"en": d}
}

// link returns value for the catalog field when it is an http or https
// URL, "" when it is a URL of another scheme, and value itself when it is
// not a URL at all, so that the catalog's checks reject it under key.
func (r *release) link(value, field, key string) string {
	r.From(field, r.key(key))
	u, err := url.Parse(value)
	if err == nil && u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return value
}

// contact maps the release's contact. code.json requires only its email:
// a contact without a person's name is the publisher's mailbox, so the
// publisher's name stands for it.
func (r *release) contact(c *object, publisher, publisherKey string) *catalogv1.Contact {
	if c == nil {
		return nil
	}
	out := &catalogv1.Contact{
		Name:  c.text("name"),
		Email: strings.TrimPrefix(c.text("email"), "mailto:"),
		Phone: c.text("phone"),
	}
	if out.Email == "" && out.Phone == "" && out.Name == "" {
		return nil
	}
	const p = "maintenance.contacts[0]"
	r.From(p, c.path)
	r.From(p+".name", c.path+".name")
	r.From(p+".email", c.path+".email")
	r.From(p+".phone", c.path+".phone")
	if out.Name == "" && publisher != "" {
		out.Name = publisher
		r.From(p+".name", publisherKey)
	}
	return out
}

// statuses maps code.gov's release statuses, in lower case, to the
// publiccode.yml development statuses.
var statuses = map[string]string{
	"ideation":          "concept",
	"development":       "development",
	"alpha":             "development",
	"beta":              "beta",
	"release candidate": "beta",
	"production":        "stable",
	"archival":          "obsolete",
}

// status maps a release status; a value that is not one of code.gov's is
// a fault (the schema enumerates them).
func (r *release) status(s string) string {
	if s == "" {
		return ""
	}
	if st, ok := statuses[strings.ToLower(s)]; ok {
		return st
	}
	r.Fault(r.key("status"), "%q is not one of Ideation, Development, Alpha, Beta, Release Candidate, Production, Archival", s)
	return ""
}

// categories keeps the tags that are publiccode.yml categories, compared
// without case and with spaces as hyphens ("Data Visualization" is
// "data-visualization"); other tags are free keywords the catalog has no
// field for.
func categories(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, tag := range tags {
		c := strings.ToLower(strings.Join(strings.Fields(tag), "-"))
		if vocabulary.IsCategory(c) && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// noAssertion are the license names, in upper case, that say the license
// is not known (SPDX's NOASSERTION and NONE among them).
var noAssertion = map[string]bool{"NOASSERTION": true, "NONE": true, "N/A": true, "OTHER": true, "UNKNOWN": true}

// licenseAliases are the license names the code.gov schema itself gives as
// examples that are not SPDX identifiers, with the identifier they mean.
var licenseAliases = map[string]string{"CC0": "CC0-1.0"}

// license maps permissions.licenses to an SPDX expression, or "" (the
// catalog's "unknown") when there is none or when a name is no SPDX
// identifier: a partial expression would say something the file does not.
// Several licenses are joined with AND: code.json does not say whether they
// apply together or as a choice, and AND never grants more than the file
// does.
func (o object) license() string {
	list := o.array("licenses")
	var parts []string
	for i, item := range list {
		lic := o.element("licenses", i, item)
		if lic == nil {
			return ""
		}
		name := lic.text("name")
		if alias, ok := licenseAliases[strings.ToUpper(name)]; ok {
			name = alias
		}
		if name == "" || noAssertion[strings.ToUpper(name)] || spdx.Validate(name) != nil {
			return ""
		}
		e, _ := spdx.Parse(name) // valid: Validate parsed it
		if e.Op == "OR" {
			parts = append(parts, "("+e.String()+")")
		} else {
			parts = append(parts, e.String())
		}
	}
	return strings.Join(parts, " AND ")
}

// object is a JSON object of the release, read key by key: a value of the
// wrong type is a fault of its key path, and reads as empty.
type object struct {
	r      *release
	path   string
	fields map[string]any
}

// text reads a string, trimmed; a missing key or null is "".
func (o object) text(key string) string { return o.r.Text(o.path+"."+key, o.fields[key]) }

// texts reads an array of strings, leaving out the empty ones.
func (o object) texts(key string) []string {
	var out []string
	for i, v := range o.array(key) {
		switch v := v.(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				out = append(out, s)
			}
		case nil:
		default:
			o.r.Fault(fmt.Sprintf("%s.%s[%d]", o.path, key, i), "is %s, not a string", finding.DescribeValue(v))
		}
	}
	return out
}

// array reads an array; a missing key or null is nil.
func (o object) array(key string) []any {
	switch v := o.fields[key].(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		o.r.Fault(o.path+"."+key, "is %s, not an array", finding.DescribeValue(v))
		return nil
	}
}

// object reads an object; a missing key or null is nil.
func (o object) object(key string) *object {
	switch v := o.fields[key].(type) {
	case nil:
		return nil
	case map[string]any:
		return &object{r: o.r, path: o.path + "." + key, fields: v}
	default:
		o.r.Fault(o.path+"."+key, "is %s, not an object", finding.DescribeValue(v))
		return nil
	}
}

// element reads the object at index i of the array at key.
func (o object) element(key string, i int, v any) *object {
	path := fmt.Sprintf("%s.%s[%d]", o.path, key, i)
	m, ok := v.(map[string]any)
	if !ok {
		o.r.Fault(path, "is %s, not an object", finding.DescribeValue(v))
		return nil
	}
	return &object{r: o.r, path: path, fields: m}
}

// dateLayouts are the forms code.json dates take: YYYY-MM-DD, or ISO 8601
// times, which the schema also allows.
var dateLayouts = []string{time.DateOnly, time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05"}

// date reads a date as YYYY-MM-DD: the day a time falls on where it was
// written.
func (o object) date(key string) string {
	s := o.text(key)
	if s == "" {
		return ""
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(time.DateOnly)
		}
	}
	o.r.Fault(o.path+"."+key, "%q is not a date (YYYY-MM-DD, or an ISO 8601 time)", s)
	return ""
}
