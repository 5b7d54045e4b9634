package doctor

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/doctor/checker"
)

// metrics are the Doctor's. The lease's own (partita_doctor_active,
// partita_doctor_epoch) are package lease's.
type metrics struct {
	cycles   prometheus.Counter
	ops      *prometheus.CounterVec   // kind, outcome
	duration *prometheus.HistogramVec // kind
	running  prometheus.Gauge
	stuck    prometheus.Gauge
	holds    *prometheus.CounterVec // kind, reason
	planned  prometheus.Gauge
	alerts   *prometheus.CounterVec // reason
	zones    *prometheus.GaugeVec   // zone, state
}

// setZones exports the zones' health: one series per zone and state,
// 1 for the zone's state and 0 for the others, so that an alert can
// select the zones down.
func (m *metrics) setZones(zones []checker.ZoneHealth) {
	m.zones.Reset()
	for _, z := range zones {
		for _, s := range []checker.ZoneState{checker.ZoneHealthy, checker.ZoneDegraded, checker.ZoneDown} {
			v := 0.0
			if z.State == s {
				v = 1
			}
			m.zones.WithLabelValues(z.Zone, string(s)).Set(v)
		}
	}
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		cycles: prometheus.NewCounter(prometheus.CounterOpts{Name: "partita_doctor_cycles_total",
			Help: "Cycles the active Doctor ran (plan, validate, start)."}),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "partita_doctor_operations_total",
			Help: "Operations the Doctor finished, by kind and outcome (succeeded, failed, rolled-back)."}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "partita_doctor_operation_duration_seconds",
			Help:    "Time from an operation's start to its end, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 14)}, []string{"kind"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "partita_doctor_operations_running",
			Help: "Operations in flight on this node's Doctor."}),
		stuck: prometheus.NewGauge(prometheus.GaugeOpts{Name: "partita_doctor_operations_stuck",
			Help: "Operations in flight past their deadline."}),
		holds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "partita_doctor_holds_total",
			Help: "Proposed operations not started in a cycle, by kind and reason (hold, stale, refuse, paused, red-gate)."}, []string{"kind", "reason"}),
		planned: prometheus.NewGauge(prometheus.GaugeOpts{Name: "partita_doctor_planned_operations",
			Help: "Operations the last plan proposed."}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "partita_doctor_alerts_total",
			Help: "Alerts the Doctor raised, by reason (failed, deadline)."}, []string{"reason"}),
		zones: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "partita_doctor_zone_state",
			Help: "The zones' health as the active Doctor's last plan saw it: 1 for the zone's state (healthy, degraded: some nodes not alive, down: none alive), 0 for the others."}, []string{"zone", "state"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.cycles, m.ops, m.duration, m.running, m.stuck, m.holds, m.planned, m.alerts, m.zones} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("doctor: registering metrics: %w", err)
		}
	}
	return m, nil
}
