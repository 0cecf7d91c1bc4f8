package sync

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are replication's Prometheus metrics.
type metrics struct {
	applied *prometheus.CounterVec
	refused *prometheus.CounterVec
	pulls   *prometheus.HistogramVec
	// divergences counts digests found to differ from a peer's at the
	// same watermark.
	divergences *prometheus.CounterVec
	// awaited is how many members the node's held writes still wait for,
	// and held whether they are held.
	awaited, held prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, r *Replicator) *metrics {
	m := &metrics{
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ogpnode_sync_records_applied_total",
			Help: "Records pulled from peers that changed the catalog, by origin (\"other\" for origins no member of the federation this node knows is).",
		}, []string{"origin"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ogpnode_sync_pages_refused_total",
			Help: "Pages of records from peers refused whole, by reason (bad_signature, malformed, gap, stale, key_mismatch...).",
		}, []string{"reason"}),
		pulls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ogpnode_sync_pull_duration_seconds",
			Help:    "Time of pulls from peers, by result (ok, error, busy: refused by a peer serving as many as it will).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
		}, []string{"result"}),
		divergences: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ogpnode_sync_divergences_total",
			Help: "Origins found to hold other records than a peer at the same watermark, by origin (\"other\" for origins no member this node knows is).",
		}, []string{"origin"}),
		awaited: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ogpnode_sync_own_writes_awaited_members",
			Help: "Members whose answer the node's own writes wait for, at start, in case its catalog lost records of its origin that they hold; 0 once the writes go ahead, and while none is known to ask (see ogpnode_sync_own_writes_held).",
		}, func() float64 { return float64(len(r.stillAwaited())) }),
		held: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "ogpnode_sync_own_writes_held",
			Help: "1 while the node's own writes wait for members to give back records of its origin its catalog may lack (a restored or wiped catalog: however long it takes, every write failing meanwhile), 0 once they go ahead.",
		}, func() float64 {
			if r.WritesHeld() {
				return 1
			}
			return 0
		}),
	}
	if reg != nil {
		reg.MustRegister(m.applied, m.refused, m.pulls, m.divergences, m.awaited, m.held, lagCollector{r})
	}
	return m
}

// lagCollector reports, at each scrape, how many seqs of each member's
// origin this node lacks.
type lagCollector struct{ r *Replicator }

func lagDesc() *prometheus.Desc {
	return prometheus.NewDesc("ogpnode_sync_lag", "Seqs of a member's origin this node lacks: the member's announced head minus this node's watermark.",
		[]string{"origin"}, nil)
}

func (c lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- lagDesc() }

func (c lagCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.r.Peers() {
		if !c.r.store.Accepts(p.Origin) {
			continue // an origin the trust list leaves out: refused, not lacked
		}
		ch <- prometheus.MustNewConstMetric(lagDesc(), prometheus.GaugeValue, float64(p.Lag), p.Origin)
	}
}
