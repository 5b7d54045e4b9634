package doctor

import (
	"testing"
	"time"

	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/topology/ingest"
)

// TestDoctorForgets: the Doctor's memory of partitions and operations is
// bounded by what is current: a passed settle mark, a held operation not
// noted for an hour and a recovery well past its period go, and what is
// still current stays.
func TestDoctorForgets(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	cfg := DefaultConfig()
	d := standbyDoctor(t, cfg)
	d.settling[7] = t0.Add(-time.Second) // passed
	d.settling[8] = t0.Add(time.Second)  // still settling
	d.noted["held long ago"] = noteMark{why: "red gate", at: t0.Add(-2 * time.Hour)}
	d.noted["held now"] = noteMark{why: "red gate", at: t0.Add(-time.Minute)}
	d.healedAt[3] = t0.Add(-3 * cfg.Checker.RecoveryPeriod)
	d.healedAt[4] = t0.Add(-time.Minute)
	d.forget(t0)
	if _, ok := d.settling[7]; ok {
		t.Error("a passed settle mark stayed")
	}
	if _, ok := d.settling[8]; !ok {
		t.Error("a current settle mark went")
	}
	if _, ok := d.noted["held long ago"]; ok {
		t.Error("an operation not noted for two hours stayed")
	}
	if _, ok := d.noted["held now"]; !ok {
		t.Error("an operation noted a minute ago went")
	}
	if _, ok := d.healedAt[3]; ok {
		t.Error("a recovery three periods old stayed")
	}
	if _, ok := d.healedAt[4]; !ok {
		t.Error("a recovery within its period went")
	}
}

// standbyDoctor is a Doctor of cfg that holds no lease and reaches no
// cluster: its memory alone is under test.
func standbyDoctor(t *testing.T, cfg Config) *Doctor {
	t.Helper()
	d, err := New(cfg, Deps{Epoch: func() uint64 { return 0 }, Cluster: func(uint64) operator.Cluster { return nil },
		View: func() *ingest.ClusterView { return nil }, Records: &MemRecords{}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
