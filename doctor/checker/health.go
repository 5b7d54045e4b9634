package checker

import (
	"fmt"
	"slices"

	"github.com/partitadb/partita/directory"
)

// healthy says node's replica of p counts toward a quorum: the node is
// alive (dead and suspect nodes do not count), the replica is up, and it
// is the leader or in the leader's contact.
func (pl *planner) healthy(p *Partition, node uint64) bool {
	n, ok := pl.nodes[node]
	if !ok || n.Liveness != directory.Alive {
		return false
	}
	if node == p.Leader {
		return true
	}
	r, ok := p.Replica(node)
	return ok && r.DownSince.IsZero() && pl.inContact(r)
}

// inContact says the leader heard from r within the contact timeout.
func (pl *planner) inContact(r Replica) bool {
	return !r.LastContact.IsZero() && pl.cfg.Now.Sub(r.LastContact) < pl.cfg.ContactTimeout
}

// healthyCount counts the voters of conf that are healthy in p; added
// counts as healthy (a voter is promoted only once caught up).
func (pl *planner) healthyCount(p *Partition, conf []uint64, added uint64) int {
	return pl.countVoters(p, conf, added, false)
}

// countVoters counts the voters of conf that are healthy in p, and with
// caughtUp, that trail the leader by less than SlowLag entries too; added
// counts (a voter is promoted only once caught up).
func (pl *planner) countVoters(p *Partition, conf []uint64, added uint64, caughtUp bool) int {
	n := 0
	for _, id := range conf {
		if id == added || pl.healthy(p, id) && !(caughtUp && pl.farBehind(p, id)) {
			n++
		}
	}
	return n
}

// farBehind says node's replica of p trails its leader by SlowLag entries
// or more (never the leader; never with SlowLag 0).
func (pl *planner) farBehind(p *Partition, node uint64) bool {
	r, ok := p.Replica(node)
	return ok && node != p.Leader && pl.cfg.SlowLag > 0 && r.Lag >= pl.cfg.SlowLag
}

func quorum(voters int) int { return voters/2 + 1 }

// configs lists the voter sets op takes p through, in order, after p's
// own: the promotion of the new voter, then the removal of the old.
func configs(p *Partition, op Op) [][]uint64 {
	voters := slices.Clone(p.Voters)
	without := func(c []uint64, id uint64) []uint64 {
		return slices.DeleteFunc(slices.Clone(c), func(v uint64) bool { return v == id })
	}
	switch op.Kind {
	case ReplaceReplica, MoveReplica, Decommission:
		grown := append(voters, op.To)
		return [][]uint64{grown, without(grown, op.From)}
	case AddReplica, RollForwardLearner:
		return [][]uint64{append(voters, op.To)}
	case RemoveReplica:
		return [][]uint64{without(voters, op.From)}
	case LeaveJoint:
		return [][]uint64{voters}
	}
	return nil
}

// safe says op keeps a healthy quorum in every configuration it takes p
// through; a change must also commit in p's current configuration. A
// leader transfer needs a healthy target.
func (pl *planner) safe(p *Partition, op Op) bool { return pl.unsafe(p, op) == "" }

// unsafe says why op would cost p its quorum, or "" when it would not.
func (pl *planner) unsafe(p *Partition, op Op) string {
	if op.Kind == TransferLeader {
		if !slices.Contains(p.Voters, op.To) || !pl.healthy(p, op.To) {
			return fmt.Sprintf("n%d is not a healthy voter of p%d", op.To, p.ID)
		}
		return ""
	}
	if op.Kind == Split || op.Kind == Merge {
		// Every replica applies the split at one log index, and the
		// new half's group needs a quorum of them at once: all healthy.
		// A merge waits for every replica to freeze: all healthy too.
		if n := pl.healthyCount(p, p.Voters, 0); n < len(p.Voters) {
			return fmt.Sprintf("voters %v: %d healthy, a %s waits for all", p.Voters, n, op.Kind)
		}
		return ""
	}
	steps := configs(p, op)
	if len(steps) == 0 {
		return ""
	}
	// A change commits in the current configuration, in both halves of
	// a joint one.
	if why := pl.short(p, "current voters", p.Voters, 0); why != "" {
		return why
	}
	if why := pl.short(p, "outgoing voters", p.Outgoing, 0); len(p.Outgoing) > 0 && why != "" {
		return why
	}
	for _, conf := range steps {
		if why := pl.short(p, "voters", conf, op.To); why != "" {
			return why
		}
		// A configuration without a voter of p's must also keep a
		// majority that is caught up: raft commits nothing until one
		// is, so removing a healthy voter beside a far-behind one stalls
		// the partition's writes until that one catches up.
		if slices.ContainsFunc(p.Voters, func(v uint64) bool { return !slices.Contains(conf, v) }) {
			if n, q := pl.countVoters(p, conf, op.To, true), quorum(len(conf)); n < q {
				return fmt.Sprintf("voters %v: %d healthy and within %d entries of the leader, quorum %d", conf, n, pl.cfg.SlowLag, q)
			}
		}
	}
	return ""
}

// short says how conf falls short of a healthy quorum, or "" when it
// does not.
func (pl *planner) short(p *Partition, what string, conf []uint64, added uint64) string {
	n, q := pl.healthyCount(p, conf, added), quorum(len(conf))
	if n >= q {
		return ""
	}
	return fmt.Sprintf("%s %v: %d healthy, quorum %d", what, conf, n, q)
}

// Safe says op keeps p's quorum, by the rule the checkers propose by:
// every voter set op takes p through (p's own, both halves of a joint
// one, with the new voter promoted, without the old one) keeps a healthy
// majority, where dead and suspect nodes, replicas down and replicas out
// of their leader's contact (cfg.Now, cfg.ContactTimeout) do not count; a
// leader transfer needs a healthy voter as its target. When op is unsafe,
// the string says why. v supplies the nodes' liveness.
func Safe(v View, cfg Config, p Partition, op Op) (bool, string) {
	why := lightPlanner(v, cfg).unsafe(&p, op)
	return why == "", why
}

// Healthy says node's replica of p counts toward a quorum: the node is
// alive in v, the replica is up, and it leads p or is in its leader's
// contact at cfg.Now.
func Healthy(v View, cfg Config, p Partition, node uint64) bool {
	return lightPlanner(v, cfg).healthy(&p, node)
}

// lightPlanner is a planner with only what the health rules read.
func lightPlanner(v View, cfg Config) *planner {
	pl := &planner{cfg: cfg, nodes: make(map[uint64]Node, len(v.Nodes))}
	for _, n := range v.Nodes {
		pl.nodes[n.ID] = n
	}
	return pl
}
