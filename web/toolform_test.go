package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestToolInput maps the API's field paths to the inputs of a form whose
// blocks describe en and pt-BR.
func TestToolInput(t *testing.T) {
	f := &toolForm{Descriptions: []descForm{{Lang: "en", Short: "x"}, {Lang: "pt-BR", Short: "y"}, {}}}
	checkMapping(t, "the tool form's input", toolCuration(nil).input(f), map[string]string{
		"tool_id":                                       "tool_id",
		"tool.display_name":                             "display_name",
		"tool.repository_url":                           "repository_url",
		"tool.descriptions":                             "d0_short",
		"tool.descriptions.en.short_description":        "d0_short",
		"tool.descriptions.pt-BR.features[3]":           "d1_features",
		"tool.descriptions.pt-BR.api_documentation_url": "d1_apidoc",
		"tool.descriptions.pt-BR":                       "d1_lang",
		"tool.descriptions.de.short_description":        "",
		"tool.categories[2]":                            "categories",
		"tool.ogp_themes[0]":                            "ogp_themes",
		"tool.maintenance.type":                         "maintenance_type",
		"tool.maintenance.contacts[1].email":            "contacts",
		"tool.maintenance.contractors[0].until":         "contractors",
		"tool.publisher.uri":                            "publisher_uri",
		"tool.standards[1]":                             "standards",
		"tool.release_date":                             "release_date",
		"tool.provenance.kind":                          "",
		"update_mask":                                   "",
	})
}

func TestUseCaseInput(t *testing.T) {
	checkMapping(t, "the use-case form's input", useCaseCuration(nil).input(&useCaseForm{}), map[string]string{
		"use_case_id":                   "use_case_id",
		"use_case.tool":                 "tool",
		"use_case.organization":         "org_name",
		"use_case.organization.kind":    "org_kind",
		"use_case.organization.country": "org_country",
		"use_case.commitments[2]":       "commitments",
		"use_case.start_date":           "start_date",
		"use_case.name":                 "",
	})
}

// TestToolFormRoundTrip reads a tool into the form, posts the form as a
// browser would, and gets the same tool back.
func TestToolFormRoundTrip(t *testing.T) {
	want := &catalogv1.Tool{
		Name: "origins/fr/tools/decidim", Etag: "e1", DisplayName: "Decidim",
		Descriptions: map[string]*catalogv1.Description{
			"en": {ShortDescription: "Participatory democracy", LongDescription: "Long\ntext", Features: []string{"budgets", "proposals"}, DocumentationUrl: "https://docs.decidim.org"},
			"fr": {ShortDescription: "Démocratie participative"},
		},
		RepositoryUrl: "https://github.com/decidim/decidim", License: "AGPL-3.0-or-later",
		Categories: []string{"collaboration"}, OgpThemes: []catalogv1.OgpTheme{catalogv1.OgpTheme_OGP_THEME_E_PETITIONS},
		DevelopmentStatus: "stable", SoftwareType: "standalone/web", Platforms: []string{"web", "linux"}, AvailableLanguages: []string{"en", "fr"},
		Maintenance: &catalogv1.Maintenance{Type: "community",
			Contacts:    []*catalogv1.Contact{{Name: "Ada", Email: "ada@example.org"}, {Name: "Bob", Phone: "+33 1", Affiliation: "City"}},
			Contractors: []*catalogv1.Contractor{{Name: "Acme", Website: "https://acme.example", Until: "2030-01-01"}}},
		Publisher: &catalogv1.Publisher{Name: "Barcelona", Uri: "https://barcelona.cat"}, UsedBy: []string{"Barcelona", "Helsinki"},
		SoftwareVersion: "0.27", ReleaseDate: "2023-09-18", LocalisationReady: true, Standards: []string{"OpenAPI 3"},
	}
	v := formValues(toolFormOf(want))
	got := throughForm(t, v, want.GetName())
	if diff := cmp.Diff(got, want, protocmp.Transform()); diff != "" {
		t.Errorf("the tool through the form (-got +want):\n%s", diff)
	}
}

// TestToolFormOwnErrors checks what the form itself refuses before the API
// sees anything.
func TestToolFormOwnErrors(t *testing.T) {
	f := parseToolForm(url.Values{
		"descriptions": {"2"}, "d0_lang": {"en"}, "d0_short": {"a"}, "d1_lang": {"en"}, "d1_short": {"b"},
		"ogp_themes": {"OGP_THEME_NOPE"}, "contacts": {"a; b; c; d; e"},
	})
	var errs formErrors
	f.record(&errs, testPage())
	var got []string
	for _, s := range errs.Summary {
		got = append(got, s.Input)
	}
	if diff := cmp.Diff(got, []string{"d1_lang", "ogp_themes", "contacts"}); diff != "" {
		t.Errorf("inputs in error (-got +want):\n%s", diff)
	}
}

// checkMapping checks that f maps each key of want to its value.
func checkMapping(t *testing.T, name string, f func(string) string, want map[string]string) {
	t.Helper()
	for in, w := range want {
		if got := f(in); got != w {
			t.Errorf("%s(%q) = %q, want %q", name, in, got, w)
		}
	}
}

func testPage() *page {
	m := catalog()
	return &page{Lang: "en", msgs: m["en"], fallback: m["en"]}
}

// TestToolFormManyLanguages saves unchanged the form of a tool described
// in 25 languages: none is lost.
func TestToolFormManyLanguages(t *testing.T) {
	want := &catalogv1.Tool{Name: "origins/fr/tools/eu", Etag: "e1", DisplayName: "EU tool", Descriptions: map[string]*catalogv1.Description{}}
	for _, l := range []string{"bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "ca"} {
		want.Descriptions[l] = &catalogv1.Description{ShortDescription: "Tool in " + l}
	}
	f := toolFormOf(want)
	v := url.Values{"etag": {f.Etag}, "display_name": {f.DisplayName}, "descriptions": {fmt.Sprint(len(f.Descriptions))}}
	for i, d := range f.Descriptions {
		v.Set(fmt.Sprintf("d%d_lang", i), d.Lang)
		v.Set(fmt.Sprintf("d%d_short", i), d.Short)
	}
	got := throughForm(t, v, want.GetName())
	if len(got.GetDescriptions()) != 25 {
		t.Errorf("the form of a tool in 25 languages gives back %d", len(got.GetDescriptions()))
	}
}

// formValues is what a browser posts of the form f shows: its textareas'
// line ends as CR LF.
func formValues(f *toolForm) url.Values {
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	v := url.Values{
		"etag": {f.Etag}, "display_name": {f.DisplayName}, "repository_url": {f.RepositoryURL}, "license": {f.License},
		"categories": f.Categories, "ogp_themes": f.Themes, "development_status": {f.DevelopmentStatus}, "software_type": {f.SoftwareType},
		"platforms": {f.Platforms}, "available_languages": {f.AvailableLanguages}, "maintenance_type": {f.MaintenanceType},
		"contacts": {crlf(f.Contacts)}, "contractors": {crlf(f.Contractors)}, "publisher_name": {f.PublisherName}, "publisher_uri": {f.PublisherURI},
		"used_by": {crlf(f.UsedBy)}, "software_version": {f.SoftwareVersion}, "release_date": {f.ReleaseDate},
		"standards": {crlf(f.Standards)}, "descriptions": {fmt.Sprint(len(f.Descriptions) + 1)}, // and an empty block, as the page adds
	}
	if f.LocalisationReady {
		v.Set("localisation_ready", "on")
	}
	for i, d := range f.Descriptions {
		p := fmt.Sprintf("d%d_", i)
		v.Set(p+"lang", d.Lang)
		v.Set(p+"short", d.Short)
		v.Set(p+"long", crlf(d.Long))
		v.Set(p+"features", crlf(d.Features))
		v.Set(p+"doc", d.DocURL)
		v.Set(p+"apidoc", d.APIDocURL)
	}
	return v
}

// throughForm is the tool of name that the posted form v gives.
func throughForm(t *testing.T, v url.Values, name string) *catalogv1.Tool {
	t.Helper()
	back := parseToolForm(v)
	back.Name = name
	var errs formErrors
	got := back.record(&errs, testPage())
	if errs.Any() {
		t.Fatalf("errors: %v", errs.Summary)
	}
	return got
}
