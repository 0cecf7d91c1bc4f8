package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/search"
	"google.golang.org/protobuf/proto"
)

// Query selects live records of one kind: full text, filters, order, page.
type Query struct {
	Kind Kind
	// Text is full-text search input as people type it. Its words must all
	// match (in any column, any language); a trailing "*" matches the last
	// word as a prefix.
	Text string
	// Filters keep the records having, for each filter, one of its values.
	Filters []Filter
	// Order is "relevance" (only with Text), "name", "create_time",
	// "update_time" or, for tools, "score" (qualification); empty means relevance with Text and update_time
	// descending without.
	Order string
	// Desc reverses the order (relevance is best first either way).
	Desc bool
	// Limit and Offset select the page.
	Limit, Offset int
	// After, when set, selects the records after it in the order, as
	// the next page after one whose last record had it (see SearchPage).
	After *Cursor
	// CollapseDuplicates keeps only the best of the tools that are the
	// same software (package identity).
	CollapseDuplicates bool
	// MaxBytes, when set, bounds the records SearchPage reads: from the
	// first, those whose stored bytes add up to it (one at least); the
	// hits after are Unread. A page of 200 records of megabytes each was
	// read whole, then cut to what an answer holds.
	MaxBytes int
}

// A Filter keeps records having one of Values in Facet ("category",
// "origin"...: the facets of FacetNames).
type Filter struct {
	Facet  string
	Values []string
}

// FacetNames are the facets records of kind k can be filtered and counted
// by, in the order facet counts are returned.
func FacetNames(k Kind) []string {
	if k == KindUseCase {
		return []string{"origin", "tool", "country", "organization_kind", "status", "commitment"}
	}
	return []string{"origin", "category", "ogp_theme", "license", "language", "development_status", "platform", criterionFacet}
}

// maxFacetValues bounds each facet of a Facets answer.
const maxFacetValues = 100

// A Cursor is a record's place in the order of a query (package search).
type Cursor = search.Cursor

// MaxSortName is the longest sort name a Cursor holds (search.MaxSortName).
const MaxSortName = search.MaxSortName

// A Hit is a record a search selected, and its place in the search's
// order, from which the next page starts (Query.After).
type Hit struct {
	// Record is nil for a record deleted between the search and the read
	// of its page, and for one Unread.
	Record proto.Message
	Cursor Cursor
	// Unread is set on the hits past Query.MaxBytes: the page ends before
	// the first of them.
	Unread bool
}

// Search returns a page of the records q selects, and how many it selects
// in all (one a software when q collapses duplicates).
func (s *Store) Search(ctx context.Context, q Query) ([]proto.Message, int, error) {
	hits, total, err := s.SearchPage(ctx, q)
	var ms []proto.Message
	for _, h := range hits {
		if h.Record != nil {
			ms = append(ms, h.Record)
		}
	}
	return ms, total, err
}

// SearchPage is Search with each record's place in the order: a page that
// ends at a record goes on with the records after its cursor, however many
// were written or deleted before it since (an offset would skip or repeat
// one for each). The count comes from the same state of the index as the
// page.
func (s *Store) SearchPage(ctx context.Context, q Query) ([]Hit, int, error) {
	sq, err := searchQuery(q)
	if err != nil {
		return nil, 0, err
	}
	s.awaitIndex()
	page, total, err := s.indexOf(q.Kind).Search(sq)
	if err != nil {
		return nil, 0, invalidQuery(err)
	}
	rids := make([]int64, len(page))
	for i, c := range page {
		rids[i] = c.ID
	}
	read := len(rids)
	if q.MaxBytes > 0 && len(rids) > 1 {
		if read, err = s.withinBytes(ctx, rids, q.MaxBytes); err != nil {
			return nil, 0, err
		}
	}
	ms, err := s.readRecords(ctx, rids[:read], nil)
	if err != nil {
		return nil, 0, err
	}
	hits := make([]Hit, len(page))
	for i, c := range page {
		hits[i] = Hit{Record: ms[c.ID], Cursor: c, Unread: i >= read}
	}
	return hits, total, nil
}

// withinBytes is how many of rids, from the first, have records whose
// stored bytes add up to at most max: one at least. The sizes are read
// alone, which SQLite does without reading the records.
func (s *Store) withinBytes(ctx context.Context, rids []int64, max int) (int, error) {
	sizes, err := s.storedSizes(ctx, rids)
	if err != nil {
		return 0, err
	}
	total := 0
	for i, rid := range rids {
		if total += sizes[rid]; total > max && i > 0 {
			return i, nil
		}
	}
	return len(rids), nil
}

// storedSizes are the sizes of the live records of rids, by rid.
func (s *Store) storedSizes(ctx context.Context, rids []int64) (map[int64]int, error) {
	sizes := make(map[int64]int, len(rids))
	for start := 0; start < len(rids); start += ridsPerQuery {
		chunk := rids[start:min(start+ridsPerQuery, len(rids))]
		args := make([]any, len(chunk))
		for i, rid := range chunk {
			args[i] = rid
		}
		rows, err := s.reader.QueryContext(ctx, "SELECT rid, length(record) FROM records WHERE deleted = 0 AND rid IN (?"+
			strings.Repeat(", ?", len(chunk)-1)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		for rows.Next() {
			var rid int64
			var size int
			if err := rows.Scan(&rid, &size); err != nil {
				rows.Close()
				return nil, fmt.Errorf("search: %w", err)
			}
			sizes[rid] = size
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
	}
	return sizes, nil
}

// ridsPerQuery is how many rids a statement binds at most: SQLite takes
// at most 32,766 bound variables, and a software may have more records.
const ridsPerQuery = 500

// searchQuery is q for the search index.
func searchQuery(q Query) (search.Query, error) {
	known := map[string]bool{}
	for _, f := range FacetNames(q.Kind) {
		known[f] = true
	}
	sq := search.Query{Text: q.Text, Desc: q.Desc, Limit: q.Limit, Offset: q.Offset, After: q.After, Collapse: q.CollapseDuplicates}
	for _, f := range q.Filters {
		if len(f.Values) == 0 {
			continue
		}
		if !known[f.Facet] {
			return sq, fmt.Errorf("%w: no filter %q", ErrInvalid, f.Facet)
		}
		// Criteria must all be met, each a filter of its own: the
		// values of the other facets are alternatives.
		sq.Filters = append(sq.Filters, search.Filter{Facet: f.Facet, Values: f.Values, Alternatives: f.Facet != criterionFacet})
	}
	switch q.Order {
	case "":
		if q.Text == "" {
			sq.Order, sq.Desc = search.ByUpdateTime, true
		}
	case "relevance":
		if q.Text == "" {
			return sq, fmt.Errorf("%w: order by relevance needs a query", ErrInvalid)
		}
	case "name":
		sq.Order = search.ByName
	case "create_time":
		sq.Order = search.ByCreateTime
	case "update_time":
		sq.Order = search.ByUpdateTime
	case "score":
		if q.Kind != KindTool {
			return sq, fmt.Errorf("%w: only tools have a score to order by", ErrInvalid)
		}
		sq.Order = search.ByScore
	default:
		return sq, fmt.Errorf("%w: cannot order by %q", ErrInvalid, q.Order)
	}
	if q.Text != "" {
		if err := CheckText(q.Text); err != nil {
			return sq, err
		}
	}
	return sq, nil
}

// readRecords reads the live records of rids, with their etags, by rid. A
// record deleted since the index named it is not there. With short, each
// record is short's abridgment of it, unqualified: only one record whole
// is held at a time.
func (s *Store) readRecords(ctx context.Context, rids []int64, short func(proto.Message) proto.Message) (map[int64]proto.Message, error) {
	if len(rids) == 0 {
		return nil, nil
	}
	s.awaitIndex() // qualifications read the links
	// One snapshot, read in chunks (ridsPerQuery). A page of search
	// results is one chunk, one statement: no transaction is begun for it
	// (that cost a search 70 µs).
	const perQuery = ridsPerQuery
	var q interface {
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	} = s.reader
	if len(rids) > perQuery {
		tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		defer tx.Rollback()
		q = tx
	}
	args := make([]any, 0, min(len(rids), perQuery))
	byRID := make(map[int64]proto.Message, len(rids))
	// Every tool of a software has its use cases: found once a software,
	// not once a tool, which walked the software for each of them.
	uses, now := s.links.groupUseCases(), s.now()
	for start := 0; start < len(rids); start += perQuery {
		chunk := rids[start:min(start+perQuery, len(rids))]
		args = args[:0]
		for _, rid := range chunk {
			args = append(args, rid)
		}
		rows, err := q.QueryContext(ctx, "SELECT rid, record, signature FROM records WHERE deleted = 0 AND rid IN (?"+
			strings.Repeat(", ?", len(chunk)-1)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		for rows.Next() {
			var rid int64
			var rec, sig []byte
			if err := rows.Scan(&rid, &rec, &sig); err != nil {
				rows.Close()
				return nil, fmt.Errorf("search: %w", err)
			}
			m, err := decodeStored(rec, sig)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("search: %w", err)
			}
			if t, ok := m.(*catalogv1.Tool); ok && short == nil {
				t.Qualification = s.qualifier.Qualify(t, uses.of(linkOf(t)), now)
			}
			if short != nil {
				m = short(m)
			}
			byRID[rid] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
	}
	return byRID, nil
}

// FacetCount is how many matching records have Value in Facet.
type FacetCount struct {
	Facet string
	Value string
	Count int64
}

// Facets counts the records q selects (ignoring its order and page), in
// all and by facet value: for each facet, most frequent values first, at
// most 100.
func (s *Store) Facets(ctx context.Context, q Query) (int64, []FacetCount, error) {
	total, counts, _, err := s.FacetsListed(ctx, q)
	return total, counts, err
}

// FacetsListed is Facets, and for each facet of more than 100 values how
// many it does not list.
func (s *Store) FacetsListed(ctx context.Context, q Query) (int64, []FacetCount, map[string]int64, error) {
	q.Order, q.Limit, q.Offset = "name", 0, 0
	sq, err := searchQuery(q)
	if err != nil {
		return 0, nil, nil, err
	}
	s.awaitIndex()
	total, found, err := s.indexOf(q.Kind).Facets(sq)
	if err != nil {
		return 0, nil, nil, invalidQuery(err)
	}
	rank := map[string]int{}
	for i, f := range FacetNames(q.Kind) {
		rank[f] = i
	}
	counts := make([]FacetCount, 0, len(found))
	for _, c := range found {
		if _, ok := rank[c.Facet]; ok {
			counts = append(counts, FacetCount{Facet: c.Facet, Value: c.Value, Count: int64(c.Count)})
		}
	}
	sort.Slice(counts, func(i, j int) bool {
		a, b := counts[i], counts[j]
		if a.Facet != b.Facet {
			return rank[a.Facet] < rank[b.Facet]
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Value < b.Value
	})
	out := counts[:0]
	perFacet := map[string]int{}
	unlisted := map[string]int64{}
	for _, c := range counts {
		if perFacet[c.Facet] < maxFacetValues {
			perFacet[c.Facet]++
			out = append(out, c)
		} else {
			unlisted[c.Facet]++
		}
	}
	return int64(total), out, unlisted, nil
}

// CheckText reports whether text can be searched for: it has words, and
// not too many. Search and Facets refuse the same texts with ErrInvalid.
func CheckText(text string) error {
	if err := search.CheckText(text); err != nil {
		return invalidQuery(err)
	}
	return nil
}

// invalidQuery is a search error as ErrInvalid, with the index's reason.
func invalidQuery(err error) error {
	var qe *search.QueryError
	if errors.As(err, &qe) {
		return fmt.Errorf("%w: %s", ErrInvalid, qe.Reason)
	}
	return fmt.Errorf("search: %w", err)
}
