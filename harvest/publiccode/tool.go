package publiccode

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/validate"
	"github.com/ogptoolbox/federation/vocabulary"
)

// The catalog's limits on a Tool's fields, as package validate sets them.
// The standard has other limits (it counts characters as grapheme
// clusters, the catalog as code points) and none on most lists, so a valid
// file can hold a value the catalog cannot keep: an optional value is then
// dropped with a warning, a required one rejects the file. Parse checks
// the Tool with validate.Tool at the end, so these can only err on the
// side of a rejected file, never of a stored bad tool.
const (
	maxDisplayName      = 200
	maxShortDescription = 150
	maxLongDescription  = 10000
	maxFeature          = 200
	maxURL              = 2048
	maxListItems        = 100
	maxShortText        = 300
	maxPhone            = 50
	maxVersion          = 100
	maxStandard         = 200
)

// keyed is a value with the key path it was read from.
type keyed struct {
	key string
	t   text
}

// items names each item of a list by its key path.
func items(key string, l list) []keyed {
	out := make([]keyed, len(l.items))
	for i, t := range l.items {
		out[i] = keyed{index(key, i), t}
	}
	return out
}

// toTool maps a valid document to the catalog's Tool, and returns it with
// the entry's id, the repository URL.
func (r *reader) toTool(d *document) (*catalogv1.Tool, string) {
	t := &catalogv1.Tool{
		DisplayName:        strings.TrimSpace(d.name.s),
		Descriptions:       r.keepDescriptions(d.descriptions),
		RepositoryUrl:      r.keepURL("url", d.url, "the URL stays the entry's id"),
		LandingUrl:         r.keepURL("landingURL", d.landingURL, ""),
		LogoUrl:            r.keepLogo(d.logo),
		License:            strings.TrimSpace(d.license.s),
		Categories:         r.keepAll(items("categories", d.categories), maxShortText, "category"),
		DevelopmentStatus:  d.developmentStatus.s,
		SoftwareType:       d.softwareType.s,
		Platforms:          r.keepPlatforms(d.platforms),
		AvailableLanguages: r.keepLanguages(d.availableLanguages),
		LocalisationReady:  d.localisationReady.v,
		Maintenance:        r.keepMaintenance(d.maintenance),
		Publisher:          r.keepPublisher(d),
		UsedBy:             r.keepAll(items("usedBy", d.usedBy), maxShortText, "user"),
		SoftwareVersion:    r.keepOptional("softwareVersion", d.softwareVersion, maxVersion),
		ReleaseDate:        d.releaseDate.s,
		Standards:          r.keepAll(r.standards(d), maxStandard, "standard"),
	}
	if why := fit(t.DisplayName, maxDisplayName); why != "" {
		r.errorf("name", d.name.at, "the catalog cannot keep this name: it %s", why)
	}
	return t, strings.TrimSpace(d.url.s)
}

// fit says why the catalog cannot keep s in a text field of at most max
// characters (code points), or "".
func fit(s string, max int) string {
	switch n := utf8.RuneCountInString(s); {
	case strings.TrimSpace(s) == "":
		return "is empty"
	case n > max:
		return fmt.Sprintf("is %d characters long, more than the %d the catalog keeps", n, max)
	case strings.ContainsFunc(s, isControl):
		return "contains control characters"
	}
	return ""
}

// isControl is what the catalog refuses in text: control characters other
// than line breaks and tabs.
func isControl(c rune) bool {
	return unicode.IsControl(c) && c != '\n' && c != '\t' && c != '\r'
}

// fitURL says why the catalog cannot keep s as a URL, or "".
func fitURL(s string) string {
	if len(s) > maxURL {
		return fmt.Sprintf("the URL is %d bytes long, more than the %d the catalog keeps", len(s), maxURL)
	}
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an http or https URL", clip(validate.WithoutCredentials(s)))
	}
	return ""
}

// keepURL returns the URL under key, or "" with a warning when the catalog
// cannot keep it; note, when given, ends the warning.
func (r *reader) keepURL(key string, t text, note string) string {
	s := strings.TrimSpace(t.s)
	if s == "" {
		return ""
	}
	if why := fitURL(s); why != "" {
		if note != "" {
			why += "; " + note
		}
		r.warnf(key, t.at, "not kept in the catalog: %s", why)
		return ""
	}
	return s
}

// keepLogo keeps a logo given as an http(s) URL. A logo given as a path in
// the repository is not kept: where it is served from depends on the code
// host and the branch, which the file does not say.
func (r *reader) keepLogo(t text) string {
	s := strings.TrimSpace(t.s)
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return r.keepURL("logo", t, "")
}

// keepOptional returns an optional text, or "" with a warning when the
// catalog cannot keep it.
func (r *reader) keepOptional(key string, t text, max int) string {
	s := strings.TrimSpace(t.s)
	if s == "" {
		return ""
	}
	if why := fit(s, max); why != "" {
		r.warnf(key, t.at, "not kept in the catalog: the value %s", why)
		return ""
	}
	return s
}

// keepAll keeps the values the catalog can: each trimmed, the ones it
// cannot keep dropped with a warning, repeats dropped (they add nothing),
// at most maxListItems.
func (r *reader) keepAll(values []keyed, max int, what string) []string {
	var out []string
	seen := make(map[string]bool, len(values))
	for i, v := range values {
		s := strings.TrimSpace(v.t.s)
		if why := fit(s, max); why != "" {
			r.warnf(v.key, v.t.at, "not kept in the catalog: the %s %s", what, why)
			continue
		}
		if seen[s] {
			continue
		}
		if len(out) == maxListItems {
			r.warnf(v.key, v.t.at, "not kept in the catalog, which keeps at most %d items in this list: this %s and the %d after it are dropped", maxListItems, what, len(values)-i-1)
			break
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// keepPlatforms keeps the platforms as the catalog spells them: a lower
// case token ("Windows" becomes "windows"). A free-form name that is not
// one ("Mac OS X") is dropped with a warning.
func (r *reader) keepPlatforms(l list) []string {
	var platforms []keyed
	for _, k := range items("platforms", l) {
		p := strings.ToLower(strings.TrimSpace(k.t.s))
		if !vocabulary.IsPlatform(p) {
			r.warnf(k.key, k.t.at, "not kept in the catalog: %q is not a platform token of lower-case letters, digits, '.', '+', '-' or '_' (such as web, windows, linux)", clip(k.t.s))
			continue
		}
		k.t.s = p
		platforms = append(platforms, k)
	}
	return r.keepAll(platforms, maxShortText, "platform")
}

// keepLanguages keeps the languages the catalog's own tag check takes, in
// the form it takes them (validate.LanguageTag: "pt_BR" as "pt-BR"), each
// once.
func (r *reader) keepLanguages(l list) []string {
	var langs []keyed
	seen := map[string]bool{}
	for _, k := range items("localisation.availableLanguages", l) {
		tag, err := validate.LanguageTag(strings.TrimSpace(k.t.s))
		if err != nil {
			r.warnf(k.key, k.t.at, "not kept in the catalog, whose language tags %q is not one of", clip(k.t.s))
			continue
		}
		if seen[tag] {
			r.warnf(k.key, k.t.at, "kept once: %q is a language listed before", clip(k.t.s))
			continue
		}
		seen[tag] = true
		k.t.s = tag
		langs = append(langs, k)
	}
	return r.keepAll(langs, maxShortText, "language")
}

// keepDescriptions keeps each language's description whose short
// description the catalog can keep; a file none of whose descriptions it
// can keep is rejected.
func (r *reader) keepDescriptions(ds []description) map[string]*catalogv1.Description {
	out := make(map[string]*catalogv1.Description, len(ds))
	for _, d := range ds {
		key := "description." + d.lang
		lang, err := validate.LanguageTag(d.lang)
		if err != nil {
			r.warnf(key, d.at, "not kept in the catalog, whose language tags %q is not one of", clip(d.lang))
			continue
		}
		if out[lang] != nil {
			r.warnf(key, d.at, "not kept in the catalog: the description in %s is kept, of the same language", lang)
			continue
		}
		short := strings.TrimSpace(d.short.s)
		if why := fit(short, maxShortDescription); why != "" {
			r.warnf(key+".shortDescription", d.short.at, "the description in %s is not kept in the catalog: its short description %s", d.lang, why)
			continue
		}
		if len(out) == maxListItems {
			r.warnf(key, d.at, "not kept in the catalog, which keeps descriptions in at most %d languages", maxListItems)
			break
		}
		out[lang] = &catalogv1.Description{
			ShortDescription:    short,
			LongDescription:     r.keepOptional(key+".longDescription", d.long, maxLongDescription),
			Features:            r.keepAll(items(key+".features", d.features), maxFeature, "feature"),
			DocumentationUrl:    r.keepURL(key+".documentation", d.documentation, ""),
			ApiDocumentationUrl: r.keepURL(key+".apiDocumentation", d.apiDocumentation, ""),
		}
	}
	if len(out) == 0 && len(ds) > 0 {
		r.errorf("description", ds[0].at, "the catalog can keep none of the descriptions (see the warnings)")
	}
	return out
}

// keepMaintenance keeps the maintenance type, the contacts and the
// contractors; a contact or contractor whose name the catalog cannot keep
// is dropped with a warning.
func (r *reader) keepMaintenance(m maintenance) *catalogv1.Maintenance {
	out := &catalogv1.Maintenance{Type: m.kind.s}
	for i, c := range m.contacts {
		key := index("maintenance.contacts", i)
		name := strings.TrimSpace(c.name.s)
		if why := fit(name, maxShortText); why != "" {
			r.warnf(key+".name", c.name.at, "the contact is not kept in the catalog: the name %s", why)
			continue
		}
		if len(out.Contacts) == maxListItems {
			r.warnf(key, c.name.at, "not kept in the catalog, which keeps at most %d contacts", maxListItems)
			break
		}
		out.Contacts = append(out.Contacts, &catalogv1.Contact{
			Name:        name,
			Email:       strings.TrimSpace(c.email.s),
			Phone:       r.keepOptional(key+".phone", c.phone, maxPhone),
			Affiliation: r.keepOptional(key+".affiliation", c.affiliation, maxShortText),
		})
	}
	for i, c := range m.contractors {
		key := index("maintenance.contractors", i)
		name := strings.TrimSpace(c.name.s)
		if why := fit(name, maxShortText); why != "" {
			r.warnf(key+".name", c.name.at, "the contractor is not kept in the catalog: the name %s", why)
			continue
		}
		if len(out.Contractors) == maxListItems {
			r.warnf(key, c.name.at, "not kept in the catalog, which keeps at most %d contractors", maxListItems)
			break
		}
		out.Contractors = append(out.Contractors, &catalogv1.Contractor{
			Name:    name,
			Website: r.keepURL(key+".website", c.website, ""),
			Until:   c.until.s,
		})
	}
	return out
}

// keepPublisher makes the publisher from the organisation. Without an
// organisation name it falls back on legal.repoOwner, which the standard
// deprecates in favour of organisation.name, then on
// legal.mainCopyrightOwner, the entity owning most of the code.
func (r *reader) keepPublisher(d *document) *catalogv1.Publisher {
	nameKey, name := "legal.repoOwner", d.repoOwner
	var uri text
	if o := d.organisation; o != nil {
		uri = o.uri
		if strings.TrimSpace(o.name.s) != "" {
			nameKey, name = "organisation.name", o.name
		}
	}
	if strings.TrimSpace(name.s) == "" {
		nameKey, name = "legal.mainCopyrightOwner", d.mainCopyrightOwner
	}
	p := &catalogv1.Publisher{
		Name: r.keepOptional(nameKey, name, maxShortText),
		Uri:  strings.TrimSpace(uri.s),
	}
	if p.Uri != "" {
		if u, err := url.Parse(p.Uri); err != nil || u.Scheme == "" || len(p.Uri) > maxURL {
			r.warnf("organisation.uri", uri.at, "not kept in the catalog, which keeps absolute URIs of at most %d bytes", maxURL)
			p.Uri = ""
		}
	}
	if p.Name == "" && p.Uri == "" {
		return nil
	}
	return p
}

// standards gathers what the tool declares it supports: the media types
// it reads and writes, the supports list (an alias as its phrase, such as
// "GDPR"), and the country section's flags.
func (r *reader) standards(d *document) []keyed {
	out := append(items("inputTypes", d.inputTypes), items("outputTypes", d.outputTypes)...)
	for i, id := range d.supports {
		if name, ok := strings.CutPrefix(id.s, "alias:"); ok {
			id.s, _ = aliasName(name)
		}
		out = append(out, keyed{fmt.Sprintf("supports[%d].id", i), id})
	}
	for _, s := range d.italy {
		out = append(out, keyed{"IT", s})
	}
	return out
}
