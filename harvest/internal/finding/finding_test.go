package finding

import (
	"encoding/json"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/proto"
)

// validTool passes the catalog's checks.
func validTool() *catalogv1.Tool {
	return &catalogv1.Tool{
		DisplayName:  "Decidim",
		Descriptions: map[string]*catalogv1.Description{"en": {ShortDescription: "Participatory democracy"}},
	}
}

// got is a finding as the tests compare them.
type got struct{ key, message string }

func findings(e *Entry) []got {
	var out []got
	for _, f := range e.Findings {
		out = append(out, got{f.Key, f.Message})
	}
	return out
}

func TestFault(t *testing.T) {
	var e Entry
	e.Fault("[0].i", "is %s, not a string", "a number")
	e.Fault("[0].i", "is a number, not a string") // the same fault: once
	e.Fault("[0].i", "is required")               // another fault of the key
	e.Fault("[0]", "is %d", 3)
	want := []got{{"[0].i", "is a number, not a string"}, {"[0].i", "is required"}, {"[0]", "is 3"}}
	if g := findings(&e); !equal(g, want) {
		t.Errorf("findings %v, want %v", g, want)
	}
	for key, want := range map[string]bool{"[0].i": true, "[0]": true, "[0].l": false, "": false} {
		if e.Faulted(key) != want {
			t.Errorf("Faulted(%q) = %v, want %v", key, !want, want)
		}
	}
}

func TestSource(t *testing.T) {
	var e Entry
	if _, ok := e.Source("display_name"); ok {
		t.Error("an entry without sources gave one")
	}
	e.From("display_name", "name")
	e.From("maintenance.contacts[0]", "contact")
	e.From("maintenance.contacts[0].email", "contact.email")
	e.From("descriptions.fr", "fr-desc")
	e.From("categories", "c")
	e.From("license", "l")
	e.From("license", "licence") // a later call wins
	for path, want := range map[string]string{
		"display_name":                      "name",
		"maintenance.contacts[0].email":     "contact.email", // its own key before its parent's
		"maintenance.contacts[0].phone":     "contact",       // the name dropped
		"maintenance.contacts[0]":           "contact",
		"descriptions.fr.features[2]":       "fr-desc", // the index, then the name dropped
		"descriptions.fr.short_description": "fr-desc",
		"categories[1]":                     "c",
		"license":                           "licence",
		"descriptions.en":                   "",
		"descriptions":                      "",
		"maintenance.contacts[1].email":     "",
		"display_name_x":                    "",
		"":                                  "",
	} {
		key, ok := e.Source(path)
		if key != want || ok != (want != "") {
			t.Errorf("Source(%q) = %q, %v; want %q", path, key, ok, want)
		}
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name  string
		entry func(*Entry)          // sources and faults recorded while reading
		tool  func(*catalogv1.Tool) // what makes the valid tool faulty
		want  []got
	}{
		{"valid", nil, nil, nil},
		{"no tool", nil, nil, nil}, // see below: the tool is nil
		{"field with a source", func(e *Entry) { e.From("display_name", "[3].i") },
			func(t *catalogv1.Tool) { t.DisplayName = strings.Repeat("x", 201) },
			[]got{{"[3].i", "is 201 characters long, more than 200"}}},
		{"list item with a source", func(e *Entry) { e.From("categories", "[3].c") },
			func(t *catalogv1.Tool) { t.Categories = []string{"survey", "nope"} },
			[]got{{"[3].c", `"nope" is not a publiccode.yml category`}}},
		{"source faulted while reading", func(e *Entry) {
			e.From("display_name", "[3].i")
			e.Fault("[3].i", "is a number, not a string")
		}, func(t *catalogv1.Tool) { t.DisplayName = "" },
			[]got{{"[3].i", "is a number, not a string"}}},
		{"field without a source", nil,
			func(t *catalogv1.Tool) { t.License = "nope" },
			[]got{{"[3]", `license: "nope" is not a valid SPDX license expression`}}},
		{"no description, no source", nil,
			func(t *catalogv1.Tool) { t.Descriptions = nil },
			[]got{{"[3]", "descriptions: is required: describe the tool in at least one language"}}},
		{"no description, NoDescription", func(e *Entry) { e.NoDescription = "has no description: d is empty" },
			func(t *catalogv1.Tool) { t.Descriptions = nil },
			[]got{{"[3]", "has no description: d is empty"}}},
		{"no description, with a source", func(e *Entry) {
			e.NoDescription = "has no description: d is empty"
			e.From("descriptions", "[3].d")
		}, func(t *catalogv1.Tool) { t.Descriptions = nil },
			[]got{{"[3].d", "is required: describe the tool in at least one language"}}},
		{"several", func(e *Entry) { e.From("landing_url", "[3].website") },
			func(t *catalogv1.Tool) { t.LandingUrl, t.DevelopmentStatus = "example.org", "done" },
			[]got{{"[3].website", `"example.org" is not an http or https URL`}, {"[3]", `development_status: "done" is not one of`}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := &Entry{Where: "[3]", Whole: "[3]"}
			if c.entry != nil {
				c.entry(e)
			}
			tool := validTool()
			if c.tool != nil {
				c.tool(tool)
			}
			if c.name == "no tool" {
				tool = nil
			}
			e.Check(tool)
			if g := findings(e); !prefixes(g, c.want) {
				t.Errorf("findings %v, want %v", g, c.want)
			}
		})
	}
}

// equal reports whether got are want, exactly.
func equal(got, want []got) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// prefixes reports whether got are want, each message beginning with the
// wanted one.
func prefixes(got, want []got) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].key != want[i].key || !strings.HasPrefix(got[i].message, want[i].message) {
			return false
		}
	}
	return true
}

func TestBatch(t *testing.T) {
	var b Batch
	located := 0
	at := func(where, key string) (int32, int32) {
		located++
		return int32(len(where)), int32(len(key))
	}

	// An accepted entry claims its id, rejected or not.
	first := &Entry{Where: "[0]", ID: "7"}
	if where, taken := b.Claim(first); taken {
		t.Fatalf("a first id is taken by %s", where)
	}
	tool := validTool()
	b.Add(first, tool, at)

	second := &Entry{Where: "[1]", ID: "7", Whole: "[1]"}
	if where, taken := b.Claim(second); !taken || where != "[0]" {
		t.Errorf("Claim of a repeated id = %q, %v; want [0], true", where, taken)
	}
	second.Fault("[1].id", "7 is also the id of [0]")
	second.Fault("[1]", "is wrong")
	b.Add(second, validTool(), at)

	// Entries without an id claim nothing.
	for i, where := range []string{"[2]", "[3]"} {
		if w, taken := b.Claim(&Entry{Where: where}); taken {
			t.Errorf("entry %d without an id: taken by %s", i, w)
		}
	}
	// Without a locator, findings keep their place.
	third := &Entry{Where: "row 4"}
	third.Fault("Nom", "is required")
	third.Findings[0].Line, third.Findings[0].Column = 9, 9
	b.Add(third, nil, nil)

	if len(b.Entries) != 1 || b.Entries[0].SourceId != "7" || b.Entries[0].Where != "[0]" || !proto.Equal(b.Entries[0].Tool, tool) {
		t.Errorf("entries %v, want the first entry", b.Entries)
	}
	if len(b.Rejected) != 2 {
		t.Fatalf("rejected %v, want 2", b.Rejected)
	}
	r := b.Rejected[0]
	if r.SourceId != "7" || r.Where != "[1]" || len(r.Findings) != 2 {
		t.Errorf("rejected %v, want [1] (7) with 2 findings", r)
	}
	if f := r.Findings[0]; f.Key != "[1].id" || f.Line != 3 || f.Column != 6 {
		t.Errorf("finding %v, want [1].id located at 3:6", f)
	}
	if located != 2 {
		t.Errorf("located %d findings, want the 2 of the rejected entry", located)
	}
	if f := b.Rejected[1].Findings[0]; f.Line != 9 || f.Column != 9 {
		t.Errorf("finding %v moved without a locator", f)
	}
}

func TestInJSON(t *testing.T) {
	data := []byte("{\"releases\": [\n  {\"name\": \"a\"},\n  {\"name\": \"é\", \"tags\": 3}\n]}")
	at := InJSON(data)
	for _, c := range []struct {
		where, key   string
		line, column int32
	}{
		{"releases[1]", "releases[1].tags", 3, 17},
		{"releases[1]", "releases[1].name", 3, 4},
		{"releases[1]", "releases[1]", 3, 3},
		{"releases[1]", "releases[1].description", 3, 3}, // a missing key: its entry
		{"releases[0]", "agency", 2, 3},                  // a key of no entry: the entry's too
		{"releases[0]", "releases[0].name", 2, 4},
	} {
		if line, column := at(c.where, c.key); line != c.line || column != c.column {
			t.Errorf("%s of %s at %d:%d, want %d:%d", c.key, c.where, line, column, c.line, c.column)
		}
	}
}

func TestText(t *testing.T) {
	var fields map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"s": "  a b ", "n": 3, "z": null, "a": [], "o": {}, "b": true}`))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		t.Fatal(err)
	}
	var e Entry
	for key, want := range map[string]string{"s": "a b", "n": "", "z": "", "missing": "", "a": "", "o": "", "b": ""} {
		if got := e.Text(key, fields[key]); got != want {
			t.Errorf("Text(%s) = %q, want %q", key, got, want)
		}
	}
	for key, kind := range map[string]string{"n": "a number", "a": "an array", "o": "an object", "b": "a boolean"} {
		if !e.Faulted(key) || !strings.Contains(findingOf(&e, key), "is "+kind+", not a string") {
			t.Errorf("%s: findings %v, want it is %s", key, findings(&e), kind)
		}
	}
	for _, key := range []string{"s", "z", "missing"} {
		if e.Faulted(key) {
			t.Errorf("%s faulted", key)
		}
	}
}

func findingOf(e *Entry, key string) string {
	for _, f := range e.Findings {
		if f.Key == key {
			return f.Message
		}
	}
	return ""
}

func TestDescribe(t *testing.T) {
	for raw, want := range map[string]string{
		`null`: "null", `"x"`: "a string", `3.5`: "a number", `false`: "a boolean",
		`[1]`: "an array", `{"a": 1}`: "an object", `{`: "not JSON", ``: "not JSON",
	} {
		if got := DescribeJSON(json.RawMessage(raw)); got != want {
			t.Errorf("DescribeJSON(%s) = %q, want %q", raw, got, want)
		}
	}
	for _, c := range []struct {
		v    any
		want string
	}{{json.Number("7"), "a number"}, {float64(7), "a number"}, {7, "a int"}, {[]string{}, "a []string"}} {
		if got := DescribeValue(c.v); got != c.want {
			t.Errorf("DescribeValue(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}
