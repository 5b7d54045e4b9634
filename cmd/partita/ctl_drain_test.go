package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// TestCtlDrainMarks: ctl node drain moves a node's leaderships and says it
// is draining, by whom; ctl nodes shows the mark; an upgrade plan whose
// command does not restart the node halts, naming the mark that a
// restart would have cleared; ctl node undrain clears it.
func TestCtlDrainMarks(t *testing.T) {
	t.Parallel()
	nodes := ctlCluster(t, func(*node.Config) {})
	id := hosting(t, nodes).ID()
	text, err := ctl(t, nodes[0], "node", "drain", fmt.Sprint(id))
	if err != nil || !strings.Contains(text, fmt.Sprintf("node %d draining since", id)) ||
		!strings.Contains(text, "takes no leadership until it restarts or is undrained") {
		t.Fatalf("ctl node drain: %v\n%s", err, text)
	}
	marked := func() bool {
		var listed []topology.NodeInfo
		ctlJSON(t, nodes[1], &listed, "nodes")
		for _, n := range listed {
			if n.ID == id {
				return !n.Draining.IsZero()
			}
		}
		t.Fatalf("node %d not listed: %+v", id, listed)
		return false
	}
	eventually(t, func() error {
		if !marked() {
			return fmt.Errorf("node %d not shown draining", id)
		}
		return nil
	})
	if text, err := ctl(t, nodes[1], "nodes"); err != nil || !strings.Contains(text, "draining (since") {
		t.Fatalf("ctl nodes: %v\n%s", err, text)
	}

	text, err = ctl(t, nodes[0], "upgrade", "plan", "--stages", fmt.Sprintf("node:%d", id), "--exec", "true",
		"--wait", "2s", "--soak", "0s")
	if err == nil || !strings.Contains(err.Error(), "still marked draining") {
		t.Fatalf("an upgrade plan whose command restarts nothing: %v\n%s", err, text)
	}

	if text, err := ctl(t, nodes[0], "node", "undrain", fmt.Sprint(id)); err != nil || !strings.Contains(text, "is not draining") {
		t.Fatalf("ctl node undrain: %v\n%s", err, text)
	}
	eventually(t, func() error {
		if marked() {
			return fmt.Errorf("node %d still shown draining", id)
		}
		return nil
	})
}
