package storage

import (
	"fmt"
	"sort"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/spdx"
	"google.golang.org/protobuf/proto"
)

// Kind is the kind of resource a record holds.
type Kind = federationv1.RecordKind

// The kinds of resource.
const (
	KindTool    = federationv1.RecordKind_RECORD_KIND_TOOL
	KindUseCase = federationv1.RecordKind_RECORD_KIND_USE_CASE
)

// kindTables names the index tables of a kind. The names are constants of
// this file, never input, so they are safe to format into SQL.
type kindTables struct {
	rows, terms, fts string
	collection       string // in resource names: origins/{origin}/{collection}/{id}
}

func tablesOf(k Kind) kindTables {
	if k == KindUseCase {
		return kindTables{rows: "use_cases", terms: "use_case_terms", fts: "use_cases_fts", collection: "usecases"}
	}
	return kindTables{rows: "tools", terms: "tool_terms", fts: "tools_fts", collection: "tools"}
}

// ResourceName is the name of a record: origins/{origin}/{collection}/{id}.
func ResourceName(k Kind, origin, id string) string {
	return "origins/" + origin + "/" + tablesOf(k).collection + "/" + id
}

func newResource(k Kind) (proto.Message, error) {
	switch k {
	case KindTool:
		return &catalogv1.Tool{}, nil
	case KindUseCase:
		return &catalogv1.UseCase{}, nil
	}
	return nil, fmt.Errorf("%w: unknown record kind %v", ErrInvalid, k)
}

func kindOf(m proto.Message) (Kind, error) {
	switch m.(type) {
	case *catalogv1.Tool:
		return KindTool, nil
	case *catalogv1.UseCase:
		return KindUseCase, nil
	}
	return 0, fmt.Errorf("%w: %T is not a catalog resource", ErrInvalid, m)
}

// term is one filterable value of a record.
type term struct{ facet, value string }

// indexEntry is what the search tables hold of one live record.
type indexEntry struct {
	sortName               string
	createTime, updateTime int64 // Unix microseconds
	terms                  []term
	// text is the full text of the three FTS columns: name, description,
	// features.
	text [3]string
}

// indexOf extracts the search columns of a decoded resource of origin.
func indexOf(origin string, m proto.Message) indexEntry {
	switch r := m.(type) {
	case *catalogv1.Tool:
		return toolIndex(origin, r)
	case *catalogv1.UseCase:
		return useCaseIndex(origin, r)
	}
	return indexEntry{}
}

func toolIndex(origin string, t *catalogv1.Tool) indexEntry {
	e := indexEntry{
		sortName:   strings.ToLower(t.GetDisplayName()),
		createTime: t.GetCreateTime().AsTime().UnixMicro(),
		updateTime: t.GetUpdateTime().AsTime().UnixMicro(),
	}
	terms := termSet{}
	terms.add("origin", origin)
	for _, c := range t.GetCategories() {
		terms.add("category", c)
	}
	for _, th := range t.GetOgpThemes() {
		terms.add("ogp_theme", th.String())
	}
	for _, id := range licenseIDs(t.GetLicense()) {
		terms.add("license", id)
	}
	for _, l := range t.GetAvailableLanguages() {
		terms.add("language", primaryLanguage(l))
	}
	langs := make([]string, 0, len(t.GetDescriptions()))
	for l := range t.GetDescriptions() {
		langs = append(langs, l)
	}
	sort.Strings(langs) // map order is random; the text must not be
	var desc, feats strings.Builder
	for _, l := range langs {
		terms.add("language", primaryLanguage(l))
		d := t.GetDescriptions()[l]
		desc.WriteString(d.GetShortDescription())
		desc.WriteString("\n")
		desc.WriteString(d.GetLongDescription())
		desc.WriteString("\n")
		for _, f := range d.GetFeatures() {
			feats.WriteString(f)
			feats.WriteString("\n")
		}
	}
	terms.add("development_status", t.GetDevelopmentStatus())
	for _, p := range t.GetPlatforms() {
		terms.add("platform", p)
	}
	e.terms = terms.list()
	e.text = [3]string{t.GetDisplayName(), desc.String(), feats.String()}
	return e
}

func useCaseIndex(origin string, u *catalogv1.UseCase) indexEntry {
	e := indexEntry{
		sortName:   strings.ToLower(u.GetOrganization().GetName()),
		createTime: u.GetCreateTime().AsTime().UnixMicro(),
		updateTime: u.GetUpdateTime().AsTime().UnixMicro(),
	}
	terms := termSet{}
	terms.add("origin", origin)
	terms.add("tool", u.GetTool())
	terms.add("country", strings.ToUpper(u.GetOrganization().GetCountry()))
	if k := u.GetOrganization().GetKind(); k != catalogv1.OrganizationKind_ORGANIZATION_KIND_UNSPECIFIED {
		terms.add("organization_kind", k.String())
	}
	if st := u.GetStatus(); st != catalogv1.UseCaseStatus_USE_CASE_STATUS_UNSPECIFIED {
		terms.add("status", st.String())
	}
	for _, c := range u.GetCommitments() {
		terms.add("commitment", c)
	}
	e.terms = terms.list()
	e.text = [3]string{u.GetOrganization().GetName(), u.GetPurpose(), u.GetTool() + "\n" + strings.Join(u.GetCommitments(), " ")}
	return e
}

// termSet collects terms without duplicates, skipping empty values.
type termSet map[term]struct{}

func (s termSet) add(facet, value string) {
	if value != "" {
		s[term{facet, value}] = struct{}{}
	}
}

func (s termSet) list() []term {
	out := make([]term, 0, len(s))
	for t := range s {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].facet != out[j].facet {
			return out[i].facet < out[j].facet
		}
		return out[i].value < out[j].value
	})
	return out
}

// primaryLanguage is the language subtag of a BCP 47 tag, lowercased:
// "pt-BR" gives "pt".
func primaryLanguage(tag string) string {
	l, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(l)
}

// licenseIDs are the licenses an SPDX expression names. A record from a peer
// is indexed even if its expression does not parse: then it counts as its
// whole text.
func licenseIDs(expr string) []string {
	if strings.TrimSpace(expr) == "" {
		return nil
	}
	e, err := spdx.Parse(expr)
	if err != nil {
		return []string{expr}
	}
	return e.Licenses()
}
