package node

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/partitadb/partita/partitapb"
)

// The node's metrics labelled by table (a global index's lag and
// backfill, TTL deletions, capacity consumed and throttled) get a series
// per table they ever saw. The table-stats job deletes, every cycle, the
// series of tables that the directory no longer lists, nor did at the
// cycle before (a table created between the directory's read and the
// pruning keeps its series).

// addTableSeries adds vectors labelled "table" to those pruned. It is
// called while the node starts, before its jobs run.
func (n *Node) addTableSeries(vs ...*prometheus.MetricVec) {
	n.tableSeries = append(n.tableSeries, vs...)
}

// pruneTableSeries deletes the series of every table neither in tables
// nor in before, and returns the tables listed now (the next cycle's
// before).
func (n *Node) pruneTableSeries(tables []*partitapb.Table, before map[string]bool) map[string]bool {
	live := make(map[string]bool, len(tables))
	for _, t := range tables {
		live[t.GetName()] = true
	}
	for _, v := range n.tableSeries {
		for _, name := range seriesTables(v) {
			if !live[name] && !before[name] {
				v.DeletePartialMatch(prometheus.Labels{"table": name})
			}
		}
	}
	return live
}

// seriesTables returns the "table" label of each series of v.
func seriesTables(v *prometheus.MetricVec) []string {
	ch := make(chan prometheus.Metric, 16)
	go func() {
		v.Collect(ch)
		close(ch)
	}()
	var out []string
	for m := range ch {
		var pb dto.Metric
		if m.Write(&pb) != nil {
			continue
		}
		for _, l := range pb.GetLabel() {
			if l.GetName() == "table" {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}
