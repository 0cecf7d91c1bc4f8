package node

import (
	"context"
	"log/slog"
	"time"

	"github.com/ogptoolbox/federation/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus metrics, on a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(store *storage.Store, log *slog.Logger) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ogpnode_requests_total",
			Help: "API calls, over gRPC or REST, by method and status code.",
		}, []string{"method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ogpnode_request_duration_seconds",
			Help:    "Time to answer API calls, by method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"method"}),
	}
	m.registry.MustRegister(m.requests, m.latency, &recordCollector{store: store, log: log},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// recordCollector reports the records held, read from the catalog at each
// scrape so the figures are never stale.
type recordCollector struct {
	store *storage.Store
	log   *slog.Logger
}

func recordsDesc() *prometheus.Desc {
	return prometheus.NewDesc("ogpnode_records", "Records held, by origin, kind (tool, use_case) and state (live, tombstone).",
		[]string{"origin", "kind", "state"}, nil)
}

func headDesc() *prometheus.Desc {
	return prometheus.NewDesc("ogpnode_origin_head_seq", "The highest seq held of each origin.", []string{"origin"}, nil)
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
	for _, o := range counts {
		ch <- prometheus.MustNewConstMetric(rd, prometheus.GaugeValue, float64(o.Tools), o.Origin, "tool", "live")
		ch <- prometheus.MustNewConstMetric(rd, prometheus.GaugeValue, float64(o.UseCases), o.Origin, "use_case", "live")
		ch <- prometheus.MustNewConstMetric(rd, prometheus.GaugeValue, float64(o.Tombstones), o.Origin, "any", "tombstone")
		ch <- prometheus.MustNewConstMetric(hd, prometheus.GaugeValue, float64(o.HeadSeq), o.Origin)
	}
}
