package sill

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/harvest/internal/finding/findingtest"
	"github.com/ogptoolbox/federation/harvest/internal/textfit"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// corpusFile is the SILL as Etalab publishes it, kept in the shared corpus
// beside the repository (../shared/corpus from the repository root, which
// is two folders above this package's, where go test runs its tests).
func corpusFile(t *testing.T) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus", "sill", "sill.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the SILL corpus is missing: this test needs %s (shared/corpus/sill/sill.json beside the repository): %v", path, err)
	}
	return path
}

// TestCorpus is the test that defines done: every record of the real SILL
// imports, as a tool that passes the catalog's checks.
func TestCorpus(t *testing.T) {
	data, err := os.ReadFile(corpusFile(t))
	if err != nil {
		t.Fatal(err)
	}
	entries, rejected, err := Parse(t.Context(), data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	for _, r := range rejected {
		t.Errorf("rejected %s (id %s): %v", r.Where, r.SourceId, r.Findings)
	}
	if len(entries) != 240 {
		t.Errorf("got %d entries, want the corpus's 240 records", len(entries))
	}
	findingtest.CheckEntries(t, entries)
	// Spot checks of records whose fields need normalising.
	byID := map[string]*catalogv1.Tool{}
	for _, e := range entries {
		byID[e.SourceId] = e.Tool
	}
	for id, want := range map[string]string{
		"1":   "LGPL-2.0-only",                                     // deprecated GNU id made explicit
		"59":  "MPL-2.0 AND EPL-1.0",                               // "MPL 2.0 et EPL 1.0"
		"76":  "LGPL-2.1-only AND LGPL-2.0-only AND LGPL-3.0-only", // a list
		"119": "",                                                  // "CPA": no SPDX license
		"150": "BSD-3-Clause",                                      // "BSD-3.0"
	} {
		if got := byID[id].GetLicense(); got != want {
			t.Errorf("id %s: license %q, want %q", id, got, want)
		}
	}
	if got := byID["14"].GetSoftwareVersion(); got != "2.4.2" {
		t.Errorf("id 14 (Audacity): software_version %q, want the v+ 2.4.2", got)
	}
}

// TestMapRecord checks the mapping of one record, field by field.
func TestMapRecord(t *testing.T) {
	long := "Plateforme libre de participation citoyenne qui permet aux collectivités d'organiser des concertations, des budgets participatifs, des pétitions et des assemblées en ligne."
	data := `[{
		"id": 42, "i": "  Decidim ", "l": "AGPL-3.0", "st": "R", "se": "Espace utilisateur et canal",
		"c": "Visiophonie", "f": "Participation citoyenne", "fr-desc": "` + long + `",
		"en-desc": "Participatory democracy platform", "website": "https://decidim.org/",
		"sources": "https://github.com/decidim/decidim", "logo": "https://decidim.org/logo.svg",
		"doc": "https://docs.decidim.org/", "v-": "0.26", "v+": "0.27.4", "co": "362",
		"y": "2021 ; 2022", "g": "MIMO", "p": "", "frama": {"name": null}
	}]`
	entries, rejected, err := Parse(t.Context(), []byte(data))
	if err != nil || len(rejected) != 0 || len(entries) != 1 {
		t.Fatalf("Parse: %d entries, rejected %v, error %v; want one entry", len(entries), rejected, err)
	}
	e := entries[0]
	if e.SourceId != "42" || e.Where != "[0]" {
		t.Errorf("source id %q, where %q; want 42 and [0]", e.SourceId, e.Where)
	}
	short := "Plateforme libre de participation citoyenne qui permet aux collectivités d'organiser des concertations, des budgets participatifs, des pétitions et…"
	want := &catalogv1.Tool{
		DisplayName: "Decidim",
		Descriptions: map[string]*catalogv1.Description{
			"fr": {ShortDescription: short, LongDescription: long, Features: []string{"Participation citoyenne"}, DocumentationUrl: "https://docs.decidim.org/"},
			"en": {ShortDescription: "Participatory democracy platform", DocumentationUrl: "https://docs.decidim.org/"},
		},
		RepositoryUrl:   "https://github.com/decidim/decidim",
		LandingUrl:      "https://decidim.org/",
		LogoUrl:         "https://decidim.org/logo.svg",
		License:         "AGPL-3.0-only",
		Categories:      []string{"video-conferencing"},
		UsedBy:          []string{"French State administrations (SILL)"},
		SoftwareVersion: "0.27.4",
	}
	if !proto.Equal(e.Tool, want) {
		t.Errorf("tool:\n%s\nwant:\n%s", prototext.Format(e.Tool), prototext.Format(want))
	}
	if n := len([]rune(short)); n > 150 {
		t.Errorf("short description is %d characters", n)
	}
}

// TestMapRecordFallbacks checks the record without the long fields: the
// function stands for the French description, and links that are not web
// addresses are left out.
func TestMapRecordFallbacks(t *testing.T) {
	data := `[{"id": "3", "i": "Additional Alerts", "l": "N/A", "f": "Notifications supplémentaires", "p": "GLPI",
		"sources": "git://git.example.org/alerts.git", "logo": "/logos/alerts.png", "website": null, "v+": ""}]`
	entries, rejected, err := Parse(t.Context(), []byte(data))
	if err != nil || len(rejected) != 0 || len(entries) != 1 {
		t.Fatalf("Parse: %d entries, rejected %v, error %v; want one entry", len(entries), rejected, err)
	}
	want := &catalogv1.Tool{
		DisplayName:  "Additional Alerts",
		Descriptions: map[string]*catalogv1.Description{"fr": {ShortDescription: "Notifications supplémentaires"}},
		UsedBy:       []string{"French State administrations (SILL)"},
	}
	if !proto.Equal(entries[0].Tool, want) {
		t.Errorf("tool:\n%s\nwant:\n%s", prototext.Format(entries[0].Tool), prototext.Format(want))
	}
}

func TestParseSourceErrors(t *testing.T) {
	for name, data := range map[string]string{
		"empty":          "",
		"not JSON":       "id;i\n1;7zip\n",
		"truncated":      `[{"id": "1", "i": "7zip"`,
		"object":         `{"id": "1", "i": "7zip"}`,
		"string":         `"sill"`,
		"trailing value": `[] []`,
		"null":           " null ", // not an empty list, which would delete every tool
	} {
		t.Run(name, func(t *testing.T) {
			entries, rejected, err := Parse(t.Context(), []byte(data))
			if err == nil {
				t.Fatalf("Parse(%q) = %d entries, %d rejected, no error; want an error", data, len(entries), len(rejected))
			}
			if entries != nil || rejected != nil {
				t.Errorf("Parse returned entries or rejects with the error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "sill: ") {
				t.Errorf("error %q does not say it is the SILL reader's", err)
			}
		})
	}
	_, _, err := Parse(t.Context(), []byte("[\n  {\"id\": 1,\n   \"i\": x}]"))
	if err == nil || !strings.Contains(err.Error(), "line 3, column 9") {
		t.Errorf("syntax error %v does not give line 3, column 9", err)
	}
	_, _, err = Parse(t.Context(), []byte(`{"records": []}`))
	if err == nil || !strings.Contains(err.Error(), "is a JSON object, not an array") {
		t.Errorf("error %v does not say the document is an object", err)
	}
}

// wantFinding is a finding's key and a part of its message.
type wantFinding struct{ key, message string }

func TestParseRejects(t *testing.T) {
	valid := `{"id": "%s", "i": "Tool %s", "f": "Outil"}`
	record := func(id string) string { return strings.ReplaceAll(valid, "%s", id) }
	cases := []struct {
		name string
		data string
		// ok is the number of entries the file must give.
		ok   int
		id   string
		want []wantFinding
		line int32
	}{
		{"no name", `[{"id": "7", "f": "Outil"}]`, 0, "7", []wantFinding{{"[0].i", "is required"}}, 1},
		{"blank name", `[{"id": "7", "i": "  ", "f": "Outil"}]`, 0, "7", []wantFinding{{"[0].i", "is required"}}, 1},
		{"no id", `[{"i": "7zip", "f": "Outil"}]`, 0, "", []wantFinding{{"[0].id", "is required"}}, 1},
		{"null id", `[{"id": null, "i": "7zip", "f": "Outil"}]`, 0, "", []wantFinding{{"[0].id", "is required"}}, 1},
		{"id not a number", `[{"id": "seven", "i": "7zip", "f": "Outil"}]`, 0, "", []wantFinding{{"[0].id", `"seven" is not a whole number`}}, 1},
		{"negative id", `[{"id": -7, "i": "7zip", "f": "Outil"}]`, 0, "", []wantFinding{{"[0].id", "not a whole number"}}, 1},
		{"id an object", `[{"id": {}, "i": "7zip", "f": "Outil"}]`, 0, "", []wantFinding{{"[0].id", "is an object, not a number"}}, 1},
		{"no name and no id", `[{"f": "Outil"}]`, 0, "", []wantFinding{{"[0].id", "is required"}, {"[0].i", "is required"}}, 1},
		{"not a record", `[` + record("1") + `, 42]`, 1, "", []wantFinding{{"[1]", "is a number, not a record"}}, 1},
		{"licence a number", `[{"id": "7", "i": "7zip", "f": "Outil", "l": 3}]`, 0, "7", []wantFinding{{"[0].l", "is a number, not a string"}}, 1},
		{"no description", `[{"id": "7", "i": "7zip", "fr-desc": null}]`, 0, "7", []wantFinding{{"[0]", "has no description"}}, 1},
		{"name too long", `[{"id": "7", "i": "` + strings.Repeat("x", 201) + `", "f": "Outil"}]`, 0, "7", []wantFinding{{"[0].i", "more than 200"}}, 1},
		{"duplicate id", "[\n" + record("1") + ",\n" + record("2") + ",\n" + strings.Replace(record("1"), "Tool 1", "Other", 1) + "\n]", 2, "1",
			[]wantFinding{{"[2].id", "1 is also the id of the record at [0]"}}, 4},
		{"duplicate id, other spelling", `[{"id": 1, "i": "A", "f": "x"}, {"id": "001", "i": "B", "f": "x"}]`, 1, "1",
			[]wantFinding{{"[1].id", "also the id of the record at [0]"}}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			entries, rejected, err := Parse(t.Context(), []byte(c.data))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(entries) != c.ok || len(rejected) != 1 {
				t.Fatalf("got %d entries and %d rejected (%v), want %d and 1", len(entries), len(rejected), rejected, c.ok)
			}
			r := rejected[0]
			if r.SourceId != c.id {
				t.Errorf("rejected source id %q, want %q", r.SourceId, c.id)
			}
			if len(r.Findings) != len(c.want) {
				t.Fatalf("findings %v, want %d", r.Findings, len(c.want))
			}
			for i, w := range c.want {
				f := r.Findings[i]
				if f.Key != w.key || !strings.Contains(f.Message, w.message) {
					t.Errorf("finding %d: %s: %s; want %s: ...%s...", i, f.Key, f.Message, w.key, w.message)
				}
				if f.Line != c.line || f.Column < 1 {
					t.Errorf("finding %d at line %d, column %d; want line %d", i, f.Line, f.Column, c.line)
				}
			}
		})
	}
}

// TestFindingPosition checks that a finding points at its key.
func TestFindingPosition(t *testing.T) {
	data := "[\n  {\"id\": \"1\", \"i\": \"A\", \"f\": \"x\"},\n  {\"id\": \"2\",\n   \"i\": \"B\",\n   \"l\": 3, \"f\": \"x\"}\n]"
	_, rejected, err := Parse(t.Context(), []byte(data))
	if err != nil || len(rejected) != 1 {
		t.Fatalf("Parse: rejected %v, error %v", rejected, err)
	}
	f := rejected[0].Findings[0]
	if f.Key != "[1].l" || f.Line != 5 || f.Column != 4 {
		t.Errorf("finding %s at %d:%d, want [1].l at 5:4", f.Key, f.Line, f.Column)
	}
}

func TestLicense(t *testing.T) {
	for in, want := range map[string]string{
		"":                                       "",
		"N/A":                                    "",
		"n/a":                                    "",
		"MIT":                                    "MIT",
		"mit":                                    "MIT",
		"Apache-2.0":                             "Apache-2.0",
		"AGPL-3.0":                               "AGPL-3.0-only",
		"GPL-2.0+":                               "GPL-2.0-or-later",
		"GPL-3.0+":                               "GPL-3.0-or-later",
		"GPL-3":                                  "GPL-3.0-only",
		"AGPL-3":                                 "AGPL-3.0-only",
		"GPL V2.0":                               "GPL-2.0-only",
		"GPLv3":                                  "GPL-3.0-only",
		"LGPL-v2.1":                              "LGPL-2.1-only",
		"GPL v2 or later":                        "GPL-2.0-or-later",
		"Apache 2":                               "Apache-2.0",
		"BSD-3.0":                                "BSD-3-Clause",
		"BSD 2":                                  "BSD-2-Clause",
		"MPL 2.0 et EPL 1.0":                     "MPL-2.0 AND EPL-1.0",
		"IPL-1.0, EPL-2.0":                       "IPL-1.0 AND EPL-2.0",
		"GPL-2.0-only / LGPL-2.0-only":           "GPL-2.0-only AND LGPL-2.0-only",
		"MIT or Apache-2.0":                      "MIT OR Apache-2.0",
		"MIT OR Apache-2.0":                      "MIT OR Apache-2.0",
		"LGPL-2.1, LGPL-2.0,  LGPL-3.0":          "LGPL-2.1-only AND LGPL-2.0-only AND LGPL-3.0-only",
		"MIT, ":                                  "MIT",
		"Apache-2.0 WITH LLVM-exception":         "Apache-2.0 WITH LLVM-exception",
		"(MIT OR GPL-2.0) AND BSD-3-Clause":      "(MIT OR GPL-2.0-only) AND BSD-3-Clause",
		"CPA":                                    "",
		"MPL-2.0, GPL-2.0, LGPL-2.0, CeCILL-2.2": "",
		"Licence libre":                          "",
		"(MIT":                                   "",
		"MIT,,":                                  "MIT",
	} {
		if got := license(in); got != want {
			t.Errorf("license(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribe(t *testing.T) {
	words := strings.Repeat("mot ", 60) // 240 characters
	cases := []struct{ in, short, long string }{
		{"", "", ""},
		{"  Un outil.  ", "Un outil.", ""},
		{"Un  outil\tlibre", "Un outil libre", ""},
		{"Un outil.\n\nIl fait ceci.", "Un outil.", "Un outil.\n\nIl fait ceci."},
		{words, strings.TrimSpace(strings.Repeat("mot ", 37)) + "…", strings.TrimSpace(words)},
		{strings.Repeat("x", 200), strings.Repeat("x", 149) + "…", strings.Repeat("x", 200)},
		{"Des mots, " + strings.Repeat("y", 150), "Des mots, " + strings.Repeat("y", 139) + "…", "Des mots, " + strings.Repeat("y", 150)},
	}
	for _, c := range cases {
		short, long := textfit.Describe(c.in)
		if short != c.short || long != c.long {
			t.Errorf("textfit.Describe(%q) = %q, %q; want %q, %q", c.in, short, long, c.short, c.long)
		}
		if n := len([]rune(short)); n > textfit.MaxShortDescription {
			t.Errorf("textfit.Describe(%q): short is %d characters", c.in, n)
		}
	}
	if got := textfit.Shorten("Un outil, libre et gratuit", 12); got != "Un outil…" {
		t.Errorf("shorten = %q, want the cut before the comma", got)
	}
}

// FuzzParse checks that Parse never panics, and that whatever it accepts
// passes the catalog's checks under a unique source id.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`[{"id": "1", "i": "7zip", "l": "LGPL-2.0", "fr-desc": "Archiveur", "website": "https://7-zip.org"}]`))
	f.Add([]byte(`[{"id": 1, "i": "A", "f": "x"}, {"id": "1", "i": "B", "f": "y"}, 3, null, {"l": "GPL V2.0, MIT"}]`))
	f.Add([]byte(`[{"id": "2", "i": "B", "en-desc": "` + strings.Repeat("word ", 40) + `", "c": "Moteur SIG", "doc": "http://x"}]`))
	f.Add([]byte(`{"not": "an array"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, rejected, err := Parse(t.Context(), data)
		findingtest.CheckResult(t, entries, rejected, err)
	})
}

// TestDeepRecordLocatedCheaply: a record the SILL rejects, that holds in a
// key the SILL does not use 5,000 objects nested one in the other, is
// located without keeping a path for each level (which took memory in
// the square of the depth: 2 GB for 480 KB).
func TestDeepRecordLocatedCheaply(t *testing.T) {
	key := `"` + strings.Repeat("k", 20) + `":`
	data := `[{"id": 1, "x": ` + strings.Repeat("{"+key, 5000) + "1" + strings.Repeat("}", 5000) + `}]`
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	entries, rejected, err := Parse(t.Context(), []byte(data))
	runtime.ReadMemStats(&after)
	if err != nil || len(entries) != 0 || len(rejected) != 1 || rejected[0].GetFindings()[0].GetLine() == 0 {
		t.Fatalf("%d entries, rejected %v, %v", len(entries), rejected, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("a file of %d KB took %d MiB", len(data)>>10, alloc>>20)
	}
}

// TestNotUTF8Refused reads a SILL file saved in Windows-1252, and one in
// UTF-16: JSON is UTF-8, and encoding/json read each byte that is not as
// U+FFFD, so the first was imported with its accents replaced. Each is
// refused, the first naming where its first such byte is.
func TestNotUTF8Refused(t *testing.T) {
	text := "[{\"id\": \"1\", \"i\": \"Thunderbird\",\n \"fr-desc\": \"Client de messagerie \xe9lectronique\", \"l\": \"MPL-2.0\"}]"
	for name, tc := range map[string]struct {
		data []byte
		says string
	}{
		"Windows-1252": {[]byte(text), "line 2, column 35"},
		"UTF-16":       {append([]byte{0xFF, 0xFE}, []byte("[\x00]\x00")...), "UTF-16"},
	} {
		entries, rejected, err := Parse(t.Context(), tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.says) || entries != nil || rejected != nil {
			t.Errorf("a file in %s: %d entries, %d rejected, %v; want it refused, saying %q", name, len(entries), len(rejected), err, tc.says)
		}
	}
}
