package router

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/daemon"
)

// TableStatsJob exports each table's item count and size as gauges.
type TableStatsJob struct {
	rt    *Router
	items *prometheus.GaugeVec
	bytes *prometheus.GaugeVec
}

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
// of the tables dropped since the last cycle.
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
	c.Cache.Put(tablesKey, seen)
	return ctx.Err()
}
