package checker

import "slices"

// linksOf finds, for each pair of nodes where one leads a partition the
// other holds a replica of, whether any such replica is in its leader's
// contact: the pair's network path works both ways (a leader's contact
// with a follower is a round trip). A pair whose every such replica is out
// of contact has a broken path, or two broken nodes.
func linksOf(v View, cfg Config) map[[2]uint64]bool {
	links := map[[2]uint64]bool{}
	for _, p := range v.Partitions {
		if p.Leader == 0 {
			continue
		}
		for _, r := range p.Status {
			if r.Node == p.Leader {
				continue
			}
			k := pairOf(p.Leader, r.Node)
			in := !r.LastContact.IsZero() && cfg.Now.Sub(r.LastContact) < cfg.ContactTimeout
			links[k] = links[k] || in
		}
	}
	return links
}

func pairOf(a, b uint64) [2]uint64 {
	if a > b {
		a, b = b, a
	}
	return [2]uint64{a, b}
}

// heardBy returns a leader other than node that has node's replica in
// its contact (0: none): a node some leader hears from is not dead,
// whatever its heartbeats say.
func (pl *planner) heardBy(node uint64) uint64 {
	for _, p := range pl.view.Partitions {
		if p.Leader == 0 || p.Leader == node {
			continue
		}
		if r, ok := p.Replica(node); ok && pl.inContact(r) {
			return p.Leader
		}
	}
	return 0
}

// cut says a and b are seen not to reach each other: one leads replicas
// of the other, and none of them is in contact.
func (pl *planner) cut(a, b uint64) bool {
	in, seen := pl.links[pairOf(a, b)]
	return seen && !in
}

// reachesVoters says node is not seen cut off from any other voter of
// p: it can lead p without leaving one behind. (Two nodes neither of
// which leads the other's replicas have no link to judge: they count
// as reaching each other.)
func (pl *planner) reachesVoters(p *Partition, node uint64) bool {
	for _, o := range p.Voters {
		if o != node && pl.cut(node, o) {
			return false
		}
	}
	return true
}

// pathLeader picks the voter of p that should lead it when its leader
// cannot reach the nodes of cut: healthy, not sick, and not cut off from
// any other voter; 0 for none.
func (pl *planner) pathLeader(p *Partition, cut []uint64) uint64 {
	for _, v := range p.Voters {
		if v == p.Leader || slices.Contains(cut, v) || !pl.healthy(p, v) || pl.sick[v] || pl.avoidsLeading(v) {
			continue
		}
		if pl.reachesVoters(p, v) {
			return v
		}
	}
	return 0
}
