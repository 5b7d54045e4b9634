package checker

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
)

// judgeSickNodes marks the nodes whose fsync p99 is far above their
// peers' median, confirmed by more than one vantage: distinct leaders
// that see the node's followers lag. One slow observer condemns nobody.
func (pl *planner) judgeSickNodes() {
	for _, n := range pl.view.Nodes {
		median, slow := pl.slowFsync(n)
		if !slow {
			if pl.recovering(n) {
				pl.slow[n.ID] = true // healed too recently to take load back
				pl.whyNot(0, n.ID, "sick-node", fmt.Sprintf("n%d healed %v ago: takes no replicas or leaders for %v",
					n.ID, pl.cfg.Now.Sub(n.Health.HealedAt).Round(time.Second), pl.recoveryPeriod(n.ID).Round(time.Second)))
			}
			continue
		}
		pl.slow[n.ID] = true
		pl.fsyncSlow[n.ID] = true
		seen := pl.vantages(n.ID)
		reason := fmt.Sprintf("n%d fsync p99 %v, peers' median %v; seen slow by leaders %v", n.ID, n.Health.FsyncP99, median, seen)
		if len(seen) < pl.cfg.SickVantages {
			if obs := pl.observers(n.ID); len(obs) < pl.cfg.SickVantages {
				pl.lookFrom[n.ID] = obs
				pl.whyNot(0, n.ID, "sick-node", fmt.Sprintf("%s: %d vantages needed, and only leaders %v see its followers",
					reason, pl.cfg.SickVantages, obs))
				continue
			}
			pl.whyNot(0, n.ID, "sick-node", fmt.Sprintf("%s: %d vantages needed, no action", reason, pl.cfg.SickVantages))
			continue
		}
		pl.sick[n.ID] = true
		pl.sickWhy[n.ID] = []string{reason}
	}
}

// slowFsync says n's fsync p99 is far above its peers' median (returned):
// enough to give it no more load, not enough to act against it without
// leaders that see it lag. A node whose replicas have moved away has no
// followers to be seen lagging, so only its fsyncs keep it from taking
// them back.
func (pl *planner) slowFsync(n Node) (time.Duration, bool) {
	if n.Liveness != directory.Alive || n.Health.FsyncP99 == 0 {
		return 0, false
	}
	median, ok := pl.peerMedian(n.ID)
	if !ok || n.Health.FsyncP99 < pl.cfg.SickFloor || float64(n.Health.FsyncP99) < pl.cfg.SickFactor*float64(median) {
		return median, false
	}
	return median, true
}

// peerMedian is the median fsync p99 of the other alive nodes that report one.
func (pl *planner) peerMedian(node uint64) (time.Duration, bool) {
	var peers []time.Duration
	for _, n := range pl.view.Nodes {
		if n.ID != node && n.Liveness == directory.Alive && n.Health.FsyncP99 > 0 {
			peers = append(peers, n.Health.FsyncP99)
		}
	}
	if len(peers) == 0 {
		return 0, false
	}
	slices.Sort(peers)
	return peers[len(peers)/2], true
}

// vantages lists the leaders (other than node) that see node's replica
// of one of their partitions slow: lagging by SlowLag or more, or
// acknowledging entries late (slowAcks).
func (pl *planner) vantages(node uint64) []uint64 {
	var out []uint64
	for i := range pl.view.Partitions {
		p := &pl.view.Partitions[i]
		if p.Leader == 0 || p.Leader == node || slices.Contains(out, p.Leader) {
			continue
		}
		if r, ok := p.Replica(node); ok && (r.Lag >= pl.cfg.SlowLag || pl.slowAcks(p, r)) {
			out = append(out, p.Leader)
		}
	}
	slices.Sort(out)
	return out
}

// slowAcks says p's leader sees r acknowledge entries late: at least
// SickFloor, and SickFactor times the quickest other follower's latency.
// Without another follower to compare with, latency alone condemns
// nobody: a loaded leader makes every follower look late.
func (pl *planner) slowAcks(p *Partition, r Replica) bool {
	if r.AckLatency < pl.cfg.SickFloor {
		return false
	}
	var quickest time.Duration
	for _, o := range p.Status {
		if o.Node != r.Node && o.Node != p.Leader && o.AckLatency > 0 && (quickest == 0 || o.AckLatency < quickest) {
			quickest = o.AckLatency
		}
	}
	return quickest > 0 && float64(r.AckLatency) >= pl.cfg.SickFactor*float64(quickest)
}

// observers lists the leaders (other than node) of the partitions node
// follows: the vantages that could see its followers slow.
func (pl *planner) observers(node uint64) []uint64 {
	var out []uint64
	for _, p := range pl.view.Partitions {
		if p.Leader != 0 && p.Leader != node && slices.Contains(p.Voters, node) && !slices.Contains(out, p.Leader) {
			out = append(out, p.Leader)
		}
	}
	slices.Sort(out)
	return out
}

// addVantages moves one leadership off each node whose fsyncs are slow
// but whose followers too few leaders see to confirm it (its peers lead
// little of what it follows): to a healthy voter that is not yet a
// vantage, which then looks at the node from where it can. Moving one
// leadership off a node that may be sick is cheap and safe; condemning
// it on its own report is not.
func (pl *planner) addVantages() {
	for _, n := range pl.view.Nodes {
		obs, ok := pl.lookFrom[n.ID]
		if !ok {
			continue
		}
		for i := range pl.view.Partitions {
			p := &pl.view.Partitions[i]
			if p.Leader != n.ID || !pl.settled(p) {
				continue
			}
			to := uint64(0)
			for _, v := range p.Voters {
				if v != n.ID && !slices.Contains(obs, v) && pl.healthy(p, v) && !pl.slow[v] && !pl.avoidsLeading(v) &&
					pl.reachesVoters(p, v) {
					to = v
					break
				}
			}
			if to == 0 {
				continue
			}
			op := Op{Kind: TransferLeader, From: n.ID, To: to, Priority: PrioritySick, Checker: "sick-node",
				Reasons: []string{fmt.Sprintf("n%d's fsyncs are slow, but only leaders %v see its followers: n%d leads p%d "+
					"to look at it from another vantage", n.ID, obs, to, p.ID)}}
			if pl.propose(p, op) {
				break
			}
		}
	}
}

// evictSickLeaders moves every leadership off a sick node, to the
// healthy voter least behind, fewest leaders and lowest id first.
func (pl *planner) evictSickLeaders() {
	for i := range pl.view.Partitions {
		p := &pl.view.Partitions[i]
		if !pl.sick[p.Leader] {
			continue
		}
		to := pl.leaderTarget(p, pl.projected())
		if to == 0 {
			pl.whyNot(p.ID, 0, "sick-node", fmt.Sprintf("leader n%d is sick, but no voter can take over: none is healthy, neither sick nor slow or recovering", p.Leader))
			continue
		}
		op := Op{Kind: TransferLeader, From: p.Leader, To: to, Priority: PrioritySick, Checker: "sick-node",
			Reasons: append(slices.Clone(pl.sickWhy[p.Leader]), "leaders move off a sick node first")}
		if !pl.propose(p, op) {
			pl.whyNot(p.ID, 0, "sick-node", fmt.Sprintf("leader n%d is sick; the partition has an operation already", p.Leader))
		}
	}
}

// leaderTarget is the voter of p best placed to lead: healthy, neither
// sick nor slow (fsyncs slow but unconfirmed, or healed within its
// recovery period: such a node takes no leaders), neither decommissioning
// nor draining, least behind, then fewest leaders, then lowest id; 0 for none.
func (pl *planner) leaderTarget(p *Partition, counts map[uint64]Count) uint64 {
	var best uint64
	var bestLag uint64
	for _, v := range p.Voters {
		if v == p.Leader || !pl.healthy(p, v) || pl.sick[v] || pl.slow[v] || pl.avoidsLeading(v) {
			continue
		}
		r, _ := p.Replica(v)
		if best == 0 || r.Lag < bestLag || (r.Lag == bestLag && counts[v].Leaders < counts[best].Leaders) {
			best, bestLag = v, r.Lag
		}
	}
	return best
}

// moveSickReplicas moves the replicas of a node sick for
// SickReplicasAfter, its leaders moved first: up to MaxBalanceMoves per
// node per plan, each to the node placement picks.
func (pl *planner) moveSickReplicas() {
	for _, n := range pl.view.Nodes {
		if !pl.sick[n.ID] {
			continue
		}
		sick := pl.cfg.Now.Sub(n.Health.SickSince)
		if n.Health.SickSince.IsZero() || sick < pl.cfg.SickReplicasAfter {
			if !n.Health.SickSince.IsZero() {
				pl.whyNot(0, n.ID, "sick-node", fmt.Sprintf("n%d sick for %v: its replicas move after %v", n.ID, sick, pl.cfg.SickReplicasAfter))
			}
			continue
		}
		pl.moveReplicasOff(n.ID, fmt.Sprintf("sick for %v (sick-replicas-after %v): its replicas move", sick, pl.cfg.SickReplicasAfter))
	}
}

// moveReplicasOff proposes moving node's follower replicas away, up to
// MaxBalanceMoves.
func (pl *planner) moveReplicasOff(node uint64, why string) {
	moved := 0
	for i := range pl.view.Partitions {
		p := &pl.view.Partitions[i]
		if moved == pl.cfg.MaxBalanceMoves {
			return
		}
		if _, busy := pl.ops[p.ID]; busy || p.Leader == 0 || p.Leader == node || !slices.Contains(p.Voters, node) {
			continue
		}
		to, err := pl.target(p, node)
		if err != nil {
			pl.whyNot(p.ID, 0, "sick-node", fmt.Sprintf("n%d is sick, no node to take its replica: %v", node, err))
			continue
		}
		op := Op{Kind: MoveReplica, From: node, To: to, Priority: PrioritySick, Checker: "sick-node",
			Reasons: append(slices.Clone(pl.sickWhy[node]), why)}
		if pl.propose(p, op) {
			moved++
		}
	}
}

// recovering says n left the sick list less than its recovery period ago:
// it takes no load back yet, so leaders and replicas moved off a slow
// node do not flap back the moment it looks well.
func (pl *planner) recovering(n Node) bool {
	return !n.Health.HealedAt.IsZero() && pl.cfg.Now.Sub(n.Health.HealedAt) < pl.recoveryPeriod(n.ID)
}

// recoveryPeriod is RecoveryPeriod plus up to a fifth more, fixed per
// node: nodes healed together do not take load back in one wave.
func (pl *planner) recoveryPeriod(node uint64) time.Duration {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], node)
	h.Write(b[:])
	return pl.cfg.RecoveryPeriod + time.Duration(h.Sum64()%1000)*pl.cfg.RecoveryPeriod/5000
}
