package lease

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Elector's gauges.
type metrics struct {
	active prometheus.Gauge // 1 while this node's Doctor is active
	epoch  prometheus.Gauge // the lease epoch this node last held or saw
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "partita_doctor_active",
			Help: "1 while this node's Doctor holds the Doctor lease and is active, 0 while it is a standby."}),
		epoch: prometheus.NewGauge(prometheus.GaugeOpts{Name: "partita_doctor_epoch",
			Help: "The Doctor lease epoch as this node last saw it (its own while active)."}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.active, m.epoch} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("lease: register metrics: %w", err)
		}
	}
	return m, nil
}
