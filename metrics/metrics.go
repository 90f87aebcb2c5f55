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

// Source reads a deployment of one seller's figures when Prometheus
// scrapes: the seller's events by state (its events.Store) and the queue's
// depth (the events.Namespace's).
type Source struct {
	Events interface {
		Counts(ctx context.Context) (map[string]int64, error)
	}
	Queue interface {
		QueueDepth(ctx context.Context) (int, error)
	}
}

// SellerSource reads each seller's figures when Prometheus scrapes.
type SellerSource interface {
	// SellerCounts are the events by state of each seller, by seller id.
	SellerCounts(ctx context.Context) (map[string]map[string]int64, error)
	QueueDepth(ctx context.Context) (int, error)
}

// Metrics holds the service's collectors on a registry of its own (no
// global state, so tests can build as many as they like).
type Metrics struct {
	// sellers: the event metrics carry a seller label (a deployment of
	// SELLERS_DIR); without it they have the single seller's labels.
	sellers        bool
	registry       *prometheus.Registry
	webhooks       *prometheus.CounterVec
	finished       *prometheus.CounterVec
	accurateCalls  *prometheus.CounterVec
	accurateTook   *prometheus.HistogramVec
	limiterWaiting prometheus.Histogram
}

// New registers every collector; source may be nil (no state gauges).
func New(source *Source) *Metrics {
	m := build(false)
	if source != nil {
		one := func(ctx context.Context) (map[string]map[string]int64, error) {
			c, err := source.Events.Counts(ctx)
			return map[string]map[string]int64{"": c}, err
		}
		m.registry.MustRegister(&stateCollector{counts: one, depth: source.Queue.QueueDepth})
	}
	return m
}

// NewForSellers is New for a deployment of several sellers: the webhook,
// attempt and state series carry a seller label. Sellers come from the
// configuration, never from a request, so the label's values stay bounded.
func NewForSellers(source SellerSource) *Metrics {
	m := build(true)
	if source != nil {
		m.registry.MustRegister(&stateCollector{sellers: true, counts: source.SellerCounts, depth: source.QueueDepth})
	}
	return m
}

func build(sellers bool) *Metrics {
	labels := func(names ...string) []string {
		if sellers {
			return append([]string{"seller"}, names...)
		}
		return names
	}
	m := &Metrics{
		sellers:  sellers,
		registry: prometheus.NewRegistry(),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fas_webhooks_total", Help: "Forstok webhook deliveries by event type and outcome.",
		}, labels("type", "outcome")),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fas_event_attempts_total", Help: "Processing attempts by event type and the state they ended in.",
		}, labels("type", "state")),
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
	return m
}

// values puts the seller first when the series carry one.
func (m *Metrics) values(seller string, rest ...string) []string {
	if m.sellers {
		return append([]string{seller}, rest...)
	}
	return rest
}

// EventTypes makes every series of the given event types exist from the
// start, at zero, so that a dashboard shows a type before its first event.
func (m *Metrics) EventTypes(names []string, outcomes, states []string) {
	m.SellerEventTypes("default", names, outcomes, states)
}

// SellerEventTypes is EventTypes for one seller's series.
func (m *Metrics) SellerEventTypes(seller string, names []string, outcomes, states []string) {
	for _, name := range names {
		for _, o := range outcomes {
			m.webhooks.WithLabelValues(m.values(seller, name, o)...)
		}
		for _, st := range states {
			m.finished.WithLabelValues(m.values(seller, name, st)...)
		}
	}
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Webhook counts one delivery to a seller.
func (m *Metrics) Webhook(seller, eventType, outcome string) {
	m.webhooks.WithLabelValues(m.values(seller, eventType, outcome)...).Inc()
}

// EventFinished counts one processing attempt's end state.
func (m *Metrics) EventFinished(seller, eventType, state string) {
	m.finished.WithLabelValues(m.values(seller, eventType, state)...).Inc()
}

// Seller is the worker's view of the metrics of one seller.
func (m *Metrics) Seller(id string) SellerMetrics { return SellerMetrics{m: m, seller: id} }

// SellerMetrics counts one seller's event attempts.
type SellerMetrics struct {
	m      *Metrics
	seller string
}

// EventFinished counts one processing attempt's end state.
func (s SellerMetrics) EventFinished(eventType, state string) {
	s.m.EventFinished(s.seller, eventType, state)
}

// AccurateCall records one Accurate API call.
func (m *Metrics) AccurateCall(endpoint, outcome string, took time.Duration) {
	m.accurateCalls.WithLabelValues(endpoint, outcome).Inc()
	m.accurateTook.WithLabelValues(endpoint).Observe(took.Seconds())
}

// LimiterWait records a wait for the shared Accurate limit.
func (m *Metrics) LimiterWait(took time.Duration) { m.limiterWaiting.Observe(took.Seconds()) }

// stateCollector reads events by state and the queue depth from Redis at
// scrape time, so every replica reports the same, true figures. counts
// are by seller; with sellers false the one seller's go out without the
// label.
type stateCollector struct {
	sellers bool
	counts  func(ctx context.Context) (map[string]map[string]int64, error)
	depth   func(ctx context.Context) (int, error)
}

var (
	eventsDesc       = prometheus.NewDesc("fas_events", "Events kept, by state.", []string{"state"}, nil)
	sellerEventsDesc = prometheus.NewDesc("fas_events", "Events kept, by seller and state.", []string{"seller", "state"}, nil)
	depthDesc        = prometheus.NewDesc("fas_queue_depth", "Events waiting for a worker or for their next attempt.", nil, nil)
	upDesc           = prometheus.NewDesc("fas_store_up", "1 when the event store (Redis) answered the scrape.", nil, nil)
)

func (c *stateCollector) eventsDesc() *prometheus.Desc {
	if c.sellers {
		return sellerEventsDesc
	}
	return eventsDesc
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.eventsDesc()
	ch <- depthDesc
	ch <- upDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	depth, derr := c.depth(ctx)
	if err != nil || derr != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for seller, byState := range counts {
		for state, n := range byState {
			labels := []string{state}
			if c.sellers {
				labels = []string{seller, state}
			}
			ch <- prometheus.MustNewConstMetric(c.eventsDesc(), prometheus.GaugeValue, float64(n), labels...)
		}
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(depth))
}

// ReconciliationSource reads the differences of each seller's newest daily
// reconciliation, by kind.
type ReconciliationSource interface {
	DifferencesBySeller(ctx context.Context) (map[string]map[string]int, error)
}

// Reconciliations adds fas_reconciliation_differences{seller,kind}, read
// from Redis at scrape time so every replica reports the same run.
func (m *Metrics) Reconciliations(source ReconciliationSource) {
	m.registry.MustRegister(&reconciliationCollector{source: source})
}

var reconciliationDesc = prometheus.NewDesc("fas_reconciliation_differences",
	"Differences found by the newest daily reconciliation of each seller, by kind.", []string{"seller", "kind"}, nil)

type reconciliationCollector struct{ source ReconciliationSource }

func (c *reconciliationCollector) Describe(ch chan<- *prometheus.Desc) { ch <- reconciliationDesc }

func (c *reconciliationCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	bySeller, err := c.source.DifferencesBySeller(ctx)
	if err != nil {
		return // fas_store_up says Redis did not answer
	}
	for seller, byKind := range bySeller {
		for kind, n := range byKind {
			ch <- prometheus.MustNewConstMetric(reconciliationDesc, prometheus.GaugeValue, float64(n), seller, kind)
		}
	}
}
