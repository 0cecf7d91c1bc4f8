// Package validate checks tools and use cases before they enter a catalog:
// required fields, URL, SPDX and language-tag syntax, the publiccode.yml
// and OGP vocabularies, lengths. The API (package node) answers a request
// that fails with INVALID_ARGUMENT and a field violation per fault; the
// harvesters (package harvest) reject the source entry with the same
// reasons. Both write through the same checks, so a harvested tool is as
// valid as one typed in.
package validate

import (
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/spdx"
	"github.com/ogptoolbox/federation/vocabulary"
	"golang.org/x/text/language"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Limits on the size of a record's fields.
const (
	maxDisplayName      = 200
	maxShortDescription = 150
	maxLongDescription  = 10000
	maxFeatures         = 100
	maxFeature          = 200
	maxURL              = 2048
	// MaxListItems is the most items a record's list or map field holds
	// (descriptions' languages included).
	MaxListItems = 100
	maxShortText = 300
	maxPurpose   = 2000
	maxVersion   = 100
	maxStandard  = 200
	// Every field is bounded, so that a record is too (about 13 MB at
	// most, a hundred languages of long descriptions and features), which
	// peers' messages are sized for.
	maxEmail       = 254 // RFC 5321's longest path
	maxLanguageTag = 64  // the longest tags in use are half as long
)

// MaxToolBytes bounds a tool the API writes, encoded: a read of it, or a
// page of a list (which ends before 2 MiB, with one record at least), then
// fits a gRPC client's default message of 4 MiB. The largest tool of the
// corpus is a few tens of kilobytes; the bounds of its fields alone let a
// tool of a hundred languages of long descriptions and features reach
// 13 MB, which a client could not read.
const MaxToolBytes = 2 << 20

// Violations collects what is wrong with a record, field by field, so that
// one answer names every problem.
type Violations struct {
	List []Violation
}

// A Violation is one fault of one field.
type Violation struct {
	// Field is the field's path in the request, such as
	// "tool.descriptions.en.short_description".
	Field string
	// Description says what is wrong, for people, in English.
	Description string
	// format and args made Description: what Localized says in another
	// language.
	format string
	args   []any
}

// Add records a fault of field.
func (v *Violations) Add(field, format string, args ...any) {
	v.List = append(v.List, Violation{Field: field, Description: fmt.Sprintf(format, args...), format: format, args: args})
}

func (v *Violations) text(field, s string, required bool, max int) {
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		v.Add(field, "is not valid UTF-8")
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case required && !strings.ContainsFunc(s, visible):
		v.Add(field, "is required: it holds nothing visible")
	case n > max:
		v.Add(field, "is %d characters long, more than %d", n, max)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		v.Add(field, "contains control characters")
	}
}

// visible reports whether r shows as something of its own: not a space,
// a control or format character (such as U+200B, the zero width space), a
// mark that only changes the character before it (an accent, a variation
// selector), nor a letter or symbol drawn as blank (the Hangul fillers,
// the blank braille pattern).
func visible(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800':
		return false
	}
	return !unicode.IsSpace(r) && !unicode.IsControl(r) && !unicode.In(r, unicode.Cf, unicode.Mn, unicode.Me)
}

// WithoutCredentials is a URL as errors quote it: without what comes
// before its last @ (a user name, a password, a token, which may hold a
// "/" or "#" unescaped), after its "//", which answers, logs and public
// harvest reports must not repeat. It works on the text, so as to hide
// them in a URL that does not parse too; hiding part of a path that holds
// an @ is the price.
func WithoutCredentials(s string) string {
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s, "//"); i >= 0 && i < at {
		start = i + 2
	}
	return s[:start] + "…@" + s[at+1:]
}

func (v *Violations) url(field, s string) {
	if s == "" {
		return
	}
	if len(s) > maxURL {
		v.Add(field, "is %d bytes long, more than %d", len(s), maxURL)
		return
	}
	quoted := WithoutCredentials(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		v.Add(field, "%q is not an http or https URL", quoted)
		return
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			v.Add(field, "%q has port %s, not one from 1 to 65535", quoted, port)
			return
		}
	}
	if u.User != nil {
		// Every node publishes it, to everyone.
		v.Add(field, "%q carries a user name or password: a published URL must not", quoted)
	}
}

func (v *Violations) languageTag(field, s string) {
	if len(s) > maxLanguageTag {
		v.Add(field, "is %d bytes long, more than %d: no language tag is so long", len(s), maxLanguageTag)
		return
	}
	tag, err := LanguageTag(s)
	switch {
	case err != nil || s == "":
		v.Add(field, "%q is not a BCP 47 language tag (such as en, fr or pt-BR)", s)
	case !strings.EqualFold(tag, s):
		// The index and the language filter go by the tag as written:
		// "pt" would not find "pt_BR".
		v.Add(field, "%q is not written as a BCP 47 language tag: write it %q", s, tag)
	}
}

// LanguageTag is the BCP 47 form of the language tag s: "pt_BR" gives
// "pt-BR", "EN" "en", a grandfathered tag its replacement ("i-klingon"
// gives "tlh"); a tag of the registry, even one CLDR would replace (tl,
// iw), stays itself. The API takes a tag written so, in any case; the
// harvesters keep a source's tags in this form.
func LanguageTag(s string) (string, error) {
	tag, err := language.Raw.Parse(s)
	if err != nil {
		return "", err
	}
	return tag.String(), nil
}

func (v *Violations) count(field string, n int) {
	if n > MaxListItems {
		v.Add(field, "has %d items, more than %d", n, MaxListItems)
	}
}

func (v *Violations) enum(field string, e protoreflect.Enum, required bool) {
	num := e.Number()
	if e.Descriptor().Values().ByNumber(num) == nil {
		v.Add(field, "%d is not a value of %s", num, e.Descriptor().Name())
	} else if required && num == 0 {
		v.Add(field, "is required")
	}
}

func (v *Violations) date(field, s string, layouts ...string) {
	if s == "" {
		return
	}
	for _, l := range layouts {
		if _, err := time.Parse(l, s); err == nil {
			return
		}
	}
	v.Add(field, "%q is not a date of the form %s", s, strings.Join(layouts, " or "))
}

func (v *Violations) noDuplicates(field string, items []string) {
	noDuplicates(v, field, items, func(s string) string { return s })
}

// noDuplicates adds a violation for each item of a list whose key is an
// earlier item's.
func noDuplicates[T any](v *Violations, field string, items []T, key func(T) string) {
	seen := map[string]bool{}
	for i, it := range items {
		k := key(it)
		if seen[k] {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", k)
		}
		seen[k] = true
	}
}

// Tool checks a tool's writable fields; prefix is the field path of the
// tool in the request ("tool").
func Tool(v *Violations, prefix string, t *catalogv1.Tool) {
	f := func(name string) string { return prefix + "." + name }
	if n := proto.Size(t); n > MaxToolBytes {
		v.Add(prefix, "is %d bytes once encoded, more than %d: shorten its descriptions or features", n, MaxToolBytes)
	}
	v.text(f("display_name"), t.GetDisplayName(), true, maxDisplayName)

	if len(t.GetDescriptions()) == 0 {
		v.Add(f("descriptions"), "is required: describe the tool in at least one language")
	}
	v.count(f("descriptions"), len(t.GetDescriptions()))
	// A language tag is one whatever its case: "en" and "EN" would be two
	// descriptions of one language.
	first := map[string]string{}
	for _, lang := range slices.Sorted(maps.Keys(t.GetDescriptions())) {
		if was, ok := first[strings.ToLower(lang)]; ok {
			v.Add(f("descriptions."+lang), "is the language of descriptions.%s too: a language tag is one in any case", was)
			continue
		}
		first[strings.ToLower(lang)] = lang
	}
	for lang, d := range t.GetDescriptions() {
		df := f("descriptions." + lang)
		v.languageTag(df, lang)
		if d == nil {
			v.Add(df, "is empty")
			continue
		}
		v.text(df+".short_description", d.GetShortDescription(), true, maxShortDescription)
		v.text(df+".long_description", d.GetLongDescription(), false, maxLongDescription)
		if n := len(d.GetFeatures()); n > maxFeatures {
			v.Add(df+".features", "has %d items, more than %d", n, maxFeatures)
		}
		for i, feat := range d.GetFeatures() {
			v.text(fmt.Sprintf("%s.features[%d]", df, i), feat, true, maxFeature)
		}
		v.url(df+".documentation_url", d.GetDocumentationUrl())
		v.url(df+".api_documentation_url", d.GetApiDocumentationUrl())
	}
	v.url(f("repository_url"), t.GetRepositoryUrl())
	v.url(f("landing_url"), t.GetLandingUrl())
	v.url(f("logo_url"), t.GetLogoUrl())
	if n := len(t.GetLicense()); n > spdx.MaxExpression {
		v.Add(f("license"), "the expression is %d bytes long, more than %d", n, spdx.MaxExpression)
	} else if n > 0 {
		if err := spdx.Validate(t.GetLicense()); err != nil {
			v.Add(f("license"), "%q is not a valid SPDX license expression: %v", t.GetLicense(), err)
		}
	}
	v.count(f("categories"), len(t.GetCategories()))
	for i, c := range t.GetCategories() {
		if !vocabulary.IsCategory(c) {
			v.Add(fmt.Sprintf("%s[%d]", f("categories"), i), "%q is not a publiccode.yml category", c)
		}
	}
	v.noDuplicates(f("categories"), t.GetCategories())
	v.count(f("ogp_themes"), len(t.GetOgpThemes()))
	for i, th := range t.GetOgpThemes() {
		v.enum(fmt.Sprintf("%s[%d]", f("ogp_themes"), i), th, true)
	}
	noDuplicates(v, f("ogp_themes"), t.GetOgpThemes(), catalogv1.OgpTheme.String)
	if s := t.GetDevelopmentStatus(); s != "" && !vocabulary.IsDevelopmentStatus(s) {
		v.Add(f("development_status"), "%q is not one of %s", s, strings.Join(vocabulary.DevelopmentStatuses(), ", "))
	}
	if s := t.GetSoftwareType(); s != "" && !vocabulary.IsSoftwareType(s) {
		v.Add(f("software_type"), "%q is not one of %s", s, strings.Join(vocabulary.SoftwareTypes(), ", "))
	}
	v.count(f("platforms"), len(t.GetPlatforms()))
	for i, p := range t.GetPlatforms() {
		if !vocabulary.IsPlatform(p) {
			v.Add(fmt.Sprintf("%s[%d]", f("platforms"), i), "%q is not a platform: use web, windows, mac, linux, ios, android or another lowercase word", p)
		}
	}
	noDuplicates(v, f("platforms"), t.GetPlatforms(), strings.ToLower)
	v.count(f("available_languages"), len(t.GetAvailableLanguages()))
	noDuplicates(v, f("available_languages"), t.GetAvailableLanguages(), strings.ToLower)
	for i, l := range t.GetAvailableLanguages() {
		v.languageTag(fmt.Sprintf("%s[%d]", f("available_languages"), i), l)
	}
	if m := t.GetMaintenance(); m != nil {
		if s := m.GetType(); s != "" && !vocabulary.IsMaintenanceType(s) {
			v.Add(f("maintenance.type"), "%q is not one of %s", s, strings.Join(vocabulary.MaintenanceTypes(), ", "))
		}
		v.count(f("maintenance.contacts"), len(m.GetContacts()))
		for i, c := range m.GetContacts() {
			cf := fmt.Sprintf("%s[%d]", f("maintenance.contacts"), i)
			v.text(cf+".name", c.GetName(), true, maxShortText)
			if e := c.GetEmail(); len(e) > maxEmail {
				v.Add(cf+".email", "is %d bytes long, more than %d: no e-mail address is so long", len(e), maxEmail)
			} else if e != "" {
				if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
					// Not quoted: a person's, which refused writes' logs
					// and harvest reports would keep.
					v.Add(cf+".email", "is not an e-mail address (one of the form name@example.org)")
				}
			}
			v.text(cf+".phone", c.GetPhone(), false, 50)
			v.text(cf+".affiliation", c.GetAffiliation(), false, maxShortText)
		}
		v.count(f("maintenance.contractors"), len(m.GetContractors()))
		for i, c := range m.GetContractors() {
			cf := fmt.Sprintf("%s[%d]", f("maintenance.contractors"), i)
			v.text(cf+".name", c.GetName(), true, maxShortText)
			v.url(cf+".website", c.GetWebsite())
			v.date(cf+".until", c.GetUntil(), time.DateOnly)
		}
	}
	if p := t.GetPublisher(); p != nil {
		v.text(f("publisher.name"), p.GetName(), false, maxShortText)
		if u := p.GetUri(); u != "" {
			switch pu, err := url.Parse(u); {
			case err != nil || pu.Scheme == "" || len(u) > maxURL:
				v.Add(f("publisher.uri"), "%q is not an absolute URI", WithoutCredentials(u))
			case pu.User != nil:
				v.Add(f("publisher.uri"), "%q carries a user name or password: a published URI must not", WithoutCredentials(u))
			}
		}
	}
	v.count(f("used_by"), len(t.GetUsedBy()))
	v.noDuplicates(f("used_by"), t.GetUsedBy())
	for i, u := range t.GetUsedBy() {
		v.text(fmt.Sprintf("%s[%d]", f("used_by"), i), u, true, maxShortText)
	}
	v.text(f("software_version"), t.GetSoftwareVersion(), false, maxVersion)
	v.date(f("release_date"), t.GetReleaseDate(), time.DateOnly)
	v.count(f("standards"), len(t.GetStandards()))
	for i, s := range t.GetStandards() {
		v.text(fmt.Sprintf("%s[%d]", f("standards"), i), s, true, maxStandard)
	}
	v.noDuplicates(f("standards"), t.GetStandards())
	if p := t.GetProvenance(); p != nil {
		v.enum(f("provenance.kind"), p.GetKind(), false)
		v.text(f("provenance.source"), p.GetSource(), false, maxShortText)
		v.text(f("provenance.source_url"), p.GetSourceUrl(), false, maxURL)
		// A source id is often a repository URL, which a tool takes up to
		// maxURL long.
		v.text(f("provenance.source_id"), p.GetSourceId(), false, maxURL)
		if ts := p.GetHarvestTime(); ts != nil {
			if err := ts.CheckValid(); err != nil {
				// JSON has no text for it: every REST page listing the
				// tool would fail, on every node.
				v.Add(f("provenance.harvest_time"), "is not a time between the years 1 and 9999: %v", err)
			}
		}
	}
}

// commitmentID matches OGP commitment identifiers: a member's code and a
// number ("FR0034", "PAR0001").
func commitmentID() *regexp.Regexp { return regexp.MustCompile(`^[A-Z]{2,6}[0-9]{1,6}$`) }

// UseCase checks a use case's writable fields; prefix is the field path
// of the use case in the request ("use_case").
func UseCase(v *Violations, prefix string, u *catalogv1.UseCase) {
	f := func(name string) string { return prefix + "." + name }
	switch tool := u.GetTool(); {
	case tool == "":
		v.Add(f("tool"), "is required: a tool's resource name (origins/fr/tools/decidim) or its repository or landing URL")
	case strings.HasPrefix(tool, "origins/"):
		if _, _, err := ParseName(tool, "tools"); err != nil {
			v.Add(f("tool"), "%q is not a tool name of the form origins/{origin}/tools/{tool}", tool)
		}
	default:
		v.url(f("tool"), tool)
	}
	o := u.GetOrganization()
	if o == nil {
		v.Add(f("organization"), "is required")
	} else {
		v.text(f("organization.name"), o.GetName(), true, maxShortText)
		v.enum(f("organization.kind"), o.GetKind(), true)
		if c := o.GetCountry(); c == "" {
			v.Add(f("organization.country"), "is required")
		} else if code := envelope.CountryCode(c); code == "" || strings.ToUpper(c) != c {
			v.Add(f("organization.country"), "%q is not an ISO 3166-1 alpha-2 country code (such as FR)", c)
		} else if code != c {
			// Adoption goes by country: the United Kingdom under UK and GB
			// would be two countries.
			v.Add(f("organization.country"), "%q is not the ISO 3166-1 code of the country: write %q", c, code)
		}
	}
	v.text(f("purpose"), u.GetPurpose(), true, maxPurpose)
	v.count(f("commitments"), len(u.GetCommitments()))
	re := commitmentID()
	for i, c := range u.GetCommitments() {
		if !re.MatchString(c) {
			v.Add(fmt.Sprintf("%s[%d]", f("commitments"), i), "%q is not an OGP commitment id (such as FR0034)", c)
		}
	}
	v.noDuplicates(f("commitments"), u.GetCommitments())
	v.url(f("url"), u.GetUrl())
	v.date(f("start_date"), u.GetStartDate(), "2006", "2006-01", time.DateOnly)
	v.enum(f("status"), u.GetStatus(), false)
}

// ParseName splits a resource name, origins/{origin}/{collection}/{id}.
func ParseName(name, collection string) (origin, id string, err error) {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "origins" || parts[2] != collection {
		return "", "", fmt.Errorf("%q is not of the form origins/{origin}/%s/{id}", name, collection)
	}
	if !envelope.ValidOrigin(parts[1]) {
		return "", "", fmt.Errorf("%q: %q is not an origin", name, parts[1])
	}
	if !envelope.ValidID(parts[3]) {
		return "", "", fmt.Errorf("%q: %q is not an id (lowercase letters, digits and hyphens, starting with a letter)", name, parts[3])
	}
	return parts[1], parts[3], nil
}

// ParseParent reads a parent name, origins/{origin}.
func ParseParent(parent string) (string, error) {
	origin, ok := strings.CutPrefix(parent, "origins/")
	if !ok || !envelope.ValidOrigin(origin) {
		return "", fmt.Errorf("%q is not of the form origins/{origin}", parent)
	}
	return origin, nil
}
