package checker

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/partitadb/partita/directory"
)

// projected is every node's share once the plan's operations are done.
func (pl *planner) projected() map[uint64]Count { return pl.counts }

// count adds op's effect to the projected shares.
func (pl *planner) count(op Op) {
	bump := func(node uint64, replicas, leaders int) {
		if node != 0 {
			c := pl.counts[node]
			c.Replicas += replicas
			c.Leaders += leaders
			pl.counts[node] = c
		}
	}
	switch op.Kind {
	case ReplaceReplica, MoveReplica, Decommission:
		bump(op.From, -1, 0)
		bump(op.To, 1, 0)
	case AddReplica:
		bump(op.To, 1, 0)
	case RemoveReplica, RollBackLearner:
		bump(op.From, -1, 0)
	case TransferLeader:
		bump(op.From, 0, -1)
		bump(op.To, 0, 1)
	}
}

// balancer moves one unit of count (replicas or leaders) from a fuller
// node to an emptier one.
type balancer struct {
	name  string
	count func(Count) int
	// find returns the partition to move src's unit of to dst, and the op.
	find func(pl *planner, src, dst uint64) (*Partition, Op, bool)
	// skip are the nodes left out: those whose count the view cannot
	// tell, those that may take none (none if nil).
	skip map[uint64]bool
	// relay: when no move reaches the emptiest node from a node more than
	// the tolerance above it, the fullest may give to any node two or more
	// below it, which may then give on (leaders: cheap to move).
	relay bool
}

// balanceReplicas gives every eligible node (alive, not sick, reachable
// by peers) its share of replicas, new nodes included.
func (pl *planner) balanceReplicas() {
	if p := pl.changing(); p != 0 {
		pl.whyNot(0, 0, "balance-replicas", fmt.Sprintf("p%d is changing its replicas: balance waits for the moves under way to finish", p))
		return
	}
	pl.balance(balancer{name: "balance-replicas", count: func(c Count) int { return c.Replicas }, find: findReplicaMove})
}

// changing returns the first partition with a learner or a joint
// configuration, 0 for none. While one is, its replica counts include
// both the voter that goes and the one that comes, so a plan would move
// more off the source than balance wants and a later plan move them back.
func (pl *planner) changing() uint64 {
	for _, p := range pl.view.Partitions {
		if len(p.Learners) > 0 || len(p.Outgoing) > 0 {
			return p.ID
		}
	}
	return 0
}

// balanceLeaders evens out the leaders among the same nodes, but for the
// voters of a partition without a known leader (one of them may lead it
// unseen, or be the node that stopped answering, whose leaderships all
// went missing from the view and which would look the emptiest) and for
// draining nodes (which take none, and whose own go by the drain
// checker).
func (pl *planner) balanceLeaders() {
	skip := map[uint64]bool{}
	for _, p := range pl.view.Partitions {
		if p.Leader == 0 {
			for _, v := range p.Voters {
				skip[v] = true
			}
		}
	}
	for _, n := range pl.view.Nodes {
		if n.IsDraining() {
			skip[n.ID] = true
		}
	}
	pl.balance(balancer{name: "balance-leaders", count: func(c Count) int { return c.Leaders }, find: findLeaderMove,
		skip: skip, relay: true})
}

// balance proposes up to MaxBalanceMoves moves, each from the fullest
// node that has something to give to the emptiest that can take it,
// while the two differ by more than the tolerance.
func (pl *planner) balance(b balancer) {
	for moves := 0; moves < pl.cfg.MaxBalanceMoves; moves++ {
		counts := pl.projected()
		nodes := slices.DeleteFunc(pl.balanceNodes(), func(id uint64) bool { return b.skip[id] })
		slices.SortFunc(nodes, func(x, y uint64) int {
			return cmp.Or(cmp.Compare(b.count(counts[x]), b.count(counts[y])), cmp.Compare(x, y))
		})
		if len(nodes) < 2 || b.count(counts[nodes[len(nodes)-1]])-b.count(counts[nodes[0]]) <= pl.cfg.BalanceTolerance {
			return
		}
		if !pl.balanceOnce(b, nodes, counts) && !(b.relay && pl.relayOnce(b, nodes, counts)) {
			pl.whyNot(0, 0, b.name, fmt.Sprintf("n%d holds %d, n%d holds %d, but no partition can move between them",
				nodes[len(nodes)-1], b.count(counts[nodes[len(nodes)-1]]), nodes[0], b.count(counts[nodes[0]])))
			return
		}
	}
}

// balanceOnce proposes the first feasible move, emptiest destination
// and fullest source first.
func (pl *planner) balanceOnce(b balancer, nodes []uint64, counts map[uint64]Count) bool {
	for _, dst := range nodes {
		if b.name == "balance-replicas" && !pl.candidate(dst) {
			continue
		}
		for i := len(nodes) - 1; i >= 0; i-- {
			src := nodes[i]
			if b.count(counts[src])-b.count(counts[dst]) <= pl.cfg.BalanceTolerance {
				break
			}
			if p, op, ok := b.find(pl, src, dst); ok {
				op.Checker, op.Priority = b.name, PriorityBalance
				op.Reasons = []string{fmt.Sprintf("n%d holds %d, n%d holds %d: more apart than the tolerance %d",
					src, b.count(counts[src]), dst, b.count(counts[dst]), pl.cfg.BalanceTolerance)}
				return pl.propose(p, op)
			}
		}
	}
	return false
}

// relayOnce proposes a move from the fullest node to the emptiest node
// it can reach that holds two or more fewer and shares a partition with
// the emptiest, when balanceOnce found no move that reaches the emptiest:
// two nodes that share no partition (a zone's two nodes, when every
// partition has one voter per zone) even out through a third. Each such
// move lowers the sum of squares of the counts, so relaying ends.
func (pl *planner) relayOnce(b balancer, nodes []uint64, counts map[uint64]Count) bool {
	src, dst := nodes[len(nodes)-1], nodes[0]
	for _, via := range nodes[1 : len(nodes)-1] {
		if b.count(counts[src])-b.count(counts[via]) < 2 {
			return false
		}
		if !pl.share(via, dst) {
			continue
		}
		if p, op, ok := b.find(pl, src, via); ok {
			op.Checker, op.Priority = b.name, PriorityBalance
			op.Reasons = []string{fmt.Sprintf("n%d holds %d, n%d holds %d: more apart than the tolerance %d, and no partition "+
				"can move between them; n%d, holding %d, passes one on", src, b.count(counts[src]), nodes[0],
				b.count(counts[nodes[0]]), pl.cfg.BalanceTolerance, via, b.count(counts[via]))}
			return pl.propose(p, op)
		}
	}
	return false
}

// share says a and b are voters of one partition.
func (pl *planner) share(a, b uint64) bool {
	return slices.ContainsFunc(pl.view.Partitions, func(p Partition) bool {
		return slices.Contains(p.Voters, a) && slices.Contains(p.Voters, b)
	})
}

// balanceNodes are the nodes that may give or take: alive, not sick nor
// slow by their fsyncs, with a peer address, not decommissioning (its
// replicas go by the decommission checker, and it takes nothing).
func (pl *planner) balanceNodes() []uint64 {
	var out []uint64
	for _, n := range pl.view.Nodes {
		if n.Liveness == directory.Alive && !pl.sick[n.ID] && !pl.slow[n.ID] && n.PeerAddr != "" && !n.Leaving() {
			out = append(out, n.ID)
		}
	}
	return out
}

// settled says p is quiet enough to rebalance: a leader, no operation
// yet, no change under way, every voter healthy.
func (pl *planner) settled(p *Partition) bool {
	if _, busy := pl.ops[p.ID]; busy || pl.merging[p.ID] || p.Leader == 0 || len(p.Outgoing) > 0 || len(p.Learners) > 0 {
		return false
	}
	return pl.healthyCount(p, p.Voters, 0) == len(p.Voters)
}

// findReplicaMove finds a settled partition with a follower on src and
// nothing on dst whose zone spread the move keeps, and whose leader is
// not cut off from dst (its learner there could never catch up).
func findReplicaMove(pl *planner, src, dst uint64) (*Partition, Op, bool) {
	for i := range pl.view.Partitions {
		p := &pl.view.Partitions[i]
		if p.Leader == src || !slices.Contains(p.Voters, src) || p.Hosts(dst) || !pl.settled(p) || pl.cut(p.Leader, dst) {
			continue
		}
		after := slices.DeleteFunc(slices.Clone(p.Voters), func(v uint64) bool { return v == src })
		if pl.zoneCount(append(after, dst)) < pl.zoneCount(p.Voters) {
			continue
		}
		return p, Op{Kind: MoveReplica, From: src, To: dst}, true
	}
	return nil, Op{}, false
}

// findLeaderMove finds a settled partition src leads where dst is a
// caught-up voter.
//
// A leader the balancer moved less than BalanceCooldown ago is moved
// again only when no other can be, and never back to the node it came
// from: elections (a paused node, a restart) shift the counts every
// minute, and a balancer that chases them moves the same leaders to and
// fro.
func findLeaderMove(pl *planner, src, dst uint64) (*Partition, Op, bool) {
	var recent *Partition
	for i := range pl.view.Partitions {
		p := &pl.view.Partitions[i]
		if p.Leader != src || !slices.Contains(p.Voters, dst) || !pl.settled(p) {
			continue
		}
		if r, _ := p.Replica(dst); r.Lag >= pl.cfg.SlowLag || !pl.reachesVoters(p, dst) {
			continue
		}
		b := p.LeaderBalanced
		if !b.At.IsZero() && pl.cfg.Now.Sub(b.At) < pl.cfg.BalanceCooldown {
			if b.From != dst && recent == nil {
				recent = p
			}
			continue
		}
		return p, Op{Kind: TransferLeader, From: src, To: dst}, true
	}
	if recent != nil {
		return recent, Op{Kind: TransferLeader, From: src, To: dst}, true
	}
	return nil, Op{}, false
}

func (pl *planner) zoneCount(voters []uint64) int {
	zones := map[string]bool{}
	for _, v := range voters {
		zones[pl.nodes[v].Zone] = true
	}
	return len(zones)
}
