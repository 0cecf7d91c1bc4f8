package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/ogptoolbox/federation/envelope"
	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// assets are the templates and the static files (CSS, icon), built into
// the binary: running a node needs no other file.
//
//go:embed templates static
var assets embed.FS

// pageNames are the pages; each is its template file with the layout and
// the shared parts.
func pageNames() []string {
	return []string{"search", "tool", "usecase", "federation", "signin", "form", "confirm", "done", "error"}
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"join":    strings.Join,
		"time":    formatTime,
		"toolURL": toolURL,
		"ucURL":   useCaseURL,
		"webURL":  isWebURL,
		// A record's text where no element can isolate it (a title).
		"closeBidi": closeBidi,
		// The direction of an input in a language: its script's.
		"dirOf": directionOf,
		"int64": func(i int) int64 { return int64(i) },
		// Parts that need the page (its language) beside their own data.
		"facetItem": func(p *page, v facetValueView) facetItem { return facetItem{Page: p, Value: v} },
		"descItem":  func(p *page, d describedIn, all bool) descItem { return descItem{Page: p, Desc: d, All: all} },
	}
	pages := map[string]*template.Template{}
	for _, name := range pageNames() {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse the %s page: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// page is what every template gets: the layout's needs, the reader's
// language with its message catalog, and the page's own Content.
type page struct {
	Title     string
	Lang      string
	Origin    string // the node's
	SignedIn  bool
	CSRF      string // the session's (or the sign-in form's) token
	LangLinks []langLink
	Content   any

	prefs    []language.Tag // for records' descriptions
	msgs     messages
	fallback messages
	regions  display.Namer
	langs    display.Namer
}

type langLink struct {
	Lang, Label, Href string
	Current           bool
}

// newPage starts the page of a request: its language, whether the reader
// is signed in, the language switch.
func (s *Server) newPage(w http.ResponseWriter, r *http.Request, titleKey string) *page {
	ui, prefs := readerLanguages(w, r)
	dict := display.English
	if ui == "fr" {
		dict = display.French
	}
	p := &page{
		Lang: ui, Origin: s.cfg.Origin, prefs: prefs,
		msgs: s.messages[ui], fallback: s.messages["en"],
		regions: dict.Regions(), langs: dict.Languages(),
	}
	p.Title = p.T(titleKey)
	if sess, ok := s.session(r); ok {
		p.SignedIn, p.CSRF = true, sess.csrf
	}
	for _, t := range pageLanguages() {
		l := t.String()
		q := r.URL.Query()
		if len(r.URL.RawQuery) > maxLinkedQuery {
			q = url.Values{} // a page refusing it does not repeat it
		}
		q.Set("lang", l)
		// The path as the request wrote it, escaped: decoded, a path of
		// "/%2Fevil.example" would link to //evil.example, another site.
		href := "/" + strings.TrimLeft(r.URL.EscapedPath(), "/") + "?" + q.Encode()
		if r.Method != http.MethodGet {
			href = "/?lang=" + l // a form's page is not a link to come back to
		}
		p.LangLinks = append(p.LangLinks, langLink{Lang: l, Label: display.Self.Name(t), Href: href, Current: l == ui})
	}
	return p
}

// maxLinkedQuery bounds the query a page's language links repeat: three
// times what a search takes, room for its escaping and its page tokens.
const maxLinkedQuery = 3 * maxSearchBytes

// T is the message key in the page's language (English if the catalog
// lacks it there), formatted with args when there are any.
func (p *page) T(key string, args ...any) string {
	m, ok := p.msgs[key]
	if !ok {
		if m, ok = p.fallback[key]; !ok {
			m = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// N is a count in words: key+".one" for 1 (and 0 in French), key+".other"
// otherwise, formatted with n.
func (p *page) N(key string, n int64) string {
	if n == 1 || (n == 0 && p.Lang == "fr") {
		return p.T(key+".one", n)
	}
	return p.T(key+".other", n)
}

// Country names an ISO 3166-1 code ("FR") in the page's language; the code
// itself when unknown.
func (p *page) Country(code string) string {
	if code == "" {
		return p.T("country.none")
	}
	return displayName(p.regions, code, language.ParseRegion)
}

// OriginLabel is an origin with the country it is named after: "fr
// (France)".
func (p *page) OriginLabel(origin string) string {
	if c := envelope.CountryOfOrigin(origin); c != "" {
		return origin + " (" + p.Country(c) + ")"
	}
	return origin
}

// LangName names a language tag in the page's language.
func (p *page) LangName(tag string) string {
	return displayName(p.langs, tag, language.Parse)
}

// displayName is namer's name of what code parses as, or code itself when
// it does not parse or namer has no name for it.
func displayName[T any](namer display.Namer, code string, parse func(string) (T, error)) string {
	v, err := parse(code)
	if err != nil {
		return code
	}
	if n := namer.Name(v); n != "" {
		return n
	}
	return code
}

// Theme names an OGP theme, given as the enum or its name.
func (p *page) Theme(theme any) string {
	switch t := theme.(type) {
	case catalogv1.OgpTheme:
		return p.T("theme." + t.String())
	case string:
		return p.T("theme." + t)
	}
	return fmt.Sprint(theme)
}

// Criterion names a qualification criterion.
func (p *page) Criterion(id string) string { return p.T("criterion." + id) }

// Enum names a value of an enum of the API (organisation kinds, use-case
// statuses, peer states, provenance kinds) by its name.
func (p *page) Enum(v fmt.Stringer) string { return p.T("enum." + v.String()) }

// Facet names a facet's value for people: a country for an origin, a
// theme's name, a language's name...
func (p *page) Facet(field, value string) string {
	switch field {
	case "origin":
		return p.OriginLabel(value)
	case "ogp_theme":
		return p.Theme(value)
	case "language":
		return p.LangName(value)
	case "criterion":
		return p.Criterion(value)
	case "development_status":
		return p.T("status." + value)
	}
	return value
}

// Description is the description of t in the reader's language when the
// record has it, and the language it is in.
func (p *page) Description(t *catalogv1.Tool) describedIn {
	langs := make([]string, 0, len(t.GetDescriptions()))
	for l := range t.GetDescriptions() {
		langs = append(langs, l)
	}
	l := pickLanguage(langs, p.prefs)
	return describedIn{Lang: l, Description: t.GetDescriptions()[l]}
}

type facetItem struct {
	Page  *page
	Value facetValueView
}

type descItem struct {
	Page *page
	Desc describedIn
	All  bool // with the short description and the links
}

type describedIn struct {
	Lang        string
	Description *catalogv1.Description
}

// render writes a page, or an error page if the template fails: the page
// is built in full before its status goes out.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.log.Error("render a page", "page", name, "error", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// formatTime is a timestamp for people, in UTC; "" when unset.
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil || !ts.IsValid() || (ts.GetSeconds() == 0 && ts.GetNanos() == 0) {
		return ""
	}
	return ts.AsTime().UTC().Format("2006-01-02 15:04 UTC")
}

// recordName is the resource name of a page's {origin}/{id}, a record of
// collection ("tools").
func recordName(r *http.Request, collection string) string {
	return "origins/" + r.PathValue("origin") + "/" + collection + "/" + r.PathValue("id")
}

// toolURL is the page of a tool's resource name (origins/fr/tools/x).
func toolURL(name string) string { return pagePath(name, "tools") }

// useCaseURL is the page of a use case's resource name.
func useCaseURL(name string) string { return pagePath(name, "usecases") }

func pagePath(name, collection string) string {
	parts := strings.Split(name, "/")
	if len(parts) != 4 || parts[0] != "origins" || parts[2] != collection {
		return ""
	}
	return "/" + collection + "/" + url.PathEscape(parts[1]) + "/" + url.PathEscape(parts[3])
}

// isWebURL reports whether a record's URL is one to link to: absolute,
// http or https, with a host. The API takes no other, but a peer's records
// are not the API's: a relative one (/tools/fr/x/delete) linked into this
// node's own pages, under the peer's record; it is shown as text.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// closeBidi is s with the directional embeddings, overrides and isolates
// it opens and leaves open closed at its end: a record's name ending in a
// right-to-left override reversed the page's own words after it where no
// element can isolate it (a page's title). Elsewhere a record's text is
// in a <bdi>.
func closeBidi(s string) string {
	var open []rune // the closers owed, the last opened last
	for _, r := range s {
		switch {
		case r >= '\u202A' && r <= '\u202E' && r != '\u202C':
			open = append(open, '\u202C')
		case r >= '\u2066' && r <= '\u2068':
			open = append(open, '\u2069')
		case (r == '\u202C' || r == '\u2069') && len(open) > 0 && open[len(open)-1] == r:
			open = open[:len(open)-1]
		}
	}
	if len(open) == 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s)
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteRune(open[i])
	}
	return b.String()
}

// directionOf is the direction text in the language lang is written in:
// "rtl" for a language of a right-to-left script (Arabic, Hebrew,
// Persian, Urdu...), else "auto" (the text's own first letters decide).
// A curator typing Arabic into a form laid out left to right saw its
// full stop and parentheses at the wrong end; a description in Arabic
// that begins with a tool's Latin name came out left to right with
// "auto".
func directionOf(lang string) string {
	tag, err := language.Parse(lang)
	if err != nil {
		return "auto"
	}
	script, conf := tag.Script()
	base, _ := tag.Base()
	switch {
	case conf == language.Exact || conf == language.High:
		// The script the tag names (sd-Deva), or the one its language
		// is written in.
		if rightToLeftScripts[script.String()] {
			return "rtl"
		}
	case rightToLeftLanguages[base.String()]:
		// Of no likely script in CLDR (Dari, prs).
		return "rtl"
	case conf != language.No && rightToLeftScripts[script.String()]:
		return "rtl"
	}
	return "auto"
}

// rightToLeftScripts are the scripts written right to left (ISO 15924).
var rightToLeftScripts = map[string]bool{
	"Arab": true, "Aran": true, "Hebr": true, "Thaa": true, "Syrc": true, "Nkoo": true,
	"Adlm": true, "Rohg": true, "Samr": true, "Mand": true, "Mend": true,
}

// rightToLeftLanguages are languages written right to left whose script a
// tag may leave unknown.
var rightToLeftLanguages = map[string]bool{
	"ar": true, "fa": true, "prs": true, "he": true, "ur": true, "ps": true, "ckb": true,
	"sd": true, "ug": true, "yi": true, "dv": true, "syr": true, "nqo": true,
}
