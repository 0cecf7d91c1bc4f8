package qualify

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/spdx"
	"golang.org/x/text/language"
	"google.golang.org/protobuf/proto"
)

// now is the time the tests qualify at.
var now = time.Date(2025, time.June, 15, 10, 30, 0, 0, time.UTC)

// criterion returns the criterion id of q, failing the test if it is
// missing.
func criterion(t *testing.T, q *catalogv1.Qualification, id string) *catalogv1.Criterion {
	t.Helper()
	for _, c := range q.GetCriteria() {
		if c.GetId() == id {
			return c
		}
	}
	t.Fatalf("no criterion %q in %v", id, q)
	return nil
}

// check qualifies tool with useCases and checks criterion id.
func check(t *testing.T, id string, tool *catalogv1.Tool, useCases []*catalogv1.UseCase, wantMet bool, wantReason string) {
	t.Helper()
	c := criterion(t, Qualify(tool, useCases, now), id)
	if c.GetMet() != wantMet || c.GetReason() != wantReason {
		t.Errorf("%s = (%v, %q), want (%v, %q)", id, c.GetMet(), c.GetReason(), wantMet, wantReason)
	}
}

// decidim is a tool that meets every criterion.
func decidim() *catalogv1.Tool {
	return &catalogv1.Tool{
		Name:          "origins/es/tools/decidim",
		DisplayName:   "Decidim",
		RepositoryUrl: "https://github.com/decidim/decidim",
		LandingUrl:    "https://decidim.org",
		License:       "AGPL-3.0-or-later",
		Descriptions: map[string]*catalogv1.Description{
			"en": {ShortDescription: "Participatory democracy framework", DocumentationUrl: "https://docs.decidim.org/en/"},
			"es": {ShortDescription: "Marco de democracia participativa"},
		},
		Maintenance:        &catalogv1.Maintenance{Type: "community"},
		ReleaseDate:        "2025-03-20",
		LocalisationReady:  true,
		AvailableLanguages: []string{"en", "es", "ca", "fr"},
		Standards:          []string{"OpenAPI 3", "GraphQL", "text/csv"},
	}
}

func useCase(name, country string, kind catalogv1.OrganizationKind) *catalogv1.UseCase {
	return &catalogv1.UseCase{
		Tool:         "origins/es/tools/decidim",
		Organization: &catalogv1.Organization{Name: name, Country: country, Kind: kind},
		Purpose:      "Participatory budgeting",
	}
}

const (
	national = catalogv1.OrganizationKind_ORGANIZATION_KIND_NATIONAL_GOVERNMENT
	local    = catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT
	assembly = catalogv1.OrganizationKind_ORGANIZATION_KIND_PARLIAMENT
	civil    = catalogv1.OrganizationKind_ORGANIZATION_KIND_CIVIL_SOCIETY
	other    = catalogv1.OrganizationKind_ORGANIZATION_KIND_OTHER
)

func TestIDs(t *testing.T) {
	want := []string{"open_license", "public_repository", "documentation", "maintained", "localisation", "used_by_administration", "standards"}
	if got := IDs(); !slices.Equal(got, want) {
		t.Fatalf("IDs() = %v, want %v", got, want)
	}
	ids := IDs()
	ids[0] = "changed"
	if IDs()[0] != OpenLicense {
		t.Error("IDs() shares its slice between calls")
	}
}

// Every criterion is there, in the order of IDs, whatever the tool.
func TestQualifyGivesEveryCriterionInOrder(t *testing.T) {
	for name, tool := range map[string]*catalogv1.Tool{
		"nil":     nil,
		"empty":   {},
		"decidim": decidim(),
	} {
		t.Run(name, func(t *testing.T) {
			q := Qualify(tool, nil, now)
			var got []string
			for _, c := range q.GetCriteria() {
				got = append(got, c.GetId())
				if c.GetReason() == "" {
					t.Errorf("%s has no reason", c.GetId())
				}
				if !strings.HasSuffix(c.GetReason(), ".") || strings.ToUpper(c.GetReason()[:1]) != c.GetReason()[:1] {
					t.Errorf("%s reason %q is not a sentence", c.GetId(), c.GetReason())
				}
			}
			if !slices.Equal(got, IDs()) {
				t.Errorf("criteria = %v, want %v", got, IDs())
			}
		})
	}
}

func TestOpenLicense(t *testing.T) {
	tests := []struct {
		license string
		met     bool
		reason  string
	}{
		{"AGPL-3.0-or-later", true, "AGPL-3.0-or-later is an OSI-approved license."},
		{"mit", true, "MIT is an OSI-approved license."},
		{"EUPL-1.2", true, "EUPL-1.2 is an OSI-approved license."},
		{"GPL-3.0", true, "GPL-3.0 is an OSI-approved license."}, // deprecated, still approved
		{"GPL-2.0+", true, "GPL-2.0+ is an OSI-approved license."},
		{"GPL-2.0-only WITH Classpath-exception-2.0", true, "GPL-2.0-only WITH Classpath-exception-2.0 is an OSI-approved license."},
		// The same license by its deprecated identifier, which the API and
		// harvests take, and the SPDX list does not mark approved.
		{"GPL-2.0-with-classpath-exception", true, "GPL-2.0-with-classpath-exception is an OSI-approved license."},
		{"GPL-3.0-with-autoconf-exception OR CC-BY-4.0", true, "GPL-3.0-with-autoconf-exception OR CC-BY-4.0 offers an OSI-approved choice: GPL-3.0-with-autoconf-exception."},
		{"MIT OR Apache-2.0", true, "MIT OR Apache-2.0 names only OSI-approved licenses."},
		{"GPL-3.0-only AND MIT", true, "GPL-3.0-only AND MIT names only OSI-approved licenses."},
		{"LicenseRef-Proprietary OR MPL-2.0", true, "LicenseRef-Proprietary OR MPL-2.0 offers an OSI-approved choice: MPL-2.0."},
		{"CC-BY-NC-4.0 OR (MIT AND BSD-3-Clause)", true, "CC-BY-NC-4.0 OR MIT AND BSD-3-Clause offers an OSI-approved choice: MIT AND BSD-3-Clause."},
		{"(MIT OR CC-BY-NC-4.0) AND Apache-2.0", true, "(MIT OR CC-BY-NC-4.0) AND Apache-2.0 offers an OSI-approved choice: MIT AND Apache-2.0."},

		{"", false, "No license is declared."},
		{"   ", false, "No license is declared."},
		{"CECILL-B", false, "CECILL-B is not an OSI-approved license."},
		{"CC-BY-SA-4.0", false, "CC-BY-SA-4.0 is not an OSI-approved license."},
		{"LicenseRef-Proprietary", false, "LicenseRef-Proprietary is not an OSI-approved license."},
		{"Foo-1.0", false, "Foo-1.0 is not an OSI-approved license."},
		// An exception not on the SPDX list, as a peer may send it (the API
		// refuses it): it may take rights away.
		{"Apache-2.0 WITH Commons-Clause", false, "Apache-2.0 WITH Commons-Clause is not an OSI-approved license."},
		{"MIT AND Apache-2.0 WITH Commons-Clause", false, "MIT AND Apache-2.0 WITH Commons-Clause is not entirely OSI-approved: Apache-2.0 WITH Commons-Clause is not an OSI-approved license."},
		{"MIT AND CC-BY-NC-4.0", false, "MIT AND CC-BY-NC-4.0 is not entirely OSI-approved: CC-BY-NC-4.0 is not an OSI-approved license."},
		{"CC-BY-4.0 AND MIT AND etalab-2.0", false, "CC-BY-4.0 AND MIT AND etalab-2.0 is not entirely OSI-approved: CC-BY-4.0 and etalab-2.0 are not OSI-approved licenses."},
		{"CC0-1.0 OR LicenseRef-Proprietary", false, "No choice in CC0-1.0 OR LicenseRef-Proprietary is entirely OSI-approved: CC0-1.0 and LicenseRef-Proprietary are not OSI-approved licenses."},
		{"(MIT OR Apache-2.0) AND CC-BY-NC-4.0", false, "(MIT OR Apache-2.0) AND CC-BY-NC-4.0 is not entirely OSI-approved: CC-BY-NC-4.0 is not an OSI-approved license."},
		{"MIT AND (CC-BY-4.0 OR CC-BY-SA-4.0) AND cc-by-4.0", false, "MIT AND (CC-BY-4.0 OR CC-BY-SA-4.0) AND CC-BY-4.0 is not entirely OSI-approved: CC-BY-4.0 and CC-BY-SA-4.0 are not OSI-approved licenses."},
		{"N/A", false, `The license expression "N/A" does not parse: invalid character '/' in license identifier "N/A": only letters, digits, "-" and "." are allowed; combine licenses with AND or OR.`},
		{"LGPL-2.1, LGPL-3.0", false, `The license expression "LGPL-2.1, LGPL-3.0" does not parse: invalid character ',' in license identifier "LGPL-2.1,": only letters, digits, "-" and "." are allowed; combine licenses with AND or OR.`},
		{"MIT or Apache-2.0", false, `The license expression "MIT or Apache-2.0" does not parse: operator "or" must be uppercase: use "OR".`},
	}
	for _, tt := range tests {
		t.Run(tt.license, func(t *testing.T) {
			check(t, OpenLicense, &catalogv1.Tool{License: tt.license}, nil, tt.met, tt.reason)
		})
	}
}

// TestLocalisationSkipsUndeterminedLanguages: tags of no language
// ("und-FR", "und-Cyrl") pass validation, and must not count as languages a
// tool is available in.
func TestLocalisationSkipsUndeterminedLanguages(t *testing.T) {
	for _, langs := range [][]string{{"und-FR", "und-DE"}, {"en", "und-Cyrl"}} {
		if c := criterion(t, Qualify(&catalogv1.Tool{LocalisationReady: true, AvailableLanguages: langs}, nil, now), Localisation); c.GetMet() {
			t.Errorf("%q: localisation met: %q", langs, c.GetReason())
		}
	}
	for _, langs := range [][]string{{"iw", "en"}, {"pt-BR", "fr"}} {
		if c := criterion(t, Qualify(&catalogv1.Tool{LocalisationReady: true, AvailableLanguages: langs}, nil, now), Localisation); !c.GetMet() {
			t.Errorf("%q: localisation not met: %q", langs, c.GetReason())
		}
	}
}

// TestLocalisationOfThousandsOfLanguages: a peer's tool is not validated,
// and may list every language there is, many times over. Each counts
// once, and the reason, served with the tool, names the first twenty.
func TestLocalisationOfThousandsOfLanguages(t *testing.T) {
	var distinct []string
	for a := 'a'; a <= 'z'; a++ {
		for b := 'a'; b <= 'z'; b++ {
			for c := 'a'; c <= 'z'; c++ {
				s := string([]rune{a, b, c})
				if tag, err := language.Parse(s); err == nil && tag.String() == s && s != "zxx" { // zxx: no linguistic content
					if _, conf := tag.Base(); conf == language.Exact {
						distinct = append(distinct, s)
					}
				}
			}
		}
	}
	if len(distinct) < 1000 {
		t.Fatalf("only %d languages of three letters", len(distinct))
	}
	tool := &catalogv1.Tool{LocalisationReady: true}
	for range 3 {
		tool.AvailableLanguages = append(tool.AvailableLanguages, distinct...)
	}
	want := fmt.Sprintf("Ready for translation, and available in %d languages (%s and %d more).", len(distinct), strings.Join(distinct[:20], ", "), len(distinct)-20)
	check(t, Localisation, tool, nil, true, want)
}

// TestUsedByAdministrationWhateverTheOrder: two use cases of one
// administration, spelled or kinded differently by two members, give the
// same reason in either order: each node holds use cases in its own order
// of arrival, and every node must qualify a tool word for word alike.
func TestUsedByAdministrationWhateverTheOrder(t *testing.T) {
	local := catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT
	national := catalogv1.OrganizationKind_ORGANIZATION_KIND_NATIONAL_GOVERNMENT
	for _, pair := range [][2]*catalogv1.UseCase{
		{useCase("Ville de Paris", "FR", local), useCase("VILLE DE PARIS", "FR", national)},
		{useCase("Ville de Paris", "FR", local), useCase("VILLE DE PARIS", "FR", local)},
		{useCase("Ville de Paris", "fr", local), useCase("Ville de Paris", "FR", national)},
	} {
		r1 := criterion(t, Qualify(decidim(), []*catalogv1.UseCase{pair[0], pair[1]}, now), UsedByAdministration).GetReason()
		r2 := criterion(t, Qualify(decidim(), []*catalogv1.UseCase{pair[1], pair[0]}, now), UsedByAdministration).GetReason()
		if r1 != r2 {
			t.Errorf("the reason depends on the order of the use cases:\n %q\n %q", r1, r2)
		}
	}
}

// TestOneAdministrationUnderTwoCodesOfItsCountry: two members record one
// council's use, one of them (of an earlier version, whose records are not
// validated again) writing the United Kingdom as UK, the other as GB: one
// administration, counted once.
func TestOneAdministrationUnderTwoCodesOfItsCountry(t *testing.T) {
	local := catalogv1.OrganizationKind_ORGANIZATION_KIND_LOCAL_GOVERNMENT
	useCases := []*catalogv1.UseCase{useCase("Leeds City Council", "GB", local), useCase("Leeds City Council", "UK", local)}
	check(t, UsedByAdministration, decidim(), useCases, true, "Used by 1 administration: Leeds City Council (GB), a local government.")
}

// TestLongLicenseExpressions: an expression past spdx.MaxExpression (a
// peer's records are not validated) is not met, cheaply, without being
// quoted; and the licenses that block an expression are found in time and
// memory that grow with its length, not its square (a review measured 2 GB
// for 16,000 licenses).
func TestLongLicenseExpressions(t *testing.T) {
	orOfRefs := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("LicenseRef-x%d", i%(n/2+1))
		}
		return strings.Join(parts, " OR ")
	}
	long := orOfRefs(16000)
	var c *catalogv1.Criterion
	allocs := testing.AllocsPerRun(1, func() { c = criterion(t, Qualify(&catalogv1.Tool{License: long}, nil, now), OpenLicense) })
	if c.GetMet() || strings.Contains(c.GetReason(), "LicenseRef") || allocs > 1000 {
		t.Errorf("an expression of %d bytes: %d allocations, %v", len(long), int(allocs), c)
	}
	blockersOf := func(n int) (int, float64) {
		e, err := spdx.Parse(orOfRefs(10)) // a parse of n licenses would be refused: chain them by hand
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			e = &spdx.Expression{Op: []string{"AND", "OR"}[i%2], Left: e, Right: &spdx.Expression{License: fmt.Sprintf("LicenseRef-y%d", i%(n/2+1))}}
		}
		var found []string
		allocs := testing.AllocsPerRun(1, func() {
			choices := map[*spdx.Expression]*spdx.Expression{}
			if approvedChoice(e, choices) != nil {
				t.Fatal("a choice of licenses none of which is approved")
			}
			found = blockers(e, choices)
		})
		return len(found), allocs
	}
	n1, small := blockersOf(1000)
	n4, large := blockersOf(4000)
	if n1 != 6+501 || n4 != 6+2001 { // x0 to x5, then y0 to y(n/2)
		t.Errorf("blockers of 1,000 and 4,000 licenses: %d and %d, want each once", n1, n4)
	}
	if large > 8*small {
		t.Errorf("4 times the licenses took %.1f times the allocations", large/small)
	}
}

// TestLicenseIDs checks the licenses an expression names, as search
// facets take them, from a fresh Qualifier and again from its memory.
func TestLicenseIDs(t *testing.T) {
	var qr Qualifier
	for range 2 {
		for _, c := range []struct {
			expr string
			want []string
		}{
			{"MIT", []string{"MIT"}},
			{"(MIT OR Apache-2.0) AND mit", []string{"MIT", "Apache-2.0"}},
			{"GPL-2.0+ WITH Classpath-exception-2.0 OR LicenseRef-X", []string{"GPL-2.0-or-later", "LicenseRef-x"}}, // as filed: one license, one value
			{"", nil},
			{"  ", nil},
			{"MIT OR (", []string{"MIT OR ("}}, // from a peer, unparsed: its text
		} {
			if got := qr.LicenseIDs(c.expr); !slices.Equal(got, c.want) {
				t.Errorf("LicenseIDs(%q) = %q, want %q", c.expr, got, c.want)
			}
		}
	}
}

func TestPublicRepository(t *testing.T) {
	tests := []struct {
		repo   string
		met    bool
		reason string
	}{
		{"https://github.com/decidim/decidim", true, "The source code is published at https://github.com/decidim/decidim."},
		{"http://git.spip.net/spip/spip", true, "The source code is published at http://git.spip.net/spip/spip."},
		{" https://framagit.org/framasoft/framadate ", true, "The source code is published at https://framagit.org/framasoft/framadate."},
		{"", false, "No source code repository is declared."},
		{"git@github.com:consul/consul.git", false, `The repository URL "git@github.com:consul/consul.git" is not an http or https URL.`},
		{"git://git.kernel.org/pub/scm/git/git.git", false, `The repository URL "git://git.kernel.org/pub/scm/git/git.git" is not an http or https URL.`},
		{"github.com/decidim/decidim", false, `The repository URL "github.com/decidim/decidim" is not an http or https URL.`},
		{"https:///decidim", false, `The repository URL "https:///decidim" is not an http or https URL.`},
		{"https://exa mple.org/x", false, `The repository URL "https://exa mple.org/x" is not an http or https URL.`},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			check(t, PublicRepository, &catalogv1.Tool{RepositoryUrl: tt.repo}, nil, tt.met, tt.reason)
		})
	}
}

func TestDocumentation(t *testing.T) {
	tests := []struct {
		name   string
		descs  map[string]*catalogv1.Description
		met    bool
		reason string
	}{
		{"user documentation", map[string]*catalogv1.Description{
			"en": {DocumentationUrl: "https://docs.decidim.org/en/"},
		}, true, "User documentation is published at https://docs.decidim.org/en/."},
		{"API documentation only", map[string]*catalogv1.Description{
			"fr": {ApiDocumentationUrl: "https://doc.data.gouv.fr/api/"},
		}, true, "API documentation is published at https://doc.data.gouv.fr/api/."},
		{"user documentation preferred", map[string]*catalogv1.Description{
			"de": {ApiDocumentationUrl: "https://example.de/api"},
			"fr": {DocumentationUrl: "https://example.fr/doc"},
		}, true, "User documentation is published at https://example.fr/doc."},
		{"first language in tag order", map[string]*catalogv1.Description{
			"pt-BR": {DocumentationUrl: "https://example.org/pt"},
			"en":    {DocumentationUrl: "https://example.org/en"},
			"fr":    {DocumentationUrl: "https://example.org/fr"},
			"es":    {DocumentationUrl: "https://example.org/es"},
		}, true, "User documentation is published at https://example.org/en."},
		{"no descriptions", nil, false, "No description links to user or API documentation."},
		{"not links, as a peer may send them", map[string]*catalogv1.Description{
			"en": {DocumentationUrl: "N/A", ApiDocumentationUrl: "javascript:alert(1)"},
			"fr": {DocumentationUrl: "none"},
		}, false, "No description links to user or API documentation."},
		{"descriptions without links", map[string]*catalogv1.Description{
			"en": {ShortDescription: "Petitions", DocumentationUrl: "  "},
			"fr": nil,
		}, false, "No description links to user or API documentation."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 20 { // map order changes from run to run; the reason must not
				check(t, Documentation, &catalogv1.Tool{Descriptions: tt.descs}, nil, tt.met, tt.reason)
			}
		})
	}
}

func TestMaintained(t *testing.T) {
	contract := func(until ...string) *catalogv1.Maintenance {
		m := &catalogv1.Maintenance{Type: "contract"}
		for i, u := range until {
			m.Contractors = append(m.Contractors, &catalogv1.Contractor{Name: "Contractor " + string(rune('A'+i)), Until: u})
		}
		return m
	}
	tests := []struct {
		name    string
		m       *catalogv1.Maintenance
		release string
		met     bool
		reason  string
	}{
		{"community, recent", &catalogv1.Maintenance{Type: "community"}, "2025-03-20", true,
			"Maintained by its community, with a release on 2025-03-20, less than 2 years ago."},
		{"internal", &catalogv1.Maintenance{Type: "internal"}, "2024-01-10", true,
			"Maintained internally, with a release on 2024-01-10, less than 2 years ago."},
		{"released exactly 2 years ago", &catalogv1.Maintenance{Type: "internal"}, "2023-06-15", true,
			"Maintained internally, with a release on 2023-06-15, less than 2 years ago."},
		{"released today", &catalogv1.Maintenance{Type: "internal"}, "2025-06-15", true,
			"Maintained internally, with a release on 2025-06-15, less than 2 years ago."},
		{"released tomorrow, a time zone ahead", &catalogv1.Maintenance{Type: "internal"}, "2025-06-16", true,
			"Maintained internally, with a release on 2025-06-16, less than 2 years ago."},
		{"contract running", contract("2026-12-31"), "2025-01-01", true,
			"Maintained under contract, with a release on 2025-01-01, less than 2 years ago."},
		{"contract ends today", contract("2025-06-15"), "2025-01-01", true,
			"Maintained under contract, with a release on 2025-01-01, less than 2 years ago."},
		{"one contract of two running", contract("2022-12-31", "2027-01-01"), "2025-01-01", true,
			"Maintained under contract, with a release on 2025-01-01, less than 2 years ago."},
		{"contract without end date", contract(""), "2025-01-01", true,
			"Maintained under contract, with a release on 2025-01-01, less than 2 years ago."},
		{"contract without contractors", contract(), "2025-01-01", true,
			"Maintained under contract, with a release on 2025-01-01, less than 2 years ago."},

		{"released a day more than 2 years ago", &catalogv1.Maintenance{Type: "internal"}, "2023-06-14", false,
			"The latest release, on 2023-06-14, is more than 2 years old."},
		{"release in the future", &catalogv1.Maintenance{Type: "internal"}, "2025-06-17", false,
			"The release date 2025-06-17 is in the future."},
		{"no release date", &catalogv1.Maintenance{Type: "community"}, "", false,
			"No release date is declared."},
		{"release date not a date", &catalogv1.Maintenance{Type: "community"}, "2024-13-01", false,
			`The release date "2024-13-01" is not a date written YYYY-MM-DD.`},
		{"release year only", &catalogv1.Maintenance{Type: "community"}, "2024", false,
			`The release date "2024" is not a date written YYYY-MM-DD.`},
		{"no maintenance", nil, "2025-01-01", false,
			"No maintenance is declared."},
		{"contacts without a type (code.json)", &catalogv1.Maintenance{Contacts: []*catalogv1.Contact{{Name: "Office of the Chief Information Officer"}}}, "2025-01-01", false,
			"No maintenance type is declared."},
		{"maintenance type none", &catalogv1.Maintenance{Type: "none"}, "2025-01-01", false,
			"The tool is declared unmaintained (maintenance type none)."},
		{"unknown type", &catalogv1.Maintenance{Type: "Community"}, "2025-01-01", false,
			`The maintenance type "Community" is not internal, contract or community.`},
		{"every contract ended", contract("2024-12-31", "2023-06-30"), "2025-01-01", false,
			"Every maintenance contract has ended (the last on 2024-12-31)."},
		{"contract ended yesterday", contract("2025-06-14"), "2025-01-01", false,
			"Every maintenance contract has ended (the last on 2025-06-14)."},
		{"both fail", &catalogv1.Maintenance{Type: "none"}, "2019-03-01", false,
			"The tool is declared unmaintained (maintenance type none), and the latest release, on 2019-03-01, is more than 2 years old."},
		{"ended contract and no release", contract("2020-01-01"), "", false,
			"Every maintenance contract has ended (the last on 2020-01-01), and no release date is declared."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Maintained, &catalogv1.Tool{Maintenance: tt.m, ReleaseDate: tt.release}, nil, tt.met, tt.reason)
		})
	}
}

// Dates are days in UTC: the same instant gives the same answer whatever
// the zone of the clock that reads it.
func TestMaintainedUsesUTCDays(t *testing.T) {
	tool := &catalogv1.Tool{Maintenance: &catalogv1.Maintenance{Type: "internal"}, ReleaseDate: "2023-06-15"}
	utc := time.Date(2025, time.June, 15, 23, 30, 0, 0, time.UTC)
	for _, zone := range []string{"UTC", "Pacific/Kiritimati", "America/Los_Angeles"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Skipf("no time zone data: %v", err)
		}
		c := criterion(t, Qualify(tool, nil, utc.In(loc)), Maintained)
		if !c.GetMet() {
			t.Errorf("in %s: %s", zone, c.GetReason())
		}
	}
}

func TestLocalisation(t *testing.T) {
	tests := []struct {
		name   string
		ready  bool
		langs  []string
		met    bool
		reason string
	}{
		{"ready, two languages", true, []string{"en", "fr"}, true,
			"Ready for translation, and available in 2 languages (en, fr)."},
		{"regional variants count once", true, []string{"pt-BR", "pt-PT", "es", "ES"}, true,
			"Ready for translation, and available in 2 languages (pt, es)."},
		{"scripts count once", true, []string{"zh-Hant", "zh-Hans", "sr-Latn", "sr-Cyrl"}, true,
			"Ready for translation, and available in 2 languages (zh, sr)."},
		{"deprecated code canonicalised", true, []string{"iw", "he", "ar"}, true,
			"Ready for translation, and available in 2 languages (he, ar)."},
		{"unparsable tags skipped", true, []string{"en", "", "not a tag", "ca"}, true,
			"Ready for translation, and available in 2 languages (en, ca)."},

		{"not ready", false, []string{"en", "fr", "de"}, false,
			"The interface is not declared ready for translation."},
		{"one language", true, []string{"fr"}, false,
			"The interface is available in one language only (fr)."},
		{"one language, two regions", true, []string{"en-GB", "en-US"}, false,
			"The interface is available in one language only (en)."},
		{"no languages", true, nil, false,
			"No interface language is declared."},
		{"zxx, no linguistic content, does not count", true, []string{"en", "zxx"}, false,
			"The interface is available in one language only (en)."},
		{"und does not count", true, []string{"und", "fr"}, false,
			"The interface is available in one language only (fr)."},
		{"neither", false, nil, false,
			"The interface is not declared ready for translation, and no interface language is declared."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Localisation, &catalogv1.Tool{LocalisationReady: tt.ready, AvailableLanguages: tt.langs}, nil, tt.met, tt.reason)
		})
	}

	// The languages of the descriptions are not the tool's.
	tool := &catalogv1.Tool{LocalisationReady: true, Descriptions: map[string]*catalogv1.Description{
		"en": {ShortDescription: "Petitions"}, "fr": {ShortDescription: "Pétitions"},
	}}
	check(t, Localisation, tool, nil, false, "No interface language is declared.")
}

func TestUsedByAdministration(t *testing.T) {
	deleted := useCase("Ville de Paris", "FR", local)
	deleted.Deleted = true
	tests := []struct {
		name     string
		useCases []*catalogv1.UseCase
		met      bool
		reason   string
	}{
		{"local government", []*catalogv1.UseCase{useCase("Ville de Paris", "FR", local)}, true,
			"Used by 1 administration: Ville de Paris (FR), a local government."},
		{"parliament", []*catalogv1.UseCase{useCase("Parlamento de Canarias", "ES", assembly)}, true,
			"Used by 1 administration: Parlamento de Canarias (ES), a parliament."},
		{"national named before local", []*catalogv1.UseCase{
			useCase("Barcelona City Council", "ES", local),
			useCase("Ministère de l'Intérieur", "FR", national),
			useCase("Helsinki", "FI", local),
			useCase("Code for Ireland", "IE", civil),
		}, true, "Used by 3 administrations, among them Ministère de l'Intérieur (FR), a national government body."},
		{"same administration counted once", []*catalogv1.UseCase{
			useCase("Ville de Paris", "FR", local),
			useCase("ville de paris ", "fr", local),
		}, true, "Used by 1 administration: Ville de Paris (FR), a local government."},
		{"same name, other countries", []*catalogv1.UseCase{
			useCase("Ministry of Finance", "LT", national),
			useCase("Ministry of Finance", "GE", national),
		}, true, "Used by 2 administrations, among them Ministry of Finance (GE), a national government body."},
		{"no country", []*catalogv1.UseCase{useCase("Municipality", "", local)}, true,
			"Used by 1 administration: Municipality, a local government."},
		{"deleted ignored, others kept", []*catalogv1.UseCase{deleted, nil, useCase("Comune di Milano", "IT", local)}, true,
			"Used by 1 administration: Comune di Milano (IT), a local government."},

		{"no use cases", nil, false, "No use by a national or local government or a parliament is recorded."},
		{"only deleted", []*catalogv1.UseCase{deleted}, false, "No use by a national or local government or a parliament is recorded."},
		{"one civil-society use", []*catalogv1.UseCase{useCase("Code for Ireland", "IE", civil)}, false,
			"The only recorded use is not by a national or local government or a parliament."},
		{"other kinds", []*catalogv1.UseCase{
			useCase("Code for Ireland", "IE", civil),
			useCase("Université de Lausanne", "CH", other),
			{Tool: "origins/es/tools/decidim"},
			deleted,
		}, false, "None of the 3 recorded uses is by a national or local government or a parliament."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, UsedByAdministration, decidim(), tt.useCases, tt.met, tt.reason)
		})
	}
}

func TestStandards(t *testing.T) {
	tests := []struct {
		name      string
		standards []string
		met       bool
		reason    string
	}{
		{"one", []string{"OpenAPI 3"}, true, "Declares support for OpenAPI 3."},
		{"three", []string{"OpenAPI 3", "SAML 2.0", "text/csv"}, true, "Declares support for OpenAPI 3, SAML 2.0 and text/csv."},
		{"more than three", []string{"OpenAPI 3", "SAML 2.0", "text/csv", "OpenID Connect", "DCAT-AP"}, true,
			"Declares support for OpenAPI 3, SAML 2.0, text/csv and 2 more."},
		{"blanks and repeats", []string{" ", "ODS", "ODS", ""}, true, "Declares support for ODS."},
		{"none", nil, false, "No supported standard or format is declared."},
		{"only blanks", []string{"", "  "}, false, "No supported standard or format is declared."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, Standards, &catalogv1.Tool{Standards: tt.standards}, nil, tt.met, tt.reason)
		})
	}
}

func TestScore(t *testing.T) {
	// Met criteria 0 to 7 out of 7.
	want := []int32{0, 14, 29, 43, 57, 71, 86, 100}
	for met, w := range want {
		if got := score(met, 7); got != w {
			t.Errorf("score(%d, 7) = %d, want %d", met, got, w)
		}
	}
	if got := score(1, 2); got != 50 {
		t.Errorf("score(1, 2) = %d, want 50", got)
	}
	if got := score(1, 8); got != 13 { // 12.5 rounds up
		t.Errorf("score(1, 8) = %d, want 13", got)
	}
	if got := score(0, 0); got != 0 {
		t.Errorf("score(0, 0) = %d, want 0", got)
	}
}

func TestQualifyScore(t *testing.T) {
	admin := []*catalogv1.UseCase{useCase("Ajuntament de Barcelona", "ES", local)}

	full := Qualify(decidim(), admin, now)
	if full.GetScore() != 100 {
		t.Errorf("decidim with an administration: score %d, want 100: %v", full.GetScore(), full)
	}
	for _, c := range full.GetCriteria() {
		if !c.GetMet() {
			t.Errorf("%s not met: %s", c.GetId(), c.GetReason())
		}
	}

	if got := Qualify(decidim(), nil, now).GetScore(); got != 86 {
		t.Errorf("decidim without use cases: score %d, want 86", got)
	}
	if got := Qualify(nil, nil, now).GetScore(); got != 0 {
		t.Errorf("nil tool: score %d, want 0", got)
	}

	// A proprietary tool with only a landing page and one ministry using it.
	proprietary := &catalogv1.Tool{
		DisplayName: "Proprietary Petitions",
		LandingUrl:  "https://petitions.example.com",
		Descriptions: map[string]*catalogv1.Description{
			"en": {ShortDescription: "Petitions as a service", DocumentationUrl: "https://petitions.example.com/help"},
		},
	}
	q := Qualify(proprietary, []*catalogv1.UseCase{useCase("Ministry of Justice", "GB", national)}, now)
	if q.GetScore() != 29 { // documentation and used_by_administration
		t.Errorf("proprietary tool: score %d, want 29: %v", q.GetScore(), q)
	}
}

// Qualify gives the same answer, reasons included, whatever the order of
// the use cases, the map order of the descriptions, and however often it
// runs: every node must agree word for word.
func TestQualifyIsStable(t *testing.T) {
	tool := decidim()
	tool.Descriptions["fr"] = &catalogv1.Description{DocumentationUrl: "https://docs.decidim.org/fr/"}
	tool.Descriptions["ca"] = &catalogv1.Description{ApiDocumentationUrl: "https://docs.decidim.org/api/"}
	useCases := []*catalogv1.UseCase{
		useCase("Ajuntament de Barcelona", "ES", local),
		useCase("Helsinki", "FI", local),
		useCase("Assemblée nationale", "FR", assembly),
		useCase("Gobierno de Aragón", "ES", national),
		useCase("Gobierno de Navarra", "ES", national),
		useCase("Code for Ireland", "IE", civil),
	}
	want := Qualify(tool, useCases, now)
	if got := criterion(t, want, UsedByAdministration).GetReason(); got != "Used by 5 administrations, among them Gobierno de Aragón (ES), a national government body." {
		t.Errorf("used_by_administration reason = %q", got)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		shuffled := slices.Clone(useCases)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Qualify(tool, shuffled, now); !proto.Equal(got, want) {
			t.Fatalf("Qualify changed with the order of use cases:\n got %v\nwant %v", got, want)
		}
	}
}

// Qualify does not change the records it reads.
func TestQualifyLeavesInputAlone(t *testing.T) {
	tool := decidim()
	useCases := []*catalogv1.UseCase{useCase("Helsinki", "FI", local), useCase("Barcelona", "ES", local)}
	toolBefore := proto.Clone(tool)
	useCasesBefore := []proto.Message{proto.Clone(useCases[0]), proto.Clone(useCases[1])}
	Qualify(tool, useCases, now)
	if !proto.Equal(tool, toolBefore) {
		t.Error("Qualify changed the tool")
	}
	for i, uc := range useCases {
		if !proto.Equal(uc, useCasesBefore[i]) {
			t.Errorf("Qualify changed use case %d", i)
		}
	}
	if tool.GetQualification() != nil {
		t.Error("Qualify set the tool's qualification field: the caller does")
	}
}

// TestAssessAgreesWithQualify checks Assess against Qualify on tools that
// meet every mix of criteria: the same criteria met, the same score.
func TestAssessAgreesWithQualify(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var qr Qualifier
	seen := map[int32]bool{}
	for range 500 {
		tool := decidim()
		drop := []func(){
			func() { tool.License = []string{"", "Proprietary", "MIT OR (", "CECILL-B"}[rng.IntN(4)] },
			func() {
				tool.RepositoryUrl = []string{"", "  ", "ftp://example.org/src", "https://", "git@github.com:decidim/decidim.git"}[rng.IntN(5)]
			},
			func() { tool.Descriptions["en"].DocumentationUrl = []string{"", " "}[rng.IntN(2)] },
			func() { tool.Descriptions["es"].ApiDocumentationUrl = "https://api.decidim.org" },
			func() { tool.Maintenance, tool.ReleaseDate = nil, "2019-01-01" },
			func() {
				tool.Maintenance = &catalogv1.Maintenance{Type: []string{"none", "contract", "sometimes"}[rng.IntN(3)],
					Contractors: []*catalogv1.Contractor{{Name: "C", Until: "2020-01-01"}}}
			},
			func() { tool.ReleaseDate = []string{"", "2025-13-01", "2099-01-01"}[rng.IntN(3)] },
			func() { tool.LocalisationReady = false },
			func() {
				tool.AvailableLanguages = [][]string{nil, {"fr"}, {"pt-BR", "pt-PT"}, {"xx-invalid-tag-!"}}[rng.IntN(4)]
			},
			func() { tool.Standards = [][]string{nil, {" ", ""}}[rng.IntN(2)] },
		}
		for _, d := range drop {
			if rng.IntN(2) == 0 {
				d()
			}
		}
		var useCases []*catalogv1.UseCase
		for range rng.IntN(3) {
			uc := useCase("Org", "FR", []catalogv1.OrganizationKind{national, local, civil, other}[rng.IntN(4)])
			uc.Deleted = rng.IntN(4) == 0
			useCases = append(useCases, uc)
		}
		if rng.IntN(8) == 0 {
			useCases = append(useCases, nil)
		}
		q, a := qr.Qualify(tool, useCases, now), qr.Assess(tool, useCases, now)
		var met []string
		for _, c := range q.GetCriteria() {
			if c.GetMet() {
				met = append(met, c.GetId())
			}
		}
		if got := a.AppendMet(nil); a.Score != q.GetScore() || !slices.Equal(got, met) {
			t.Fatalf("Assess gave %v (score %d), Qualify %v (score %d), for %v", got, a.Score, met, q.GetScore(), tool)
		}
		seen[a.Score] = true
	}
	if len(seen) < 6 {
		t.Errorf("the tools got only %d different scores: the test mixes too few criteria", len(seen))
	}
}
