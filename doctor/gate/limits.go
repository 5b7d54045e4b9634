package gate

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

// ErrLimits is returned by Limits.Validate for a bound that admits nothing.
var ErrLimits = errors.New("gate: invalid limits")

// Limits bound the operations in flight: per node involved (an
// operation's From or To), per zone of those nodes, per cluster, and the
// operations started over the cluster in the last minute.
type Limits struct {
	PerNode, PerZone, PerCluster, StartsPerMinute int
}

// DefaultLimits returns 2 per node, 4 per zone, 8 per cluster and 30
// starts per minute.
func DefaultLimits() Limits {
	return Limits{PerNode: 2, PerZone: 4, PerCluster: 8, StartsPerMinute: 30}
}

// Validate rejects a bound below 1. Admit holds every operation a bound
// below 1 applies to.
func (l Limits) Validate() error {
	if l.PerNode < 1 || l.PerZone < 1 || l.PerCluster < 1 || l.StartsPerMinute < 1 {
		return fmt.Errorf("%w: every bound must be at least 1: %+v", ErrLimits, l)
	}
	return nil
}

// Running is an operation in flight (started, not finished) and when it
// started.
type Running struct {
	Op      checker.Op
	Started time.Time
}

// involved lists the nodes op acts on: From and To, where set.
func involved(op checker.Op) []uint64 {
	var out []uint64
	for _, id := range []uint64{op.From, op.To} {
		if id != 0 && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// zones lists the zones of the nodes op acts on, as cur places them;
// nodes cur lacks, or without a zone, are left out.
func zones(op checker.Op, cur *checker.View) []string {
	var out []string
	for _, id := range involved(op) {
		if n, ok := cur.Node(id); ok && n.Zone != "" && !slices.Contains(out, n.Zone) {
			out = append(out, n.Zone)
		}
	}
	return out
}

// clusterLimit says why op must wait for the cluster's bound, or "".
func clusterLimit(running []Running, l Limits) string {
	if len(running) >= l.PerCluster {
		return fmt.Sprintf("cluster: %d in flight, cluster limit %d", len(running), l.PerCluster)
	}
	return ""
}

// rateLimits says why op must wait for the per-node, per-zone and
// per-minute bounds, one reason for each bound reached.
func rateLimits(op checker.Op, cur *checker.View, running []Running, starts []time.Time, l Limits, now time.Time) []string {
	var why []string
	for _, id := range involved(op) {
		n := 0
		for _, r := range running {
			if slices.Contains(involved(r.Op), id) {
				n++
			}
		}
		if n >= l.PerNode {
			why = append(why, fmt.Sprintf("n%d: %d in flight, node limit %d", id, n, l.PerNode))
		}
	}
	for _, z := range zones(op, cur) {
		n := 0
		for _, r := range running {
			if slices.Contains(zones(r.Op, cur), z) {
				n++
			}
		}
		if n >= l.PerZone {
			why = append(why, fmt.Sprintf("zone %q: %d in flight, zone limit %d", z, n, l.PerZone))
		}
	}
	n := 0
	for _, s := range starts {
		if now.Sub(s) < time.Minute { // a start after now counts too
			n++
		}
	}
	if n >= l.StartsPerMinute {
		why = append(why, fmt.Sprintf("%d started in the last minute, limit %d", n, l.StartsPerMinute))
	}
	return why
}
