package router

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/partitadb/partita/daemon"
)

// TableStatsJob exports each table's item count and size as gauges, and
// deletes the series of tables that are gone: its own, and those of the
// other metrics labelled by table given to Prune.
type TableStatsJob struct {
	rt    *Router
	items *prometheus.GaugeVec
	bytes *prometheus.GaugeVec
	// prune are other metrics labelled "table" (Prune).
	prune []*prometheus.MetricVec
}

// Prune adds vectors labelled "table" whose series of dropped tables each
// cycle deletes. Call it before the job runs.
func (ts *TableStatsJob) Prune(vs ...*prometheus.MetricVec) { ts.prune = append(ts.prune, vs...) }

// NewTableStatsJob registers the job's gauges with reg.
func NewTableStatsJob(rt *Router, reg prometheus.Registerer) (*TableStatsJob, error) {
	ts := &TableStatsJob{
		rt: rt,
		items: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "partita_table_items", Help: "Items in the table, as of the last table-stats cycle.",
		}, []string{"table"}),
		bytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "partita_table_size_bytes", Help: "Size of the table's items in bytes, as of the last table-stats cycle.",
		}, []string{"table"}),
	}
	for _, c := range []prometheus.Collector{ts.items, ts.bytes} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("router: register table stats: %w", err)
		}
	}
	return ts, nil
}

// tablesKey is the cache entry naming the tables exported last cycle.
const tablesKey = "tables"

// Run is one cycle: it sets the gauges of every table and deletes those
// of the tables dropped since the last cycle, and the Prune vectors'
// series of tables listed neither now nor at the last cycle (a table
// created between this cycle's read and its pruning keeps its series).
func (ts *TableStatsJob) Run(ctx context.Context, c *daemon.Cycle) error {
	tables, err := ts.rt.Tables(ctx)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(tables))
	for _, t := range tables {
		items, bytes, err := ts.rt.TableStats(ctx, t)
		if err != nil {
			return err
		}
		ts.items.WithLabelValues(t.GetName()).Set(float64(items))
		ts.bytes.WithLabelValues(t.GetName()).Set(float64(bytes))
		seen[t.GetName()] = true
	}
	prev, _ := daemon.CacheGet[map[string]bool](c.Cache, tablesKey)
	for name := range prev {
		if !seen[name] {
			ts.items.DeleteLabelValues(name)
			ts.bytes.DeleteLabelValues(name)
		}
	}
	pruneSeries(ts.prune, seen, prev)
	c.Cache.Put(tablesKey, seen)
	return ctx.Err()
}

// pruneSeries deletes from each of vs the series of every table in
// neither live nor prev.
func pruneSeries(vs []*prometheus.MetricVec, live, prev map[string]bool) {
	for _, v := range vs {
		for _, name := range seriesTables(v) {
			if !live[name] && !prev[name] {
				v.DeletePartialMatch(prometheus.Labels{"table": name})
			}
		}
	}
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
