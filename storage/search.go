package storage

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"unicode"

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
	// Order is "relevance" (only with Text), "name", "create_time" or
	// "update_time"; empty means relevance with Text and update_time
	// descending without.
	Order string
	// Desc reverses the order (relevance is best first either way).
	Desc bool
	// Limit and Offset select the page.
	Limit, Offset int
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
	return []string{"origin", "category", "ogp_theme", "license", "language", "development_status", "platform"}
}

// rankWeights are the bm25 weights of the full-text columns (name,
// description, features); the migration sets the same as each FTS table's
// rank, and a test checks that they agree.
const rankWeights = "10.0, 2.0, 1.0"

// maxFacetValues bounds each facet of a Facets answer.
const maxFacetValues = 100

// Search returns a page of the records q selects.
func (s *Store) Search(ctx context.Context, q Query) ([]proto.Message, error) {
	t := tablesOf(q.Kind)
	order, desc := q.Order, q.Desc
	if order == "" {
		order = "relevance"
		if q.Text == "" {
			order, desc = "update_time", true
		}
	}
	var stmt string
	var args []any
	if order == "relevance" {
		if q.Text == "" {
			return nil, fmt.Errorf("%w: order by relevance needs a query", ErrInvalid)
		}
		where, a, err := s.matchClause(q, t.fts+".rowid", true)
		if err != nil {
			return nil, err
		}
		// Without filters, FTS5 sorts by its rank itself. With filters,
		// ranking by rank would score every match before the filters run;
		// the same bm25 as an ORDER BY expression scores only the matches
		// that pass them.
		orderBy := t.fts + ".rank"
		if hasFilters(q) {
			orderBy = "bm25(" + t.fts + ", " + rankWeights + ")"
		}
		stmt = "SELECT r.record, r.signature FROM " + t.fts + " JOIN records r ON r.rid = " + t.fts + ".rowid" +
			" WHERE " + where + " ORDER BY " + orderBy + " LIMIT ? OFFSET ?"
		args = a
	} else {
		col := map[string]string{"name": "sort_name", "create_time": "create_time", "update_time": "update_time"}[order]
		if col == "" {
			return nil, fmt.Errorf("%w: cannot order by %q", ErrInvalid, order)
		}
		dir := ""
		if desc {
			dir = " DESC"
		}
		where, a, err := s.matchClause(q, "x.rid", false)
		if err != nil {
			return nil, err
		}
		stmt = "SELECT r.record, r.signature FROM " + t.rows + " x JOIN records r ON r.rid = x.rid" +
			" WHERE " + where + " ORDER BY x." + col + dir + ", x.rid" + dir + " LIMIT ? OFFSET ?"
		args = a
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := s.reader.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var out []proto.Message
	for rows.Next() {
		var rec, sig []byte
		if err := rows.Scan(&rec, &sig); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		m, err := decodeStored(rec, sig)
		if err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return out, nil
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
	t := tablesOf(q.Kind)
	var matching string
	if q.Text != "" {
		where, args, err := s.matchClause(q, t.fts+".rowid", true)
		if err != nil {
			return 0, nil, err
		}
		matching = "SELECT " + t.fts + ".rowid AS rid FROM " + t.fts + " WHERE " + where
		return s.countFacets(ctx, q.Kind, matching, args)
	}
	where, args, err := s.matchClause(q, "x.rid", false)
	if err != nil {
		return 0, nil, err
	}
	matching = "SELECT x.rid AS rid FROM " + t.rows + " x WHERE " + where
	return s.countFacets(ctx, q.Kind, matching, args)
}

func (s *Store) countFacets(ctx context.Context, k Kind, matching string, args []any) (int64, []FacetCount, error) {
	// One read transaction, so the total and the counts agree.
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, fmt.Errorf("facets: %w", err)
	}
	defer tx.Rollback()
	var total int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM ("+matching+")", args...).Scan(&total); err != nil {
		return 0, nil, fmt.Errorf("facets: %w", err)
	}
	rows, err := tx.QueryContext(ctx, "WITH m AS ("+matching+") SELECT facet, value, count(*) FROM "+tablesOf(k).terms+
		" WHERE rid IN (SELECT rid FROM m) GROUP BY facet, value", args...)
	if err != nil {
		return 0, nil, fmt.Errorf("facets: %w", err)
	}
	defer rows.Close()
	var counts []FacetCount
	for rows.Next() {
		var c FacetCount
		if err := rows.Scan(&c.Facet, &c.Value, &c.Count); err != nil {
			return 0, nil, fmt.Errorf("facets: %w", err)
		}
		counts = append(counts, c)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("facets: %w", err)
	}
	rank := map[string]int{}
	for i, f := range FacetNames(k) {
		rank[f] = i
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
	for _, c := range counts {
		if perFacet[c.Facet] < maxFacetValues {
			perFacet[c.Facet]++
			out = append(out, c)
		}
	}
	return total, out, nil
}

func hasFilters(q Query) bool {
	for _, f := range q.Filters {
		if len(f.Values) > 0 {
			return true
		}
	}
	return false
}

// matchClause is the WHERE clause that selects q's records, where rid is
// the row id column of the table the caller selects from. With ftsOuter the
// caller selects from the full-text table itself, which is then matched
// directly (as FTS5 needs in order to rank).
func (s *Store) matchClause(q Query, rid string, ftsOuter bool) (string, []any, error) {
	t := tablesOf(q.Kind)
	conds := []string{"1"}
	var args []any
	if q.Text != "" {
		match, err := ftsQuery(q.Text)
		if err != nil {
			return "", nil, err
		}
		if ftsOuter {
			conds = append(conds, t.fts+" MATCH ?")
		} else {
			conds = append(conds, rid+" IN (SELECT rowid FROM "+t.fts+" WHERE "+t.fts+" MATCH ?)")
		}
		args = append(args, match)
	}
	known := map[string]bool{}
	for _, f := range FacetNames(q.Kind) {
		known[f] = true
	}
	for _, f := range q.Filters {
		if len(f.Values) == 0 {
			continue
		}
		if !known[f.Facet] {
			return "", nil, fmt.Errorf("%w: no filter %q", ErrInvalid, f.Facet)
		}
		// The unary + keeps SQLite from handing the filter to FTS5 as a rowid
		// constraint, which would rerun the full-text match once per
		// filtered row: the filter is checked on each match instead.
		conds = append(conds, "+"+rid+" IN (SELECT rid FROM "+t.terms+" WHERE facet = ? AND value IN (?"+
			strings.Repeat(", ?", len(f.Values)-1)+"))")
		args = append(args, f.Facet)
		for _, v := range f.Values {
			args = append(args, v)
		}
	}
	return strings.Join(conds, " AND "), args, nil
}

// CheckText reports whether text can be searched for: it has words, and
// not too many. Search and Facets refuse the same texts with ErrInvalid.
func CheckText(text string) error {
	_, err := ftsQuery(text)
	return err
}

// maxQueryWords bounds the work one search can ask for.
const maxQueryWords = 32

// ftsQuery turns text as people type it into an FTS5 query that matches
// every word: each word is quoted, so no character of the input is FTS5
// syntax, and a trailing "*" makes the last word a prefix.
func ftsQuery(text string) (string, error) {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return "", fmt.Errorf("%w: the query %q has no words to search for", ErrInvalid, text)
	}
	if len(words) > maxQueryWords {
		return "", fmt.Errorf("%w: the query has %d words, more than %d", ErrInvalid, len(words), maxQueryWords)
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = `"` + w + `"`
	}
	if strings.HasSuffix(strings.TrimSpace(text), "*") {
		quoted[len(quoted)-1] += "*"
	}
	return strings.Join(quoted, " "), nil
}
