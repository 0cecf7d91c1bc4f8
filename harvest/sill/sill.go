// Package sill reads the SILL, the French interministerial list of
// recommended free software (Socle interministériel de logiciels libres),
// for the harvester: it turns the list's JSON file, as Etalab publishes it
// (sill.json, an array of records with short keys), into harvest entries.
// Package harvest runs it and imports what it returns into the node's
// catalog; this package reads bytes and never writes anything.
//
// Every record becomes a tool that passes the catalog's checks (package
// validate), or a rejected entry that names each fault by the record's own
// keys ("[12].i", "[12].id") with its line and column. A record is the SILL
// saying that the French State uses and recommends a tool, so Parse maps
// it leniently where the catalog can do without a value (a link that is not
// a web address, a licence that names no SPDX license) and strictly where
// it cannot (a name, a numeric id).
//
// The mapping, key by key:
//
//	id       source id, as a decimal number ("42"); also accepted as a JSON number
//	i        display_name
//	fr-desc  descriptions.fr (short_description, and long_description past 150 characters)
//	f        descriptions.fr when there is no fr-desc, else descriptions.fr.features
//	en-desc  descriptions.en
//	doc      documentation_url of each description
//	website  landing_url
//	sources  repository_url
//	logo     logo_url
//	l        license (see license.go for the normalisation)
//	v+       software_version
//	c        categories, for the few components whose meaning is one
//	         publiccode.yml category (see categories)
//	(all)    used_by: "French State administrations (SILL)"
//
// Links are kept only when they are absolute http or https URLs: the
// catalog's links must open in a browser, some SILL sources are git://
// addresses, and a record must not be lost for a link.
//
// Left out, on purpose:
//   - st (recommended, observed, being phased out) is the State's verdict
//     on the tool, not its development status: "being phased out" does not
//     make a tool obsolete;
//   - v- is the oldest version the State accepts, not the latest release,
//     and is often a word ("Dernière stable", "N/A");
//   - se (sector), g (working group), y (years listed), co (Comptoir du
//     Libre id), p (parent software), u (usage note), su, a, si, la, frama:
//     the catalog has no field with their meaning, and a parent software
//     does not say surely what kind of software a tool is;
//   - publisher, maintenance and development status: the SILL does not
//     give them.
package sill

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/internal/finding"
	"github.com/ogptoolbox/federation/harvest/internal/jsonpos"
	"github.com/ogptoolbox/federation/harvest/internal/textfit"
)

// usedBy is who uses every tool of the SILL: listing a tool is the French
// State saying that its administrations use it.
const usedBy = "French State administrations (SILL)"

// maxURL is the longest link the catalog takes (package validate).
const maxURL = 2048

// noDescription is the finding of a record that gives no description.
const noDescription = "has no description: fr-desc, en-desc and f are all empty"

// categories maps the SILL components ("c") whose meaning is one
// publiccode.yml category to that category. The other components are left
// out because no category means the same thing ("Navigateur web",
// "Serveur SMTP"), or because the SILL files under them tools of other
// kinds: "Gestion de contenu web" holds Moodle and Koha, "Sauvegarde
// serveurs" holds Ceph and Vault, "Outil collaboratif" holds Mastodon and
// LimeSurvey, "Authentification" holds KeePass.
var categories = map[string]string{
	"Antivirus":   "it-security",
	"Chiffrement": "it-security",
	"Environnement de développement intégré (IDE)": "ide",
	"Moteur SIG":               "geographic-information-systems",
	"Pare-feu - Réseau":        "it-security",
	"Service level management": "it-service-management",
	"Visiophonie":              "video-conferencing",
}

// Parse reads a SILL file: a JSON array of records. It returns an entry for
// every record that maps to a valid tool and a rejected entry, with its
// faults, for every other record. It returns an error, and nothing else,
// only when data is not a JSON array (in UTF-8), or when ctx ends before
// every record is read: then the source was not read.
//
// An entry's where and a finding's key are JSON paths into the file: the
// record's index from 0 ("[12]"), then the key ("[12].l").
func Parse(ctx context.Context, data []byte) ([]*catalogv1.HarvestEntry, []*catalogv1.RejectedEntry, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if err := jsonpos.CheckEncoding(data); err != nil {
		return nil, nil, fmt.Errorf("sill: %w", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, nil, fmt.Errorf("sill: %w", jsonpos.SourceError(data, err, "an array of SILL records"))
	}
	if raws == nil { // JSON's null, which decodes without error
		return nil, nil, fmt.Errorf("sill: the file holds null, not an array of SILL records")
	}
	var (
		b  finding.Batch
		at = finding.InJSON(data)
	)
	for i, raw := range raws {
		if err := b.Stopped(ctx); err != nil {
			return nil, nil, fmt.Errorf("sill: %w", err)
		}
		where := "[" + strconv.Itoa(i) + "]"
		r := &record{Entry: finding.Entry{Where: where, Whole: where, NoDescription: noDescription}}
		tool := r.read(raw)
		if first, dup := b.Claim(&r.Entry); dup {
			r.fault("id", "%s is also the id of the record at %s: ids must be unique", r.ID, first)
		}
		r.Check(tool)
		b.Add(&r.Entry, tool, at)
	}
	return b.Entries, b.Rejected, nil
}

// record is one SILL record being read. Its finding.Entry takes the
// record's JSON paths ("[12].l"); its methods take the record's keys ("l").
type record struct {
	finding.Entry
	fields map[string]any // its keys, decoded
}

// key is the JSON path of the record's key ("[12].l"), or of the record
// itself when key is "".
func (r *record) key(key string) string {
	if key == "" {
		return r.Where
	}
	return r.Where + "." + key
}

// fault records a fault of the record's key (the whole record when key is
// ""), once.
func (r *record) fault(key, format string, args ...any) {
	r.Fault(r.key(key), format, args...)
}

// faulted reports whether a fault of key was recorded.
func (r *record) faulted(key string) bool { return r.Faulted(r.key(key)) }

// from records that the catalog field at path came from the record's key.
func (r *record) from(path, key string) { r.From(path, r.key(key)) }

// read decodes the record and maps it to a tool, recording the faults it
// finds on the way.
func (r *record) read(raw json.RawMessage) *catalogv1.Tool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r.fields); err != nil || r.fields == nil {
		r.fault("", "is %s, not a record (a JSON object)", finding.DescribeJSON(raw))
		return nil
	}
	r.ID = r.readID()
	t := &catalogv1.Tool{DisplayName: r.text("i")}
	r.from("display_name", "i")
	if t.DisplayName == "" && !r.faulted("i") {
		r.fault("i", "is required: the tool's name")
	}

	doc := r.url("doc")
	t.Descriptions = map[string]*catalogv1.Description{}
	fn := r.text("f")
	if d := r.description("fr", "fr-desc", doc); d != nil {
		if fn != "" && textfit.OneLine(fn) != d.ShortDescription {
			d.Features = []string{fn}
			r.from("descriptions.fr.features", "f")
		}
		t.Descriptions["fr"] = d
	} else if d := r.description("fr", "f", doc); d != nil {
		t.Descriptions["fr"] = d
	}
	if d := r.description("en", "en-desc", doc); d != nil {
		t.Descriptions["en"] = d
	}

	t.LandingUrl = r.url("website")
	r.from("landing_url", "website")
	t.RepositoryUrl = r.url("sources")
	r.from("repository_url", "sources")
	t.LogoUrl = r.url("logo")
	r.from("logo_url", "logo")
	t.License = license(r.text("l"))
	r.from("license", "l")
	t.SoftwareVersion = r.text("v+")
	r.from("software_version", "v+")
	if c, ok := categories[r.text("c")]; ok {
		t.Categories = []string{c}
		r.from("categories", "c")
	}
	t.UsedBy = []string{usedBy}
	return t
}

// readID reads the record's id, a whole number written as a JSON number or
// a string, in its canonical decimal form (so "042" and 42 are one id).
func (r *record) readID() string {
	var s string
	switch v := r.fields["id"].(type) {
	case nil: // missing, or null
	case string:
		s = strings.TrimSpace(v)
	case json.Number:
		s = v.String()
	default:
		r.fault("id", "is %s, not a number", finding.DescribeValue(v))
		return ""
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if s == "" {
			r.fault("id", "is required: the record's numeric id")
		} else {
			r.fault("id", "%q is not a whole number", s)
		}
		return ""
	}
	return strconv.FormatUint(n, 10)
}

// text reads a string key, trimmed; a missing key or null is "".
func (r *record) text(key string) string { return r.Text(r.key(key), r.fields[key]) }

// url reads a link: only an absolute http or https URL is kept (see the
// package documentation).
func (r *record) url(key string) string {
	s := r.text(key)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > maxURL {
		return ""
	}
	return s
}

// description maps the text of key to the description in lang, or nil
// when the text is empty.
func (r *record) description(lang, key, doc string) *catalogv1.Description {
	short, long := textfit.Describe(r.text(key))
	if short == "" {
		return nil
	}
	p := "descriptions." + lang
	r.from(p, key)
	if doc != "" {
		r.from(p+".documentation_url", "doc")
	}
	return &catalogv1.Description{ShortDescription: short, LongDescription: long, DocumentationUrl: doc}
}
