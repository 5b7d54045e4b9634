package node

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/router"
)

// startJobs creates the node's job manager, registers its jobs and starts
// them. The jobs live until Close, whatever becomes of ctx.
func (n *Node) startJobs(ctx context.Context) error {
	m, err := daemon.New(daemon.Config{
		Clock:      daemon.RealClock(),
		Logger:     n.log,
		Registerer: n.reg,
		Tracer:     n.tracer("daemon"),
		OnCycle:    n.cfg.OnJobCycle,
	})
	if err != nil {
		return err
	}
	n.jobs = m
	ts, err := newTableStats(n.router, n.reg)
	if err != nil {
		return err
	}
	if err := m.Register(daemon.JobSpec{
		Name:       TableStatsJob,
		Kind:       daemon.Periodic,
		Interval:   n.cfg.TableStatsInterval,
		Jitter:     n.cfg.TableStatsInterval / 6,
		Timeout:    n.cfg.TableStatsInterval,
		RunAtStart: true,
		Run:        ts.run,
	}); err != nil {
		return err
	}
	if n.cfg.PeerAddr != "" {
		if err := n.registerClusterJobs(m); err != nil {
			return err
		}
	}
	return m.Start(context.WithoutCancel(ctx))
}

// TableStatsJob is the name of the job exporting per-table figures.
const TableStatsJob = "table-stats"

// tableStats exports each table's item count and size as gauges.
type tableStats struct {
	rt    *router.Router
	items *prometheus.GaugeVec
	bytes *prometheus.GaugeVec
}

func newTableStats(rt *router.Router, reg prometheus.Registerer) (*tableStats, error) {
	ts := &tableStats{
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
			return nil, fmt.Errorf("node: register table stats: %w", err)
		}
	}
	return ts, nil
}

// tablesKey is the cache entry naming the tables exported last cycle.
const tablesKey = "tables"

// run is one cycle: it sets the gauges of every table and deletes those
// of the tables dropped since the last cycle.
func (ts *tableStats) run(ctx context.Context, c *daemon.Cycle) error {
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
