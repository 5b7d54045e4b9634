package checker

import (
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
	n := 0
	for _, id := range conf {
		if id == added || pl.healthy(p, id) {
			n++
		}
	}
	return n
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
	case ReplaceReplica, MoveReplica:
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
func (pl *planner) safe(p *Partition, op Op) bool {
	if op.Kind == TransferLeader {
		return slices.Contains(p.Voters, op.To) && pl.healthy(p, op.To)
	}
	steps := configs(p, op)
	if len(steps) == 0 {
		return true
	}
	// A change commits in the current configuration, in both halves of
	// a joint one.
	if pl.healthyCount(p, p.Voters, 0) < quorum(len(p.Voters)) ||
		(len(p.Outgoing) > 0 && pl.healthyCount(p, p.Outgoing, 0) < quorum(len(p.Outgoing))) {
		return false
	}
	for _, conf := range steps {
		if pl.healthyCount(p, conf, op.To) < quorum(len(conf)) {
			return false
		}
	}
	return true
}
