package doctor

import (
	"testing"
	"time"

	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/topology/ingest"
)

// TestSlowNodesRecoverToo: a node that was only slow (its fsyncs slow,
// too few vantages to confirm it sick, some of its leaders moved off to
// look from elsewhere) starts its recovery period when it is no longer
// slow, as a sick node does; a node sick then only slow recovers once it
// is neither. Before, only nodes leaving the sick list recovered, and a
// leader moved off a slow node could go straight back to it.
func TestSlowNodesRecoverToo(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	d, err := New(DefaultConfig(), Deps{Epoch: func() uint64 { return 0 }, Cluster: func(uint64) operator.Cluster { return nil },
		View: func() *ingest.ClusterView { return nil }, Records: &MemRecords{}})
	if err != nil {
		t.Fatal(err)
	}
	d.noteSick([]uint64{4}, []uint64{3, 4}, t0)       // n3 slow, n4 sick
	d.noteSick(nil, []uint64{4}, t0.Add(time.Second)) // n3 well, n4 only slow
	d.noteSick(nil, nil, t0.Add(2*time.Second))       // n4 well
	d.noteSick(nil, nil, t0.Add(3*time.Second))       // nothing new
	if got := d.healedAt[3]; !got.Equal(t0.Add(time.Second)) {
		t.Errorf("n3 healed at %v, want %v (when it stopped being slow)", got, t0.Add(time.Second))
	}
	if got := d.healedAt[4]; !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("n4 healed at %v, want %v (when it was neither sick nor slow)", got, t0.Add(2*time.Second))
	}
	if _, ok := d.sickSince[4]; ok {
		t.Error("n4 is still counted sick")
	}
}
