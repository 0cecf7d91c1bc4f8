package validate

import (
	"fmt"
	"strings"
	"testing"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

func validTool() *catalogv1.Tool {
	return &catalogv1.Tool{
		DisplayName:     "Decidim",
		Descriptions:    map[string]*catalogv1.Description{"en": {ShortDescription: "Participatory democracy", ApiDocumentationUrl: "https://docs.decidim.org/api"}},
		License:         "AGPL-3.0-or-later",
		SoftwareVersion: "0.27.4",
		ReleaseDate:     "2023-09-18",
		Standards:       []string{"OpenAPI 3", "text/csv"},
	}
}

// TestTool checks a valid tool, then each fault alone, by the field it
// names.
func TestTool(t *testing.T) {
	var v Violations
	Tool(&v, "tool", validTool())
	if len(v.List) != 0 {
		t.Fatalf("a valid tool: %v", v.List)
	}
	for field, spoil := range map[string]func(*catalogv1.Tool){
		"tool.display_name":                          func(t *catalogv1.Tool) { t.DisplayName = " " },
		"tool.descriptions":                          func(t *catalogv1.Tool) { t.Descriptions = nil },
		"tool.descriptions.en.api_documentation_url": func(t *catalogv1.Tool) { t.Descriptions["en"].ApiDocumentationUrl = "ftp://x" },
		"tool.license":                               func(t *catalogv1.Tool) { t.License = "GPL-9" },
		"tool.software_version":                      func(t *catalogv1.Tool) { t.SoftwareVersion = strings.Repeat("1", 101) },
		"tool.release_date":                          func(t *catalogv1.Tool) { t.ReleaseDate = "18/09/2023" },
		"tool.standards[1]":                          func(t *catalogv1.Tool) { t.Standards = []string{"OpenAPI 3", "OpenAPI 3"} },
		"tool.standards[0]":                          func(t *catalogv1.Tool) { t.Standards = []string{strings.Repeat("x", 201)} },
		"tool.categories[0]":                         func(t *catalogv1.Tool) { t.Categories = []string{"not-a-category"} },
		"tool.descriptions.en.short_description":     func(t *catalogv1.Tool) { t.Descriptions["en"].ShortDescription = strings.Repeat("é", 151) },
		"tool.maintenance.contacts[0].email": func(t *catalogv1.Tool) {
			t.Maintenance = &catalogv1.Maintenance{Contacts: []*catalogv1.Contact{{Name: "A", Email: "nope"}}}
		},
		"tool.descriptions.not a tag":      func(t *catalogv1.Tool) { t.Descriptions["not a tag"] = &catalogv1.Description{ShortDescription: "x"} },
		"tool.descriptions.en.features[0]": func(t *catalogv1.Tool) { t.Descriptions["en"].Features = []string{""} },
		"tool.provenance.source_id":        func(t *catalogv1.Tool) { t.Provenance = &catalogv1.Provenance{SourceId: strings.Repeat("x", 2049)} },
	} {
		tool := validTool()
		spoil(tool)
		var v Violations
		Tool(&v, "tool", tool)
		found := false
		for _, f := range v.List {
			found = found || f.Field == field
		}
		if !found {
			t.Errorf("%s: violations %v", field, v.List)
		}
	}
}

// TestLongLicenseNotEchoed: a license expression past spdx.MaxExpression is
// refused by its length, not quoted whole in the violation.
func TestLongLicenseNotEchoed(t *testing.T) {
	tool := validTool()
	tool.License = strings.Repeat("MIT OR ", 1000) + "MIT"
	var v Violations
	Tool(&v, "tool", tool)
	if len(v.List) != 1 || v.List[0].Field != "tool.license" || len(v.List[0].Description) > 100 {
		t.Errorf("a license expression of %d bytes: %v", len(tool.License), v.List)
	}
}

// TestBlankNamesAndBadURLs checks what the first version let through: a
// name of characters that show nothing, a URL's port out of range or its
// user name and password.
func TestBlankNamesAndBadURLs(t *testing.T) {
	for _, tc := range []struct {
		field, what string
		spoil       func(*catalogv1.Tool)
	}{
		{"tool.display_name", "zero width spaces", func(t *catalogv1.Tool) { t.DisplayName = "\u200b\u200b" }},
		{"tool.display_name", "a byte order mark and a word joiner", func(t *catalogv1.Tool) { t.DisplayName = "\ufeff\u2060 " }},
		{"tool.display_name", "Hangul fillers", func(t *catalogv1.Tool) { t.DisplayName = "\u3164\u3164" }},
		{"tool.descriptions.en.short_description", "a blank braille pattern", func(t *catalogv1.Tool) { t.Descriptions["en"].ShortDescription = "\u2800" }},
		{"tool.repository_url", "port 99999", func(t *catalogv1.Tool) { t.RepositoryUrl = "https://git.example.org:99999/x" }},
		{"tool.repository_url", "port 0", func(t *catalogv1.Tool) { t.RepositoryUrl = "https://git.example.org:0/x" }},
		{"tool.landing_url", "a user and password", func(t *catalogv1.Tool) { t.LandingUrl = "https://user:secret@example.org/" }},
		{"tool.landing_url", "no host but a port", func(t *catalogv1.Tool) { t.LandingUrl = "https://:443/" }},
	} {
		tool := validTool()
		tc.spoil(tool)
		var v Violations
		Tool(&v, "tool", tool)
		if len(v.List) != 1 || v.List[0].Field != tc.field {
			t.Errorf("%s: violations %v, want one of %s", tc.what, v.List, tc.field)
		}
		if strings.Contains(fmt.Sprint(v.List), "secret") {
			t.Errorf("%s: the violation repeats the password: %v", tc.what, v.List)
		}
	}
	// Still taken: a name with a zero width joiner between letters, a port
	// in range.
	tool := validTool()
	tool.DisplayName, tool.RepositoryUrl = "क्\u200dष", "https://git.example.org:8443/x"
	var v Violations
	Tool(&v, "tool", tool)
	if len(v.List) != 0 {
		t.Errorf("a name with a joiner, a port in range: %v", v.List)
	}
}

func TestParseName(t *testing.T) {
	if o, id, err := ParseName("origins/fr-paris/tools/decidim", "tools"); err != nil || o != "fr-paris" || id != "decidim" {
		t.Errorf("ParseName: %q %q %v", o, id, err)
	}
	for _, bad := range []string{"origins/fr/usecases/x", "origins/FR/tools/x", "origins/fr/tools/", "tools/x", "origins/fr/tools/x/y"} {
		if _, _, err := ParseName(bad, "tools"); err == nil {
			t.Errorf("ParseName(%q) accepted", bad)
		}
	}
}
