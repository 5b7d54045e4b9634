package daemon

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metricValue gathers reg and returns the value of the series of name with
// exactly the given job (and, if set, outcome) labels: a counter's or
// gauge's value, a histogram's sample count. ok is false when absent.
func metricValue(t *testing.T, reg prometheus.Gatherer, name, job, outcome string) (v float64, ok bool) {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelsMatch(m, job, outcome) {
				return sampleValue(m), true
			}
		}
	}
	return 0, false
}

func labelsMatch(m *dto.Metric, job, outcome string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	return got["job_name"] == job && got["outcome"] == outcome
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

// metric is metricValue that fails the test when the series is absent.
func metric(t *testing.T, reg prometheus.Gatherer, name, job, outcome string) float64 {
	t.Helper()
	v, ok := metricValue(t, reg, name, job, outcome)
	if !ok {
		t.Fatalf("no series %s{job_name=%q,outcome=%q}", name, job, outcome)
	}
	return v
}
