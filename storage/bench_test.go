package storage

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	"github.com/ogptoolbox/federation/internal/cputime"
	"github.com/ogptoolbox/federation/vocabulary"
)

// Run with: go test ./storage -run '^$' -bench . -benchtime 1x

const benchBatch = 1000 // writes per Store.Apply, as a bulk import does

// openBench opens a fresh catalog of origin "fr" at path, closed when b
// ends. (openAt takes a *testing.T, so it cannot serve a benchmark.)
func openBench(b *testing.B, path string) *Store {
	b.Helper()
	clock := steppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, err := Open(context.Background(), Options{Path: path, Origin: "fr", Key: testKey(1), Logger: slog.New(slog.DiscardHandler), Now: clock})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// benchWords is the synthetic vocabulary, most frequent word first: 5,000
// pronounceable pseudo-words, the same in every run.
var benchWords = func() []string {
	rng := rand.New(rand.NewPCG(2026, 1))
	const cons, vows = "bcdfghjklmnprstvz", "aeiou"
	seen := map[string]bool{}
	var words []string
	for len(words) < 5000 {
		var w strings.Builder
		for range 2 + rng.IntN(3) {
			w.WriteByte(cons[rng.IntN(len(cons))])
			w.WriteByte(vows[rng.IntN(len(vows))])
			if rng.IntN(4) == 0 {
				w.WriteByte(cons[rng.IntN(len(cons))])
			}
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			words = append(words, w.String())
		}
	}
	return words
}()

// synth draws synthetic catalog data, deterministically from its seed.
// Words follow a Zipf law (s = 1.1) over benchWords, as in natural text: a
// few words are in nearly every tool, most are rare.
type synth struct {
	rng  *rand.Rand
	zipf *rand.Zipf
}

func newSynth(seed uint64) *synth {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	return &synth{rng: rng, zipf: rand.NewZipf(rng, 1.1, 1, uint64(len(benchWords)-1))}
}

func (g *synth) word() string { return benchWords[g.zipf.Uint64()] }

// text is n words; with maxLen > 0 it stops before exceeding maxLen bytes.
func (g *synth) text(n, maxLen int) string {
	var s strings.Builder
	for i := range n {
		w := g.word()
		if maxLen > 0 && s.Len()+1+len(w) > maxLen {
			break
		}
		if i > 0 {
			s.WriteByte(' ')
		}
		s.WriteString(w)
	}
	return s.String()
}

// between is a uniform int in [lo, hi].
func (g *synth) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// some is n distinct elements of from, in random order.
func some[T any](g *synth, from []T, n int) []T {
	out := make([]T, 0, n)
	for _, i := range g.rng.Perm(len(from))[:n] {
		out = append(out, from[i])
	}
	return out
}

var (
	benchLicenses = []string{"MIT", "Apache-2.0", "AGPL-3.0-only", "AGPL-3.0-or-later", "GPL-3.0-or-later", "EUPL-1.2", "MPL-2.0", "BSD-3-Clause"}
	benchThemes   = func() []catalogv1.OgpTheme {
		var ts []catalogv1.OgpTheme
		for v := range catalogv1.OgpTheme_name {
			if v != 0 {
				ts = append(ts, catalogv1.OgpTheme(v))
			}
		}
		slices.Sort(ts)
		return ts
	}()
)

// tool is a synthetic tool: a name of 1-3 words; descriptions in 1-3 of en,
// fr, es, each with a short description of 8-15 words (at most 150
// characters), a long one of 30-80 words and 2-6 features; 1-3 categories,
// 1-3 OGP themes, a license, a development status and 1-3 platforms.
func (g *synth) tool() *catalogv1.Tool {
	t := &catalogv1.Tool{
		DisplayName:       g.text(g.between(1, 3), 0),
		License:           benchLicenses[g.rng.IntN(len(benchLicenses))],
		Categories:        some(g, vocabulary.Categories(), g.between(1, 3)),
		OgpThemes:         some(g, benchThemes, g.between(1, 3)),
		DevelopmentStatus: some(g, vocabulary.DevelopmentStatuses(), 1)[0],
		Platforms:         some(g, vocabulary.Platforms(), g.between(1, 3)),
		Descriptions:      map[string]*catalogv1.Description{},
	}
	t.AvailableLanguages = some(g, []string{"en", "fr", "es"}, g.between(1, 3))
	for _, l := range t.AvailableLanguages {
		d := &catalogv1.Description{
			ShortDescription: g.text(g.between(8, 15), 150),
			LongDescription:  g.text(g.between(30, 80), 0),
		}
		for range g.between(2, 6) {
			d.Features = append(d.Features, g.text(g.between(2, 5), 0))
		}
		t.Descriptions[l] = d
	}
	return t
}

func benchID(i int) string { return fmt.Sprintf("tool-%06d", i) }

// query draws one query of the search mix, as the API would send it: 42%
// one word, 35% two words, 20% a 3-letter prefix ("abc*"), words drawn
// with the same Zipf law as the text, ordered by relevance; 3% no text,
// ordered by name. A fifth of them also filter by a category or a theme.
func (g *synth) query() Query {
	q := Query{Kind: KindTool, Limit: 21} // a page of 20, and one to tell if there is more
	switch r := g.rng.IntN(100); {
	case r < 3: // browsing: no text, by name
		q.Order = "name"
	case r < 45:
		q.Text = g.word()
	case r < 80:
		q.Text = g.word() + " " + g.word()
	default: // typing: a prefix of 3 letters
		q.Text = g.word()[:3] + "*"
	}
	if g.rng.IntN(5) == 0 {
		if g.rng.IntN(2) == 0 {
			q.Filters = []Filter{{Facet: "category", Values: some(g, vocabulary.Categories(), 1)}}
		} else {
			q.Filters = []Filter{{Facet: "ogp_theme", Values: []string{some(g, benchThemes, 1)[0].String()}}}
		}
	}
	return q
}

// heapInUse is the live Go heap, after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

func describe(q Query) string {
	s := fmt.Sprintf("%q", q.Text)
	if q.Order != "" {
		s += " order=" + q.Order
	}
	for _, f := range q.Filters {
		s += fmt.Sprintf(" %s=%s", f.Facet, strings.Join(f.Values, ","))
	}
	return s
}

// BenchmarkSearch100k times Store.Search, one query at a time, on a catalog
// of 100,000 synthetic tools written through Store.Apply. One iteration is
// the whole mix of 2,000 queries (after 200 untimed warm-up ones); it
// reports latency percentiles over all the queries of all iterations.
//
// The mix is cut short if it takes more than searchBudget, so that a slow
// search (hundreds of ms a query) still gives its percentiles in bounded
// time: the queries are in random order, so the ones run are a fair sample.
// The "queries" metric says how many were timed.
func BenchmarkSearch100k(b *testing.B) {
	const (
		nTools       = 100_000
		nWarm        = 200
		nQueries     = 2000
		searchBudget = 60 * time.Second
	)
	ctx := context.Background()
	b.StopTimer()
	path := filepath.Join(b.TempDir(), "catalog.db")
	s := openBench(b, path)
	g := newSynth(1)
	heapBefore := heapInUse()
	start := time.Now()
	for i := 0; i < nTools; i += benchBatch {
		writes := make([]Write, benchBatch)
		for j := range writes {
			writes[j] = Write{Op: OpCreate, ID: benchID(i + j), Resource: g.tool()}
		}
		if _, err := s.Apply(ctx, writes); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built %d tools in %s", nTools, time.Since(start).Round(time.Millisecond))
	indexBytes := heapInUse() - heapBefore
	// The search index lives in memory: time its rebuild when the catalog
	// opens, as at every start of the node.
	s.Close()
	start = time.Now()
	s = openBench(b, path)
	reopen := time.Since(start)

	qg := newSynth(2)
	queries := make([]Query, nWarm+nQueries)
	for i := range queries {
		queries[i] = qg.query()
	}
	search := func(q Query) (time.Duration, int) {
		t0 := time.Now()
		got, _, err := s.Search(ctx, q)
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("Search(%s): %v", describe(q), err)
		}
		return d, len(got)
	}
	for _, q := range queries[:nWarm] {
		search(q)
	}

	type timed struct {
		d    time.Duration
		q    Query
		hits int
	}
	var all []timed
	b.ResetTimer()
	b.StartTimer()
	for range b.N {
		start := time.Now()
		for i, q := range queries[nWarm:] {
			if time.Since(start) > searchBudget {
				b.Logf("stopped after %d of %d queries: over the %s budget", i, nQueries, searchBudget)
				break
			}
			d, n := search(q)
			all = append(all, timed{d, q, n})
		}
	}
	b.StopTimer()

	slices.SortFunc(all, func(x, y timed) int { return cmp.Compare(x.d, y.d) })
	ms := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].d) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.90), "p90-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(ms(1), "max-ms")
	b.ReportMetric(nTools, "tools")
	b.ReportMetric(reopen.Seconds(), "reopen-s")
	b.ReportMetric(float64(indexBytes)/(1<<20), "index-MiB")
	b.ReportMetric(float64(len(all))/float64(b.N), "queries")
	for _, t := range all[max(0, len(all)-25):] {
		b.Logf("slow: %6.1f ms  %d results  %s", float64(t.d)/float64(time.Millisecond), t.hits, describe(t.q))
	}
}

// BenchmarkBatchedCreates compares the throughput of Store.Apply, creating
// 40,000 synthetic tools in batches of 1,000, with a baseline of raw SQLite
// inserts of the same rows, timed in the same run. The two take turns, a
// fifth of the rows at a time: creates back to back until the last batch
// is searchable and checkpointed into the database file, then the raw
// inserts of the same rows back to back, until their last batch too is
// checkpointed. The speed of the virtual machine of the README's figures
// drifts by a tenth or more within seconds; taking turns, both sides see
// the same machine. Each turn ends with its rows in the database file, so
// that no side leaves work to the next.
//
// The garbage collector's work is the write path's, as in a node: only
// the turn's tools are in memory besides the catalog (made between turns,
// untimed), and the collector runs only during the creates' turns, which
// allocate nearly all there is (a collection they started finishes on
// their time; the raw inserts allocate next to nothing).
//
// The baseline writes to a second fresh catalog opened with Open (same
// schema, same pragmas, its single writer connection), with SQLite's
// default checkpoints: in the commit that takes the log past 1,000 pages.
// For each batch of 1,000 it opens one transaction, prepares the statement,
// and inserts per tool one records row (the record bytes and signature the
// write path stored, read back between turns, untimed), then updates the
// origin's head_seq once and commits.
//
// So the baseline does NOT clone, check, marshal or sign anything, does not
// read the head seq nor look up each id for an existing record, and does
// not index anything for search (the write path tokenizes every tool into
// the in-memory index): it is the SQLite work alone (through database/sql
// and the driver). The ratio creates/s ÷ raw-inserts/s is the project's
// measure of the write path's cost; its goal is at least 0.5.
//
// The write path checkpoints off the writer's connection (see
// checkpointer), which the default baseline does not. For comparison, the
// same inserts into a third catalog whose checkpointer runs after each
// commit give raw-bg-inserts/s and ratio-bg.
func BenchmarkBatchedCreates(b *testing.B) {
	const (
		nTools  = 40_000
		turns   = 5
		perTurn = nTools / turns
	)
	ctx := context.Background()
	gcPercent := debug.SetGCPercent(-1)
	debug.SetGCPercent(gcPercent)
	defer debug.SetGCPercent(gcPercent)

	var createTime, rawTime, rawBgTime, createCPU time.Duration
	for range b.N {
		dir := b.TempDir()
		s := openBench(b, filepath.Join(dir, "apply.db"))
		raw := openBench(b, filepath.Join(dir, "raw.db"))
		if _, err := raw.writer.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 1000"); err != nil {
			b.Fatal(err)
		}
		rawBg := openBench(b, filepath.Join(dir, "raw-bg.db"))
		g := newSynth(3) // the same tools in every iteration
		for turn := range turns {
			batches := make([][]Write, 0, perTurn/benchBatch)
			for i := turn * perTurn; i < (turn+1)*perTurn; i += benchBatch {
				writes := make([]Write, benchBatch)
				for j := range writes {
					// Apply takes the resource, as it would a decoded request's.
					writes[j] = Write{Op: OpCreate, ID: benchID(i + j), Resource: g.tool()}
				}
				batches = append(batches, writes)
			}
			// The creates run back to back, as a client streaming
			// batches would send them, and their time ends when the
			// last batch is in the search index and the database file.
			start, cpuStart := time.Now(), cputime.Process()
			debug.SetGCPercent(gcPercent)
			for _, writes := range batches {
				if _, err := s.Apply(ctx, writes); err != nil {
					b.Fatal(err)
				}
			}
			s.awaitIndex()
			checkpointAll(ctx, b, s)
			debug.SetGCPercent(-1) // waits for a collection under way
			createCPU += cputime.Process() - cpuStart
			createTime += time.Since(start)

			rows := storedRows(ctx, b, s, int64(turn*perTurn+1), int64((turn+1)*perTurn))
			rawTime += timeRawInserts(ctx, b, raw, rows, false)
			rawBgTime += timeRawInserts(ctx, b, rawBg, rows, true)
		}
		debug.SetGCPercent(gcPercent)
		var a, r int
		s.reader.QueryRowContext(ctx, "SELECT sum(length(record)) FROM records").Scan(&a)
		raw.reader.QueryRowContext(ctx, "SELECT sum(length(record)) FROM records").Scan(&r)
		if a != r {
			b.Fatalf("the baseline wrote %d bytes of records, the write path %d", r, a)
		}
		if n := s.tools.Len(); n != nTools {
			b.Fatalf("the search index has %d tools, want %d", n, nTools)
		}
	}
	creates := float64(nTools*b.N) / createTime.Seconds()
	inserts := float64(nTools*b.N) / rawTime.Seconds()
	b.ReportMetric(creates, "creates/s")
	b.ReportMetric(inserts, "raw-inserts/s")
	b.ReportMetric(creates/inserts, "ratio")
	b.ReportMetric(float64(nTools*b.N)/rawBgTime.Seconds(), "raw-bg-inserts/s")
	b.ReportMetric(creates/(float64(nTools*b.N)/rawBgTime.Seconds()), "ratio-bg")
	b.ReportMetric(float64(createCPU.Microseconds())/float64(nTools*b.N), "cpu-µs/create")
}

// checkpointAll checkpoints s's log, all of it: a turn of the creates
// benchmark leaves no work to the next.
func checkpointAll(ctx context.Context, b *testing.B, s *Store) {
	_, complete, err := s.checkpoints.checkpoint(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if !complete {
		b.Fatal("the checkpoint left pages in the log")
	}
}

// storedRows reads back the records rows of s's own origin with seqs from
// first to last, for the baseline to insert.
func storedRows(ctx context.Context, b *testing.B, s *Store, first, last int64) []rawRow {
	rows, err := s.reader.QueryContext(ctx, "SELECT id, seq, record, signature, r_x FROM records WHERE origin = ? AND seq BETWEEN ? AND ? ORDER BY seq", s.origin, first, last)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	out := make([]rawRow, 0, last-first+1)
	for rows.Next() {
		var r rawRow
		if err := rows.Scan(&r.id, &r.seq, &r.record, &r.signature, &r.rx); err != nil {
			b.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	if int64(len(out)) != last-first+1 {
		b.Fatalf("read %d rows of seqs %d to %d", len(out), first, last)
	}
	return out
}

// timeRawInserts inserts rows into s in batches of benchBatch with
// rawInsert, then checkpoints what the log still holds, and returns the
// time it took. With background, each commit tells s's checkpointer, as
// the write path's do; without, s checkpoints as its connection's pragmas
// say until the last.
func timeRawInserts(ctx context.Context, b *testing.B, s *Store, rows []rawRow, background bool) time.Duration {
	start := time.Now()
	for i := 0; i < len(rows); i += benchBatch {
		if err := rawInsert(ctx, s, rows[i:min(i+benchBatch, len(rows))]); err != nil {
			b.Fatal(err)
		}
		if background {
			s.checkpoints.committed()
		}
	}
	checkpointAll(ctx, b, s)
	return time.Since(start)
}

// rawRow is what the baseline inserts for one tool.
type rawRow struct {
	id                    string
	seq                   int64
	record, signature, rx []byte
}

// rawInsert inserts rows in one transaction with prepared statements: the
// SQLite work of Store.Apply for the same creates, and nothing else.
func rawInsert(ctx context.Context, s *Store, rows []rawRow) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var stmts []*sql.Stmt
	prep := func(q string) *sql.Stmt {
		st, perr := tx.PrepareContext(ctx, q)
		if perr != nil && err == nil {
			err = perr
		}
		stmts = append(stmts, st)
		return st
	}
	insRecord := prep("INSERT INTO records (origin, kind, id, seq, deleted, record, signature, r_x) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
	setHead := prep("UPDATE origins SET head_seq = ? WHERE origin = ?")
	defer func() {
		for _, st := range stmts {
			if st != nil {
				st.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := insRecord.ExecContext(ctx, "fr", int64(KindTool), r.id, r.seq, false, r.record, r.signature, r.rx); err != nil {
			return err
		}
	}
	if _, err := setHead.ExecContext(ctx, rows[len(rows)-1].seq, "fr"); err != nil {
		return err
	}
	return tx.Commit()
}
