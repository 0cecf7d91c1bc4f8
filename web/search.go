package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
)

// searchPageSize is how many tools a page of results shows.
const searchPageSize = 20

// callTimeout bounds the API calls of one page.
const callTimeout = 10 * time.Second

// facetFields are the search's filters, in the order the page shows their
// facets: each is a query parameter of the page and a filter of ListTools.
func facetFields() []string {
	return []string{"origin", "ogp_theme", "category", "license", "language", "development_status", "criterion", "platform"}
}

// orders are the page's orders and the API's order_by for each.
func orders() map[string]string {
	return map[string]string{"relevance": "relevance", "name": "display_name", "score": "score desc", "recent": "update_time desc"}
}

// facetShown is how many values of a facet show before "more".
const facetShown = 8

// searchQuery is the search page's parameters.
type searchQuery struct {
	Text      string
	Order     string
	Collapse  bool
	PageToken string
	Prev      []string            // the tokens of the pages before, for "previous"
	Filters   map[string][]string // by facet field
}

// maxSearchFilters bounds the filter values of a search: each link of the
// page repeats them all, so that the page grew with their square (148 MB
// of HTML for 2,000 of them). Far more than anyone selects by clicking.
const maxSearchFilters = 50

// maxSearchBytes bounds the words and filter values of a search together,
// for the same reason: every link of its page repeats them (50 values of
// 20 KB made a page of 100 MB). The longest value a filter takes, an SPDX
// expression, is far shorter.
const maxSearchBytes = 2 << 10

// parseSearch reads the page's parameters; the error names the one that
// is wrong.
func parseSearch(q url.Values) (searchQuery, error) {
	sq := searchQuery{
		Text: strings.TrimSpace(q.Get("q")), Order: q.Get("order"), Collapse: q.Get("collapse") == "1",
		PageToken: q.Get("page_token"), Prev: q["prev"], Filters: map[string][]string{},
	}
	if sq.Order != "" {
		if _, ok := orders()[sq.Order]; !ok {
			return sq, fmt.Errorf("order: %q is not an order: use relevance, name, score or recent", sq.Order)
		}
	}
	if len(sq.Text) > maxSearchBytes {
		return sq, fmt.Errorf("q: %d bytes, more than a search takes (%d)", len(sq.Text), maxSearchBytes)
	}
	n, size := 0, len(sq.Text)
	for _, f := range facetFields() {
		for _, v := range q[f] {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(sq.Filters[f], v) {
				sq.Filters[f] = append(sq.Filters[f], v)
				if n++; n > maxSearchFilters {
					return sq, fmt.Errorf("%s: more filters than a search takes (%d in all)", f, maxSearchFilters)
				}
				if size += len(v); size > maxSearchBytes {
					return sq, fmt.Errorf("%s: the words and filters of the search come to more than it takes (%d bytes)", f, maxSearchBytes)
				}
			}
		}
	}
	for _, th := range sq.Filters["ogp_theme"] {
		if themeOf(th) == catalogv1.OgpTheme_OGP_THEME_UNSPECIFIED {
			return sq, fmt.Errorf("ogp_theme: %q is not an OGP theme", th)
		}
	}
	return sq, nil
}

// themeOf is the OGP theme a page's parameter names: by its name, or by
// its number for a theme of a newer version than this node's, which a
// peer's tool may have and the facets name so. Unspecified for neither.
func themeOf(param string) catalogv1.OgpTheme {
	if v, ok := catalogv1.OgpTheme_value[param]; ok {
		return catalogv1.OgpTheme(v)
	}
	if n, err := strconv.ParseInt(param, 10, 32); err == nil && n > 0 && strconv.FormatInt(n, 10) == param {
		return catalogv1.OgpTheme(n)
	}
	return catalogv1.OgpTheme_OGP_THEME_UNSPECIFIED
}

// orderBy is the API's order_by: relevance needs a query, so without one
// the API's default (most recently updated first) stands.
func (sq searchQuery) orderBy() string {
	if sq.Order == "" || (sq.Order == "relevance" && sq.Text == "") {
		return ""
	}
	return orders()[sq.Order]
}

func (sq searchQuery) themes() []catalogv1.OgpTheme {
	var out []catalogv1.OgpTheme
	for _, th := range sq.Filters["ogp_theme"] {
		out = append(out, themeOf(th))
	}
	return out
}

// values is the page's URL query for sq, without paging.
func (sq searchQuery) values() url.Values {
	v := url.Values{}
	if sq.Text != "" {
		v.Set("q", sq.Text)
	}
	if sq.Order != "" {
		v.Set("order", sq.Order)
	}
	if sq.Collapse {
		v.Set("collapse", "1")
	}
	for _, f := range facetFields() {
		for _, val := range sq.Filters[f] {
			v.Add(f, val)
		}
	}
	return v
}

// toggled is the URL of the first page of sq with value of field added to
// the filters, or removed if it is there.
func (sq searchQuery) toggled(field, value string) string {
	v := sq.values()
	vals := v[field]
	if i := slices.Index(vals, value); i >= 0 {
		v[field] = slices.Delete(slices.Clone(vals), i, i+1)
	} else {
		v.Add(field, value)
	}
	return "/?" + v.Encode()
}

type searchView struct {
	Query      searchQuery
	Orders     []string
	Total      int64
	Results    []resultView
	Facets     []facetView
	Active     []facetValueView // the filters in force, each a link that removes it
	ClearURL   string
	NextURL    string
	PrevURL    string
	FirstURL   string
	Hidden     [][2]string // the filters, as hidden fields of the search form
	PageNumber int
}

type resultView struct {
	Tool *catalogv1.Tool
	URL  string
}

type facetView struct {
	Field  string
	Values []facetValueView
	More   []facetValueView
	// Unlisted is how many values the facet has past those the API
	// lists (100), which no link can add.
	Unlisted int64
}

type facetValueView struct {
	Field, Value string
	Count        int64
	Selected     bool
	Href         string
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	sq, err := parseSearch(r.URL.Query())
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request", err.Error())
		return
	}
	c, cancel := s.calls(r)
	defer cancel()
	list := call(c, s.catalog.ListTools, &catalogv1.ListToolsRequest{
		Query: sq.Text, Origin: sq.Filters["origin"], Category: sq.Filters["category"], OgpTheme: sq.themes(),
		License: sq.Filters["license"], Language: sq.Filters["language"], DevelopmentStatus: sq.Filters["development_status"],
		Platform: sq.Filters["platform"], Criterion: sq.Filters["criterion"], OrderBy: sq.orderBy(),
		PageSize: searchPageSize, PageToken: sq.PageToken, CollapseDuplicates: sq.Collapse,
	})
	facets := call(c, s.catalog.GetToolFacets, &catalogv1.GetToolFacetsRequest{
		Query: sq.Text, Origin: sq.Filters["origin"], Category: sq.Filters["category"], OgpTheme: sq.themes(),
		License: sq.Filters["license"], Language: sq.Filters["language"], DevelopmentStatus: sq.Filters["development_status"],
		Platform: sq.Filters["platform"], Criterion: sq.Filters["criterion"], CollapseDuplicates: sq.Collapse,
	})
	if s.failed(w, r, c.err) {
		return
	}

	view := searchView{Query: sq, Orders: []string{"relevance", "name", "score", "recent"}, Total: list.GetTotalSize(), PageNumber: len(sq.Prev) + 1} // one a software when collapsed, as the facets count
	for _, t := range list.GetTools() {
		view.Results = append(view.Results, resultView{Tool: t, URL: toolURL(t.GetName())})
	}
	view.Facets = facetViews(sq, facets.GetFacets())
	for _, f := range facetFields() {
		for _, v := range sq.Filters[f] {
			view.Active = append(view.Active, facetValueView{Field: f, Value: v, Selected: true, Href: sq.toggled(f, v)})
			view.Hidden = append(view.Hidden, [2]string{f, v})
		}
	}
	base := sq.values()
	if len(view.Active) > 0 {
		clear := url.Values{}
		for _, k := range []string{"q", "order", "collapse"} {
			if v := base.Get(k); v != "" {
				clear.Set(k, v)
			}
		}
		view.ClearURL = "/?" + clear.Encode()
	}
	if tok := list.GetNextPageToken(); tok != "" {
		v := sq.values()
		v.Set("page_token", tok)
		for _, p := range append(slices.Clone(sq.Prev), sq.PageToken) {
			v.Add("prev", p)
		}
		view.NextURL = "/?" + v.Encode()
	}
	if n := len(sq.Prev); n > 0 {
		v := sq.values()
		if tok := sq.Prev[n-1]; tok != "" {
			v.Set("page_token", tok)
		}
		for _, p := range sq.Prev[:n-1] {
			v.Add("prev", p)
		}
		view.PrevURL = "/?" + v.Encode()
		view.FirstURL = "/?" + base.Encode()
	}

	p := s.newPage(w, r, "search.title")
	if sq.Text != "" {
		p.Title = p.T("search.title_query", sq.Text)
	}
	p.Content = view
	s.render(w, r, http.StatusOK, "search", p)
}

// facetViews are the facets the page shows, in the page's order, each
// value a link that adds it to the filters or removes it. A selected value
// the counts lack (none left) still shows, to be removed.
func facetViews(sq searchQuery, facets []*catalogv1.Facet) []facetView {
	byField := map[string]*catalogv1.Facet{}
	for _, f := range facets {
		byField[f.GetField()] = f
	}
	full := 0 // no value can be added once the filters are at maxSearchFilters
	for _, vs := range sq.Filters {
		full += len(vs)
	}
	addable := full < maxSearchFilters
	size := len(sq.Text) // what the search takes of its words and filters: see parseSearch
	for _, vs := range sq.Filters {
		for _, v := range vs {
			size += len(v)
		}
	}
	var out []facetView
	for _, field := range facetFields() {
		fv := facetView{Field: field, Unlisted: byField[field].GetUnlistedValueCount()}
		var all []facetValueView
		seen := map[string]bool{}
		for _, v := range byField[field].GetValues() {
			sel := slices.Contains(sq.Filters[field], v.GetValue())
			seen[v.GetValue()] = true
			href := ""
			// A value the page would refuse as a filter (a peer's
			// category of kilobytes, one with spaces around, which
			// the page trims) is shown without a link.
			if value := v.GetValue(); sel || addable && size+len(value) <= maxSearchBytes && strings.TrimSpace(value) == value {
				href = sq.toggled(field, value)
			}
			all = append(all, facetValueView{Field: field, Value: v.GetValue(), Count: v.GetCount(), Selected: sel, Href: href})
		}
		for _, v := range sq.Filters[field] {
			if !seen[v] {
				all = append(all, facetValueView{Field: field, Value: v, Selected: true, Href: sq.toggled(field, v)})
			}
		}
		if len(all) == 0 {
			continue
		}
		// Selected values first, so that none hides under "more".
		slices.SortStableFunc(all, func(a, b facetValueView) int {
			switch {
			case a.Selected == b.Selected:
				return 0
			case a.Selected:
				return -1
			}
			return 1
		})
		if len(all) > facetShown {
			fv.Values, fv.More = all[:facetShown], all[facetShown:]
		} else {
			fv.Values = all
		}
		out = append(out, fv)
	}
	return out
}
