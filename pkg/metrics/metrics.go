// Package metrics exports qscan's Prometheus metrics: messages and bytes by
// verdict and action, virus names (bounded), spam scores, per-stage and
// per-batch timings, queue depth and age, engine state and errors.
package metrics

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MaxVirusNames bounds the cardinality of the virus-name label; further
// names are counted as "other".
const MaxVirusNames = 200

// Metrics holds the collectors. Create it with New.
type Metrics struct {
	Registry *prometheus.Registry

	messages   *prometheus.CounterVec
	bytes      *prometheus.CounterVec
	viruses    *prometheus.CounterVec
	spamScore  prometheus.Histogram
	stage      *prometheus.HistogramVec
	batchSize  prometheus.Histogram
	batchTime  prometheus.Histogram
	engineUp   *prometheus.GaugeVec
	engineErrs *prometheus.CounterVec
	held       prometheus.Gauge
	quarantine *prometheus.CounterVec

	mu         sync.Mutex
	virusNames map[string]bool

	// The SMTP filter's gauges, registered by the first Filter call.
	filterOnce sync.Once
	accepting  prometheus.Gauge
	spoolDepth prometheus.Gauge
}

// QueueStats reports the incoming queue's depth and the age of its oldest
// message, computed when scraped.
type QueueStats func() (depth int, oldest time.Duration)

// New registers every metric. queue may be nil.
func New(queue QueueStats) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qscan_messages_total",
			Help: "Messages processed, by verdict and action."}, []string{"verdict", "action"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qscan_bytes_total",
			Help: "Bytes of messages processed, by verdict."}, []string{"verdict"}),
		viruses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qscan_viruses_total",
			Help: "Viruses found, by name (at most 200 names, then \"other\")."}, []string{"name"}),
		spamScore: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qscan_spam_score",
			Help: "Spam scores of checked messages.", Buckets: []float64{-5, 0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50}}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "qscan_stage_duration_seconds",
			Help:    "Time per stage: claim, attempts, commit per batch; explode, content, virus, spam per message.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}, []string{"stage"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qscan_batch_messages",
			Help: "Messages per batch.", Buckets: []float64{1, 2, 5, 10, 20, 30, 50, 100}}),
		batchTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "qscan_batch_duration_seconds",
			Help: "Time per batch, claim to commit.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14)}),
		engineUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "qscan_engine_up",
			Help: "1 when the engine answered its last request, 0 when it failed."}, []string{"engine"}),
		engineErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qscan_engine_errors_total",
			Help: "Engine failures (down, timeout, error answer)."}, []string{"engine"}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{Name: "qscan_held_messages",
			Help: "Messages held in the incoming queue for a retry."}),
		quarantine: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "qscan_quarantined_total",
			Help: "Messages quarantined, by kind: whole, parts, poison (too many attempts), corrupt."}, []string{"kind"}),
		virusNames: map[string]bool{},
	}
	r.MustRegister(m.messages, m.bytes, m.viruses, m.spamScore, m.stage, m.batchSize, m.batchTime,
		m.engineUp, m.engineErrs, m.held, m.quarantine,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queue != nil {
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qscan_incoming_queue_depth",
			Help: "Messages in the incoming queues."}, func() float64 { d, _ := queue(); return float64(d) }))
		r.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qscan_incoming_oldest_seconds",
			Help: "Age of the oldest message in the incoming queues."}, func() float64 { _, o := queue(); return o.Seconds() }))
	}
	return m
}

// Filter records the SMTP filter's back-pressure state: whether it
// accepts new mail (else it answers 451) and the messages in its spool.
func (m *Metrics) Filter(accepting bool, depth int) {
	m.filterOnce.Do(func() {
		m.accepting = prometheus.NewGauge(prometheus.GaugeOpts{Name: "qscan_smtp_accepting",
			Help: "1 while the SMTP filter accepts mail, 0 while it answers 451 (engine down, spool full, low disk)."})
		m.spoolDepth = prometheus.NewGauge(prometheus.GaugeOpts{Name: "qscan_spool_messages",
			Help: "Messages in the SMTP filter's spool."})
		m.Registry.MustRegister(m.accepting, m.spoolDepth)
	})
	v := 0.0
	if accepting {
		v = 1
	}
	m.accepting.Set(v)
	m.spoolDepth.Set(float64(depth))
}

// BatchStart is called when a batch begins (nothing to count).
func (m *Metrics) BatchStart(int) {}

// Message counts one processed message.
func (m *Metrics) Message(verdict, action string, size int64, stageMS map[string]int64) {
	m.messages.WithLabelValues(verdict, action).Inc()
	m.bytes.WithLabelValues(verdict).Add(float64(size))
	for stage, ms := range stageMS {
		m.stage.WithLabelValues(stage).Observe(float64(ms) / 1000)
	}
}

// Virus counts one virus found.
func (m *Metrics) Virus(name string) {
	m.mu.Lock()
	if !m.virusNames[name] {
		if len(m.virusNames) >= MaxVirusNames {
			name = "other"
		} else {
			m.virusNames[name] = true
		}
	}
	m.mu.Unlock()
	m.viruses.WithLabelValues(name).Inc()
}

// SpamScore records a spam score.
func (m *Metrics) SpamScore(s float64) { m.spamScore.Observe(s) }

// Batch records a batch and its batch-wide steps.
func (m *Metrics) Batch(messages int, total, claim, attempts, commit time.Duration) {
	m.batchSize.Observe(float64(messages))
	m.batchTime.Observe(total.Seconds())
	m.stage.WithLabelValues("claim").Observe(claim.Seconds())
	m.stage.WithLabelValues("attempts").Observe(attempts.Seconds())
	m.stage.WithLabelValues("commit").Observe(commit.Seconds())
}

// Engine records an engine's state after a request.
func (m *Metrics) Engine(name string, up bool) {
	v := 0.0
	if up {
		v = 1
	} else {
		m.engineErrs.WithLabelValues(name).Inc()
	}
	m.engineUp.WithLabelValues(name).Set(v)
}

// Held sets the number of held messages.
func (m *Metrics) Held(n int) { m.held.Set(float64(n)) }

// Quarantined counts a quarantined message.
func (m *Metrics) Quarantined(kind string) { m.quarantine.WithLabelValues(kind).Inc() }

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Serve serves /metrics on addr. It returns once listening, so that a bad
// address is an error at start-up; close the server to stop.
func (m *Metrics) Serve(addr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv, nil
}

// OutboxStats reports the message-log outbox of a host whose store is
// shared: rows waiting for PostgreSQL and the age of the oldest.
type OutboxStats func() (rows int64, oldest time.Duration)

// Outbox registers the outbox gauges, computed when scraped.
func (m *Metrics) Outbox(stats OutboxStats) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qscan_log_outbox_rows",
		Help: "Message-log rows and quarantine changes waiting in the local outbox for PostgreSQL."},
		func() float64 { n, _ := stats(); return float64(n) }))
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "qscan_log_outbox_oldest_seconds",
		Help: "Age of the oldest row waiting in the outbox (0 when empty)."},
		func() float64 { _, o := stats(); return o.Seconds() }))
}
