// Package identity recognises the same software across the sources and the
// origins of the federation.
//
// The same tool reaches a node many times over: each member catalogues it
// under its own origin (origins/fr/tools/decidim, origins/es/tools/decidim),
// harvesters bring it in again from publiccode.yml files and national lists,
// and each source spells its URLs its own way ("https://github.com/Decidim/decidim.git",
// "http://www.github.com/decidim/decidim/tree/develop/"). Records are never
// merged, since only an origin writes its own, but readers need to know that
// they describe one piece of software: to fold duplicates together in search
// results and lists (dedupe), and to gather every member's use cases of a
// tool into its adoption view, whether a use case names a Tool resource or
// only the URL of software that no member catalogues.
//
// Identity is the normalised repository URL, which is the most specific
// thing a record says about its software; the landing page is the fallback
// for tools without public source code. A tool with neither has no key and
// is a duplicate of nothing: a false merge of two different tools is worse
// than two entries for one.
package identity

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"golang.org/x/net/idna"
)

// Key returns the identity of the software t describes: the normalised
// repository URL (see NormalizeURL), else the normalised landing URL, else
// "" when t has neither (or neither is an http(s) URL). Two tools with the
// same non-empty key are the same software; a tool whose key is "" is a
// duplicate of nothing.
//
// A repository URL counts only when it names a repository: not a forge's
// home page, an owner's page ("github.com/etalab"), a forge's list of
// projects ("/explore/projects" of a GitLab), nor a git server's home
// ("git.proxmox.com/", cgit's "git.eclipse.org/c/"), which many different
// software share; the landing URL is the key then. A landing URL on a
// forge counts only when it names a repository too.
func Key(t *catalogv1.Tool) string {
	if k, repository, _ := normalize(t.GetRepositoryUrl()); k != "" && repository {
		return k
	}
	if k, repository, onForge := normalize(t.GetLandingUrl()); repository || !onForge {
		return k
	}
	return ""
}

// Same reports whether a and b describe the same software: both have a key
// and the keys are equal.
func Same(a, b *catalogv1.Tool) bool {
	k := Key(a)
	return k != "" && k == Key(b)
}

// toolNamePrefix starts the resource name of every Tool,
// origins/{origin}/tools/{tool}.
const toolNamePrefix = "origins/"

// RefersTo reports whether the tool field of a UseCase designates t. That
// field holds either the resource name of a Tool in the federation
// (origins/{origin}/tools/{tool}), which refers to that record only, or a URL
// for software no member catalogues, which refers to every tool whose key, or
// whose normalised landing URL, is that URL once normalised: a use case that
// gives a project's home page still counts for the record keyed on its
// repository.
func RefersTo(useCaseTool string, t *catalogv1.Tool) bool {
	if t == nil {
		return false
	}
	ref := strings.TrimSpace(useCaseTool)
	if ref == "" {
		return false
	}
	if strings.HasPrefix(ref, toolNamePrefix) {
		return ref == t.GetName()
	}
	u := NormalizeURL(ref)
	if u == "" {
		return false
	}
	return u == Key(t) || u == NormalizeURL(t.GetLandingUrl())
}

// NormalizeURL returns the identity of an http or https URL, host and path
// without a scheme ("github.com/decidim/decidim"), so that the spellings
// sources use for one address compare equal. It returns "" for anything that
// is not an absolute http(s) URL with a host. The identity is a string of
// its own, never a part of raw: the links keep it.
//
// It lowercases the host and drops a leading "www.", a trailing dot, the
// default ports (80 and 443, whatever the scheme, since http and https are
// the same address here), the user information and the fragment. The query
// is kept on hosts that are not forges, its parameters sorted and those
// that only track visits or pick a language dropped (see queryIdentity): it
// may be all that tells two pages apart.
// In the path it resolves "." and "..", collapses repeated slashes, drops
// trailing slashes and a trailing ".git", and writes percent-encoding one
// way (decoded, then re-encoded as url.PathEscape does).
//
// For known forges (GitHub, GitLab and its instances, Bitbucket, Gitea and
// Forgejo hosts such as Codeberg, SourceHut) only the part of the path that
// names the repository is kept, so that links into a repository's files,
// branches or issues have the repository's identity: owner/repo on GitHub and
// the like, the whole group path before "/-/" on GitLab, whose subgroups
// nest; /projects/NAME on SourceForge (its /p/NAME too). Elsewhere a
// "/-/" after two segments ends the path too (a GitLab not named
// gitlab.*), and so do Gitea's "/src/branch/" (commit, tag) after two, and
// a segment ending in ".git" (cgit's, gitweb's, gitbox's repository, whose
// pages follow it). On forges whose routes are case-insensitive the path
// is lowercased; elsewhere case is kept, as a web server may tell "/Foo"
// from "/foo".
//
// Of a gitweb query, on any host, only the project selector is kept,
// p=NAME.git ("git.postgresql.org/gitweb?p=postgresql.git"): it says which
// repository is meant, whatever page of it.
//
// The result is stable: NormalizeURL("https://" + NormalizeURL(x)) ==
// NormalizeURL(x) whenever NormalizeURL(x) != "".
func NormalizeURL(raw string) string {
	key, _, _ := normalize(raw)
	return key
}

// normalize is NormalizeURL, whether the URL names a repository (as far
// as a URL can tell), and whether its host is a known forge: on a forge, a
// repository's path (owner and name, or a GitLab project in its group);
// elsewhere, any path or query but a git server's home, or a forge's list
// of projects (a GitLab, Gitea or Forgejo not known by its name).
func normalize(raw string) (key string, repository, onForge bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false, false // most tools lack one URL or the other: no parse for it
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return "", false, false
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return "", false, false
	}
	host, bare, ok := normalizeHost(u.Hostname(), u.Port())
	if !ok {
		return "", false, false
	}
	segs, ok := pathSegments(u.EscapedPath())
	if !ok {
		return "", false, false
	}
	f := forgeOf(bare)
	if f.caseInsensitive {
		for i, s := range segs {
			segs[i] = strings.ToLower(s)
		}
	}
	segs = trimSegments(segs, f)
	query := ""
	if p := gitwebProject(u.RawQuery); p != "" {
		query = "p=" + url.QueryEscape(p)
	} else if f.layout == notAForge {
		if query, ok = queryIdentity(u.RawQuery); !ok {
			return "", false, false
		}
	}

	var b strings.Builder
	b.WriteString(host)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	if query != "" {
		b.WriteByte('?')
		b.WriteString(query)
	}
	switch {
	case len(segs) > 0 && f.routes[segs[0]]:
		repository = false // an organisation's page, a list of projects
	case f.layout == ownerRepo:
		repository = len(segs) == 2
	case f.layout == gitLab:
		repository = len(segs) >= 2
	case f.layout == sourceForge:
		repository = len(segs) == 2 && segs[0] == "projects"
	case query == "" && (len(segs) == 0 || unknownForgeLists[segs[0]] || allOf(segs, gitServerHomes)):
		repository = false
	default:
		repository = true
	}
	return b.String(), repository, f.layout != notAForge
}

// gitServerHomes are the paths of a git web server's home, one segment
// after another: cgit's "/c/" or "/cgit/", gitweb's "/gitweb/", a list of
// "/repos/" (but no query, such as gitweb's "?p=NAME.git", or project
// after them).
var gitServerHomes = map[string]bool{
	"c": true, "cgit": true, "git": true, "gitweb": true, "gitlist": true,
	"repos": true, "repositories": true, "projects": true,
}

// unknownForgeLists are the pages of forges this package does not know by
// their host (a GitLab, a Gitea or Forgejo of an administration) that list
// many projects: "/explore/projects/starred", "/groups/NAME".
var unknownForgeLists = map[string]bool{"explore": true, "groups": true, "dashboard": true}

func allOf(segs []string, set map[string]bool) bool {
	for _, s := range segs {
		if !set[s] {
			return false
		}
	}
	return true
}

// queryIdentity returns what identifies a page in the query of a URL on a
// host that is no forge: its parameters sorted, without those that only
// track visits (utm_source and the like) or pick a language (hl, lang).
// On such hosts the query may be all that tells two pages apart: an app
// store's "details?id=", websvn's "listing.php?repname=". ok is false for a
// query that does not decode.
func queryIdentity(rawQuery string) (query string, ok bool) {
	type param struct{ k, v string }
	var params []param
	for _, kv := range strings.FieldsFunc(rawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return "", false
		}
		v, err = url.QueryUnescape(v)
		if err != nil {
			return "", false
		}
		if k == "" || ignoredParam(k) {
			continue
		}
		params = append(params, param{k, v})
	}
	slices.SortFunc(params, func(a, b param) int { return cmp.Or(strings.Compare(a.k, b.k), strings.Compare(a.v, b.v)) })
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p.k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(p.v))
	}
	return b.String(), true
}

// ignoredParam reports whether a query parameter says nothing of what the
// page is about: it tracks where a visit came from, or picks the language
// or country the page is shown in (France's link to an app and Spain's are
// one app).
func ignoredParam(k string) bool {
	switch strings.ToLower(k) {
	case "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ref_src",
		"hl", "gl", "lang", "language", "locale", "lng":
		return true
	}
	return strings.HasPrefix(strings.ToLower(k), "utm_")
}

// normalizeHost returns the host part of a key: the lowercased host name
// without "www." and trailing dots, in brackets for an IPv6 address, and the
// port unless it is a default one; and the bare host name, which says what
// forge it is. It refuses host names with characters a host name cannot
// have, so that a key always parses back to the same host.
func normalizeHost(name, port string) (hostPort, bare string, ok bool) {
	name = strings.ToLower(name)
	if strings.Contains(name, ":") { // IPv6 literal
		for _, r := range name {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r == ':' || r == '.') {
				return "", "", false // zones ("%eth0") and anything odd
			}
		}
		bare = "[" + name + "]"
	} else {
		if strings.Contains(name, "xn--") || strings.ContainsFunc(name, func(r rune) bool { return r >= utf8.RuneSelf }) {
			// An internationalised name, in punycode or not, is written
			// one way: in its own script. One that does not convert
			// (an underscore, a label that is no punycode) stays as it is.
			if u, err := idna.Display.ToUnicode(name); err == nil {
				name = u
			}
		}
		for {
			trimmed := strings.TrimSuffix(strings.TrimPrefix(name, "www."), ".")
			if trimmed == name {
				break
			}
			name = trimmed
		}
		if name == "" || strings.HasPrefix(name, ".") {
			return "", "", false
		}
		for _, r := range name {
			if !validHostRune(r) {
				return "", "", false
			}
		}
		bare = name
	}
	hostPort = bare
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n > 65535 {
			return "", "", false
		}
		if n != 80 && n != 443 {
			hostPort += ":" + strconv.Itoa(n)
		}
	}
	return hostPort, bare, true
}

// validHostRune reports whether r may appear in a lowercased host name:
// ASCII letters, digits, "-", "." and "_", or a letter, digit or mark of
// another script (an internationalised name not written in punycode) that
// has no other lowercase form.
func validHostRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
		return true
	case r < utf8.RuneSelf:
		return false
	default:
		// Marks too: Devanagari's vowel signs are spacing marks (भारत).
		return (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)) && unicode.ToLower(r) == r
	}
}

// pathSegments splits an escaped path into decoded segments, dropping empty
// ones (repeated and trailing slashes) and resolving "." and "..". An
// encoded slash (%2F) stays inside its segment.
func pathSegments(escaped string) ([]string, bool) {
	var segs []string
	for _, part := range strings.Split(escaped, "/") {
		s, err := url.PathUnescape(part)
		if err != nil {
			return nil, false
		}
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	return segs, true
}

// trimSegments keeps the repository part of a forge's path and drops
// trailing ".git"s, over and over until nothing changes, so that a key
// normalises to itself: dropping ".git" can leave a route keyword last, and
// cutting at a keyword can leave a ".git" last. Each pass looks again only
// at the last segment, the one a pass may have changed: the others were
// looked at and end no path where they stand. (Looking at every segment
// at each pass cost n² steps for a path of n segments a pass shortens by
// one, "/tree.git/tree.git/...": seconds for a peer's URL of 200 KB.)
func trimSegments(segs []string, f forge) []string {
	from := 0 // segs[:from] end no path
	for {
		n := len(segs)
		last := ""
		if n > 0 {
			last = segs[n-1]
		}
		segs = stripGitSuffix(f.repository(segs, from))
		if len(segs) == n && (n == 0 || segs[n-1] == last) {
			return segs
		}
		from = max(len(segs)-1, 0)
	}
}

// stripGitSuffix drops ".git" from the end of the last segment, and the
// segment itself when nothing meaningful is left of it.
func stripGitSuffix(segs []string) []string {
	for len(segs) > 0 {
		last := segs[len(segs)-1]
		if !hasGitSuffix(last) {
			break
		}
		switch last = last[:len(last)-len(".git")]; last {
		case "", ".", "..":
			// "..git" would leave a dot segment, which a second pass would
			// resolve: drop it now.
			segs = segs[:len(segs)-1]
		default:
			segs[len(segs)-1] = last
		}
	}
	return segs
}

func hasGitSuffix(s string) bool {
	return len(s) >= len(".git") && strings.EqualFold(s[len(s)-len(".git"):], ".git")
}

// gitwebProject returns the p parameter of a gitweb query when it names a
// repository ("p=mupdf.git"), else "". gitweb separates parameters with ";"
// as well as "&", which url.ParseQuery refuses, so the query is split here.
func gitwebProject(rawQuery string) string {
	for _, kv := range strings.FieldsFunc(rawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		if k != "p" {
			continue
		}
		p, err := url.QueryUnescape(v)
		if err != nil || !hasGitSuffix(p) || len(p) == len(".git") {
			return ""
		}
		return p
	}
	return ""
}
