package publiccode

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ogptoolbox/federation/spdx"
	"github.com/ogptoolbox/federation/vocabulary"
)

// Reading walks the document key by key, the way the standard lays it
// out: each reader takes the values it knows, reports the faults the
// reference parser reports (a wrong type, an unknown key, a missing or bad
// value), and keeps what the mapping to a Tool needs, with where it is.

// text is a scalar value read as a string.
type text struct {
	s   string
	at  pos  // the key's place; for a missing key, its section's
	set bool // present and not null
	bad bool // present with the wrong type (already reported)
}

// list is a list of scalars.
type list struct {
	items []text // each at its item's place
	at    pos
	set   bool
	bad   bool
}

// flag is a boolean value.
type flag struct {
	v   bool
	at  pos
	set bool
	bad bool
}

// section is a mapping whose keys the standard fixes.
type section struct {
	path  string
	at    pos  // the mapping's place, where its missing keys are reported
	set   bool // present as a mapping
	bad   bool // present with the wrong type
	pairs []pair
}

// sections is a list of mappings.
type sections struct {
	items []section
	at    pos
	set   bool
	bad   bool
}

func (s section) get(key string) *pair {
	for i := range s.pairs {
		if s.pairs[i].key == key {
			return &s.pairs[i]
		}
	}
	return nil
}

// mapping reads v as a mapping with the given keys; any other key is an
// error, as in the reference parser. at is where the missing keys of an
// absent or empty mapping are reported.
func (r *reader) mapping(path string, v *node, at pos, known ...string) section {
	s := section{path: path, at: at}
	if v == nil || v.kind == kindNull {
		return s
	}
	if v.kind != kindMap {
		r.wrongType(path, v, "a mapping")
		s.bad, s.at = true, v.pos
		return s
	}
	s.set, s.at = true, v.pos
	for _, p := range v.pairs {
		if !slices.Contains(known, p.key) {
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			r.errorf(join(path, p.key), p.keyPos, "unknown key %q: the standard has no such key %s", clip(p.key), where)
			continue
		}
		s.pairs = append(s.pairs, p)
	}
	return s
}

// sub reads the mapping under key.
func (r *reader) sub(s section, key string, known ...string) section {
	p := s.get(key)
	if p == nil {
		return section{path: join(s.path, key), at: s.at}
	}
	return r.mapping(join(s.path, key), p.value, p.keyPos, known...)
}

// text reads the string under key. A number, date or boolean is taken as
// the text the file writes, as the reference parser does.
func (r *reader) text(s section, key string) text {
	p := s.get(key)
	if p == nil {
		return text{at: s.at}
	}
	switch v := p.value; v.kind {
	case kindNull:
		return text{at: p.keyPos}
	case kindScalar, kindBool:
		return text{s: v.text, at: p.keyPos, set: true}
	default:
		r.wrongType(join(s.path, key), v, "a string")
		return text{at: p.keyPos, bad: true}
	}
}

// flag reads the boolean under key: true or false only, as YAML 1.2 has
// it ("yes", "on" or the string "true" are not booleans).
func (r *reader) flag(s section, key string) flag {
	p := s.get(key)
	if p == nil {
		return flag{at: s.at}
	}
	switch v := p.value; v.kind {
	case kindNull:
		return flag{at: p.keyPos}
	case kindBool:
		return flag{v: v.text == "true" || v.text == "True" || v.text == "TRUE", at: p.keyPos, set: true}
	default:
		r.wrongType(join(s.path, key), v, "true or false")
		return flag{at: p.keyPos, bad: true}
	}
}

// list reads the list of strings under key.
func (r *reader) list(s section, key string) list {
	p := s.get(key)
	if p == nil {
		return list{at: s.at}
	}
	path := join(s.path, key)
	switch v := p.value; v.kind {
	case kindNull:
		return list{at: p.keyPos}
	case kindSeq:
		l := list{at: p.keyPos, set: true}
		for i, it := range v.items {
			switch it.kind {
			case kindScalar, kindBool, kindNull:
				l.items = append(l.items, text{s: it.text, at: it.pos, set: true})
			default:
				r.wrongType(index(path, i), it, "a string")
				l.bad = true
			}
		}
		return l
	default:
		r.wrongType(path, v, "a list of strings")
		return list{at: p.keyPos, bad: true}
	}
}

// sections reads the list of mappings under key.
func (r *reader) sections(s section, key string, known ...string) sections {
	p := s.get(key)
	if p == nil {
		return sections{at: s.at}
	}
	path := join(s.path, key)
	switch v := p.value; v.kind {
	case kindNull:
		return sections{at: p.keyPos}
	case kindSeq:
		l := sections{at: p.keyPos, set: true}
		for i, it := range v.items {
			item := r.mapping(index(path, i), it, it.pos, known...)
			if item.bad {
				l.bad = true
				continue
			}
			l.items = append(l.items, item)
		}
		return l
	default:
		r.wrongType(path, v, "a list")
		return sections{at: p.keyPos, bad: true}
	}
}

// required reports a missing or empty string.
func (r *reader) required(key string, t text, what string) bool {
	if t.s != "" {
		return true
	}
	if !t.bad {
		r.errorf(key, t.at, "is required: %s", what)
	}
	return false
}

// check reports what a value check finds wrong with a present value.
func (r *reader) check(key string, t text, msg string) {
	if t.set && msg != "" {
		r.errorf(key, t.at, "%s", msg)
	}
}

// deprecated warns about a key the standard will drop.
func (r *reader) deprecated(key string, at pos, advice string) {
	r.warnf(key, at, "this key is deprecated and will be removed from the standard: %s", advice)
}

// document is what the mapping to a Tool needs from a valid file.
type document struct {
	name, url, landingURL, logo  text
	softwareVersion, releaseDate text
	developmentStatus            text
	softwareType                 text
	platforms, categories        list
	usedBy                       list
	inputTypes, outputTypes      list
	supports                     []text
	descriptions                 []description
	license                      text
	mainCopyrightOwner           text
	repoOwner                    text
	maintenance                  maintenance
	localisationReady            flag
	availableLanguages           list
	organisation                 *organisation
	italy                        []text // the standards the country section declares
}

type description struct {
	lang                            string
	at                              pos
	short, long                     text
	documentation, apiDocumentation text
	features                        list
}

type maintenance struct {
	kind        text
	contacts    []contact
	contractors []contractor
}

type contact struct{ name, email, phone, affiliation text }

type contractor struct{ name, website, until text }

type organisation struct{ name, uri text }

// The keys of each part of a v0 file.
var (
	topKeys = [...]string{
		"publiccodeYmlVersion", "name", "applicationSuite", "url", "landingURL",
		"isBasedOn", "softwareVersion", "releaseDate", "logo", "monochromeLogo",
		"organisation", "inputTypes", "outputTypes", "platforms", "categories",
		"usedBy", "fundedBy", "roadmap", "developmentStatus", "softwareType",
		"supports", "intendedAudience", "description", "legal", "maintenance",
		"localisation", "dependsOn", "IT", "it",
	}
	descriptionKeys = [...]string{
		"localisedName", "genericName", "shortDescription", "longDescription",
		"documentation", "apiDocumentation", "features", "screenshots", "videos",
		"awards",
	}
	organisationKeys = [...]string{"name", "uri"}
	dependencyKeys   = [...]string{"name", "versionMin", "versionMax", "optional", "version"}
)

// readDocument reads and checks a file whose version is supported.
func (r *reader) readDocument() *document {
	top := r.mapping("", r.root, r.root.pos, topKeys[:]...)
	d := &document{}
	r.readIdentity(top, d)
	r.readClassification(top, d)
	d.inputTypes = r.readMediaTypes(top, "inputTypes")
	d.outputTypes = r.readMediaTypes(top, "outputTypes")
	d.organisation = r.readOrganisation(top)
	r.readFundedBy(top)
	d.supports = r.readSupports(top)
	r.readIntendedAudience(top)
	d.descriptions = r.readDescriptions(top)
	r.readLegal(top, d)
	d.maintenance = r.readMaintenance(top)
	r.readLocalisation(top, d)
	r.readDependsOn(top)
	d.italy = r.readCountrySections(top)
	return d
}

// readIdentity reads what names the software and where it lives.
func (r *reader) readIdentity(top section, d *document) {
	d.name = r.text(top, "name")
	r.required("name", d.name, "the name of the software")
	r.text(top, "applicationSuite")
	d.url = r.text(top, "url")
	if r.required("url", d.url, "the URL of the source code repository") {
		r.check("url", d.url, checkURL(d.url.s))
	}
	d.landingURL = r.text(top, "landingURL")
	r.check("landingURL", d.landingURL, checkHTTPURL(d.landingURL.s))
	r.readIsBasedOn(top)
	d.softwareVersion = r.text(top, "softwareVersion")
	d.releaseDate = r.text(top, "releaseDate")
	r.check("releaseDate", d.releaseDate, checkDate(d.releaseDate.s))
	d.logo = r.readLogo(top, "logo")
	if mono := r.readLogo(top, "monochromeLogo"); mono.s != "" {
		r.deprecated("monochromeLogo", mono.at, "use logo")
	}
	roadmap := r.text(top, "roadmap")
	r.check("roadmap", roadmap, checkHTTPURL(roadmap.s))
}

// readClassification reads the vocabularies that classify the software,
// and who uses it.
func (r *reader) readClassification(top section, d *document) {
	d.developmentStatus = r.text(top, "developmentStatus")
	if r.required("developmentStatus", d.developmentStatus, "one of concept, development, beta, stable, obsolete") &&
		!vocabulary.IsDevelopmentStatus(d.developmentStatus.s) {
		r.errorf("developmentStatus", d.developmentStatus.at, "%q is not one of concept, development, beta, stable, obsolete", clip(d.developmentStatus.s))
	}
	d.softwareType = r.text(top, "softwareType")
	if r.required("softwareType", d.softwareType, "what kind of software it is, such as standalone/web or library") &&
		!vocabulary.IsSoftwareType(d.softwareType.s) {
		r.errorf("softwareType", d.softwareType.at, "%q is not one of standalone/mobile, standalone/iot, standalone/desktop, standalone/web, standalone/backend, standalone/other, addon, library, configurationFiles", clip(d.softwareType.s))
	}
	d.platforms = r.list(top, "platforms")
	if len(d.platforms.items) == 0 && !d.platforms.bad {
		r.errorf("platforms", d.platforms.at, "must list at least one platform the software is used on, such as web, windows, linux, android")
	}
	d.categories = r.list(top, "categories")
	for i, c := range d.categories.items {
		if !vocabulary.IsCategory(c.s) {
			r.errorf(index("categories", i), c.at, "%q is not a category of the standard's list (https://yml.publiccode.tools/categories-list.html)", clip(c.s))
		}
	}
	d.usedBy = r.list(top, "usedBy")
}

// readIsBasedOn reads the URL, or the list of URLs, of the software this
// one is a fork or variant of. A single URL is named isBasedOn[0], as in
// the reference parser.
func (r *reader) readIsBasedOn(top section) {
	p := top.get("isBasedOn")
	if p == nil {
		return
	}
	if v := p.value; v.kind == kindScalar || v.kind == kindBool {
		r.check("isBasedOn[0]", text{s: v.text, at: p.keyPos, set: true}, checkURL(v.text))
		return
	}
	urls := r.list(top, "isBasedOn")
	for i, u := range urls.items {
		r.check(index("isBasedOn", i), u, checkURL(u.s))
	}
}

// readLogo reads a logo: a path in the repository or a URL, of SVG, SVGZ
// or PNG.
func (r *reader) readLogo(top section, key string) text {
	t := r.text(top, key)
	if t.s != "" {
		r.check(key, t, checkFile(t.s, ".svg", ".svgz", ".png"))
	}
	return t
}

// readMediaTypes reads inputTypes or outputTypes, deprecated lists of MIME
// types.
func (r *reader) readMediaTypes(top section, key string) list {
	l := r.list(top, key)
	if l.set {
		r.deprecated(key, l.at, "it is safe to drop it")
	}
	for i, t := range l.items {
		r.check(index(key, i), t, checkMIME(t.s))
	}
	return l
}

// readOrganisation reads the organisation that publishes the software.
func (r *reader) readOrganisation(top section) *organisation {
	s := r.sub(top, "organisation", organisationKeys[:]...)
	if !s.set {
		return nil
	}
	return r.readOrganisationLike(s)
}

// readOrganisationLike reads a mapping of a name and a URI, which is
// required: an organisation or a funder.
func (r *reader) readOrganisationLike(s section) *organisation {
	o := &organisation{name: r.text(s, "name"), uri: r.text(s, "uri")}
	key := join(s.path, "uri")
	if r.required(key, o.uri, "a URI that identifies the organisation, such as its web site or urn:x-italian-pa:[codiceIPA]") {
		r.check(key, o.uri, checkOrganisationURI(o.uri.s))
	}
	return o
}

// readFundedBy reads the organisations that fund the software.
func (r *reader) readFundedBy(top section) {
	for _, f := range r.sections(top, "fundedBy", organisationKeys[:]...).items {
		r.readOrganisationLike(f)
	}
}

// readSupports reads the standards, regulations and systems the software
// supports, each by an id.
func (r *reader) readSupports(top section) []text {
	var ids []text
	for _, s := range r.sections(top, "supports", "id").items {
		id := r.text(s, "id")
		key := join(s.path, "id")
		if r.required(key, id, "an alias such as alias:gdpr, or the URI of what the software supports") {
			r.check(key, id, checkSupportsID(id.s))
			ids = append(ids, id)
		}
	}
	return ids
}

// readIntendedAudience reads the scopes and countries the software is
// meant for.
func (r *reader) readIntendedAudience(top section) {
	s := r.sub(top, "intendedAudience", "scope", "countries", "unsupportedCountries")
	for i, sc := range r.list(s, "scope").items {
		if !isScope(sc.s) {
			r.errorf(index("intendedAudience.scope", i), sc.at, "%q is not a scope of the standard's list (https://yml.publiccode.tools/scope-list.html)", clip(sc.s))
		}
	}
	for _, key := range []string{"countries", "unsupportedCountries"} {
		path := join(s.path, key)
		for i, c := range r.list(s, key).items {
			msg, lower := checkCountry(c.s)
			r.check(index(path, i), c, msg)
			if lower {
				r.warnf(index(path, i), c.at, "lower-case country codes are deprecated: write %q", strings.ToUpper(c.s))
			}
		}
	}
}

// readDescriptions reads the description in each language.
func (r *reader) readDescriptions(top section) []description {
	p := top.get("description")
	switch {
	case p == nil || p.value.kind == kindNull:
		at := top.at
		if p != nil {
			at = p.keyPos
		}
		r.errorf("description", at, "is required: describe the software in at least one language")
		return nil
	case p.value.kind != kindMap:
		r.wrongType("description", p.value, "a mapping of language tags to descriptions")
		return nil
	case len(p.value.pairs) == 0:
		r.errorf("description", p.keyPos, "must describe the software in at least one language")
		return nil
	}
	var out []description
	for _, lp := range p.value.pairs {
		// The reference names a bad language tag by the description key.
		ok := isLanguageTag(lp.key)
		if !ok {
			r.errorf("description", p.keyPos, "%q (line %d) is not a BCP 47 language tag such as en, it or pt-BR (write en-GB, not en_GB)", clip(lp.key), lp.keyPos.line)
		}
		s := r.mapping("description."+lp.key, lp.value, lp.keyPos, descriptionKeys[:]...)
		if s.bad {
			continue
		}
		d := r.readDescription(s)
		if ok {
			d.lang, d.at = lp.key, lp.keyPos
			out = append(out, d)
		}
	}
	return out
}

// readDescription reads the description in one language.
func (r *reader) readDescription(s section) description {
	key := func(k string) string { return join(s.path, k) }
	r.text(s, "localisedName")
	if generic := r.text(s, "genericName"); generic.s != "" {
		r.check(key("genericName"), generic, checkLength(generic.s, 0, 35))
		r.deprecated(key("genericName"), generic.at, "it is safe to drop it")
	}
	d := description{
		short:            r.text(s, "shortDescription"),
		long:             r.text(s, "longDescription"),
		documentation:    r.text(s, "documentation"),
		apiDocumentation: r.text(s, "apiDocumentation"),
		features:         r.list(s, "features"),
	}
	if r.required(key("shortDescription"), d.short, "one line, at most 150 characters, on what the software does") {
		r.check(key("shortDescription"), d.short, checkLength(d.short.s, 0, 150))
	}
	if r.required(key("longDescription"), d.long, "a description of 150 to 10,000 characters") {
		r.check(key("longDescription"), d.long, checkLength(d.long.s, 150, 10000))
	}
	r.check(key("documentation"), d.documentation, checkHTTPURL(d.documentation.s))
	r.check(key("apiDocumentation"), d.apiDocumentation, checkHTTPURL(d.apiDocumentation.s))
	if len(d.features.items) == 0 && !d.features.bad {
		r.errorf(key("features"), d.features.at, "must list at least one feature of the software")
	}
	for i, shot := range r.list(s, "screenshots").items {
		r.check(index(key("screenshots"), i), shot, checkFile(shot.s, ".jpg", ".png"))
	}
	for i, video := range r.list(s, "videos").items {
		r.check(index(key("videos"), i), video, checkHTTPURL(video.s))
	}
	r.list(s, "awards")
	return d
}

// readLegal reads the license and who owns the code.
func (r *reader) readLegal(top section, d *document) {
	s := r.sub(top, "legal", "license", "mainCopyrightOwner", "repoOwner", "authorsFile")
	d.license = r.text(s, "license")
	if r.required("legal.license", d.license, "the SPDX expression of the software's license, such as AGPL-3.0-or-later") {
		if err := spdx.Validate(d.license.s); err != nil {
			r.errorf("legal.license", d.license.at, "%q is not a valid SPDX license expression (https://spdx.org/licenses): %v", clip(d.license.s), err)
		}
	}
	d.mainCopyrightOwner = r.text(s, "mainCopyrightOwner")
	d.repoOwner = r.text(s, "repoOwner")
	if d.repoOwner.set {
		r.deprecated("legal.repoOwner", d.repoOwner.at, "use organisation.name")
	}
	if authors := r.text(s, "authorsFile"); authors.set {
		r.deprecated("legal.authorsFile", authors.at, "it is safe to drop it")
		r.check("legal.authorsFile", authors, checkFile(authors.s))
	}
}

// readMaintenance reads how the software is maintained, and by whom.
func (r *reader) readMaintenance(top section) maintenance {
	s := r.sub(top, "maintenance", "type", "contractors", "contacts")
	m := maintenance{kind: r.text(s, "type")}
	if r.required("maintenance.type", m.kind, "one of internal, contract, community, none") &&
		!vocabulary.IsMaintenanceType(m.kind.s) {
		r.errorf("maintenance.type", m.kind.at, "%q is not one of internal, contract, community, none", clip(m.kind.s))
	}

	contractors := r.sections(s, "contractors", "name", "email", "website", "until")
	switch {
	case m.kind.s == "contract" && !contractors.set && !contractors.bad:
		r.errorf("maintenance.contractors", contractors.at, "is required when type is \"contract\": who maintains the software under contract")
	case m.kind.s != "contract" && contractors.set:
		r.errorf("maintenance.contractors", contractors.at, "must not be present unless type is \"contract\"")
	}
	for _, c := range contractors.items {
		m.contractors = append(m.contractors, r.readContractor(c))
	}

	contacts := r.sections(s, "contacts", "name", "email", "affiliation", "phone")
	if (m.kind.s == "community" || m.kind.s == "internal") && !contacts.set && !contacts.bad {
		r.errorf("maintenance.contacts", contacts.at, "is required when type is %q: the people who maintain the software", m.kind.s)
	}
	for _, c := range contacts.items {
		m.contacts = append(m.contacts, r.readContact(c))
	}
	return m
}

func (r *reader) readContractor(s section) contractor {
	c := contractor{name: r.text(s, "name"), website: r.text(s, "website"), until: r.text(s, "until")}
	r.required(join(s.path, "name"), c.name, "the contractor's name")
	if email := r.text(s, "email"); email.s != "" {
		r.check(join(s.path, "email"), email, checkEmail(email.s))
	}
	r.check(join(s.path, "website"), c.website, checkHTTPURL(c.website.s))
	if r.required(join(s.path, "until"), c.until, "the date the contract ends, as YYYY-MM-DD") {
		r.check(join(s.path, "until"), c.until, checkDate(c.until.s))
	}
	return c
}

func (r *reader) readContact(s section) contact {
	c := contact{
		name:        r.text(s, "name"),
		email:       r.text(s, "email"),
		phone:       r.text(s, "phone"),
		affiliation: r.text(s, "affiliation"),
	}
	r.required(join(s.path, "name"), c.name, "the contact's full name")
	if c.email.s != "" {
		r.check(join(s.path, "email"), c.email, checkEmail(c.email.s))
	}
	return c
}

// readLocalisation reads whether the software can be translated and the
// languages it is available in.
func (r *reader) readLocalisation(top section, d *document) {
	s := r.sub(top, "localisation", "localisationReady", "availableLanguages")
	d.localisationReady = r.flag(s, "localisationReady")
	if !d.localisationReady.set && !d.localisationReady.bad {
		r.errorf("localisation.localisationReady", d.localisationReady.at, "is required: true if the software is designed to be translated, else false")
	}
	d.availableLanguages = r.list(s, "availableLanguages")
	switch l := d.availableLanguages; {
	case l.bad:
	case !l.set:
		r.errorf("localisation.availableLanguages", l.at, "is required: the BCP 47 tags of the languages the software is available in")
	case len(l.items) == 0:
		r.errorf("localisation.availableLanguages", l.at, "must list at least one language")
	}
	for i, l := range d.availableLanguages.items {
		if !isLanguageTag(l.s) {
			r.errorf(index("localisation.availableLanguages", i), l.at, "%q is not a BCP 47 language tag such as en, it or pt-BR", clip(l.s))
		}
	}
}

// readDependsOn reads the system-level dependencies.
func (r *reader) readDependsOn(top section) {
	s := r.sub(top, "dependsOn", "open", "proprietary", "hardware")
	for _, kind := range []string{"open", "proprietary", "hardware"} {
		for _, dep := range r.sections(s, kind, dependencyKeys[:]...).items {
			r.required(join(dep.path, "name"), r.text(dep, "name"), "the dependency's name")
			r.text(dep, "versionMin")
			r.text(dep, "versionMax")
			r.text(dep, "version")
			r.flag(dep, "optional")
		}
	}
}

// readCountrySections reads the Italian section, IT, or its deprecated
// lower-case form, it (both is an error), and returns the standards its
// flags declare.
func (r *reader) readCountrySections(top section) []text {
	upper := r.readItaly(top, "IT")
	lower := r.readItaly(top, "it")
	if lower.set {
		r.warnf("it", lower.at, "lower-case country sections are deprecated: rename it to IT")
		if upper.set {
			r.errorf("it", lower.at, "the IT section is present too: remove this one")
			return upper.standards
		}
		return lower.standards
	}
	return upper.standards
}

// italy is what a country section declares.
type italy struct {
	at        pos
	set       bool
	standards []text
}

// conformeFlags are the deprecated conformance flags of the Italian
// section; gdpr is an alias's deprecated form.
var conformeFlags = [...]string{"lineeGuidaDesign", "modelloInteroperabilita", "misureMinimeSicurezza", "gdpr"}

// piattaformeFlags are the Italian platforms the software works with,
// each the deprecated form of an alias.
var piattaformeFlags = [...]string{"spid", "pagopa", "cie", "anpr", "io"}

func (r *reader) readItaly(top section, key string) italy {
	s := r.sub(top, key, "countryExtensionVersion", "conforme", "riuso", "piattaforme")
	it := italy{at: s.at, set: s.set}
	if p := top.get(key); p != nil {
		it.at = p.keyPos
	}
	if v := r.text(s, "countryExtensionVersion"); v.set && v.s != "0.2" && v.s != "1.0" {
		r.errorf(join(key, "countryExtensionVersion"), v.at, "%q is not one of 0.2, 1.0", clip(v.s))
	}
	conforme := r.sub(s, "conforme", conformeFlags[:]...)
	if conforme.set {
		if p := s.get("conforme"); p != nil {
			r.deprecated(conforme.path, p.keyPos, "it is safe to drop it (declare GDPR compliance with supports: alias:gdpr)")
		}
	}
	for _, f := range conformeFlags {
		if fl := r.flag(conforme, f); fl.v {
			phrase := "IT conforme: " + f
			if f == "gdpr" {
				phrase, _ = aliasName("gdpr")
			}
			it.standards = append(it.standards, text{s: phrase, at: fl.at, set: true})
		}
	}
	riuso := r.sub(s, "riuso", "codiceIPA")
	if code := r.text(riuso, "codiceIPA"); code.s != "" {
		// The reference's is_italian_ipa_code: the code must be in the iPA
		// register, case ignored.
		if !isIPACode(code.s) {
			r.errorf(join(riuso.path, "codiceIPA"), code.at, "%q is not an iPA code in %s: give the code of the Italian public administration, such as c_h501", clip(code.s), ipaSource)
		} else {
			r.deprecated(join(riuso.path, "codiceIPA"), code.at, fmt.Sprintf("use organisation.uri and set it to urn:x-italian-pa:%s", clip(code.s)))
		}
	}
	piattaforme := r.sub(s, "piattaforme", piattaformeFlags[:]...)
	for _, f := range piattaformeFlags {
		if fl := r.flag(piattaforme, f); fl.v {
			phrase, _ := aliasName(f)
			it.standards = append(it.standards, text{s: phrase, at: fl.at, set: true})
		}
	}
	return it
}
