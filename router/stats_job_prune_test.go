package router

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestPruneSeries: the series of a table no longer listed go at the
// second cycle without it (a table missing from one read only, as one
// created between the read and the pruning, keeps them); the series of
// listed tables stay, whatever their other labels.
func TestPruneSeries(t *testing.T) {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_total", Help: "h"}, []string{"table", "op"})
	for _, l := range [][2]string{{"kept", "read"}, {"kept", "write"}, {"gone", "read"}, {"gone", "write"}} {
		v.WithLabelValues(l[0], l[1]).Inc()
	}
	vs, listed := []*prometheus.MetricVec{v.MetricVec}, map[string]bool{"kept": true}
	pruneSeries(vs, listed, map[string]bool{"kept": true, "gone": true})
	if got := testutil.CollectAndCount(v); got != 4 {
		t.Fatalf("%d series after the first cycle without the table, want 4 (it was listed the cycle before)", got)
	}
	pruneSeries(vs, listed, listed)
	if got := testutil.CollectAndCount(v); got != 2 {
		t.Fatalf("%d series after the second cycle without the table, want 2", got)
	}
	if testutil.ToFloat64(v.WithLabelValues("kept", "write")) != 1 {
		t.Fatal("a listed table's series lost its value")
	}
}
