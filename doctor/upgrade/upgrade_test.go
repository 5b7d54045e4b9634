package upgrade_test

import (
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/upgrade"
	"github.com/partitadb/partita/partitapb"
)

func TestStatus(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	live := now.UnixNano()
	node := func(id uint64, min, max uint32, hb int64) *partitapb.Node {
		return &partitapb.Node{Id: id, MinVersion: min, MaxVersion: max, HeartbeatUnixNanos: hb}
	}
	for _, c := range []struct {
		name    string
		nodes   []*partitapb.Node
		cv      *partitapb.ClusterVersion
		health  string
		green   time.Duration
		target  clusterversion.Version
		due     bool
		blocker string
	}{
		{name: "every node new, green long enough", nodes: []*partitapb.Node{node(1, 1, 2, live), node(2, 1, 2, live)},
			green: time.Hour, target: 2, due: true},
		{name: "a node from before versions", nodes: []*partitapb.Node{node(1, 1, 2, live), node(2, 0, 0, live)},
			green: time.Hour, target: 1},
		{name: "a dead node", nodes: []*partitapb.Node{node(1, 1, 2, live), node(2, 1, 2, 1)},
			green: time.Hour, target: 2, blocker: "node 2 is dead"},
		{name: "held", nodes: []*partitapb.Node{node(1, 1, 2, live)}, cv: &partitapb.ClusterVersion{Active: 1, Hold: true, HoldBy: "ann"},
			green: time.Hour, target: 2, blocker: "held by ann"},
		{name: "not green", nodes: []*partitapb.Node{node(1, 1, 2, live)}, health: "2 repairs planned",
			target: 2, blocker: "2 repairs planned"},
		{name: "soaking", nodes: []*partitapb.Node{node(1, 1, 2, live)}, green: time.Second,
			target: 2, blocker: "green for 1s of the 1m0s soak"},
		{name: "finalised", nodes: []*partitapb.Node{node(1, 1, 2, live)}, cv: &partitapb.ClusterVersion{Active: 2},
			green: time.Hour, target: 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := upgrade.Of(&directory.Snapshot{Nodes: c.nodes, ClusterVersion: c.cv}, now, c.health, c.green, time.Minute)
			if s.Target != c.target || s.Due() != c.due {
				t.Fatalf("target %d due %v, want %d %v: %+v", s.Target, s.Due(), c.target, c.due, s)
			}
			if got := strings.Join(s.Blockers, "; "); c.blocker != "" && !strings.Contains(got, c.blocker) {
				t.Fatalf("blockers %q, want one saying %q", got, c.blocker)
			}
		})
	}
}
