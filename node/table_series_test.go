package node

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/partitadb/partita/partitapb"
)

// TestPruneTableSeries: the series of a table the directory no longer
// lists go at the second cycle without it (a table missing from one read
// only, as one created between the read and the pruning, keeps them);
// the series of listed tables stay, whatever their other labels.
func TestPruneTableSeries(t *testing.T) {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_total", Help: "h"}, []string{"table", "op"})
	n := &Node{}
	n.addTableSeries(v.MetricVec)
	for _, l := range [][2]string{{"kept", "read"}, {"kept", "write"}, {"gone", "read"}, {"gone", "write"}} {
		v.WithLabelValues(l[0], l[1]).Inc()
	}
	listed := []*partitapb.Table{{Name: "kept"}}
	before := n.pruneTableSeries(listed, map[string]bool{"kept": true, "gone": true})
	if got := testutil.CollectAndCount(v); got != 4 {
		t.Fatalf("%d series after the first cycle without the table, want 4 (it was listed the cycle before)", got)
	}
	n.pruneTableSeries(listed, before)
	if got := testutil.CollectAndCount(v); got != 2 {
		t.Fatalf("%d series after the second cycle without the table, want 2", got)
	}
	if testutil.ToFloat64(v.WithLabelValues("kept", "write")) != 1 {
		t.Fatal("a listed table's series lost its value")
	}
}
