package node

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ogptoolbox/federation/storage"
	ogpsync "github.com/ogptoolbox/federation/sync"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus metrics, on a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	records  *recordCollector
}

func newMetrics(store *storage.Store, log *slog.Logger) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ogpnode_requests_total",
			Help: "API calls, over gRPC or REST (the web pages' too), by method and status code.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ogpnode_request_duration_seconds",
			Help: "Time to answer API calls, by method.",
			// 0.5 ms to 35 min: a pull served lasts up to 2 min, and
			// an import of a harvest up to 30.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 23),
		}, []string{"method"}),
	}
	m.records = &recordCollector{store: store, log: log}
	m.registry.MustRegister(m.requests, m.latency, m.records,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// recordCollector reports the records held, read from the catalog at each
// scrape so the figures are never stale.
type recordCollector struct {
	store *storage.Store
	log   *slog.Logger
	// label, once set (when replication starts), is the origin label of
	// an origin (see sync.Replicator.OriginLabel): the records of origins
	// it does not name are counted together, and their heads not given.
	label atomic.Pointer[func(string) string]
}

func recordsDesc() *prometheus.Desc {
	return prometheus.NewDesc("ogpnode_records", "Records held, by origin (\"other\" for origins no member of the federation this node knows is), kind (tool, use_case; any for a tombstone) and state (live, tombstone).",
		[]string{"origin", "kind", "state"}, nil)
}

func headDesc() *prometheus.Desc {
	return prometheus.NewDesc("ogpnode_origin_head_seq", "The highest seq held of each origin metrics name (the node's own, its members', the trusted ones).", []string{"origin"}, nil)
}

func (c *recordCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- recordsDesc()
	ch <- headDesc()
}

func (c *recordCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.store.Counts(ctx)
	if err != nil {
		c.log.Warn("metrics: count records", "error", err)
		return
	}
	rd, hd := recordsDesc(), headDesc()
	var other storage.OriginCounts
	others := false
	for _, o := range counts {
		if label := c.label.Load(); label != nil && (*label)(o.Origin) != o.Origin {
			other.Tools, other.UseCases, other.Tombstones = other.Tools+o.Tools, other.UseCases+o.UseCases, other.Tombstones+o.Tombstones
			others = true
			continue
		}
		emitCounts(ch, rd, o.Origin, o)
		ch <- prometheus.MustNewConstMetric(hd, prometheus.GaugeValue, float64(o.HeadSeq), o.Origin)
	}
	if others {
		emitCounts(ch, rd, ogpsync.OtherOrigins, other)
	}
}

func emitCounts(ch chan<- prometheus.Metric, rd *prometheus.Desc, label string, o storage.OriginCounts) {
	ch <- prometheus.MustNewConstMetric(rd, prometheus.GaugeValue, float64(o.Tools), label, "tool", "live")
	ch <- prometheus.MustNewConstMetric(rd, prometheus.GaugeValue, float64(o.UseCases), label, "use_case", "live")
	ch <- prometheus.MustNewConstMetric(rd, prometheus.GaugeValue, float64(o.Tombstones), label, "any", "tombstone")
}
