package storage

import (
	"iter"
	"slices"
	"strings"
	"sync"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/identity"
)

// links are what ties records together beyond their own fields: the use
// cases that refer to each tool, and the tools that are the same software
// (the same normalised repository URL, else landing URL: package
// identity), from every origin. Qualification and the adoption view read
// them. They live in memory, built with the search indexes when the
// catalog opens and changed by the indexer with every committed write.
type links struct {
	mu        sync.RWMutex
	tools     map[int64]toolLink
	byName    map[string]int64
	byKey     map[string]ridSet // software key → tools
	byLanding map[string]ridSet // normalised landing URL → tools
	useCases  map[int64]*catalogv1.UseCase
	byRef     map[string]ridSet // reference (see refOf) → use cases
}

// ridSet is a set of rids, in no order. Most sets hold one rid (a software
// with one record), which the set holds itself: a map cost several objects
// for the collector to mark, a hundred thousand of them at 100k tools, and
// a slice one, at each of its cycles.
type ridSet struct {
	one  int64   // 0 in an empty set (rids start at 1)
	more []int64 // the others
}

func (s ridSet) len() int {
	if s.one == 0 {
		return 0
	}
	return 1 + len(s.more)
}

// all yields the set's rids.
func (s ridSet) all() iter.Seq[int64] {
	return func(yield func(int64) bool) {
		if s.one == 0 || !yield(s.one) {
			return
		}
		for _, rid := range s.more {
			if !yield(rid) {
				return
			}
		}
	}
}

// toolLink is what links keep of a live tool: its name, its software key
// and its normalised landing URL. Computing the last two costs more than
// keeping them, so writers compute it on their parallel stages.
type toolLink struct {
	name, key, landing string
}

// linkOf is the toolLink of t.
// The links keep it: its strings are not parts of t's, which may share
// the memory of a whole page (a replicated tool's do). They are parts of
// one string of their own: one object the collector marks, not three.
func linkOf(t *catalogv1.Tool) toolLink {
	name, key, landing := t.GetName(), identity.Key(t), identity.NormalizeURL(t.GetLandingUrl())
	all := name + key + landing
	return toolLink{name: all[:len(name)], key: all[len(name) : len(name)+len(key)], landing: all[len(name)+len(key):]}
}

func newLinks() *links {
	return &links{
		tools: map[int64]toolLink{}, byName: map[string]int64{},
		byKey: map[string]ridSet{}, byLanding: map[string]ridSet{},
		useCases: map[int64]*catalogv1.UseCase{}, byRef: map[string]ridSet{},
	}
}

// refOf is how a use case's tool field refers to a tool: by resource name,
// or by URL, normalised ("url:github.com/decidim/decidim"); "" when it
// refers to nothing a tool can match.
func refOf(useCaseTool string) string {
	useCaseTool = strings.TrimSpace(useCaseTool) // a peer's records are not validated
	if strings.HasPrefix(useCaseTool, "origins/") {
		return useCaseTool
	}
	if u := identity.NormalizeURL(useCaseTool); u != "" {
		return "url:" + u
	}
	return ""
}

// addTo adds rid to the set of k, which must not hold it: callers remove a
// record's rid from every set before they add it again, so that adding
// stays constant time however large the set (tools from every origin
// that name one repository, use cases that name one tool), and building
// the links linear in the records. Removing looks the rid up in its set.
func addTo(m map[string]ridSet, k string, rid int64) {
	if k == "" {
		return
	}
	set := m[k]
	if set.one == 0 {
		set.one = rid
	} else {
		set.more = append(set.more, rid)
	}
	m[k] = set
}

func removeFrom(m map[string]ridSet, k string, rid int64) {
	set, ok := m[k]
	switch {
	case !ok:
		return
	case set.one == rid && len(set.more) == 0:
		delete(m, k)
		return
	case set.one == rid:
		set.one = set.more[len(set.more)-1]
		set.more = set.more[:len(set.more)-1]
	default:
		i := slices.Index(set.more, rid)
		if i < 0 {
			return
		}
		set.more[i] = set.more[len(set.more)-1]
		set.more = set.more[:len(set.more)-1]
	}
	if len(set.more) == 0 {
		set.more = nil // the slice's memory goes with its last rid
	}
	m[k] = set
}

// setTool records the live tool rid, replacing what was known of it, and
// returns the other tools whose qualification may change with it: those of
// its old and new software, when use cases refer to it by its name or
// landing URL (see bringsUseCasesLocked). (Most tools are the only record
// of their software: then there are none, and nothing is allocated.)
func (l *links) setTool(rid int64, tl toolLink) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	affected := l.removeToolLocked(rid)
	l.putToolLocked(rid, tl)
	if !l.bringsUseCasesLocked(tl) {
		return affected
	}
	return append(affected, l.groupLocked(tl, rid)...)
}

// loadTool and loadUseCase record the live tool or use case rid, new to
// the links, as setTool and setUseCase do, without working out which
// tools their qualification changes for: as the catalog opens, every tool
// is qualified once all are in. Working it out for each tool of a
// software that use cases name by its landing URL walked the whole
// software each time: n² steps for n records.
func (l *links) loadTool(rid int64, tl toolLink) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.putToolLocked(rid, tl)
}

func (l *links) loadUseCase(rid int64, u *catalogv1.UseCase) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.putUseCaseLocked(rid, u)
}

func (l *links) putToolLocked(rid int64, tl toolLink) {
	l.tools[rid] = tl
	l.byName[tl.name] = rid
	addTo(l.byKey, tl.key, rid)
	addTo(l.byLanding, tl.landing, rid)
}

// putUseCaseLocked records the use case rid and returns its reference.
func (l *links) putUseCaseLocked(rid int64, u *catalogv1.UseCase) string {
	l.useCases[rid] = u
	ref := refOf(u.GetTool())
	addTo(l.byRef, ref, rid)
	return ref
}

// bringsUseCasesLocked reports whether use cases refer to the tool tl by
// its name or its landing URL: those it brings to the use cases of its
// software, which qualify every tool of it (see useCaseRIDsLocked). A tool
// that brings none joins or leaves its software without changing the
// others' qualification: requalifying them all, each walking the whole
// software, cost a software of n tools n² steps a write.
func (l *links) bringsUseCasesLocked(tl toolLink) bool {
	return l.byRef[tl.name].len() > 0 || (tl.landing != "" && l.byRef["url:"+tl.landing].len() > 0)
}

// removeTool forgets the tool rid, returning the tools of its software.
func (l *links) removeTool(rid int64) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.removeToolLocked(rid)
}

func (l *links) removeToolLocked(rid int64) []int64 {
	tl, ok := l.tools[rid]
	if !ok {
		return nil
	}
	delete(l.tools, rid)
	if l.byName[tl.name] == rid {
		delete(l.byName, tl.name)
	}
	removeFrom(l.byKey, tl.key, rid)
	removeFrom(l.byLanding, tl.landing, rid)
	if !l.bringsUseCasesLocked(tl) {
		return nil
	}
	return l.groupLocked(tl, 0)
}

// groupLocked are the live tools of the same software as tl, but except
// (0: none; rids start at 1).
func (l *links) groupLocked(tl toolLink, except int64) []int64 {
	var out []int64
	for rid := range l.byKey[tl.key].all() {
		if rid != except {
			out = append(out, rid)
		}
	}
	return out
}

// setUseCase records the live use case rid, replacing what was known of
// it, and returns the tools it referred to or now refers to.
func (l *links) setUseCase(rid int64, u *catalogv1.UseCase) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	affected := l.removeUseCaseLocked(rid)
	ref := l.putUseCaseLocked(rid, u)
	return append(affected, l.referredLocked(ref)...)
}

// removeUseCase forgets the use case rid, returning the tools it referred
// to.
func (l *links) removeUseCase(rid int64) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.removeUseCaseLocked(rid)
}

func (l *links) removeUseCaseLocked(rid int64) []int64 {
	u, ok := l.useCases[rid]
	if !ok {
		return nil
	}
	delete(l.useCases, rid)
	ref := refOf(u.GetTool())
	removeFrom(l.byRef, ref, rid)
	return l.referredLocked(ref)
}

// referredLocked are the tools a reference designates, with every tool of
// the same software. Each software is walked once: the records that share
// a landing URL are mostly one software's (every member's Decidim gives
// decidim.org), and walking it for each of them returned n² rids.
func (l *links) referredLocked(ref string) []int64 {
	var out []int64
	if url, ok := strings.CutPrefix(ref, "url:"); ok {
		for rid := range l.byKey[url].all() {
			out = append(out, rid)
		}
		var walked map[string]bool // software keys
		for rid := range l.byLanding[url].all() {
			out = append(out, rid)
			tl := l.tools[rid]
			if tl.key == "" || walked[tl.key] {
				continue
			}
			if walked == nil {
				walked = map[string]bool{}
			}
			walked[tl.key] = true
			out = append(out, l.groupLocked(tl, 0)...)
		}
		return out
	}
	if rid, ok := l.byName[ref]; ok {
		out = append(out, rid)
		out = append(out, l.groupLocked(l.tools[rid], 0)...)
	}
	return out
}

// sameSoftware returns the live tools of the same software as the tool
// tl, that tool included when it is live, by rid.
func (l *links) sameSoftware(tl toolLink) []int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []int64
	if tl.key != "" {
		for rid := range l.byKey[tl.key].all() {
			out = append(out, rid)
		}
	} else if rid, ok := l.byName[tl.name]; ok {
		out = append(out, rid)
	}
	slices.Sort(out)
	return out
}

// useCasesOf returns the live use cases, from every origin, that refer to
// the tool tl or to another record of the same software: by name, by repository URL
// or by landing URL. They are in rid order.
func (l *links) useCasesOf(tl toolLink) []*catalogv1.UseCase {
	l.mu.RLock()
	defer l.mu.RUnlock()
	rids := l.useCaseRIDsLocked(tl)
	out := make([]*catalogv1.UseCase, len(rids))
	for i, rid := range rids {
		out[i] = l.useCases[rid]
	}
	return out
}

// groupUseCases is useCasesOf for a batch of qualifications, over which
// the links do not change: every tool of a software has the same use
// cases (those of its software), and finding them walks the whole
// software, so that qualifying each of n tools of one software cost n²
// steps. They are found once per software.
func (l *links) groupUseCases() *groupUseCases {
	return &groupUseCases{links: l, bySoftware: map[string][]*catalogv1.UseCase{}}
}

type groupUseCases struct {
	links      *links
	mu         sync.Mutex
	bySoftware map[string][]*catalogv1.UseCase
}

// of is links.useCasesOf(tl), for a live tool (one the links hold: those
// of its software then include its own).
func (g *groupUseCases) of(tl toolLink) []*catalogv1.UseCase {
	if tl.key == "" {
		return g.links.useCasesOf(tl)
	}
	g.mu.Lock()
	uses, ok := g.bySoftware[tl.key]
	g.mu.Unlock()
	if !ok {
		uses = g.links.useCasesOf(tl)
		g.mu.Lock()
		g.bySoftware[tl.key] = uses
		g.mu.Unlock()
	}
	return uses
}

// useCaseRIDs is useCasesOf by rid.
func (l *links) useCaseRIDs(tl toolLink) []int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.useCaseRIDsLocked(tl)
}

func (l *links) useCaseRIDsLocked(t toolLink) []int64 {
	if len(l.byRef) == 0 {
		return nil // no use case refers to any tool
	}
	refs := []string{t.name}
	key := t.key
	if key != "" {
		refs = append(refs, "url:"+key)
		for rid := range l.byKey[key].all() {
			tl := l.tools[rid]
			refs = append(refs, tl.name)
			if tl.landing != "" {
				refs = append(refs, "url:"+tl.landing)
			}
		}
	}
	if t.landing != "" {
		refs = append(refs, "url:"+t.landing)
	}
	seen := map[int64]bool{}
	var rids []int64
	for _, ref := range refs {
		for rid := range l.byRef[ref].all() {
			if !seen[rid] {
				seen[rid] = true
				rids = append(rids, rid)
			}
		}
	}
	slices.Sort(rids)
	return rids
}
