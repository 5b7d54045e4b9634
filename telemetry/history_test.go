package telemetry

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestHistoryRatesAndQuantiles(t *testing.T) {
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricRequests}, []string{"operation"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricErrors}, []string{"operation", "type"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metricLatency, Buckets: []float64{0.001, 0.01, 0.1}}, []string{"operation"})
	disk := prometheus.NewGauge(prometheus.GaugeOpts{Name: metricDisk})
	reg.MustRegister(reqs, errs, lat, disk)

	now := time.Unix(0, 0)
	h := NewHistory(HistoryConfig{Gatherer: reg, Keep: 3, Now: func() time.Time { return now }})
	ctx := context.Background()
	if err := h.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		reqs.WithLabelValues("PutItem").Inc()
		d := 0.0005 // 98 fast requests, 2 slow ones
		if i >= 98 {
			d = 0.05
		}
		lat.WithLabelValues("PutItem").Observe(d)
	}
	errs.WithLabelValues("PutItem", "ValidationException").Add(10)
	disk.Set(4096)
	now = now.Add(10 * time.Second)
	if err := h.Sample(ctx); err != nil {
		t.Fatal(err)
	}
	pts := h.Points(time.Time{})
	if len(pts) != 1 {
		t.Fatalf("%d points, want 1", len(pts))
	}
	p := pts[0]
	if p.Ops["PutItem"] != 10 || p.Errors["PutItem"] != 1 || p.DiskBytes != 4096 {
		t.Errorf("point = %+v, want 10 PutItem/s, 1 error/s, 4096 disk bytes", p)
	}
	if p.P50 != 0.001 || p.P99 != 0.1 {
		t.Errorf("p50, p99 = %v, %v; want 0.001, 0.1", p.P50, p.P99)
	}
	for range 5 {
		now = now.Add(5 * time.Second)
		if err := h.Sample(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pts = h.Points(time.Time{})
	if len(pts) != 3 || pts[2].Time != now {
		t.Fatalf("kept %d points ending %v, want 3 ending %v", len(pts), pts[len(pts)-1].Time, now)
	}
	if p := pts[2]; p.Ops != nil || p.P50 != 0 || math.IsNaN(p.CPU) {
		t.Errorf("an idle interval's point = %+v", p)
	}
	if got := h.Points(pts[1].Time); len(got) != 1 {
		t.Errorf("Points(since) returned %d points, want 1", len(got))
	}
}
