package node

import "github.com/prometheus/client_golang/prometheus"

// addTableSeries adds metric vectors labelled "table" (a global index's
// lag and backfill, TTL deletions, capacity consumed and throttled) to
// those whose series of dropped tables the table-stats job deletes
// (router.TableStatsJob.Prune). It is called while the node starts,
// before its jobs run.
func (n *Node) addTableSeries(vs ...*prometheus.MetricVec) {
	n.tableSeries = append(n.tableSeries, vs...)
}
