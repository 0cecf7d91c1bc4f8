package qualify

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"golang.org/x/text/language"
)

// publicRepository says whether the source code is published: the
// repository URL is an absolute http or https URL. Whether it answers is not
// checked: qualifying a tool never goes to the network, so that every node
// gives the same answer.
func publicRepository(repo string, explain bool) result {
	repo = strings.TrimSpace(repo)
	if repo == "" {
		return notMetBecause("No source code repository is declared.")
	}
	met := isHTTPURL(repo)
	switch {
	case !explain:
		return unexplained(met)
	case !met:
		return notMetBecause("The repository URL " + strconv.Quote(repo) + " is not an http or https URL.")
	}
	return metBecause("The source code is published at " + repo + ".")
}

// isHTTPURL reports whether s is an absolute http or https URL.
func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")) && u.Hostname() != ""
}

// documentation says whether some description links to user documentation
// or, failing that, to API documentation: an absolute http or https URL (a
// peer's "N/A" links to nothing). Descriptions are read in the order
// of their language tags, so that the reason does not depend on the order of
// a map.
func documentation(descriptions map[string]*catalogv1.Description, explain bool) result {
	link := func(s string) string { // a link, as an absolute http(s) URL, or ""
		if s = strings.TrimSpace(s); s != "" && isHTTPURL(s) {
			return s
		}
		return ""
	}
	if !explain {
		for _, d := range descriptions {
			if link(d.GetDocumentationUrl()) != "" || link(d.GetApiDocumentationUrl()) != "" {
				return unexplained(true)
			}
		}
		return unexplained(false)
	}
	langs := make([]string, 0, len(descriptions))
	for lang := range descriptions {
		langs = append(langs, lang)
	}
	slices.Sort(langs)
	for _, lang := range langs {
		if doc := link(descriptions[lang].GetDocumentationUrl()); doc != "" {
			return metBecause("User documentation is published at " + doc + ".")
		}
	}
	for _, lang := range langs {
		if doc := link(descriptions[lang].GetApiDocumentationUrl()); doc != "" {
			return metBecause("API documentation is published at " + doc + ".")
		}
	}
	return notMetBecause("No description links to user or API documentation.")
}

// maxReleaseAge is how old the latest release of a maintained tool can be.
const maxReleaseAge = 2 // years

// releaseDateSlack is how far in the future a release date may be and still
// count: a release dated in a time zone ahead of UTC can be a day ahead of
// today in UTC.
const releaseDateSlack = 24 * time.Hour

// maintained says whether someone maintains the tool (maintenance type
// internal, contract or community, and for contract maintenance a contract
// still running) and it has had a release in the last maxReleaseAge years,
// as of today. The reason names every condition that fails.
func maintained(m *catalogv1.Maintenance, releaseDate string, today time.Time, explain bool) result {
	failures := make([]string, 0, 3)
	how := ""
	switch typ := strings.TrimSpace(m.GetType()); typ {
	case "internal":
		how = "maintained internally"
	case "community":
		how = "maintained by its community"
	case "contract":
		how = "maintained under contract"
		if last, ended := contractsEnded(m.GetContractors(), today); ended {
			failures = append(failures, "every maintenance contract has ended (the last on "+last+")")
		}
	case "":
		if len(m.GetContacts()) > 0 || len(m.GetContractors()) > 0 {
			// Contacts without a type (as code.json gives them): who to
			// ask, not how the tool is maintained.
			failures = append(failures, "no maintenance type is declared")
		} else {
			failures = append(failures, "no maintenance is declared")
		}
	case "none":
		failures = append(failures, "the tool is declared unmaintained (maintenance type none)")
	default:
		failures = append(failures, "the maintenance type "+strconv.Quote(typ)+" is not internal, contract or community")
	}

	releaseDate = strings.TrimSpace(releaseDate)
	var released time.Time
	var err error
	if releaseDate != "" { // most tools declare none: no error to build
		released, err = time.Parse(time.DateOnly, releaseDate)
	}
	switch {
	case releaseDate == "":
		failures = append(failures, "no release date is declared")
	case err != nil:
		failures = append(failures, "the release date "+strconv.Quote(releaseDate)+" is not a date written YYYY-MM-DD")
	case released.After(today.Add(releaseDateSlack)):
		failures = append(failures, "the release date "+releaseDate+" is in the future")
	case released.Before(today.AddDate(-maxReleaseAge, 0, 0)):
		failures = append(failures, "the latest release, on "+releaseDate+", is more than "+strconv.Itoa(maxReleaseAge)+" years old")
	}

	switch {
	case !explain:
		return unexplained(len(failures) == 0)
	case len(failures) > 0:
		return notMetBecause(sentence(failures...))
	}
	return metBecause(sentence(how + ", with a release on " + releaseDate + ", less than " + strconv.Itoa(maxReleaseAge) + " years ago"))
}

// contractsEnded reports whether every contractor's contract ended before
// today, with the date the last one ended. A contract with no end date, or
// one that cannot be read, is taken as running; so is contract maintenance
// with no contractor named, since no contract is known to have ended.
func contractsEnded(contractors []*catalogv1.Contractor, today time.Time) (last string, ended bool) {
	if len(contractors) == 0 {
		return "", false
	}
	var lastDay time.Time
	for _, c := range contractors {
		until := strings.TrimSpace(c.GetUntil())
		day, err := time.Parse(time.DateOnly, until)
		if until == "" || err != nil || !day.Before(today) {
			return "", false
		}
		if day.After(lastDay) {
			lastDay, last = day, until
		}
	}
	return last, true
}

// minLanguages is how many languages a localised tool is available in.
const minLanguages = 2

// localisation says whether the interface can be translated and is
// available in at least minLanguages languages, counted by primary
// language subtag (pt-BR and pt-PT are one language; deprecated codes are
// canonicalised, so iw and he are one too): langs are those of
// primaryLanguages. Only available_languages counts: the languages of the
// descriptions are those the catalogers wrote in, not those of the tool.
func localisation(ready bool, langs []string, explain bool) result {
	if !explain {
		return unexplained(ready && len(langs) >= minLanguages)
	}
	var failures []string
	if !ready {
		failures = append(failures, "the interface is not declared ready for translation")
	}
	switch {
	case len(langs) == 0:
		failures = append(failures, "no interface language is declared")
	case len(langs) == 1:
		failures = append(failures, "the interface is available in one language only ("+langs[0]+")")
	case len(langs) < minLanguages:
		failures = append(failures, "the interface is available in only "+plural(len(langs), "language", "languages")+" ("+strings.Join(langs, ", ")+")")
	}
	if len(failures) > 0 {
		return notMetBecause(sentence(failures...))
	}
	return metBecause("Ready for translation, and available in " + plural(len(langs), "language", "languages") + " (" + languageList(langs) + ").")
}

// maxListedLanguages is the most languages a reason names: a peer's tool
// may declare thousands, and the reason is served with the tool.
const maxListedLanguages = 20

// languageList names langs, the first maxListedLanguages of them.
func languageList(langs []string) string {
	if len(langs) <= maxListedLanguages {
		return strings.Join(langs, ", ")
	}
	return strings.Join(langs[:maxListedLanguages], ", ") + " and " + strconv.Itoa(len(langs)-maxListedLanguages) + " more"
}

// primaryLanguages returns the distinct primary language subtags of tags,
// in the order they first appear, skipping tags that do not parse and
// "und". A peer's tool is not validated and may list hundreds of
// thousands of tags: past a few, the languages seen go in a set, or
// each tag would be compared with every language before it.
func (qr *Qualifier) primaryLanguages(tags []string) []string {
	var langs []string
	var seen map[string]bool
	for _, s := range tags {
		l := qr.languages.get(s, primaryLanguageOf)
		switch {
		case !l.ok:
		case seen != nil:
			if !seen[l.base] {
				seen[l.base] = true
				langs = append(langs, l.base)
			}
		case !slices.Contains(langs, l.base):
			langs = append(langs, l.base)
			if len(langs) == 16 {
				seen = make(map[string]bool)
				for _, b := range langs {
					seen[b] = true
				}
			}
		}
	}
	return langs
}

// primaryLanguage is the primary language subtag of a tag, if it has one.
type primaryLanguage struct {
	base string
	ok   bool
}

func primaryLanguageOf(s string) primaryLanguage {
	tag, err := language.Parse(strings.TrimSpace(s))
	if err != nil || tag == language.Und {
		return primaryLanguage{}
	}
	// Only a language the tag names: "und-FR" names none, and the base
	// language.Tag.Base guesses for it (French, with low confidence) is
	// no language the tool is available in.
	base, conf := tag.Base()
	if conf != language.Exact {
		return primaryLanguage{}
	}
	// Nor does "zxx", no linguistic content.
	if b := base.String(); b != "und" && b != "zxx" {
		return primaryLanguage{base: b, ok: true}
	}
	return primaryLanguage{}
}

// administrationKinds are the kinds of organisation that count as an
// administration, most central first: the organisation a reason names is
// the most central one.
var administrationKinds = []catalogv1.OrganizationKind{
	catalogv1.OrganizationKind_ORGANIZATION_KIND_NATIONAL_GOVERNMENT,
	catalogv1.OrganizationKind_ORGANIZATION_KIND_PARLIAMENT,
	catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT,
}

// kindPhrases say what each administration kind is, after its name.
var kindPhrases = map[catalogv1.OrganizationKind]string{
	catalogv1.OrganizationKind_ORGANIZATION_KIND_NATIONAL_GOVERNMENT: "a national government body",
	catalogv1.OrganizationKind_ORGANIZATION_KIND_PARLIAMENT:          "a parliament",
	catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT:    "a local government",
}

// usedByAdministration says whether a national or local government or a
// parliament uses the tool, according to the use cases that are not
// deleted. The use status is not considered: an ended use is still evidence
// that an administration chose the tool. Administrations are counted once
// each (same name, case aside, and country), as several members may record
// the same use; the one the reason names is chosen by kind, name and
// country, not by the order of useCases.
func usedByAdministration(useCases []*catalogv1.UseCase, explain bool) result {
	if !explain {
		return unexplained(slices.ContainsFunc(useCases, func(uc *catalogv1.UseCase) bool {
			return uc != nil && !uc.GetDeleted() && slices.Contains(administrationKinds, uc.GetOrganization().GetKind())
		}))
	}
	type admin struct {
		name, country string
		kind          catalogv1.OrganizationKind
		rank          int
	}
	// The order admins are kept in, and which of two use cases of one
	// administration speaks for it: use cases come in each node's order
	// of arrival, and every node must give the same reason.
	compare := func(a, b admin) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		if c := strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)); c != 0 {
			return c
		}
		if c := strings.Compare(a.country, b.country); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	}
	var admins []admin
	seen := map[string]int{} // index in admins
	recorded := 0
	for _, uc := range useCases {
		if uc == nil || uc.GetDeleted() {
			continue
		}
		recorded++
		org := uc.GetOrganization()
		rank := slices.Index(administrationKinds, org.GetKind())
		if rank < 0 {
			continue
		}
		a := admin{
			name:    strings.TrimSpace(org.GetName()),
			country: envelope.UseCaseCountry(org.GetCountry()), // UK is GB
			kind:    org.GetKind(),
			rank:    rank,
		}
		key := strings.ToLower(a.name) + "\x00" + a.country
		if i, ok := seen[key]; ok {
			if compare(a, admins[i]) < 0 {
				admins[i] = a
			}
			continue
		}
		seen[key] = len(admins)
		admins = append(admins, a)
	}
	if len(admins) == 0 {
		const by = "a national or local government or a parliament"
		switch recorded {
		case 0:
			return notMetBecause("No use by " + by + " is recorded.")
		case 1:
			return notMetBecause("The only recorded use is not by " + by + ".")
		default:
			return notMetBecause("None of the " + strconv.Itoa(recorded) + " recorded uses is by " + by + ".")
		}
	}
	first := slices.MinFunc(admins, compare)
	who := first.name
	if who == "" {
		who = "an unnamed organisation"
	}
	if first.country != "" {
		who += " (" + first.country + ")"
	}
	who += ", " + kindPhrases[first.kind]
	if len(admins) == 1 {
		return metBecause("Used by 1 administration: " + who + ".")
	}
	return metBecause("Used by " + strconv.Itoa(len(admins)) + " administrations, among them " + who + ".")
}

// standardsNamed is how many standards a reason names before counting the
// rest.
const standardsNamed = 3

// standards says whether the tool declares a standard, format or interface
// it supports. Blank entries and repeats do not count.
func standards(declared []string, explain bool) result {
	if !explain {
		return unexplained(slices.ContainsFunc(declared, func(s string) bool { return strings.TrimSpace(s) != "" }))
	}
	var names []string
	seen := map[string]bool{} // a peer's record is not validated: it may list any number
	for _, s := range declared {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			names = append(names, s)
		}
	}
	if len(names) == 0 {
		return notMetBecause("No supported standard or format is declared.")
	}
	if len(names) > standardsNamed {
		rest := len(names) - standardsNamed
		names = append(names[:standardsNamed:standardsNamed], plural(rest, "more", "more"))
	}
	return metBecause("Declares support for " + joinAnd(names) + ".")
}
