package checker

import (
	"fmt"
	"slices"
)

// checkZones moves a voter out of a zone that holds two of p's voters
// when a healthy node in a zone p does not use has room, once every voter
// is healthy: repairs come first.
func checkZones(pl *planner, p *Partition) (*Op, []string) {
	if pl.healthyCount(p, p.Voters, 0) < len(p.Voters) {
		return nil, nil
	}
	byZone := map[string][]uint64{}
	var zones []string
	for _, v := range p.Voters {
		z := pl.nodes[v].Zone
		if len(byZone[z]) == 0 {
			zones = append(zones, z)
		}
		byZone[z] = append(byZone[z], v)
	}
	slices.Sort(zones)
	for _, z := range zones {
		if len(byZone[z]) < 2 {
			continue
		}
		from := pl.zoneVictim(p, byZone[z])
		to, err := pl.target(p, from)
		if err != nil || pl.nodes[to].Zone == z || slices.Contains(zones, pl.nodes[to].Zone) {
			return nil, []string{fmt.Sprintf("voters %v share zone %q, and no other zone has room", byZone[z], z)}
		}
		return &Op{Kind: MoveReplica, From: from, To: to, Priority: PriorityZone, Reasons: []string{
			fmt.Sprintf("voters %v share zone %q; zone %q has room on n%d", byZone[z], z, pl.nodes[to].Zone, to)}}, nil
	}
	return nil, nil
}

// zoneVictim picks which of the voters sharing a zone moves: not the
// leader, the fullest node, then the highest id.
func (pl *planner) zoneVictim(p *Partition, voters []uint64) uint64 {
	counts := pl.counts
	var best uint64
	for _, v := range voters {
		switch {
		case v == p.Leader:
		case best == 0, counts[v].Replicas > counts[best].Replicas,
			counts[v].Replicas == counts[best].Replicas && v > best:
			best = v
		}
	}
	if best == 0 {
		return voters[len(voters)-1]
	}
	return best
}
