package gate_test

import (
	"errors"
	"testing"

	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
)

// TestDefaultGates pins every checker kind's default colour: repairs
// green, improvements and unknown kinds yellow, moves off decommissioning
// nodes yellow, the removal of an emptied node's record green.
func TestDefaultGates(t *testing.T) {
	want := map[checker.Kind]gate.Color{
		checker.ReplaceReplica: gate.Green, checker.AddReplica: gate.Green, checker.RollForwardLearner: gate.Green,
		checker.RollBackLearner: gate.Green, checker.LeaveJoint: gate.Green, checker.SetReplicas: gate.Green,
		checker.TransferLeader: gate.Green, checker.MoveReplica: gate.Yellow, checker.RemoveReplica: gate.Yellow,
		checker.Split: gate.Yellow, checker.Merge: gate.Yellow, checker.Decommission: gate.Yellow,
		checker.RemoveNode: gate.Green, "": gate.Yellow,
	}
	g := gate.Default()
	for k, c := range want {
		if got := g.Color(k); got != c {
			t.Errorf("%q: %v, want %v", k, got, c)
		}
	}
	if len(g) != len(want)-1 {
		t.Errorf("Default has %d kinds, want %d: a new checker kind needs a colour here", len(g), len(want)-1)
	}
	// A nil Gates is every kind yellow, never green.
	if got := gate.Gates(nil).Color(checker.ReplaceReplica); got != gate.Yellow {
		t.Errorf("nil gates: %v, want yellow", got)
	}
}

func TestParseColor(t *testing.T) {
	for _, c := range []gate.Color{gate.Green, gate.Yellow, gate.Red} {
		got, err := gate.ParseColor(c.String())
		if err != nil || got != c {
			t.Errorf("ParseColor(%q) = %v, %v", c, got, err)
		}
	}
	for _, s := range []string{"", "Green", "amber", "color(0)"} {
		if _, err := gate.ParseColor(s); !errors.Is(err, gate.ErrColor) {
			t.Errorf("ParseColor(%q): %v, want ErrColor", s, err)
		}
	}
	if s := gate.Color(0).String(); s != "color(0)" {
		t.Errorf("zero colour: %q", s)
	}
}

// TestZeroValues: neither a zero Decision nor a zero Color reads as go.
func TestZeroValues(t *testing.T) {
	if d := (gate.Verdict{}).Decision; d == gate.Run || d.String() != "decision(0)" {
		t.Errorf("zero decision: %v", d)
	}
	for _, c := range []gate.Color{gate.Green, gate.Yellow, gate.Red} {
		if c == 0 {
			t.Errorf("%v is the zero Color", c)
		}
	}
	v := gate.Verdict{Decision: gate.Hold, Reasons: []string{"a", "b"}}
	if v.String() != "hold: a; b" {
		t.Errorf("verdict string: %q", v.String())
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := gate.DefaultLimits().Validate(); err != nil {
		t.Fatal(err)
	}
	if l := gate.DefaultLimits(); l != (gate.Limits{PerNode: 2, PerZone: 4, PerCluster: 8, StartsPerMinute: 30}) {
		t.Errorf("defaults: %+v", l)
	}
	for _, l := range []gate.Limits{{}, {PerNode: 1, PerZone: 1, PerCluster: 1}, {PerNode: -1, PerZone: 1, PerCluster: 1, StartsPerMinute: 1}} {
		if err := l.Validate(); !errors.Is(err, gate.ErrLimits) {
			t.Errorf("%+v: %v, want ErrLimits", l, err)
		}
	}
}
