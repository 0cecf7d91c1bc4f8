package codejson

import (
	"fmt"
	"os"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/internal/finding/findingtest"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// parseFixture parses a file of testdata.
func parseFixture(t *testing.T, name string) ([]*catalogv1.HarvestEntry, []*catalogv1.RejectedEntry) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	entries, rejected, err := Parse(t.Context(), data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return entries, rejected
}

// The checks and the wanted rejects that the readers' tests share.
var (
	checkEntries = findingtest.CheckEntries
	reject       = findingtest.Reject
	keyAt        = findingtest.At
)

// TestFixture reads a realistic inventory (releases as the HHS, CDC and
// Treasury files write them), some of whose releases are invalid.
func TestFixture(t *testing.T) {
	entries, rejected := parseFixture(t, "hhs-code.json")
	checkEntries(t, entries)
	var got []string
	for _, e := range entries {
		got = append(got, e.Where+" "+e.SourceId)
	}
	want := []string{
		"releases[0] https://github.com/HHS/ckanext-datajson",
		"releases[1] https://github.com/HHS/lodestar",
		"releases[2] FNMS", // no repositoryURL: its name
		"releases[3] ARAPS",
		"releases[4] git://github.com/Epi-Info/Epi-Info-Android.git",
		"releases[5] https://github.com/fedspendingtransparency/data-act-broker-backend",
		"releases[6] https://github.com/CDCgov/artemis",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Column 0: the findings' columns are only checked to be given.
	findingtest.CheckRejected(t, rejected, []findingtest.Rejected{
		reject("releases[7]", "https://github.com/CDCgov/MaRS",
			keyAt("releases[7].description", 189, 0, `"No description available..." is a placeholder`)),
		reject("releases[8]", "https://github.com/CDCgov/SDP-Vocabulary-Service",
			keyAt("releases[8].status", 216, 0, `"Active" is not one of Ideation, Development`),
			keyAt("releases[8].contact.email", 208, 0, `is not an e-mail address (one of the form name@example.org)`)),
		reject("releases[9]", "https://github.com/HHS/ckanext-datajson",
			keyAt("releases[9].repositoryURL", 225, 0, "is also the source id of releases[0]")),
		reject("releases[10]", "https://github.com/HHS/unnamed",
			keyAt("releases[10].name", 230, 0, "is required"), // no such key: the release's line
			keyAt("releases[10].date.lastModified", 238, 0, `"last week" is not a date`)),
		reject("releases[11]", "https://github.com/NIH/nih-search",
			keyAt("releases[11].tags", 249, 0, "is a string, not an array"),
			keyAt("releases[11].homepageURL", 246, 0, `"www.nih.gov/search" is not an http or https URL`)),
	})
}

// TestMapRelease checks the mapping of one release, field by field.
func TestMapRelease(t *testing.T) {
	entries, _ := parseFixture(t, "hhs-code.json")
	long := "The DATA Act broker backend is a collection of services that power the DATA Act's central data submission platform: it validates agency files, cross-checks them against government-wide systems, and publishes them.\n\nIt ships with a Flask API and a set of validation rules."
	want := &catalogv1.Tool{
		DisplayName: "data-act-broker-backend",
		Descriptions: map[string]*catalogv1.Description{"en": {
			// The first line, cut at a word boundary, and the whole text.
			ShortDescription: "The DATA Act broker backend is a collection of services that power the DATA Act's central data submission platform: it validates agency files…",
			LongDescription:  long,
		}},
		RepositoryUrl:     "https://github.com/fedspendingtransparency/data-act-broker-backend",
		LandingUrl:        "https://fedspendingtransparency.github.io/",
		License:           "CC0-1.0",
		Categories:        []string{"budgeting"}, // of the tags "DATA Act", "spending", "budgeting"
		DevelopmentStatus: "stable",              // Production
		Maintenance: &catalogv1.Maintenance{Contacts: []*catalogv1.Contact{{
			Name:  "DATA Act Program Management Office",
			Email: "DATAPMO@fiscal.treasury.gov", // without its mailto:
			Phone: "(202) 874-5732",
		}}},
		Publisher:       &catalogv1.Publisher{Name: "Bureau of the Fiscal Service"},
		SoftwareVersion: "v4.2.1",
		ReleaseDate:     "2019-06-05", // of 2019-06-05T05:00:00.000Z
	}
	if got := entries[5].Tool; !proto.Equal(got, want) {
		t.Errorf("releases[5]:\n%s\nwant:\n%s", prototext.Format(got), prototext.Format(want))
	}

	// A release without repository, license or homepage, whose contact has
	// no name, and a git:// repository.
	want = &catalogv1.Tool{
		DisplayName:       "Epi-Info-Android",
		Descriptions:      map[string]*catalogv1.Description{"en": {ShortDescription: "Epi Info™ Companion for Android"}},
		LandingUrl:        "https://github.com/Epi-Info/Epi-Info-Android",
		License:           "Apache-2.0",
		DevelopmentStatus: "development",
		Maintenance: &catalogv1.Maintenance{Contacts: []*catalogv1.Contact{{
			Name: "Centers for Disease Control and Prevention", Email: "cdcinfo@cdc.gov",
		}}},
		Publisher:   &catalogv1.Publisher{Name: "Centers for Disease Control and Prevention"},
		ReleaseDate: "2018-06-12",
	}
	if got := entries[4].Tool; !proto.Equal(got, want) {
		t.Errorf("releases[4]:\n%s\nwant:\n%s", prototext.Format(got), prototext.Format(want))
	}
}

// parseRelease parses a file of one release, with agency "HHS".
func parseRelease(t *testing.T, release string) (*catalogv1.HarvestEntry, *catalogv1.RejectedEntry) {
	t.Helper()
	doc := `{"version": "2.0.0", "agency": "HHS", "measurementType": {"method": "projects"}, "releases": [` + release + `]}`
	entries, rejected, err := Parse(t.Context(), []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(entries)+len(rejected) != 1 {
		t.Fatalf("got %d entries and %d rejected, want one in all", len(entries), len(rejected))
	}
	checkEntries(t, entries)
	if len(entries) == 1 {
		return entries[0], nil
	}
	return nil, rejected[0]
}

// minimal is a valid release with the given extra keys.
func minimal(extra string) string {
	r := `{"name": "tool", "description": "A tool", "repositoryURL": "https://example.gov/tool", "permissions": {"licenses": null, "usageType": "openSource"}, "laborHours": 0, "tags": [], "contact": {"email": "a@example.gov"}`
	if extra != "" {
		r += ", " + extra
	}
	return r + "}"
}

func TestStatus(t *testing.T) {
	for status, want := range map[string]string{
		"Ideation": "concept", "Development": "development", "Alpha": "development", "Beta": "beta",
		"Release Candidate": "beta", "Production": "stable", "Archival": "obsolete", "production": "stable", "": "",
	} {
		e, r := parseRelease(t, minimal(fmt.Sprintf(`"status": %q`, status)))
		if r != nil {
			t.Errorf("status %q: rejected %v", status, r.Findings)
			continue
		}
		if got := e.Tool.DevelopmentStatus; got != want {
			t.Errorf("status %q: development_status %q, want %q", status, got, want)
		}
	}
}

func TestLicense(t *testing.T) {
	for licenses, want := range map[string]string{
		`null`:              "",
		`[]`:                "",
		`[{"name": "MIT"}]`: "MIT",
		`[{"name": "mit"}]`: "MIT",
		`[{"name": "CC0"}]`: "CC0-1.0",
		`[{"name": "Apache-2.0", "URL": "https://www.apache.org/licenses/LICENSE-2.0"}]`: "Apache-2.0",
		`[{"name": "MIT"}, {"name": "Apache-2.0"}]`:                                      "MIT AND Apache-2.0",
		`[{"name": "MIT OR Apache-2.0"}, {"name": "BSD-3-Clause"}]`:                      "(MIT OR Apache-2.0) AND BSD-3-Clause",
		`[{"name": "NOASSERTION"}]`:                                                      "",
		`[{"name": "MIT"}, {"name": "Public Domain"}]`:                                   "",
		`[{"URL": "https://opensource.org/licenses/MIT"}]`:                               "",
	} {
		e, r := parseRelease(t, minimal(`"permissions": {"usageType": "openSource", "licenses": `+licenses+`}`))
		if r != nil {
			t.Errorf("licenses %s: rejected %v", licenses, r.Findings)
			continue
		}
		if got := e.Tool.License; got != want {
			t.Errorf("licenses %s: license %q, want %q", licenses, got, want)
		}
	}
}

func TestReleaseDate(t *testing.T) {
	for date, want := range map[string]string{
		"2019-06-05":                "2019-06-05",
		"2019-06-05T05:00:00.000Z":  "2019-06-05",
		"2019-06-05T23:30:00-05:00": "2019-06-05", // the day where it was written
		"2019-06-05T05:00:00":       "2019-06-05",
		"2019-06-05 05:00:00":       "2019-06-05",
	} {
		e, r := parseRelease(t, minimal(fmt.Sprintf(`"date": {"created": "2010-01-01", "lastModified": %q}`, date)))
		if r != nil {
			t.Errorf("date %q: rejected %v", date, r.Findings)
			continue
		}
		if e.Tool.ReleaseDate != want {
			t.Errorf("date %q: release_date %q, want %q", date, e.Tool.ReleaseDate, want)
		}
	}
	for _, date := range []string{"06/05/2019", "2019-13-01", "yesterday"} {
		_, r := parseRelease(t, minimal(fmt.Sprintf(`"date": {"lastModified": %q}`, date)))
		if r == nil || r.Findings[0].Key != "releases[0].date.lastModified" {
			t.Errorf("date %q: got %v, want a reject of releases[0].date.lastModified", date, r)
		}
	}
}

func TestPublisherAndContact(t *testing.T) {
	// No organization: the agency publishes, and stands for a contact
	// without a name.
	e, r := parseRelease(t, `{"name": "tool", "description": "A tool", "contact": {"email": "a@example.gov", "URL": "https://example.gov"}, "permissions": {"licenses": null}}`)
	if r != nil {
		t.Fatalf("rejected %v", r.Findings)
	}
	if got := e.Tool.GetPublisher().GetName(); got != "HHS" {
		t.Errorf("publisher %q, want the agency HHS", got)
	}
	if c := e.Tool.GetMaintenance().GetContacts(); len(c) != 1 || c[0].Name != "HHS" || c[0].Email != "a@example.gov" {
		t.Errorf("contacts %v, want HHS <a@example.gov>", c)
	}
	if e.SourceId != "tool" {
		t.Errorf("source id %q, want the name, without a repositoryURL", e.SourceId)
	}
	// An empty contact is no contact.
	e, _ = parseRelease(t, minimal(`"contact": {"email": ""}`))
	if e == nil || e.Tool.Maintenance != nil {
		t.Errorf("an empty contact gave %v", e)
	}
}

func TestRejects(t *testing.T) {
	for _, c := range []struct {
		name, release, key, message string
	}{
		{"not an object", `"tool"`, "releases[0]", "is a string, not a release"},
		{"no name", `{"description": "A tool"}`, "releases[0].name", "is required"},
		{"name a number", `{"name": 7, "description": "A tool"}`, "releases[0].name", "is a number, not a string"},
		{"no description", minimal(`"description": null`), "releases[0].description", "is required"},
		{"placeholder", minimal(`"description": "N/A"`), "releases[0].description", "placeholder"},
		{"licenses an object", minimal(`"permissions": {"licenses": {"name": "MIT"}}`), "releases[0].permissions.licenses", "is an object, not an array"},
		{"license a string", minimal(`"permissions": {"licenses": ["MIT"]}`), "releases[0].permissions.licenses[0]", "is a string, not an object"},
		{"license name a number", minimal(`"permissions": {"licenses": [{"name": 3}]}`), "releases[0].permissions.licenses[0].name", "is a number"},
		{"tag a number", minimal(`"tags": ["ok", 3]`), "releases[0].tags[1]", "is a number, not a string"},
		{"contact a string", minimal(`"contact": "a@example.gov"`), "releases[0].contact", "is a string, not an object"},
		{"bad email", minimal(`"contact": {"email": "nobody"}`), "releases[0].contact.email", "is not an e-mail address"},
		{"homepage not a URL", minimal(`"homepageURL": "example.gov"`), "releases[0].homepageURL", "is not an http or https URL"},
		{"name too long", minimal(`"name": "` + strings.Repeat("n", 201) + `"`), "releases[0].name", "more than 200"},
		{"version too long", minimal(`"version": "` + strings.Repeat("1", 101) + `"`), "releases[0].version", "more than 100"},
		{"bad status", minimal(`"status": "Stable"`), "releases[0].status", `"Stable" is not one of`},
		{"date an array", minimal(`"date": []`), "releases[0].date", "is an array, not an object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, r := parseRelease(t, c.release)
			if r == nil {
				t.Fatal("accepted")
			}
			for _, f := range r.Findings {
				if f.Key == c.key && strings.Contains(f.Message, c.message) {
					return
				}
			}
			t.Errorf("findings %v, want %s: ...%s...", r.Findings, c.key, c.message)
		})
	}
}

// TestOtherSchemes checks that links of other schemes are left out, not
// rejected, and that the repository still identifies the release.
func TestOtherSchemes(t *testing.T) {
	e, r := parseRelease(t, minimal(`"repositoryURL": "ssh://git@example.gov/tool.git", "homepageURL": "ftp://example.gov/tool"`))
	if r != nil {
		t.Fatalf("rejected %v", r.Findings)
	}
	if e.Tool.RepositoryUrl != "" || e.Tool.LandingUrl != "" || e.SourceId != "ssh://git@example.gov/tool.git" {
		t.Errorf("repository %q, landing %q, source id %q", e.Tool.RepositoryUrl, e.Tool.LandingUrl, e.SourceId)
	}
}

func TestDuplicateNames(t *testing.T) {
	doc := `{"agency": "HHS", "releases": [
		{"name": "tool", "description": "One"},
		{"name": "tool", "description": "Two"},
		{"name": "tool", "description": "Three", "repositoryURL": "https://example.gov/tool"}]}`
	entries, rejected, err := Parse(t.Context(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || len(rejected) != 1 {
		t.Fatalf("got %d entries and %d rejected, want 2 and 1", len(entries), len(rejected))
	}
	if f := rejected[0].Findings[0]; rejected[0].Where != "releases[1]" || f.Key != "releases[1].name" || f.Line != 3 {
		t.Errorf("rejected %v, want releases[1].name on line 3", rejected[0])
	}
}

func TestBareArray(t *testing.T) {
	doc := `[{"name": "Metadata Wizard", "organization": "U.S. Geological Survey", "description": "Tool for editing FGDC metadata records.",
		"version": "2.0.7", "status": "Production", "permissions": {"usageType": "openSource", "licenses": [{"name": "CC0-1.0"}]},
		"repositoryURL": "https://code.usgs.gov/usgs/fort-pymdwizard", "contact": {"name": "Kyle Enns", "email": "kenns@usgs.gov"}},
		{"organization": "U.S. Geological Survey"}]`
	entries, rejected, err := Parse(t.Context(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	checkEntries(t, entries)
	if len(entries) != 1 || entries[0].Where != "[0]" || entries[0].Tool.DisplayName != "Metadata Wizard" {
		t.Errorf("entries %v", entries)
	}
	if len(rejected) != 1 || rejected[0].Findings[0].Key != "[1].name" {
		t.Errorf("rejected %v, want [1].name", rejected)
	}
}

func TestSourceErrors(t *testing.T) {
	for name, c := range map[string]struct{ doc, message string }{
		"empty":               {"", "not a JSON document"},
		"not JSON":            {"name,description\n", "not a JSON document: line 1, column 2"},
		"truncated":           {"{\"releases\": [\n{\"name\": \"x\"", "not a JSON document: line 2"},
		"a string":            {`"code.json"`, "is a string, not a code.json object"},
		"schema 1.0":          {`{"version": "1.0.1", "agency": "GSA", "projects": []}`, `"projects"`},
		"no releases":         {`{"version": "2.0.0", "agency": "GSA"}`, `no "releases"`},
		"releases null":       {`{"agency": "GSA", "releases": null}`, `"releases" is null, not an array`},
		"releases an object":  {`{"agency": "GSA", "releases": {}}`, `"releases" is an object, not an array`},
		"agency a number":     {`{"agency": 12, "releases": []}`, `"agency" is a number, not a string`},
		"trailing characters": {`{"releases": []} x`, "not a JSON document"},
	} {
		t.Run(name, func(t *testing.T) {
			entries, rejected, err := Parse(t.Context(), []byte(c.doc))
			if err == nil || !strings.HasPrefix(err.Error(), "code.json: ") || !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %v, want one saying ...%s...", err, c.message)
			}
			if entries != nil || rejected != nil {
				t.Errorf("returned entries or rejects with the error")
			}
		})
	}
	// An empty inventory is read completely.
	entries, rejected, err := Parse(t.Context(), []byte("\uFEFF{\"version\": \"2.0.0\", \"agency\": \"GSA\", \"releases\": []}"))
	if err != nil || len(entries)+len(rejected) != 0 {
		t.Errorf("empty releases: %v, %v, %v", entries, rejected, err)
	}
}

// FuzzParse checks that Parse never panics, and that whatever it accepts
// passes the catalog's checks under a unique source id.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/hhs-code.json"); err == nil {
		f.Add(data)
	}
	f.Add([]byte(`[{"name": "a", "description": "b", "contact": {}}, 3]`))
	f.Add([]byte(`{"releases": [{"name": "a", "description": "b", "permissions": {"licenses": [{"name": "MIT"}, null]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, rejected, err := Parse(t.Context(), data)
		findingtest.CheckResult(t, entries, rejected, err)
	})
}

// TestNotUTF8Refused reads a code.json saved in Latin-1: refused, naming
// where, rather than imported with its accents replaced by U+FFFD.
func TestNotUTF8Refused(t *testing.T) {
	data := []byte("{\"agency\": \"HHS\", \"releases\": [{\"name\": \"Caf\xe9\", \"description\": \"R\xe9sum\xe9 builder\", \"repositoryURL\": \"https://github.com/HHS/cafe\"}]}")
	entries, rejected, err := Parse(t.Context(), data)
	if err == nil || !strings.Contains(err.Error(), "line 1, column 45") || entries != nil || rejected != nil {
		t.Errorf("a file in Latin-1: %d entries, %d rejected, %v; want it refused, naming line 1, column 45", len(entries), len(rejected), err)
	}
}

// TestSameRepositorySpelledTwice reads two releases of one repository
// spelled two ways (case, a trailing .git), which the importer takes for
// one entry: the second is rejected as the same repository, not a second
// tool.
func TestSameRepositorySpelledTwice(t *testing.T) {
	data := `{"agency": "HHS", "releases": [
  {"name": "lodestar", "description": "Linked Data explorer", "repositoryURL": "https://github.com/HHS/lodestar"},
  {"name": "lodestar", "description": "Linked Data explorer", "repositoryURL": "https://github.com/hhs/lodestar.git"}
]}`
	entries, rejected, err := Parse(t.Context(), []byte(data))
	if err != nil || len(entries) != 1 || len(rejected) != 1 {
		t.Fatalf("%d entries, %d rejected, %v: want the second release of the same repository rejected", len(entries), len(rejected), err)
	}
}
