package daemon

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the manager's Prometheus collectors, labelled by job.
type metrics struct {
	cycleDuration *prometheus.HistogramVec
	runs          *prometheus.CounterVec
	failures      *prometheus.CounterVec
	retries       *prometheus.CounterVec
	panics        *prometheus.CounterVec
	lastSuccess   *prometheus.GaugeVec
	state         *prometheus.GaugeVec
	queueLength   *prometheus.GaugeVec
	items         *prometheus.CounterVec
}

// cycleBuckets span a millisecond heartbeat to a ten-minute sweep.
var cycleBuckets = []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 600}

func newMetrics() *metrics {
	job := []string{"job_name"}
	return &metrics{
		cycleDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "partita_daemon_cycle_duration_seconds",
			Help:    "Duration of job cycles, by job.",
			Buckets: cycleBuckets,
		}, job),
		runs:     counter("partita_daemon_runs_total", "Cycles run, by job.", job),
		failures: counter("partita_daemon_failures_total", "Cycles failed (error, timeout or panic), by job.", job),
		retries:  counter("partita_daemon_retries_total", "Cycles run as retries of a failed cycle, by job.", job),
		panics:   counter("partita_daemon_panics_total", "Panics recovered in cycles and work items, by job.", job),
		lastSuccess: gauge("partita_daemon_last_success_timestamp_seconds",
			"Unix time of the end of the job's last successful cycle."),
		state: gauge("partita_daemon_job_state",
			"Job state: 0 stopped, 1 idle, 2 running, 3 paused, 4 backoff."),
		queueLength: gauge("partita_daemon_queue_length", "Items waiting in the job's work queue."),
		items: counter("partita_daemon_items_total",
			"Work items by job and outcome (success, failure, timeout, panic, rejected, dropped).",
			[]string{"job_name", "outcome"}),
	}
}

func counter(name, help string, labels []string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

func gauge(name, help string) *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"job_name"})
}

// register registers every collector on r.
func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		m.cycleDuration, m.runs, m.failures, m.retries, m.panics,
		m.lastSuccess, m.state, m.queueLength, m.items,
	} {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("daemon: register metrics: %w", err)
		}
	}
	return nil
}

// initJob creates the job's series so they read 0 before its first cycle.
func (m *metrics) initJob(job string, hasQueue bool) {
	m.runs.WithLabelValues(job)
	m.failures.WithLabelValues(job)
	m.retries.WithLabelValues(job)
	m.panics.WithLabelValues(job)
	m.state.WithLabelValues(job).Set(float64(StateStopped))
	if hasQueue {
		m.queueLength.WithLabelValues(job).Set(0)
	}
}

// observeCycle records a finished cycle.
func (m *metrics) observeCycle(r CycleRecord) {
	m.cycleDuration.WithLabelValues(r.Job).Observe(r.Duration().Seconds())
	m.runs.WithLabelValues(r.Job).Inc()
	if r.Attempt > 1 {
		m.retries.WithLabelValues(r.Job).Inc()
	}
	if r.Outcome.Failed() {
		m.failures.WithLabelValues(r.Job).Inc()
	}
	if r.Outcome == OutcomePanic {
		m.panics.WithLabelValues(r.Job).Inc()
	}
	if r.Outcome == OutcomeSuccess {
		m.lastSuccess.WithLabelValues(r.Job).Set(unixSeconds(r.End))
	}
}

// observeItem records a finished, rejected or dropped work item.
func (m *metrics) observeItem(job string, o string, n int) {
	m.items.WithLabelValues(job, o).Add(float64(n))
	if o == string(OutcomePanic) {
		m.panics.WithLabelValues(job).Add(float64(n))
	}
}

func (m *metrics) setState(job string, s State) {
	m.state.WithLabelValues(job).Set(float64(s))
}

func (m *metrics) setQueueLength(job string, n int) {
	m.queueLength.WithLabelValues(job).Set(float64(n))
}

func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
