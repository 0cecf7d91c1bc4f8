package sync

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	catalogv1 "github.com/ogptoolbox/federation/gen/ogp/catalog/v1"
	federationv1 "github.com/ogptoolbox/federation/gen/ogp/federation/v1"
	"github.com/ogptoolbox/federation/internal/cputime"
	"github.com/ogptoolbox/federation/storage"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/stats"
)

// Run with: go test ./sync -run '^$' -bench . -benchtime 1x

// benchSource is a catalog of origin "fr" with n synthetic tools, served
// over gRPC on loopback.
type benchSource struct {
	store *storage.Store
	addr  string
}

func newBenchSource(b *testing.B, n int) *benchSource {
	b.Helper()
	store := benchStore(b, n)
	srv := grpc.NewServer()
	NewServer(store, 8, testLogger(b)).Register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(lis)
	b.Cleanup(srv.Stop)
	return &benchSource{store: store, addr: lis.Addr().String()}
}

// benchStore is a catalog of origin "fr" with n synthetic tools (benchTool),
// closed when tb ends.
func benchStore(tb testing.TB, n int) *storage.Store {
	tb.Helper()
	ctx := context.Background()
	store, err := storage.Open(ctx, storage.Options{Path: filepath.Join(tb.TempDir(), "source.db"), Origin: "fr", Key: nodeKey("fr"), Logger: testLogger(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	for i := 0; i < n; i += 1000 {
		var ws []storage.Write
		for j := i; j < min(n, i+1000); j++ {
			ws = append(ws, storage.Write{Op: storage.OpCreate, ID: fmt.Sprintf("tool-%06d", j), Resource: benchTool(j)})
		}
		if _, err := store.Apply(ctx, ws); err != nil {
			tb.Fatal(err)
		}
	}
	return store
}

// benchTool is a tool of about the size of a real catalog entry: a name,
// descriptions in two languages, features, a license and categories.
func benchTool(i int) *catalogv1.Tool {
	return &catalogv1.Tool{
		DisplayName: fmt.Sprintf("Outil civique %d", i),
		Descriptions: map[string]*catalogv1.Description{
			"fr": {ShortDescription: fmt.Sprintf("Plateforme de participation citoyenne numéro %d pour les collectivités", i),
				LongDescription: "Consultations, pétitions, budgets participatifs et suivi des engagements du plan d'action national, avec des données ouvertes sur chaque étape.",
				Features:        []string{"pétitions en ligne", "budget participatif", "consultations publiques"}},
			"en": {ShortDescription: fmt.Sprintf("Citizen participation platform number %d for local governments", i),
				LongDescription: "Consultations, petitions, participatory budgets and follow-up of the national action plan's commitments, with open data on every step.",
				Features:        []string{"online petitions", "participatory budgeting", "public consultations"}},
		},
		RepositoryUrl: fmt.Sprintf("https://git.example.org/civic/tool-%d", i),
		License:       "AGPL-3.0-or-later",
		Categories:    []string{"collaboration", "e-government"},
		Platforms:     []string{"web"},
	}
}

func dialBench(b *testing.B, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	b.Helper()
	conn, err := grpc.NewClient(addr, append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// BenchmarkReplicate100k pulls 100,000 tools over gRPC on loopback into an
// empty catalog (each page checked, every signature verified, applied with
// its watermark in one transaction, indexed for search), and compares with
// raw batched SQLite inserts of the same records rows, in the same run: one
// transaction per 1,000 rows through database/sql, into a fresh catalog of
// the same schema, with nothing verified, decoded or indexed.
func BenchmarkReplicate100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	src := newBenchSource(b, n)
	conn := dialBench(b, src.addr)
	var pullTime, rawTime, pullCPU, rawCPU time.Duration
	b.ResetTimer()
	for range b.N {
		dir := b.TempDir()
		dst, err := storage.Open(ctx, storage.Options{Path: filepath.Join(dir, "replica.db"), Origin: "de", Key: nodeKey("de"), Logger: testLogger(b)})
		if err != nil {
			b.Fatal(err)
		}
		// Each side starts with no garbage from before to collect: the
		// source's writes, then the pull's.
		runtime.GC()
		start, cpuStart := time.Now(), cputime.Process()
		res, err := PullFrom(ctx, dst, conn, 0)
		if err != nil || res.Applied != n {
			b.Fatalf("pulled %d records: %v", res.Applied, err)
		}
		// The time counts closing the catalog: the write-ahead log copied
		// into the database file, as the baseline's commits did.
		if err := dst.Close(); err != nil {
			b.Fatal(err)
		}
		pullTime += time.Since(start)
		pullCPU += cputime.Process() - cpuStart

		// The raw inserts' rows are read only now: held through the pull,
		// their 150 MB would be live heap no node replicating has, and
		// the pull's garbage would take that much fresh memory before
		// the collector ran.
		rows := benchRows(ctx, b, src.store)
		raw, err := storage.Open(ctx, storage.Options{Path: filepath.Join(dir, "raw.db"), Origin: "de", Key: nodeKey("de"), Logger: testLogger(b)})
		if err != nil {
			b.Fatal(err)
		}
		raw.Close()
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "raw.db")+"?_pragma=journal_mode(wal)&_pragma=synchronous(normal)")
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		start, cpuStart = time.Now(), cputime.Process()
		for i := 0; i < n; i += 1000 {
			tx, err := db.Begin()
			if err != nil {
				b.Fatal(err)
			}
			st, err := tx.Prepare("INSERT INTO records (origin, kind, id, seq, deleted, record, signature, r_x) VALUES ('fr', 1, ?, ?, 0, ?, ?, ?)")
			if err != nil {
				b.Fatal(err)
			}
			for j := i; j < i+1000; j++ {
				if _, err := st.Exec(fmt.Sprintf("tool-%06d", j), j+1, rows[j][0], rows[j][1], rows[j][2]); err != nil {
					b.Fatal(err)
				}
			}
			st.Close()
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		// Closing copies the write-ahead log's last pages into the
		// database file, as closing the replica did.
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start)
		rawCPU += cputime.Process() - cpuStart
	}
	pulled := float64(n*b.N) / pullTime.Seconds()
	inserted := float64(n*b.N) / rawTime.Seconds()
	b.ReportMetric(pulled, "records/s")
	b.ReportMetric(inserted, "raw-inserts/s")
	b.ReportMetric(pulled/inserted, "ratio")
	// CPU, both sides' (the serving node's too), which moves less than
	// the rates: the raw inserts also wait for the disk at SQLite's
	// checkpoints, and the machine's speed drifts.
	b.ReportMetric(float64(pullCPU.Microseconds())/float64(n*b.N), "cpu-µs/record")
	b.ReportMetric(float64(rawCPU.Microseconds())/float64(n*b.N), "raw-cpu-µs/insert")
}

// benchRows reads every record of store as the raw inserts' rows: the
// record, its signature and the x coordinate of the signature's R.
func benchRows(ctx context.Context, b *testing.B, store *storage.Store) [][]any {
	b.Helper()
	var rows [][]any
	if err := store.ReadPages(ctx, storage.PullSpec{AllOrigins: true}, func(p *federationv1.OriginPage) error {
		for _, sr := range p.GetRecords() {
			rows = append(rows, []any{sr.GetRecord(), sr.GetSignature(), sr.GetRX()})
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return rows
}

// BenchmarkPropagation times one write on a node reaching every node of
// in-process clusters of 10 and 50 (real memberlist and gRPC on loopback,
// the local timings, anti-entropy too rare to play a part), over 20 writes
// one after the other, once the cluster has formed and settled: p50 and
// p99 of the time until the last node holds it.
func BenchmarkPropagation(b *testing.B) {
	for _, size := range []int{10, 50} {
		b.Run(fmt.Sprintf("nodes=%d", size), func(b *testing.B) {
			nodes := startCluster(b, size, clusterOpts{antiEntropy: time.Hour})
			waitFor(b, 120*time.Second, "every node sees the others", func() bool {
				for _, n := range nodes {
					alive := 0
					for _, p := range n.repl.Peers() {
						if p.Alive {
							alive++
						}
					}
					if alive != size-1 {
						return false
					}
				}
				return true
			})
			// The joins' pulls (each node pulls from each member it first
			// sees) are not part of a write's propagation: time writes in
			// a cluster that has settled.
			waitFor(b, 120*time.Second, "the joins' pulls end", func() bool { return pullsUnderWay(nodes) == 0 })
			var lat []time.Duration
			b.ResetTimer()
			for it := range b.N {
				for w := range 20 {
					writer := nodes[(it*20+w)%size]
					prefix := fmt.Sprintf("w%d-%d", it, w)
					id := prefix + "-0" // writeTools' id of its first tool
					var wg gosync.WaitGroup
					var last atomic.Int64
					start := time.Now()
					for _, n := range nodes {
						if n == writer {
							continue
						}
						wg.Add(1)
						go func() {
							defer wg.Done()
							for {
								changed := n.store.Changed()
								if _, err := n.store.Get(context.Background(), storage.KindTool, writer.origin, id); err == nil {
									d := int64(time.Since(start))
									for {
										old := last.Load()
										if d <= old || last.CompareAndSwap(old, d) {
											break
										}
									}
									return
								}
								select {
								case <-changed:
								case <-time.After(30 * time.Second):
									b.Errorf("%s never got %s", n.origin, id)
									return
								}
							}
						}()
					}
					writeTools(b, writer, prefix, 1)
					wg.Wait()
					lat = append(lat, time.Duration(last.Load()))
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
		})
	}
}

// pullsUnderWay counts the pulls nodes run or have due, from any peer.
func pullsUnderWay(nodes []*testNode) int {
	n := 0
	for _, node := range nodes {
		node.repl.mu.Lock()
		for _, p := range node.repl.peers {
			if p.pulling || p.retrying {
				n++
			}
		}
		node.repl.mu.Unlock()
	}
	return n
}

// wireBytes counts the bytes a client connection sends and receives.
type wireBytes struct{ in, out atomic.Int64 }

func (w *wireBytes) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (w *wireBytes) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context {
	return ctx
}
func (w *wireBytes) HandleConn(context.Context, stats.ConnStats) {}
func (w *wireBytes) HandleRPC(_ context.Context, s stats.RPCStats) {
	switch p := s.(type) {
	case *stats.InPayload:
		w.in.Add(int64(p.WireLength))
	case *stats.OutPayload:
		w.out.Add(int64(p.WireLength))
	case *stats.InHeader:
		w.in.Add(int64(p.WireLength))
	case *stats.OutHeader:
		// gRPC does not report the wire length of outgoing headers.
	}
}

// BenchmarkAntiEntropyBytes counts the bytes of one anti-entropy round (a
// pull and a digest comparison) between two nodes already in sync, at
// 1,000 and 100,000 records.
func BenchmarkAntiEntropyBytes(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			ctx := context.Background()
			src := newBenchSource(b, n)
			dst, err := storage.Open(ctx, storage.Options{Path: filepath.Join(b.TempDir(), "replica.db"), Origin: "de", Key: nodeKey("de"), Logger: testLogger(b)})
			if err != nil {
				b.Fatal(err)
			}
			defer dst.Close()
			if _, err := PullFrom(ctx, dst, dialBench(b, src.addr), 0); err != nil {
				b.Fatal(err)
			}
			w := &wireBytes{}
			conn := dialBench(b, src.addr, grpc.WithStatsHandler(w))
			r := &Replicator{store: dst, cfg: Config{Origin: "de"}, log: testLogger(b)}
			r.m = newMetrics(nil, r)
			b.ResetTimer()
			for range b.N {
				res, err := PullFrom(ctx, dst, conn, 0)
				if err != nil || res.Applied != 0 {
					b.Fatalf("in sync, yet a pull applied %d: %v", res.Applied, err)
				}
				if reset, err := r.compareDigests(ctx, "fr", conn, res.FromStart, nil); err != nil || len(reset) != 0 {
					b.Fatalf("in sync, yet digests differ: %v %v", reset, err)
				}
			}
			b.ReportMetric(float64(w.in.Load()+w.out.Load())/float64(b.N), "bytes/round")
		})
	}
}
