package storage

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/search"
	"google.golang.org/protobuf/proto"
)

// Kind is the kind of resource a record holds.
type Kind = federationv1.RecordKind

// The kinds of resource.
const (
	KindTool    = federationv1.RecordKind_RECORD_KIND_TOOL
	KindUseCase = federationv1.RecordKind_RECORD_KIND_USE_CASE
)

// collectionOf is the collection of kind k in resource names.
func collectionOf(k Kind) string {
	if k == KindUseCase {
		return "usecases"
	}
	return "tools"
}

// ResourceName is the name of a record: origins/{origin}/{collection}/{id}.
func ResourceName(k Kind, origin, id string) string {
	return "origins/" + origin + "/" + collectionOf(k) + "/" + id
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

// searchDoc is what the search index holds of a decoded resource of origin.
func (s *Store) searchDoc(origin string, m proto.Message) search.Doc {
	switch r := m.(type) {
	case *catalogv1.Tool:
		return toolDoc(origin, r, &s.qualifier)
	case *catalogv1.UseCase:
		return useCaseDoc(origin, r)
	}
	return search.Doc{}
}

// filing names a tool's licenses and languages as its facets file them
// (a *qualify.Qualifier, which keeps the names it gave).
type filing interface {
	LicenseIDs(expr string) []string
	Language(tag string) string
}

// toolDoc is searchDoc for a tool; filed names its licenses and languages.
func toolDoc(origin string, t *catalogv1.Tool, filed filing) search.Doc {
	d := search.Doc{
		SortName:   search.SortKey(t.GetDisplayName()),
		CreateTime: t.GetCreateTime().AsTime().UnixMicro(),
		UpdateTime: t.GetUpdateTime().AsTime().UnixMicro(),
	}
	// Room for every value a tool usually has: the list grows once.
	f := make(facetList, 0, 4+len(t.GetCategories())+len(t.GetOgpThemes())+len(t.GetAvailableLanguages())+len(t.GetDescriptions())+len(t.GetPlatforms()))
	f.add("origin", origin)
	for _, c := range t.GetCategories() {
		f.add("category", c)
	}
	for _, th := range t.GetOgpThemes() {
		name, known := catalogv1.OgpTheme_name[int32(th)] // what String gives, without its reflection
		if !known {
			name = th.String() // a theme of a newer version: its number
		}
		f.add("ogp_theme", name)
	}
	for _, id := range filed.LicenseIDs(t.GetLicense()) {
		f.add("license", id)
	}
	for _, l := range t.GetAvailableLanguages() {
		f.add("language", filed.Language(l))
	}
	langs := make([]string, 0, len(t.GetDescriptions()))
	nFeatures := 0
	for l, dd := range t.GetDescriptions() {
		langs = append(langs, l)
		nFeatures += len(dd.GetFeatures())
	}
	sort.Strings(langs) // map order is random; the text must not be
	desc := make([]string, 0, 2*len(langs))
	feats := make([]string, 0, nFeatures)
	for _, l := range langs {
		f.add("language", filed.Language(l))
		dd := t.GetDescriptions()[l]
		desc = append(desc, dd.GetShortDescription(), dd.GetLongDescription())
		feats = append(feats, dd.GetFeatures()...)
	}
	f.add("development_status", t.GetDevelopmentStatus())
	for _, p := range t.GetPlatforms() {
		f.add("platform", p)
	}
	d.Facets = f
	d.Fields = [search.NumFields][]string{{t.GetDisplayName()}, desc, feats}
	return d
}

func useCaseDoc(origin string, u *catalogv1.UseCase) search.Doc {
	d := search.Doc{
		SortName:   search.SortKey(u.GetOrganization().GetName()),
		CreateTime: u.GetCreateTime().AsTime().UnixMicro(),
		UpdateTime: u.GetUpdateTime().AsTime().UnixMicro(),
	}
	f := facetList{}
	f.add("origin", origin)
	f.add("tool", u.GetTool())
	// A peer's record may write a country as the API no longer takes it
	// (UK for GB): it is found under the country's code.
	f.add("country", envelope.UseCaseCountry(u.GetOrganization().GetCountry()))
	if k := u.GetOrganization().GetKind(); k != catalogv1.OrganizationKind_ORGANIZATION_KIND_UNSPECIFIED {
		f.add("organization_kind", k.String())
	}
	// A status not known is one of the values, which a filter and the
	// facet name USE_CASE_STATUS_UNSPECIFIED.
	f.add("status", u.GetStatus().String())
	for _, c := range u.GetCommitments() {
		f.add("commitment", c)
	}
	d.Facets = f
	d.Fields = [search.NumFields][]string{{u.GetOrganization().GetName()}, {u.GetPurpose()}, append([]string{toolWords(u.GetTool())}, u.GetCommitments()...)}
	return d
}

// toolWords is what a use case's search text keeps of the tool it names:
// the id of a tool's resource name (decidim of origins/fr/tools/decidim),
// the host and path of a URL; not the words every name or URL holds
// ("origins", "tools", "https"), which made a query of them match every
// use case.
func toolWords(tool string) string {
	if rest, ok := strings.CutPrefix(tool, "origins/"); ok {
		if _, id, ok := strings.Cut(rest, "/tools/"); ok {
			return id
		}
	}
	if u, err := url.Parse(tool); err == nil && u.Host != "" {
		return strings.TrimPrefix(u.Hostname(), "www.") + " " + u.Path
	}
	return tool
}

// facetList collects facet values, skipping empty ones. (The index counts
// a value repeated in one record once.)
type facetList []search.FacetValue

func (l *facetList) add(facet, value string) {
	if value != "" {
		*l = append(*l, search.FacetValue{Facet: facet, Value: value})
	}
}
