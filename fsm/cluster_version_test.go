package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// TestClusterVersion: the first node sets the version from 0; versions
// then move up one compare-and-set at a time, never down, and not while
// finalisation is held; the record says who changed it and from what.
func TestClusterVersion(t *testing.T) {
	eng := openEngine(t)
	set := func(from, to uint32) *partitapb.Result {
		return apply(t, eng, directory.MetaPartition, &partitapb.Command{UnixNanos: 9,
			Op: &partitapb.Command_SetClusterVersion{SetClusterVersion: &partitapb.SetClusterVersion{From: from, To: to, By: "doctor"}}})
	}
	hold := func(on bool) *partitapb.Result {
		return apply(t, eng, directory.MetaPartition, &partitapb.Command{
			Op: &partitapb.Command_HoldClusterVersion{HoldClusterVersion: &partitapb.HoldClusterVersion{Hold: on, By: "ann", Reason: "canary"}}})
	}
	active := func() uint32 {
		v, err := directory.ReadClusterVersion(eng.Reader())
		if err != nil {
			t.Fatal(err)
		}
		return v.GetActive()
	}
	if res := set(0, 1); res.GetError() != nil || active() != 1 {
		t.Fatalf("bootstrap at 1: %v, active %d", res, active())
	}
	for _, c := range []struct {
		from, to uint32
		why      string
	}{{0, 2, "a stale from"}, {1, 1, "no rise"}, {2, 3, "a from not in force"}} {
		if res := set(c.from, c.to); res.GetError().GetCode() != partitapb.Error_CONDITION_FAILED || active() != 1 {
			t.Errorf("%s (%d to %d): %v, active %d", c.why, c.from, c.to, res, active())
		}
	}
	if res := hold(true); !res.GetClusterVersion().GetHold() {
		t.Fatalf("hold: %v", res)
	}
	if res := set(1, 2); res.GetError().GetCode() != partitapb.Error_CONDITION_FAILED || active() != 1 {
		t.Fatalf("a finalisation while held: %v, active %d", res, active())
	}
	if res := hold(false); res.GetClusterVersion().GetHold() || res.GetClusterVersion().GetHoldBy() != "" {
		t.Fatalf("release: %v", res)
	}
	res := set(1, 2)
	if v := res.GetClusterVersion(); res.GetError() != nil || v.GetActive() != 2 || v.GetPrevious() != 1 ||
		v.GetChangedBy() != "doctor" || v.GetChangedUnixNanos() != 9 {
		t.Fatalf("finalisation: %v", res)
	}
	if res := apply(t, eng, 42, &partitapb.Command{Op: &partitapb.Command_HoldClusterVersion{
		HoldClusterVersion: &partitapb.HoldClusterVersion{Hold: true}}}); res.GetError() == nil {
		t.Fatalf("a cluster version command on a table's partition: %v", res)
	}
}
