package csvfile

import (
	"bytes"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/internal/finding/findingtest"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// frenchMapping is the mapping of testdata/outils.csv, as written on the
// command line.
const frenchMapping = `id=Identifiant, display_name=Nom,
	descriptions.fr.short_description=Description courte, descriptions.fr.long_description=Description longue,
	descriptions.fr.features=Fonctionnalités, landing_url=Site, repository_url=Dépôt, license=Licence,
	development_status=Statut, software_type=Type, categories=Catégories, platforms=Plateformes,
	available_languages=Langues, used_by=Utilisé par, publisher.name=Éditeur, maintenance.type=Maintenance,
	software_version=Version, release_date=Date de version`

func read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustMapping(t *testing.T, spec string) Mapping {
	t.Helper()
	m, err := ParseMapping(spec)
	if err != nil {
		t.Fatalf("ParseMapping: %v", err)
	}
	return m
}

// The checks and the wanted rejects that the readers' tests share.
var (
	checkEntries  = findingtest.CheckEntries
	checkRejected = findingtest.CheckRejected
	reject        = findingtest.Reject
	cell          = findingtest.At
)

// TestFrenchFile reads a spreadsheet export as French locales write it:
// ";" delimiters, a byte order mark, CRLF line ends, accents in the header
// and the cells, a quoted cell over two lines; with a bad row, a blank
// row, a repeated id, a row without a name and a row with too few fields
// among the good ones.
func TestFrenchFile(t *testing.T) {
	entries, rejected, err := Parse(t.Context(), read(t, "outils.csv"), mustMapping(t, frenchMapping))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkEntries(t, entries)
	var got []string
	for _, e := range entries {
		got = append(got, e.Where+" "+e.SourceId)
	}
	if want := "row 2 decidim, row 3 consul, row 9 democratie-ouverte"; strings.Join(got, ", ") != want {
		t.Errorf("entries %s, want %s", strings.Join(got, ", "), want)
	}
	checkRejected(t, rejected, []findingtest.Rejected{
		reject("row 4", "cap-collectif",
			cell("Date de version", 5, 109, `"12/03/2023" is not a date of the form YYYY-MM-DD`),
			cell("Site", 5, 58, `"capcollectif.com" is not an http or https URL`),
			cell("Licence", 5, 76, `"Licence libre" is not a valid SPDX license expression`),
			cell("Statut", 5, 90, `"Production" is not one of beta, concept, development, obsolete, stable`),
		),
		// Row 5 is blank: skipped.
		reject("row 6", "decidim", cell("Identifiant", 7, 1, `"decidim" is also the id of row 2`)),
		reject("row 7", "fabriquedelaloi", cell("Nom", 8, 17, "is required")),
		reject("row 8", "parlement-et-citoyens", cell("", 9, 1, "has 3 fields, but the header has 18")),
	})
}

// TestMapRow checks the mapping of a row, field by field.
func TestMapRow(t *testing.T) {
	entries, _, err := Parse(t.Context(), read(t, "outils.csv"), mustMapping(t, frenchMapping))
	if err != nil || len(entries) < 2 {
		t.Fatalf("Parse: %v, %d entries", err, len(entries))
	}
	want := &catalogv1.Tool{
		DisplayName: "Decidim",
		Descriptions: map[string]*catalogv1.Description{"fr": {
			ShortDescription: "Plateforme de démocratie participative",
			LongDescription:  "Decidim permet aux villes d'organiser des concertations, des budgets participatifs et des pétitions.\nElle est développée par la ville de Barcelone et sa communauté.",
			Features:         []string{"Budgets participatifs", "Pétitions", "Assemblées"},
		}},
		RepositoryUrl:      "https://github.com/decidim/decidim",
		LandingUrl:         "https://decidim.org",
		License:            "AGPL-3.0-or-later",                       // of agpl-3.0-or-later
		Categories:         []string{"digital-citizenship", "survey"}, // of "Digital Citizenship; survey"
		DevelopmentStatus:  "stable",                                  // of Stable
		SoftwareType:       "standalone/web",                          // of Standalone/Web
		Platforms:          []string{"web"},
		AvailableLanguages: []string{"fr"},
		Maintenance:        &catalogv1.Maintenance{Type: "community"},
		Publisher:          &catalogv1.Publisher{Name: "Ajuntament de Barcelona"},
		UsedBy:             []string{"Ville de Barcelone", "Ville d'Angers"},
		SoftwareVersion:    "0.27.4",
		ReleaseDate:        "2023-09-18",
	}
	if !proto.Equal(entries[0].Tool, want) {
		t.Errorf("row 2:\n%s\nwant:\n%s", prototext.Format(entries[0].Tool), prototext.Format(want))
	}

	// A short description too long for the catalog, and no long one.
	full := "Outil de participation citoyenne libre, créé à Madrid, utilisé par plus de cent trente institutions dans trente-cinq pays pour des débats, des propositions et des votes"
	d := entries[1].Tool.Descriptions["fr"]
	if d.ShortDescription != "Outil de participation citoyenne libre, créé à Madrid, utilisé par plus de cent trente institutions dans trente-cinq pays pour des débats, des…" || d.LongDescription != full {
		t.Errorf("row 3 description: %q / %q", d.ShortDescription, d.LongDescription)
	}
	if got := entries[1].Tool.AvailableLanguages; strings.Join(got, " ") != "es en pt-BR" {
		t.Errorf("row 3 languages %v, want es en pt-BR", got)
	}
	if got := entries[1].Tool.Platforms; strings.Join(got, " ") != "web ios" {
		t.Errorf("row 3 platforms %v, want web ios (of web|ios)", got)
	}
}

// TestWindows1252 reads the French file as spreadsheets on Windows save it.
func TestWindows1252(t *testing.T) {
	utf := strings.TrimPrefix(string(read(t, "outils.csv")), "\uFEFF")
	data, err := charmap.Windows1252.NewEncoder().Bytes([]byte(utf))
	if err != nil {
		t.Fatal(err)
	}
	entries, rejected, err := Parse(t.Context(), data, mustMapping(t, frenchMapping))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(entries) != 3 || len(rejected) != 4 {
		t.Fatalf("%d entries, %d rejected; want 3 and 4", len(entries), len(rejected))
	}
	if got := entries[2].Tool.DisplayName; got != "Démocratie Ouverte" {
		t.Errorf("display name %q, want Démocratie Ouverte", got)
	}
	// A UTF-8 file with one stray byte stays UTF-8: that row alone is
	// rejected.
	bad := strings.Replace(utf, "Réseau", "R\xe9seau", 1)
	entries, rejected, err = Parse(t.Context(), []byte(bad), mustMapping(t, frenchMapping))
	if err != nil || len(entries) != 2 || len(rejected) != 5 {
		t.Fatalf("stray byte: %d entries, %d rejected, %v; want 2 and 5", len(entries), len(rejected), err)
	}
	if f := rejected[4].Findings[0]; f.Key != "Description courte" || !strings.Contains(f.Message, "UTF-8") {
		t.Errorf("stray byte: finding %v", f)
	}
}

// TestCommaFileWithoutID reads a ","-delimited file without an id column:
// the display names are the source ids.
func TestCommaFileWithoutID(t *testing.T) {
	m := Mapping{ // as a configuration file gives it
		"display_name":                      "name",
		"descriptions.en.short_description": "description",
		"landing_url":                       "homepage",
		"license":                           "license",
		"categories":                        "categories",
	}
	entries, rejected, err := Parse(t.Context(), read(t, "tools.csv"), m)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkEntries(t, entries)
	if len(entries) != 2 || entries[0].SourceId != "Decidim" || entries[1].SourceId != "CONSUL" {
		t.Fatalf("entries %v", entries)
	}
	if got := entries[0].Tool.Descriptions["en"].ShortDescription; got != "Participatory democracy platform, made in Barcelona" {
		t.Errorf("quoted cell with a comma read as %q", got)
	}
	if got := entries[1].Tool.Categories; strings.Join(got, " ") != "survey e-signature" {
		t.Errorf("categories %v", got)
	}
	checkRejected(t, rejected, []findingtest.Rejected{
		reject("row 4", "Decidim", cell("name", 4, 1, `"Decidim" is also the id of row 2`)),
		reject("row 5", "Your Priorities", cell("", 5, 1, `has no description: "description" is empty`)),
		reject("row 6", "Loomio", cell("categories", 6, 66, `"not-a-category" is not a publiccode.yml category`)),
	})
}

func TestEmptyID(t *testing.T) {
	data := "id,name,text\n,Decidim,Participation\n"
	_, rejected, err := Parse(t.Context(), []byte(data), mustMapping(t, "id=id,display_name=name,descriptions.en.short_description=text"))
	if err != nil {
		t.Fatal(err)
	}
	checkRejected(t, rejected, []findingtest.Rejected{reject("row 2", "", cell("id", 2, 1, "is empty"))})
}

func TestLongDescriptionOnly(t *testing.T) {
	long := strings.Repeat("Participation ", 20) + "\nSecond paragraph."
	data := "name;text\nDecidim;\"" + long + "\"\n"
	entries, rejected, err := Parse(t.Context(), []byte(data), mustMapping(t, "display_name=name,descriptions.en.long_description=text"))
	if err != nil || len(rejected) != 0 || len(entries) != 1 {
		t.Fatalf("Parse: %v, %v", err, rejected)
	}
	d := entries[0].Tool.Descriptions["en"]
	if !strings.HasSuffix(d.ShortDescription, "…") || len([]rune(d.ShortDescription)) > 150 || d.LongDescription != strings.TrimSpace(long) {
		t.Errorf("description %q / %q", d.ShortDescription, d.LongDescription)
	}
}

func TestExtraEmptyFields(t *testing.T) {
	data := "name,text\nDecidim,Participation,,\nConsul,Participation,x\n"
	entries, rejected, err := Parse(t.Context(), []byte(data), mustMapping(t, "display_name=name,descriptions.en.short_description=text"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || len(rejected) != 1 || !strings.Contains(rejected[0].Findings[0].Message, "has 3 fields, but the header has 2") {
		t.Errorf("entries %v, rejected %v", entries, rejected)
	}
}

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping(` id = ID , display_name=Nom de l'outil,"descriptions.fr.short_description=Description, courte","descriptions.EN.features=Les ""features""",license=a=b,`)
	if err != nil {
		t.Fatal(err)
	}
	want := Mapping{
		"id":                                "ID",
		"display_name":                      "Nom de l'outil",
		"descriptions.fr.short_description": "Description, courte",
		"descriptions.EN.features":          `Les "features"`,
		"license":                           "a=b",
	}
	if len(m) != len(want) {
		t.Fatalf("mapping %v, want %v", m, want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("mapping[%q] = %q, want %q", k, m[k], v)
		}
	}
	for spec, message := range map[string]string{
		"display_name":                     `"display_name" is not of the form field=Column`,
		"display_name=":                    "the column name is empty",
		"name=Nom":                         `"name" is not a field a column can give`,
		"descriptions.fr.summary=Résumé":   "a description field is descriptions.LANG.short_description",
		"descriptions.français.features=F": `"français" is not a BCP 47 language tag`,
		"display_name=A,display_name=B":    `"display_name" is given twice`,
		"descriptions.fr.features=A,descriptions.FR.features=B": `"descriptions.fr.features" is given twice`,
		`display_name="Nom`: "mapping: ",
	} {
		if _, err := ParseMapping(spec); err == nil || !strings.Contains(err.Error(), message) {
			t.Errorf("ParseMapping(%q) = %v, want an error saying ...%s...", spec, err, message)
		}
	}
	// Every fault at once.
	_, err = ParseMapping("name=Nom,license")
	if err == nil || !strings.Contains(err.Error(), `"name"`) || !strings.Contains(err.Error(), `"license"`) {
		t.Errorf("ParseMapping: %v, want both faults", err)
	}
}

func TestMappingAgainstHeader(t *testing.T) {
	data := []byte("Nom;Description;Licence;Licence\nDecidim;Participation;MIT;MIT\n")
	for name, c := range map[string]struct {
		m       Mapping
		message []string
	}{
		"missing columns": {Mapping{"display_name": "Name", "descriptions.fr.short_description": "Description", "landing_url": "Site web"},
			[]string{`the header has no column "Name" (for display_name), "Site web" (for landing_url)`, `its columns are "Nom", "Description", "Licence", "Licence"`}},
		"unknown field": {Mapping{"display_name": "Nom", "descriptions.fr.short_description": "Description", "licence": "Licence"},
			[]string{`"licence" is not a field a column can give`, "the fields a column can give are id, display_name"}},
		"ambiguous column": {Mapping{"display_name": "Nom", "descriptions.fr.short_description": "Description", "license": "Licence"},
			[]string{`the header has two columns "Licence"`}},
		"no name": {Mapping{"descriptions.fr.short_description": "Description"},
			[]string{"display_name has no column"}},
		"no description": {Mapping{"display_name": "Nom", "descriptions.fr.features": "Description"},
			[]string{"no column gives a description"}},
	} {
		t.Run(name, func(t *testing.T) {
			entries, rejected, err := Parse(t.Context(), data, c.m)
			if err == nil {
				t.Fatalf("no error: %v, %v", entries, rejected)
			}
			for _, msg := range c.message {
				if !strings.Contains(err.Error(), msg) {
					t.Errorf("error %q does not say ...%s...", err, msg)
				}
			}
			if entries != nil || rejected != nil {
				t.Error("entries returned with the error")
			}
		})
	}
}

func TestSourceErrors(t *testing.T) {
	m := Mapping{"display_name": "name", "descriptions.en.short_description": "text"}
	for name, c := range map[string]struct{ data, message string }{
		"empty":         {"", "the file is empty"},
		"only a BOM":    {"\uFEFF", "the file is empty"},
		"blank lines":   {"\n\n", "the file is empty"},
		"open quote":    {"name,text\nDecidim,\"Participation\nConsul,x\n", "in the row that starts on line 2"},
		"bare quote":    {"name,text\nDe\"cidim,x\n", "line 2, column 3"},
		"text in quote": {"name,text\n\"Decidim\"x,y\n", "line 2, column"},
	} {
		t.Run(name, func(t *testing.T) {
			entries, rejected, err := Parse(t.Context(), []byte(c.data), m)
			if err == nil || !strings.HasPrefix(err.Error(), "csv: ") || !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %v, want one saying ...%s...", err, c.message)
			}
			if entries != nil || rejected != nil {
				t.Error("entries returned with the error")
			}
		})
	}
}

func TestDelimiter(t *testing.T) {
	for header, want := range map[string]rune{
		"a;b;c\n1,5;2;3":     ';',
		"a,b,c\n1;2":         ',',
		"a\n1":               ',',
		`"a,b";c;d` + "\n":   ';',
		`"a;b;c",d` + "\r\n": ',',
	} {
		if got := delimiter([]byte(header)); got != want {
			t.Errorf("delimiter(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	for cell, want := range map[string][]string{
		"":                    nil,
		"web":                 {"web"},
		" web ; ios|android ": {"web", "ios", "android"},
		"a;;a|b":              {"a", "b"},
	} {
		if got := split(cell); !slices.Equal(got, want) {
			t.Errorf("split(%q) = %q, want %q", cell, got, want)
		}
	}
}

// FuzzParse checks that Parse never panics, and that whatever it accepts
// passes the catalog's checks under a unique source id.
func FuzzParse(f *testing.F) {
	f.Add([]byte("id;name;text;langs;cats\n1;Decidim;Participation;fr|en;survey\n2;Consul;\"x;y\";;\n"))
	f.Add([]byte("id,name,text,langs,cats\n1,A,b,,\n1,A,b,,\n,,,,\n3\n"))
	f.Add([]byte("\uFEFFid;name;text;langs;cats\r\n1;\xe9;t;;\r\n"))
	f.Add([]byte("id,name,text,langs,cats\n\"1,A\n"))
	m := Mapping{
		"id": "id", "display_name": "name", "descriptions.en.short_description": "text",
		"descriptions.en.long_description": "text", "available_languages": "langs", "categories": "cats",
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, rejected, err := Parse(t.Context(), data, m)
		findingtest.CheckResult(t, entries, rejected, err)
	})
}

// TestColumnsInCharacters checks that a finding's column counts characters,
// not bytes, as the JSON readers do.
func TestColumnsInCharacters(t *testing.T) {
	data := "name;text;site\nDémocratie;Éléments;example.org\n"
	_, rejected, err := Parse(t.Context(), []byte(data), mustMapping(t, "display_name=name,descriptions.fr.short_description=text,landing_url=site"))
	if err != nil {
		t.Fatal(err)
	}
	checkRejected(t, rejected, []findingtest.Rejected{reject("row 2", "Démocratie", cell("site", 2, 21, "is not an http or https URL"))})
}

// TestPlacesAfterBlankRowsAndAccents: a finding names its row as a
// spreadsheet counts rows, blank ones among them (which are skipped, and
// not kept), and its column in characters, after accented ones.
func TestPlacesAfterBlankRowsAndAccents(t *testing.T) {
	data := "id,Nom,Description,Licence\n,,,\n1,Décidim,Démocratie éàü,pas une licence\n"
	_, rejected, err := Parse(t.Context(), []byte(data), Mapping{"id": "id", "display_name": "Nom", "descriptions.fr.short_description": "Description", "license": "Licence"})
	if err != nil || len(rejected) != 1 {
		t.Fatalf("rejected %v, %v", rejected, err)
	}
	r := rejected[0]
	f := r.GetFindings()[0]
	if r.GetWhere() != "row 3" || f.GetKey() != "Licence" || f.GetLine() != 3 || f.GetColumn() != int32(len([]rune("1,Décidim,Démocratie éàü,"))+1) {
		t.Errorf("where %q, finding %v", r.GetWhere(), f)
	}
}

// TestBlankRowsCostLittle: blank rows are skipped as they are read: a file
// of 4 MiB of them once took 800 MiB.
func TestBlankRowsCostLittle(t *testing.T) {
	data := "id,display_name,desc\n" + strings.Repeat(",\n", 2<<20)
	m := Mapping{"id": "id", "display_name": "display_name", "descriptions.en.short_description": "desc"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := Parse(t.Context(), []byte(data), m)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16*uint64(len(data)) {
		t.Errorf("a file of %d MiB of blank rows took %d MiB", len(data)>>20, alloc>>20)
	}
}

// TestOtherEncodingsAndLineEnds reads testdata/outils.csv as spreadsheets
// also save it: in UTF-16 (a "Unicode" export, refused as a quoting error
// before), and with lines ending in a bare carriage return ("CSV
// (Macintosh)", read before as one header row: no entry, no rejected row,
// no error). Each gives the entries the UTF-8 file gives.
func TestOtherEncodingsAndLineEnds(t *testing.T) {
	utf8Text := read(t, "outils.csv")
	want, wantRejected, err := Parse(t.Context(), utf8Text, mustMapping(t, frenchMapping))
	if err != nil || len(want) == 0 {
		t.Fatalf("the UTF-8 file: %d entries, %v", len(want), err)
	}
	body := bytes.TrimPrefix(utf8Text, []byte("\uFEFF"))
	for name, data := range map[string]func() ([]byte, error){
		"UTF-16 LE": func() ([]byte, error) {
			return unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(body)
		},
		"UTF-16 BE": func() ([]byte, error) {
			return unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes(body)
		},
		"bare carriage returns": func() ([]byte, error) {
			return bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\r")), []byte("\n"), []byte("\r")), nil
		},
	} {
		b, err := data()
		if err != nil {
			t.Fatal(err)
		}
		entries, rejected, err := Parse(t.Context(), b, mustMapping(t, frenchMapping))
		if err != nil || len(entries) != len(want) || len(rejected) != len(wantRejected) {
			t.Errorf("%s: %d entries, %d rejected, %v; want %d and %d, as from the UTF-8 file", name, len(entries), len(rejected), err, len(want), len(wantRejected))
			continue
		}
		for i := range entries {
			if !proto.Equal(entries[i].GetTool(), want[i].GetTool()) {
				t.Errorf("%s: entry %d reads %v, want %v", name, i, entries[i].GetTool(), want[i].GetTool())
			}
		}
	}
}

// TestMacintoshCSVWithALineBreakInACell reads a "CSV (Macintosh)" export
// whose rows end in bare carriage returns and whose cell holds a line
// break typed in it, written as a line feed inside quotes: the line feed
// kept the rows' ends from being read, and the file was refused as a
// quoting error, or read as one header row.
func TestMacintoshCSVWithALineBreakInACell(t *testing.T) {
	data := "name;text\r" +
		"Decidim;\"Participatory democracy.\nSecond paragraph.\"\r" +
		"Consul;Citizen participation\r"
	entries, rejected, err := Parse(t.Context(), []byte(data), mustMapping(t, "display_name=name,descriptions.en.long_description=text,descriptions.en.short_description=name"))
	if err != nil || len(entries)+len(rejected) != 2 {
		t.Fatalf("a Macintosh CSV of 2 rows, one cell holding a line break: %d entries, %d rejected, %v; want the 2 rows read", len(entries), len(rejected), err)
	}
	if d := entries[0].GetTool().GetDescriptions()["en"].GetLongDescription(); d != "Participatory democracy.\nSecond paragraph." {
		t.Errorf("the cell reads %q", d)
	}
}
