package dynamo

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// unknownOperation labels requests whose X-Amz-Target names no operation,
// so a client cannot create series at will.
const unknownOperation = "unknown"

// metrics are the server's Prometheus collectors, by operation.
type metrics struct {
	requests  *prometheus.CounterVec
	errors    *prometheus.CounterVec
	abandoned *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	running   prometheus.GaugeFunc
}

// requestBuckets span a cached read (100µs) to a request at its timeout.
var requestBuckets = prometheus.ExponentialBuckets(0.0001, 2.5, 14)

func newMetrics(running func() float64) *metrics {
	op := []string{"operation"}
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_dynamo_requests_total", Help: "DynamoDB API requests, by operation.",
		}, op),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_dynamo_errors_total",
			Help: "DynamoDB API requests answered with an error, by operation and __type (short name).",
		}, []string{"operation", "type"}),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_dynamo_requests_abandoned_total",
			Help: "DynamoDB API requests whose client went away (closed its connection) before they were answered, by operation; not counted as errors.",
		}, op),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "partita_dynamo_request_duration_seconds", Help: "Latency of DynamoDB API requests, by operation.",
			Buckets: requestBuckets,
		}, op),
		running: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "partita_dynamo_requests_running",
			Help: "DynamoDB operations running now (their bodies being read included), bounded by request.max-inflight.",
		}, running),
	}
}

// register adds the collectors to reg (nil: none) and creates the series
// of every operation, so they read 0 before the first request.
func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.errors, m.abandoned, m.duration, m.running} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("dynamo: register metrics: %w", err)
		}
	}
	for op := range operations {
		m.requests.WithLabelValues(op)
		m.duration.WithLabelValues(op)
	}
	return nil
}

// observe counts one request of op that took d and failed with the error
// type errType ("" for success), or that its client abandoned.
func (m *metrics) observe(op string, d time.Duration, errType string, abandoned bool) {
	m.requests.WithLabelValues(op).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
	switch {
	case abandoned:
		m.abandoned.WithLabelValues(op).Inc()
	case errType != "":
		m.errors.WithLabelValues(op, errType).Inc()
	}
}

// shortType is the part of a __type after '#', e.g. ValidationException.
func shortType(kind errKind) string {
	return kind.Type[strings.IndexByte(kind.Type, '#')+1:]
}
