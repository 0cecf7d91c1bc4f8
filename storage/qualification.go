package storage

import (
	"context"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/search"
	"google.golang.org/protobuf/proto"
)

// criterionFacet is the facet of the criteria a tool meets: the search
// filter "criterion" keeps tools that meet the given ones.
const criterionFacet = "criterion"

// qualification is how t meets the criteria, from the use cases of its
// software held now.
func (s *Store) qualification(t *catalogv1.Tool) *catalogv1.Qualification {
	return s.qualifier.Qualify(t, s.links.useCasesOf(linkOf(t)), s.now())
}

// SetQualification sets the qualification of m if it is a tool: it is
// computed by every node from what it holds, not stored with the record,
// once the links the indexer keeps have every write committed before (the
// use cases written before a tool count in the answer to its create, as
// in every read after).
func (s *Store) SetQualification(m proto.Message) {
	if t, ok := m.(*catalogv1.Tool); ok && !t.GetDeleted() {
		s.awaitIndex()
		t.Qualification = s.qualification(t)
	}
}

// withQualification adds to a tool's analyzed text what the index keeps
// of its qualification: the criteria it meets as facet values, its score
// as the sort key of order "score", and its software as the group that
// collapsing duplicates goes by.
func (s *Store) withQualification(a search.Analyzed, t *catalogv1.Tool, tl toolLink, uses *groupUseCases, now time.Time) search.Analyzed {
	q := s.qualifier.Assess(t, uses.of(tl), now)
	var ids [16]string
	metIDs := q.AppendMet(ids[:0])
	met := make([]search.FacetValue, len(metIDs))
	for i, id := range metIDs {
		met[i] = search.FacetValue{Facet: criterionFacet, Value: id}
	}
	return a.With(met, int64(q.Score), tl.key)
}

// qualificationInput is what qualification reads of a tool, which the
// index build keeps for every tool until the use cases are all linked,
// rather than whole records.
func qualificationInput(t *catalogv1.Tool) *catalogv1.Tool {
	in := &catalogv1.Tool{
		Name: t.GetName(), License: t.GetLicense(), RepositoryUrl: t.GetRepositoryUrl(), LandingUrl: t.GetLandingUrl(),
		Maintenance: t.GetMaintenance(), ReleaseDate: t.GetReleaseDate(), LocalisationReady: t.GetLocalisationReady(),
		AvailableLanguages: t.GetAvailableLanguages(), Standards: t.GetStandards(),
		Descriptions: make(map[string]*catalogv1.Description, len(t.GetDescriptions())),
	}
	for lang, d := range t.GetDescriptions() {
		in.Descriptions[lang] = &catalogv1.Description{DocumentationUrl: d.GetDocumentationUrl(), ApiDocumentationUrl: d.GetApiDocumentationUrl()}
	}
	return in
}

// Adoption is who uses a software across the federation.
type Adoption struct {
	// Software identifies it (package identity); empty when the tool has
	// no URL to go by.
	Software string
	// Tools are the live records of the software from every origin, the
	// tool asked about included.
	Tools []*catalogv1.Tool
	// UseCases are the live use cases that refer to any of them.
	UseCases []*catalogv1.UseCase
	// Abridged are the records read abridged (see AdoptionWithin).
	Abridged map[proto.Message]bool
}

// Adoption returns the adoption of the live tool origin/id, every record
// whole.
func (s *Store) Adoption(ctx context.Context, origin, id string) (*Adoption, error) {
	return s.AdoptionWithin(ctx, origin, id, 0, nil)
}

// AdoptionWithin is Adoption, but only the records whose stored bytes add
// up to wholeBytes (the tools first, then the use cases) are read whole,
// and the tool asked about: the others are read as short abridges them,
// one at a time. A software of thousands of records, of megabytes
// each from a peer, was read whole, then cut to what an answer holds.
func (s *Store) AdoptionWithin(ctx context.Context, origin, id string, wholeBytes int, short func(proto.Message) proto.Message) (*Adoption, error) {
	m, err := s.Get(ctx, KindTool, origin, id)
	if err != nil {
		return nil, err
	}
	t := m.(*catalogv1.Tool)
	s.awaitIndex() // the links have every committed write
	tl := linkOf(t)
	a := &Adoption{Software: tl.key, Abridged: map[proto.Message]bool{}}
	budget := wholeBytes
	read := func(rids []int64) ([]proto.Message, error) {
		whole := len(rids)
		if short != nil && wholeBytes > 0 {
			sizes, err := s.storedSizes(ctx, rids)
			if err != nil {
				return nil, err
			}
			for i, rid := range rids {
				if budget -= sizes[rid]; budget < 0 {
					whole = i
					break
				}
			}
		}
		byRID, err := s.readRecords(ctx, rids[:whole], nil)
		if err != nil {
			return nil, err
		}
		shortened, err := s.readRecords(ctx, rids[whole:], short)
		if err != nil {
			return nil, err
		}
		out := make([]proto.Message, 0, len(rids))
		for _, rid := range rids {
			if m, ok := byRID[rid]; ok {
				out = append(out, m)
			} else if m, ok := shortened[rid]; ok {
				if n, _ := m.(interface{ GetName() string }); n != nil && n.GetName() == t.GetName() {
					out = append(out, t) // the tool asked about, whole
					continue
				}
				out = append(out, m)
				a.Abridged[m] = true
			}
		}
		return out, nil
	}
	tools, err := read(s.links.sameSoftware(tl))
	if err != nil {
		return nil, err
	}
	if len(tools) == 0 {
		tools = []proto.Message{t}
	}
	for _, m := range tools {
		a.Tools = append(a.Tools, m.(*catalogv1.Tool))
	}
	useCases, err := read(s.links.useCaseRIDs(tl))
	if err != nil {
		return nil, err
	}
	for _, m := range useCases {
		a.UseCases = append(a.UseCases, m.(*catalogv1.UseCase))
	}
	return a, nil
}
