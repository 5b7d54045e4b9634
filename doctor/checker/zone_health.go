package checker

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
)

// ZoneState is how much of a zone is up.
type ZoneState string

const (
	// ZoneHealthy: every node of the zone is alive.
	ZoneHealthy ZoneState = "healthy"
	// ZoneDegraded: some of its nodes are suspect or dead, not all.
	ZoneDegraded ZoneState = "degraded"
	// ZoneDown: none of its nodes is alive, in a cluster that has other
	// zones: the zone is lost as a whole (a power or network failure of
	// the zone), which the Doctor treats apart from a node's failure. A
	// zone of one node is never down but degraded: its loss cannot be
	// told from its node's failure, and is judged as one.
	ZoneDown ZoneState = "down"
)

// ZoneHealth is one zone's state in a view.
type ZoneHealth struct {
	Zone  string    `json:"zone"`
	State ZoneState `json:"state"`
	// Nodes are the zone's nodes by id; Alive, Suspect and Dead count
	// them by liveness.
	Nodes   []uint64 `json:"nodes"`
	Alive   int      `json:"alive"`
	Suspect int      `json:"suspect"`
	Dead    int      `json:"dead"`
	// DownSince is, for a zone down, when the last of its nodes left
	// the alive state (the latest of their liveness changes).
	DownSince time.Time `json:"down_since,omitzero"`
}

// Zones is the health of the view's zones, by name. Nodes without a zone
// form the zone "", which is never down: a cluster that names no zones
// has no zone failures, only node failures.
func Zones(v View) []ZoneHealth {
	byZone := map[string]*ZoneHealth{}
	for _, n := range v.Nodes {
		z := byZone[n.Zone]
		if z == nil {
			z = &ZoneHealth{Zone: n.Zone}
			byZone[n.Zone] = z
		}
		z.Nodes = append(z.Nodes, n.ID)
		switch n.Liveness {
		case directory.Alive:
			z.Alive++
		case directory.Suspect:
			z.Suspect++
		default:
			z.Dead++
		}
		if n.Liveness != directory.Alive && n.Since.After(z.DownSince) {
			z.DownSince = n.Since
		}
	}
	out := make([]ZoneHealth, 0, len(byZone))
	for _, z := range byZone {
		slices.Sort(z.Nodes)
		z.State = ZoneStateOf(z.Zone, len(z.Nodes), z.Alive, len(byZone))
		if z.State != ZoneDown {
			z.DownSince = time.Time{}
		}
		out = append(out, *z)
	}
	slices.SortFunc(out, func(a, b ZoneHealth) int { return cmp.Compare(a.Zone, b.Zone) })
	return out
}

// ZoneStateOf is the state of a zone of nodes nodes, alive of them
// alive, in a cluster of zones zones.
func ZoneStateOf(zone string, nodes, alive, zones int) ZoneState {
	switch {
	case alive == nodes:
		return ZoneHealthy
	case alive == 0 && zone != "" && zones > 1 && nodes > 1:
		return ZoneDown
	}
	return ZoneDegraded
}

// zoneOutage says whether node's replicas wait, and why: its zone is
// down and has not been for ZoneDeadAfter (a zone down for longer gets
// a reason and no wait). A whole zone lost is most often a power or
// network failure of the zone that ends in minutes; re-replicating every
// partition's replica there into the surviving zones would put two
// voters of each partition in one zone, move a zone's worth of data over
// the surviving nodes' disks and links, and be undone when the zone
// returns. Each partition keeps a quorum in the surviving zones (one
// voter per zone), so it waits; past ZoneDeadAfter the outage is treated
// as lasting and the replicas are replaced in the other zones, and the
// zone checker moves them back once the zone returns.
func (pl *planner) zoneOutage(node uint64) (why string, wait bool) {
	z, ok := pl.zoneOf(node)
	if !ok || z.State != ZoneDown {
		return "", false
	}
	for_, after := pl.cfg.Now.Sub(z.DownSince), max(pl.cfg.ZoneDeadAfter, pl.cfg.DeadAfter)
	if for_ >= after {
		return fmt.Sprintf("zone %q down for %v, past zone-dead-after %v: a lasting outage, replaced in another zone",
			z.Zone, for_.Round(time.Second), after), false
	}
	return fmt.Sprintf("zone %q is down (nodes %v, none alive, for %v): a zone outage; its replicas are replaced in other zones after %v (zone-dead-after)",
		z.Zone, z.Nodes, for_.Round(time.Second), after), true
}

// zoneOf is the health of node's zone.
func (pl *planner) zoneOf(node uint64) (ZoneHealth, bool) {
	n, ok := pl.nodes[node]
	if !ok {
		return ZoneHealth{}, false
	}
	for _, z := range pl.zones {
		if z.Zone == n.Zone {
			return z, true
		}
	}
	return ZoneHealth{}, false
}
