package admission

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	consumed  *prometheus.CounterVec // by table, op
	throttled *prometheus.CounterVec // by table, op, reason
}

func newMetrics() *metrics {
	return &metrics{
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_capacity_consumed_units_total",
			Help: "Capacity units consumed by requests served on this node, by table and kind (read, write).",
		}, []string{"table", "op"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_throttled_requests_total",
			Help: "Requests throttled by admission control on this node, by table, kind and DynamoDB throttling reason.",
		}, []string{"table", "op", "reason"}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	var err error
	if m.consumed, err = registerVec(reg, m.consumed); err != nil {
		return err
	}
	m.throttled, err = registerVec(reg, m.throttled)
	return err
}

// registerVec registers c, or returns the collector registered already
// under its name (several nodes of one process share a registry).
func registerVec(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing, nil
		}
	}
	return c, err
}

// TableSeries are the controller's metric vectors labelled by table, for
// the owner to delete the series of tables that are gone.
func (c *Controller) TableSeries() []*prometheus.MetricVec {
	return []*prometheus.MetricVec{c.m.consumed.MetricVec, c.m.throttled.MetricVec}
}
