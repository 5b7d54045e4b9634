// Package upgrade decides when the cluster version may move up: a pure
// function of the directory, the nodes' liveness and the Doctor's health,
// which the active Doctor acts on (finalisation) and `ctl upgrade status`
// shows (what blocks it).
package upgrade

import (
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// Node is one node's part in an upgrade.
type Node struct {
	ID       uint64               `json:"id"`
	Zone     string               `json:"zone,omitempty"`
	Binary   string               `json:"binary"`
	Versions clusterversion.Range `json:"versions"`
	Liveness directory.Liveness   `json:"liveness"`
	// Format is how the node's leaders write item writes.
	Format string `json:"write_format,omitempty"`
}

// Status is where a cluster stands in its upgrade.
type Status struct {
	Active clusterversion.Version `json:"active"`
	// Target is the version finalisation would move to next (Active when
	// there is none: some node supports nothing newer).
	Target clusterversion.Version `json:"target"`
	// Newest is the newest version every node supports.
	Newest clusterversion.Version `json:"newest"`
	Hold   bool                   `json:"hold"`
	HoldBy string                 `json:"hold_by,omitempty"`
	// Blockers say why finalisation does not happen now (none: it is due,
	// or there is nothing to finalise).
	Blockers []string `json:"blockers,omitempty"`
	// Rollback says which binaries a node may go back to.
	Rollback string `json:"rollback"`
	Nodes    []Node `json:"nodes"`
}

// Due says finalisation may move the version to Target now.
func (s Status) Due() bool { return s.Target > s.Active && len(s.Blockers) == 0 }

// Of computes the status from snap at now. health is the Doctor's
// verdict: "" when its checks are green (no repair planned or running,
// no sick node), otherwise why not; greenFor is how long it has been
// green, soak how long it must be before finalising.
func Of(snap *directory.Snapshot, now time.Time, health string, greenFor, soak time.Duration) Status {
	s := Status{Active: snap.ActiveVersion()}
	s.Rollback = fmt.Sprintf("safe to any binary that runs at version %d: every node writes its formats", s.Active)
	if cv := snap.ClusterVersion; cv != nil {
		s.Hold, s.HoldBy = cv.GetHold(), cv.GetHoldBy()
	}
	s.Newest = clusterversion.Latest * 1000 // lowered to the oldest node's
	for _, rec := range snap.Nodes {
		n := nodeOf(rec, now)
		s.Nodes = append(s.Nodes, n)
		s.Newest = min(s.Newest, n.Versions.Max)
		if n.Liveness != directory.Alive {
			s.Blockers = append(s.Blockers, fmt.Sprintf("node %d is %s: it may still run an older binary", n.ID, n.Liveness))
		}
		if err := n.Versions.Check(s.Active); err != nil {
			s.Blockers = append(s.Blockers, fmt.Sprintf("node %d cannot run at the active version: %v", n.ID, err))
		}
	}
	slices.SortFunc(s.Nodes, func(a, b Node) int { return int(a.ID) - int(b.ID) })
	if len(s.Nodes) == 0 {
		s.Newest = s.Active
	}
	s.Target = s.Active
	if s.Newest > s.Active {
		s.Target = s.Active + 1
	} else {
		// Nothing to finalise: what blocks it is that no node is newer.
		s.Blockers = nil
		return s
	}
	if s.Hold {
		s.Blockers = append(s.Blockers, fmt.Sprintf("finalisation is held by %s (ctl upgrade release)", s.HoldBy))
	}
	switch {
	case health != "":
		s.Blockers = append(s.Blockers, "the Doctor's health is not green: "+health)
	case greenFor < soak:
		s.Blockers = append(s.Blockers, fmt.Sprintf("the Doctor's health has been green for %v of the %v soak", greenFor.Round(time.Second), soak))
	}
	return s
}

func nodeOf(rec *partitapb.Node, now time.Time) Node {
	return Node{ID: rec.GetId(), Zone: rec.GetZone(), Binary: rec.GetVersion(),
		Versions: clusterversion.OfNode(rec.GetMinVersion(), rec.GetMaxVersion()),
		Liveness: directory.NodeLiveness(rec, now), Format: rec.GetWriteFormat()}
}
