package doctor

import (
	"testing"
	"time"
)

// TestSlowNodesRecoverToo: a node that was only slow (its fsyncs slow,
// too few vantages to confirm it sick) and had a leader moved off it to
// look from elsewhere starts its recovery period when it is no longer
// slow, as a sick node does; a node sick then only slow recovers once it
// is neither; a slow spell that moved nothing off the node leaves no
// recovery. Before, only nodes leaving the sick list recovered, and a
// leader moved off a slow node could go straight back to it.
func TestSlowNodesRecoverToo(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	d := standbyDoctor(t, DefaultConfig())
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	d.noteSick([]uint64{4}, []uint64{3, 4, 5}, []uint64{3}, at(0)) // n3 slow, a leader moved off; n4 sick; n5 slow
	d.noteSick(nil, []uint64{3, 4, 5}, nil, at(1))                 // n4 only slow now; n3 still slow
	d.noteSick(nil, []uint64{4}, nil, at(2))                       // n3 and n5 well
	d.noteSick(nil, nil, nil, at(3))                               // n4 well
	d.noteSick(nil, nil, nil, at(4))                               // nothing new
	for id, want := range map[uint64]time.Time{3: at(2), 4: at(1)} {
		if got := d.healedAt[id]; !got.Equal(want) {
			t.Errorf("n%d healed at %v, want %v", id, got, want)
		}
	}
	if _, ok := d.healedAt[5]; ok {
		t.Error("n5 was only slow, nothing moved off it, and it recovers")
	}
	if _, ok := d.sickSince[4]; ok {
		t.Error("n4 is still counted sick")
	}
}
