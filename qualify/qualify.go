// Package qualify measures a tool against the criteria the federation
// qualifies tools by, carrying on the OGP Toolbox's "criteria to qualify the
// solutions": an open license, public source code, documentation, active
// maintenance, localisation, use by an administration, and declared
// standards.
//
// Every node computes the qualification of every tool it holds, its own and
// its replicas, from the tool record and from the use cases of that tool
// recorded by any member of the federation. It is served with the tool (the
// output-only Tool.qualification field) and indexed so that searches can be
// filtered by criterion id and sorted by score. It is not part of the signed
// record: it changes whenever a use case somewhere in the federation does, and
// the node that holds the records is the one that knows them all.
//
// Qualify depends on nothing but its arguments (the clock comes in as now),
// and its reasons depend on nothing but the content of the records, not on
// the order they come in, so that every node that holds the same records
// gives the same qualification, word for word.
package qualify

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/spdx"
)

// The criterion ids, as Criterion.id carries them and search filters take
// them. They are part of the public API: never rename one.
const (
	// OpenLicense: the license is open source, as the OSI approves it.
	OpenLicense = "open_license"
	// PublicRepository: the source code is published.
	PublicRepository = "public_repository"
	// Documentation: user or API documentation is published.
	Documentation = "documentation"
	// Maintained: someone maintains the tool and it had a release in the
	// last 2 years.
	Maintained = "maintained"
	// Localisation: the tool can be translated and is in 2 languages or
	// more.
	Localisation = "localisation"
	// UsedByAdministration: a government or a parliament uses it.
	UsedByAdministration = "used_by_administration"
	// Standards: it declares the standards and formats it supports.
	Standards = "standards"
)

// ids are the criterion ids in the order Qualify gives the criteria.
var ids = [...]string{
	OpenLicense,
	PublicRepository,
	Documentation,
	Maintained,
	Localisation,
	UsedByAdministration,
	Standards,
}

// IDs returns the criterion ids in the order Qualify gives the criteria.
// The slice is the caller's to change.
func IDs() []string { return slices.Clone(ids[:]) }

// Qualify measures t against every criterion, in the order of IDs, and
// scores it: the share of the criteria met, from 0 to 100, rounded to the
// nearest integer.
//
// useCases are the use cases that refer to t, gathered from every origin by
// the caller (see identity.RefersTo); Qualify does not check that they refer
// to t, but it ignores the deleted ones (tombstones). now is the time the
// "maintained" criterion is measured at; dates are compared as calendar days
// in UTC, so that nodes in different time zones agree.
//
// A nil t is an empty tool: it meets no criterion of its own.
func Qualify(t *catalogv1.Tool, useCases []*catalogv1.UseCase, now time.Time) *catalogv1.Qualification {
	return new(Qualifier).Qualify(t, useCases, now)
}

// A Qualifier qualifies tools as Qualify does, and remembers what it
// parsed of license expressions and language tags: catalogs name the same
// few again and again, and a node qualifies every tool it holds when it
// is written, each day, and whenever the use cases of its software
// change. It is safe for concurrent use; the zero value is ready.
type Qualifier struct {
	licenses   memo[result]
	licenseIDs memo[[]string]
	languages  memo[primaryLanguage]
}

// LicenseIDs returns the licenses an SPDX expression names, as a catalog
// files them (spdx.Expression.Filed: GPL-3.0+ is GPL-3.0-or-later), each
// once, in the order they appear; an expression that does not parse names
// itself (a record from a peer is not bound by this node's checks), a blank
// one nothing. The slice may be shared: callers must not change it.
func (qr *Qualifier) LicenseIDs(expr string) []string {
	return qr.licenseIDs.get(expr, licenseIDsOf)
}

// Language is the language a BCP 47 tag names as a catalog files it (its
// language facet and filter; see the package's Language).
func (qr *Qualifier) Language(tag string) string {
	return qr.languages.get(tag, primaryLanguageOf).base
}

// Language is the language a BCP 47 tag names as a catalog files it: its
// language subtag, in lowercase, a deprecated code as the one that
// replaced it ("iw" is "he", "in" "id"), so that one language is one facet
// value; or "" for a tag that names no language ("und", "zxx") or is no
// tag.
func Language(tag string) string { return primaryLanguageOf(tag).base }

func licenseIDsOf(expr string) []string {
	if strings.TrimSpace(expr) == "" {
		return nil
	}
	e, err := spdx.Parse(expr)
	if err != nil {
		return []string{expr}
	}
	return slices.Clip(e.Filed())
}

// Qualify is the package's Qualify.
func (qr *Qualifier) Qualify(t *catalogv1.Tool, useCases []*catalogv1.UseCase, now time.Time) *catalogv1.Qualification {
	results := qr.results(t, useCases, now, true)
	q := &catalogv1.Qualification{Criteria: make([]*catalogv1.Criterion, len(results))}
	met := 0
	for i, r := range results {
		if r.met {
			met++
		}
		q.Criteria[i] = &catalogv1.Criterion{Id: ids[i], Met: r.met, Reason: r.reason}
	}
	q.Score = score(met, len(results))
	return q
}

// An Assessment is what Qualify finds, without the reasons: which
// criteria a tool meets, and its score. The search index, which keeps it
// for every tool, needs no more; building the whole Qualification, a
// message per criterion, was most of the memory qualifying a tool took.
type Assessment struct {
	met   [len(ids)]bool
	Score int32
}

// AppendMet appends to out the ids of the criteria met, in the order of
// IDs.
func (a Assessment) AppendMet(out []string) []string {
	for i, met := range a.met {
		if met {
			out = append(out, ids[i])
		}
	}
	return out
}

// Assess is Qualify without the reasons.
func (qr *Qualifier) Assess(t *catalogv1.Tool, useCases []*catalogv1.UseCase, now time.Time) Assessment {
	var a Assessment
	met := 0
	for i, r := range qr.results(t, useCases, now, false) {
		if a.met[i] = r.met; r.met {
			met++
		}
	}
	a.Score = score(met, len(ids))
	return a
}

// results are the outcomes of the criteria, in the order of ids, with
// their reasons if explain asks for them. (The search index assesses every
// tool it holds, and never reads a reason: building them was a third of
// the work.)
func (qr *Qualifier) results(t *catalogv1.Tool, useCases []*catalogv1.UseCase, now time.Time, explain bool) [len(ids)]result {
	today := civilDay(now)
	return [len(ids)]result{
		qr.licenses.get(t.GetLicense(), openLicense),
		publicRepository(t.GetRepositoryUrl(), explain),
		documentation(t.GetDescriptions(), explain),
		maintained(t.GetMaintenance(), t.GetReleaseDate(), today, explain),
		localisation(t.GetLocalisationReady(), qr.primaryLanguages(t.GetAvailableLanguages()), explain),
		usedByAdministration(useCases, explain),
		standards(t.GetStandards(), explain),
	}
}

// result is one criterion's outcome. The reason may be empty when the
// caller did not ask for one.
type result struct {
	met    bool
	reason string
}

// unexplained is an outcome without its reason.
func unexplained(met bool) result { return result{met: met} }

func metBecause(reason string) result    { return result{met: true, reason: reason} }
func notMetBecause(reason string) result { return result{met: false, reason: reason} }

// score returns 100 × met / total rounded to the nearest integer, halves
// up, in integers so that no node rounds differently.
func score(met, total int) int32 {
	if total == 0 {
		return 0
	}
	return int32((200*met + total) / (2 * total))
}

// civilDay returns the calendar day of t in UTC, at midnight.
func civilDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// memoSize is how many values a memo keeps at most, so that records full
// of distinct strings cannot grow it without bound: the ones after, and
// those of long keys, are computed each time.
const memoSize = 4096

// memo remembers the values of a function of a string.
type memo[V any] struct {
	values sync.Map // string → V
	size   atomic.Int32
}

// memoKeyBytes is the longest key a memo keeps: what a record from a peer
// holds is not bounded by the API's limits.
const memoKeyBytes = 256

// get returns compute(key), computed once while the memo has room.
func (m *memo[V]) get(key string, compute func(string) V) V {
	if v, ok := m.values.Load(key); ok {
		return v.(V)
	}
	if len(key) > memoKeyBytes {
		return compute(key)
	}
	// The memo keeps the key and what compute derives from it: they must
	// be a copy, not part of the caller's memory (the bytes of a whole
	// record from a peer, say).
	key = strings.Clone(key)
	v := compute(key)
	// Take a place before storing, so that concurrent callers never keep
	// more than memoSize.
	if m.size.Add(1) > memoSize {
		m.size.Add(-1)
		return v
	}
	if _, loaded := m.values.LoadOrStore(key, v); loaded {
		m.size.Add(-1)
	}
	return v
}
