package publiccode

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// fullFile uses every key that maps to a Tool field.
const fullFile = `publiccodeYmlVersion: "0"
name: Decidim
url: "https://github.com/decidim/decidim.git"
landingURL: https://decidim.org
logo: https://decidim.org/logo.svg
softwareVersion: 0.27.4
releaseDate: 2023-09-15
platforms:
  - web
  - Android
categories:
  - e-signature
  - survey
  - e-signature
usedBy:
  - Barcelona City Council
  - Ville de Paris
developmentStatus: stable
softwareType: standalone/web
inputTypes:
  - text/csv
outputTypes:
  - application/json
  - text/csv
supports:
  - id: alias:gdpr
  - id: "https://www.w3.org/TR/WCAG21/"
description:
  en:
    shortDescription: Participatory democracy framework
    longDescription: >
      Decidim is a participatory democracy framework, written in Ruby on
      Rails, originally developed for the Barcelona City government online
      and offline participation website.
    documentation: https://docs.decidim.org
    apiDocumentation: https://docs.decidim.org/api
    features:
      - Participatory budgets
      - Proposals
  fr:
    shortDescription: "Cadre de démocratie participative"
    longDescription: |
      Decidim est un cadre de démocratie participative, écrit en Ruby on
      Rails, développé à l'origine pour le site de participation en ligne
      et hors ligne de la mairie de Barcelone.
    features:
      - Budgets participatifs
legal:
  license: AGPL-3.0-or-later
  mainCopyrightOwner: Barcelona City Council
organisation:
  name: Ajuntament de Barcelona
  uri: https://www.barcelona.cat
maintenance:
  type: contract
  contractors:
    - name: Code for All
      website: https://codeforall.example.org
      until: 2026-12-31
      email: hello@codeforall.example.org
  contacts:
    - name: Ada Lovelace
      email: ada@example.org
      phone: "+34 930 00 00 00"
      affiliation: Decidim Association
localisation:
  localisationReady: true
  availableLanguages:
    - en
    - ca
    - es
    - pt-BR
IT:
  countryExtensionVersion: "1.0"
  conforme:
    modelloInteroperabilita: true
    lineeGuidaDesign: false
    gdpr: true
  piattaforme:
    spid: true
    pagopa: false
`

func TestParseFullFile(t *testing.T) {
	res := Parse([]byte(fullFile), "decidim/publiccode.yml")
	if res.Entry == nil {
		t.Fatalf("rejected:\n%s", listFindings(res.Errors))
	}
	want := &catalogv1.HarvestEntry{
		SourceId: "https://github.com/decidim/decidim.git",
		Where:    "decidim/publiccode.yml",
		Tool: &catalogv1.Tool{
			DisplayName: "Decidim",
			Descriptions: map[string]*catalogv1.Description{
				"en": {
					ShortDescription:    "Participatory democracy framework",
					LongDescription:     "Decidim is a participatory democracy framework, written in Ruby on Rails, originally developed for the Barcelona City government online and offline participation website.",
					Features:            []string{"Participatory budgets", "Proposals"},
					DocumentationUrl:    "https://docs.decidim.org",
					ApiDocumentationUrl: "https://docs.decidim.org/api",
				},
				"fr": {
					ShortDescription: "Cadre de démocratie participative",
					LongDescription:  "Decidim est un cadre de démocratie participative, écrit en Ruby on\nRails, développé à l'origine pour le site de participation en ligne\net hors ligne de la mairie de Barcelone.",
					Features:         []string{"Budgets participatifs"},
				},
			},
			RepositoryUrl:      "https://github.com/decidim/decidim.git",
			LandingUrl:         "https://decidim.org",
			LogoUrl:            "https://decidim.org/logo.svg",
			License:            "AGPL-3.0-or-later",
			Categories:         []string{"e-signature", "survey"},
			DevelopmentStatus:  "stable",
			SoftwareType:       "standalone/web",
			Platforms:          []string{"web", "android"},
			AvailableLanguages: []string{"en", "ca", "es", "pt-BR"},
			LocalisationReady:  true,
			Maintenance: &catalogv1.Maintenance{
				Type: "contract",
				Contacts: []*catalogv1.Contact{{
					Name:        "Ada Lovelace",
					Email:       "ada@example.org",
					Phone:       "+34 930 00 00 00",
					Affiliation: "Decidim Association",
				}},
				Contractors: []*catalogv1.Contractor{{
					Name:    "Code for All",
					Website: "https://codeforall.example.org",
					Until:   "2026-12-31",
				}},
			},
			Publisher:       &catalogv1.Publisher{Name: "Ajuntament de Barcelona", Uri: "https://www.barcelona.cat"},
			UsedBy:          []string{"Barcelona City Council", "Ville de Paris"},
			SoftwareVersion: "0.27.4",
			ReleaseDate:     "2023-09-15",
			Standards: []string{
				"text/csv", "application/json", "GDPR", "https://www.w3.org/TR/WCAG21/",
				"IT conforme: modelloInteroperabilita", "SPID",
			},
		},
	}
	if diff := cmp.Diff(want, res.Entry, protocmp.Transform()); diff != "" {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	assertValidTool(t, res.Entry.GetTool())
	// The deprecated keys (inputTypes, outputTypes, IT.conforme) warn.
	for _, key := range []string{"inputTypes", "outputTypes", "IT.conforme"} {
		if !hasFinding(res.Warnings, key, 0) {
			t.Errorf("no warning on %s; warnings:\n%s", key, listFindings(res.Warnings))
		}
	}
	if len(res.Warnings) != 3 {
		t.Errorf("want 3 warnings, got:\n%s", listFindings(res.Warnings))
	}
}

func assertValidTool(t *testing.T, tool *catalogv1.Tool) {
	t.Helper()
	var v validate.Violations
	validate.Tool(&v, "tool", tool)
	for _, f := range v.List {
		t.Errorf("the tool fails the catalog's checks: %s: %s", f.Field, f.Description)
	}
}

// hasFinding reports whether a finding names key, at line when line > 0.
func hasFinding(fs []*catalogv1.Finding, key string, line int32) bool {
	for _, f := range fs {
		if f.GetKey() == key && (line == 0 || f.GetLine() == line) {
			return true
		}
	}
	return false
}

// minimal is a valid file that tests change one key of: replace swaps the
// line holding old for new.
const minimal = `publiccodeYmlVersion: "0"
name: Medusa
url: "https://github.com/italia/medusa.git"
platforms:
  - web
developmentStatus: stable
softwareType: standalone/web
description:
  en:
    shortDescription: A short description
    longDescription: >
      A long description of the software that says what it does, who it is
      for, and why a public administration would want to use it rather than
      any other tool that does more or less the same thing.
    features:
      - One feature
legal:
  license: MIT
maintenance:
  type: community
  contacts:
    - name: Francesco Rossi
localisation:
  localisationReady: true
  availableLanguages:
    - en
`

// edit returns minimal with the line starting with old (after its
// indentation) replaced by new, or with new appended when old is "".
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if old == "" {
		return minimal + new
	}
	lines := strings.Split(minimal, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " "), old) {
			indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
			lines[i] = indent + new
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no line starts with %q", old)
	return ""
}

func TestMinimalIsValid(t *testing.T) {
	res := Parse([]byte(minimal), "m")
	if res.Entry == nil || len(res.Warnings) > 0 {
		t.Fatalf("errors:\n%swarnings:\n%s", listFindings(res.Errors), listFindings(res.Warnings))
	}
	assertValidTool(t, res.Entry.GetTool())
}

// TestRejected covers faults of the standard the corpus does not show.
func TestRejected(t *testing.T) {
	tests := []struct {
		name, file, key string
		line            int32
	}{
		{"yaml 1.1 yes", edit(t, "localisationReady:", "localisationReady: yes"), "localisation.localisationReady", 24},
		{"quoted bool", edit(t, "localisationReady:", `localisationReady: "true"`), "localisation.localisationReady", 24},
		{"duplicate key", edit(t, "name:", "name: A\nname: B"), "", 3},
		{"unknown nested key", edit(t, "license:", "license: MIT\n  licence: MIT"), "legal.licence", 19},
		{"unsupported 0.6", edit(t, "publiccodeYmlVersion:", `publiccodeYmlVersion: "0.6"`), "publiccodeYmlVersion", 1},
		{"v1", edit(t, "publiccodeYmlVersion:", `publiccodeYmlVersion: "1"`), "publiccodeYmlVersion", 1},
		{"language eng", edit(t, "- en", "- eng"), "localisation.availableLanguages[0]", 26},
		{"language 4 letters", edit(t, "- en", "- engl"), "localisation.availableLanguages[0]", 26},
		{"country UK", edit(t, "", "intendedAudience:\n  countries: [UK]\n"), "intendedAudience.countries[0]", 28},
		{"bad supports uri", edit(t, "", "supports:\n  - id: not a uri\n"), "supports[0].id", 28},
		{"supports without id", edit(t, "", "supports:\n  - {}\n"), "supports[0].id", 28},
		{"organisation urn", edit(t, "", "organisation:\n  uri: \"urn:urn:x\"\n"), "organisation.uri", 28},
		{"screenshot gif", edit(t, "", ""), "", 0},
		{"email with name", edit(t, "- name: Francesco Rossi", "- name: Francesco Rossi\n      email: Francesco <f@example.org>"), "maintenance.contacts[0].email", 23},
		{"file url authors", edit(t, "license:", "license: MIT\n  authorsFile: file:///AUTHORS"), "legal.authorsFile", 19},
		{"dependency without name", edit(t, "", "dependsOn:\n  open:\n    - version: \"1\"\n"), "dependsOn.open[0].name", 29},
		{"not a mapping", "- a\n- b\n", "", 1},
		{"empty", "", "", 0},
		{"comment only", "# nothing\n", "", 0},
		{"bad yaml", "name: [a\n", "", 1},
		{"not utf-8", "name: \xff\n", "", 1},
		{"unknown alias", edit(t, "name:", "name: *nothing"), "", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "screenshot gif" {
				tc.file = strings.Replace(minimal, "    features:", "    screenshots: [img/shot.gif]\n    features:", 1)
				tc.key, tc.line = "description.en.screenshots[0]", 15
			}
			res := Parse([]byte(tc.file), "t")
			if res.Entry != nil || len(res.Errors) == 0 {
				t.Fatalf("accepted, want rejected")
			}
			if !hasFinding(res.Errors, tc.key, tc.line) {
				t.Errorf("no error on %q line %d; errors:\n%s", tc.key, tc.line, listFindings(res.Errors))
			}
		})
	}
}

// TestAccepted covers what the standard allows and how it is read.
func TestAccepted(t *testing.T) {
	tests := []struct {
		name, file string
		warn       string // a key some warning must name, or ""
		check      func(*catalogv1.Tool) string
	}{
		{"bom", "\uFEFF" + minimal, "", nil},
		{"yaml directive", "%YAML 1.2\n---\n" + minimal, "", nil},
		{"true spelled True", edit(t, "localisationReady:", "localisationReady: True"), "", func(tl *catalogv1.Tool) string {
			return wantBool(tl.GetLocalisationReady(), true)
		}},
		{"v0.5 warns", edit(t, "publiccodeYmlVersion:", `publiccodeYmlVersion: "0.5"`), "publiccodeYmlVersion", nil},
		{"v0.7 is the latest", edit(t, "publiccodeYmlVersion:", `publiccodeYmlVersion: "0.7.0"`), "", nil},
		{"version as a number", edit(t, "publiccodeYmlVersion:", `publiccodeYmlVersion: 0`), "", nil},
		{"several documents", minimal + "---\nname: other\n", "", nil},
		{"anchor and alias", edit(t, "name:", "name: &n Medusa\napplicationSuite: *n"), "", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetDisplayName(), "Medusa")
		}},
		{"merge key", edit(t, "type: community", "<<: {type: community}"), "", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetMaintenance().GetType(), "community")
		}},
		{"number as text", edit(t, "name:", "name: 1.10"), "", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetDisplayName(), "1.10")
		}},
		{"repository over git", edit(t, "url:", `url: "git://example.org/medusa.git"`), "url", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetRepositoryUrl(), "")
		}},
		{"relative logo is not mapped", edit(t, "name:", "name: Medusa\nlogo: img/logo.svg"), "", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetLogoUrl(), "")
		}},
		{"free-form platform", edit(t, "- web", "- Mac OS X"), "platforms[0]", func(tl *catalogv1.Tool) string {
			return wantInt(len(tl.GetPlatforms()), 0)
		}},
		{"publisher from repoOwner", edit(t, "license:", "license: MIT\n  repoOwner: Comune di Roma\n  mainCopyrightOwner: Someone"), "legal.repoOwner", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetPublisher().GetName(), "Comune di Roma")
		}},
		{"publisher from mainCopyrightOwner", edit(t, "license:", "license: MIT\n  mainCopyrightOwner: City of Chicago"), "", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetPublisher().GetName(), "City of Chicago")
		}},
		{"organisation without name", edit(t, "license:", "license: MIT\n  mainCopyrightOwner: City of Chicago\norganisation:\n  uri: urn:x-italian-pa:pcm"), "", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetPublisher().GetName()+" "+tl.GetPublisher().GetUri(), "City of Chicago urn:x-italian-pa:pcm")
		}},
		{"long optional value dropped", edit(t, "name:", "name: Medusa\nsoftwareVersion: "+strings.Repeat("1", 101)), "softwareVersion", func(tl *catalogv1.Tool) string {
			return wantString(tl.GetSoftwareVersion(), "")
		}},
		{"control character dropped", edit(t, "name:", `name: Medusa`+"\nusedBy: [\"Comune\\x01di Roma\", Comune di Milano]"), "usedBy[0]", func(tl *catalogv1.Tool) string {
			return wantString(strings.Join(tl.GetUsedBy(), ","), "Comune di Milano")
		}},
		{"more than 100 users", edit(t, "name:", "name: Medusa\nusedBy: ["+users(105)+"]"), "usedBy[100]", func(tl *catalogv1.Tool) string {
			return wantInt(len(tl.GetUsedBy()), 100)
		}},
		{"short description too long in code points", strings.Replace(minimal, "  en:\n", "  it:\n    shortDescription: "+combining(150)+"\n    longDescription: "+strings.Repeat("x", 150)+"\n    features: [a]\n  en:\n", 1), "description.it.shortDescription", func(tl *catalogv1.Tool) string {
			return wantInt(len(tl.GetDescriptions()), 1)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Parse([]byte(tc.file), "t")
			if res.Entry == nil {
				t.Fatalf("rejected:\n%s", listFindings(res.Errors))
			}
			assertValidTool(t, res.Entry.GetTool())
			if tc.warn != "" && !hasFinding(res.Warnings, tc.warn, 0) {
				t.Errorf("no warning on %s; warnings:\n%s", tc.warn, listFindings(res.Warnings))
			}
			if tc.check != nil {
				if msg := tc.check(res.Entry.GetTool()); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

// TestRejectedForTheCatalog covers valid files the catalog cannot take.
func TestRejectedForTheCatalog(t *testing.T) {
	tests := []struct{ name, file, key string }{
		{"name too long", edit(t, "name:", "name: "+strings.Repeat("n", 201)), "name"},
		{"name of spaces", edit(t, "name:", `name: "   "`), "name"},
		{"name with a control character", edit(t, "name:", `name: "Med\x07usa"`), "name"},
		{"only description too long in code points", edit(t, "shortDescription:", "shortDescription: "+combining(150)), "description"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Parse([]byte(tc.file), "t")
			if res.Entry != nil {
				t.Fatalf("accepted, want rejected")
			}
			if !hasFinding(res.Errors, tc.key, 0) {
				t.Errorf("no error on %s; errors:\n%s", tc.key, listFindings(res.Errors))
			}
		})
	}
}

// TestHostileYAML checks that aliases and nesting cannot make a small file
// expensive.
func TestHostileYAML(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&bomb, "a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				bomb.WriteString(", ")
			}
			fmt.Fprintf(&bomb, "*a%d", i-1)
		}
		bomb.WriteString("]\n")
	}
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	for name, file := range map[string]string{"alias bomb": bomb.String(), "deep nesting": "a: " + deep + "\n"} {
		t.Run(name, func(t *testing.T) {
			res := Parse([]byte(file), "t")
			if res.Entry != nil || len(res.Errors) == 0 {
				t.Fatalf("accepted")
			}
		})
	}
}

func users(n int) string {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("City %d", i))
	}
	return strings.Join(names, ", ")
}

// combining makes n characters of two code points each (e + acute
// accent): n grapheme clusters, 2n runes.
func combining(n int) string { return strings.Repeat("e\u0301", n) }

func wantString(got, want string) string {
	if got != want {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	return ""
}

func wantInt(got, want int) string {
	if got != want {
		return fmt.Sprintf("got %d, want %d", got, want)
	}
	return ""
}

func wantBool(got, want bool) string {
	if got != want {
		return fmt.Sprintf("got %v, want %v", got, want)
	}
	return ""
}

// TestParseConcurrent runs Parse from several goroutines (run with -race):
// the harvester reads files in parallel.
func TestParseConcurrent(t *testing.T) {
	want := Parse([]byte(fullFile), "w")
	done := make(chan *catalogv1.HarvestEntry)
	for range 4 {
		go func() {
			var last *catalogv1.HarvestEntry
			for range 20 {
				last = Parse([]byte(fullFile), "w").Entry
			}
			done <- last
		}()
	}
	for range 4 {
		if got := <-done; !proto.Equal(got, want.Entry) {
			t.Errorf("concurrent Parse gave a different entry")
		}
	}
}

// TestRejectedFileKeepsItsSourceID checks that a rejected file still says
// which repository it describes, when its url can be read.
func TestRejectedFileKeepsItsSourceID(t *testing.T) {
	res := Parse([]byte("publiccodeYmlVersion: \"0.4\"\nname: Broken\nurl: \" https://example.org/broken.git \"\n"), "broken.yml")
	if res.Entry != nil || len(res.Errors) == 0 || res.SourceID != "https://example.org/broken.git" {
		t.Errorf("entry %v, %d errors, source id %q", res.Entry, len(res.Errors), res.SourceID)
	}
	if res := Parse([]byte("- not a mapping\n"), "x.yml"); res.SourceID != "" {
		t.Errorf("a file with no url has source id %q", res.SourceID)
	}
}

// deepDashes nests by indentation, 64 dashes a line, each line further in
// than the one before: 8,000 levels in about 900 KB.
func deepDashes() string {
	var b strings.Builder
	b.WriteString("a:\n")
	for i := range 125 {
		b.WriteString(strings.Repeat(" ", 128*i) + strings.Repeat("- ", 64) + "\n")
	}
	return b.String()
}

// TestDeepNestingRefusedCheaply: files that nest values deeper than a
// publiccode.yml ever does, in the ways that cost the YAML parser most
// (40 KB of them took it 600 MB), are refused, saying where, before it
// parses them; nesting by indentation, which costs it little, is refused
// by the reader's own check.
func TestDeepNestingRefusedCheaply(t *testing.T) {
	var indented strings.Builder
	indented.WriteString("a:\n")
	for i := 1; i < 1400; i++ {
		indented.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	for name, file := range map[string]string{
		"brackets":         "a: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n",
		"braces":           "a: " + strings.Repeat("{a: ", 10000) + "1" + strings.Repeat("}", 10000) + "\n",
		"a line of dashes": "a:\n" + strings.Repeat("- ", 20000) + "x\n",
		"closed in quotes": "a: " + strings.Repeat(`[x, "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", `, 5000) + "\n",
		"indentation":      indented.String(),
		"dashes and tags":  "a:\n" + strings.Repeat("- !a ", 20000) + "x\n",
		"dashes, indented": deepDashes(),
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		res := Parse([]byte(file), "deep.yml")
		runtime.ReadMemStats(&after)
		if res.Entry != nil || len(res.Errors) == 0 || !strings.Contains(res.Errors[0].GetMessage(), "deep") || res.Errors[0].GetLine() == 0 {
			t.Errorf("%s: %v", name, res.Errors)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
			t.Errorf("%s: a file of %d bytes took %d MiB to refuse", name, len(file), alloc>>20)
		}
	}
}
