// Package metrics counts what an operator watches, in Prometheus' format:
// webhooks by type and outcome, events by state, Accurate calls by endpoint
// and outcome with their latency, queue depth and rate-limiter waits.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Source reads the store's current figures when Prometheus scrapes.
type Source interface {
	Counts(ctx context.Context) (map[string]int64, error)
	QueueDepth(ctx context.Context) (int, error)
}

// Metrics holds the service's collectors on a registry of its own (no
// global state, so tests can build as many as they like).
type Metrics struct {
	registry       *prometheus.Registry
	webhooks       *prometheus.CounterVec
	finished       *prometheus.CounterVec
	accurateCalls  *prometheus.CounterVec
	accurateTook   *prometheus.HistogramVec
	limiterWaiting prometheus.Histogram
}

// New registers every collector; source may be nil (no state gauges).
func New(source Source) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fas_webhooks_total", Help: "Forstok webhook deliveries by event type and outcome.",
		}, []string{"type", "outcome"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fas_event_attempts_total", Help: "Processing attempts by event type and the state they ended in.",
		}, []string{"type", "state"}),
		accurateCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fas_accurate_requests_total", Help: "Accurate API calls by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		accurateTook: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "fas_accurate_request_duration_seconds", Help: "Accurate API call latency by endpoint.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"endpoint"}),
		limiterWaiting: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "fas_accurate_limiter_wait_seconds", Help: "Time spent waiting for the shared Accurate rate and concurrency limit.",
			Buckets: []float64{.001, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
	}
	m.registry.MustRegister(m.webhooks, m.finished, m.accurateCalls, m.accurateTook, m.limiterWaiting,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if source != nil {
		m.registry.MustRegister(&stateCollector{source: source})
	}
	return m
}

// EventTypes makes every series of the given event types exist from the
// start, at zero, so that a dashboard shows a type before its first event.
func (m *Metrics) EventTypes(names []string, outcomes, states []string) {
	for _, name := range names {
		for _, o := range outcomes {
			m.webhooks.WithLabelValues(name, o)
		}
		for _, st := range states {
			m.finished.WithLabelValues(name, st)
		}
	}
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Webhook counts one delivery.
func (m *Metrics) Webhook(eventType, outcome string) {
	m.webhooks.WithLabelValues(eventType, outcome).Inc()
}

// EventFinished counts one processing attempt's end state.
func (m *Metrics) EventFinished(eventType, state string) {
	m.finished.WithLabelValues(eventType, state).Inc()
}

// AccurateCall records one Accurate API call.
func (m *Metrics) AccurateCall(endpoint, outcome string, took time.Duration) {
	m.accurateCalls.WithLabelValues(endpoint, outcome).Inc()
	m.accurateTook.WithLabelValues(endpoint).Observe(took.Seconds())
}

// LimiterWait records a wait for the shared Accurate limit.
func (m *Metrics) LimiterWait(took time.Duration) { m.limiterWaiting.Observe(took.Seconds()) }

// stateCollector reads events by state and the queue depth from Redis at
// scrape time, so every replica reports the same, true figures.
type stateCollector struct{ source Source }

var (
	eventsDesc = prometheus.NewDesc("fas_events", "Events kept, by state.", []string{"state"}, nil)
	depthDesc  = prometheus.NewDesc("fas_queue_depth", "Events waiting for a worker or for their next attempt.", nil, nil)
	upDesc     = prometheus.NewDesc("fas_store_up", "1 when the event store (Redis) answered the scrape.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- eventsDesc
	ch <- depthDesc
	ch <- upDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.source.Counts(ctx)
	depth, derr := c.source.QueueDepth(ctx)
	if err != nil || derr != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.GaugeValue, float64(n), state)
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(depth))
}
