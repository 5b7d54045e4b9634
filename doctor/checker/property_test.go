package checker_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
)

// randomView is a cluster of 1 to 8 nodes in up to 4 zones, some suspect
// or dead, some decommissioning or draining, and up to 16 partitions in every state the checkers judge:
// few or many voters, learners, joint configurations, no leader, replicas
// down, out of contact or lagging.
func randomView(rng *rand.Rand) checker.View {
	var v checker.View
	ago := func(max time.Duration) time.Time { return epoch.Add(-time.Duration(rng.Int64N(int64(max)))) }
	nodes := 1 + rng.IntN(8)
	for id := uint64(1); id <= uint64(nodes); id++ {
		n := checker.Node{ID: id, Zone: string(rune('a' + rng.IntN(4))), PeerAddr: "x", Liveness: directory.Alive, Since: ago(time.Hour)}
		switch r := rng.IntN(10); {
		case r < 2:
			n.Liveness, n.Since = directory.Dead, ago(2*time.Minute)
		case r < 3:
			n.Liveness, n.Since = directory.Suspect, ago(30*time.Second)
		}
		if rng.IntN(2) == 0 {
			n.Health.FsyncP99 = time.Duration(1+rng.IntN(100)) * time.Millisecond
		}
		if rng.IntN(3) == 0 {
			n.Health.SickSince = ago(30 * time.Minute)
		}
		v.Nodes = append(v.Nodes, n)
	}
	for id := uint64(1); id <= uint64(rng.IntN(17)); id++ {
		v.Partitions = append(v.Partitions, randomPartition(rng, id, nodes, ago))
	}
	// Drawn last, so that the rest of a seed's cluster is as it was
	// before nodes could be decommissioning.
	for i := range v.Nodes {
		if rng.IntN(6) == 0 {
			v.Nodes[i].Decommissioning = ago(time.Hour)
		}
	}
	// Drawn after, for the same reason.
	for i := range v.Nodes {
		if rng.IntN(5) == 0 {
			v.Nodes[i].Draining = ago(time.Minute)
		}
	}
	return v
}

func randomPartition(rng *rand.Rand, id uint64, nodes int, ago func(time.Duration) time.Time) checker.Partition {
	members := rng.Perm(nodes + 1)[:min(nodes+1, 2+rng.IntN(3))] // node 0 stands for one the directory lacks
	ids := func(xs []int) []uint64 {
		var out []uint64
		for _, x := range xs {
			out = append(out, uint64(x)+1)
		}
		return out
	}
	nv := len(members)
	if rng.IntN(4) == 0 {
		nv = 1 + rng.IntN(len(members))
	}
	p := checker.Partition{ID: id, Table: "t", Generation: uint64(rng.IntN(5)), Voters: ids(members[:nv]), Learners: ids(members[nv:])}
	p.Replicas = ids(members[:1+rng.IntN(len(members))])
	if rng.IntN(8) == 0 {
		p.Outgoing = ids(rng.Perm(nodes + 1)[:1+rng.IntN(min(nodes+1, 4))])
	}
	if rng.IntN(6) != 0 {
		p.Leader = p.Voters[rng.IntN(len(p.Voters))]
	}
	all := slices.Concat(p.Voters, p.Learners, p.Outgoing)
	slices.Sort(all)
	for _, m := range slices.Compact(all) {
		r := checker.Replica{Node: m, LastContact: ago(5 * time.Second)}
		switch rng.IntN(10) {
		case 0:
			r.LastContact = time.Time{}
		case 1:
			r.LastContact = ago(time.Minute)
		case 2:
			r.DownSince = ago(time.Minute)
		}
		if rng.IntN(4) == 0 {
			r.Lag, r.LagSince = uint64(rng.IntN(5000)), ago(10*time.Minute)
		}
		p.Status = append(p.Status, r)
	}
	return p
}

// TestPlanProperties checks, over random clusters, what every plan must
// hold whatever the checkers decide.
func TestPlanProperties(t *testing.T) {
	for seed := uint64(0); seed < 3000; seed++ {
		if err := checkPlanProperties(seed); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// FuzzPlan is TestPlanProperties driven by the fuzzer's seeds.
func FuzzPlan(f *testing.F) {
	f.Add(uint64(1))
	f.Fuzz(func(t *testing.T, seed uint64) {
		if err := checkPlanProperties(seed); err != nil {
			t.Fatal(err)
		}
	})
}

func checkPlanProperties(seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	v := randomView(rng)
	cfg := checker.DefaultConfig(epoch)
	cfg.DryRun = rng.IntN(2) == 0
	cfg.ReplicationFactor = 3
	if rng.IntN(3) == 0 {
		cfg.ReplicationFactor = 1 + rng.IntN(5)
	}
	plan, err := checker.Compute(v, cfg)
	if err != nil {
		return err
	}
	// The same plan whatever the order the view lists things in.
	shuffled := checker.View{Nodes: slices.Clone(v.Nodes), Partitions: slices.Clone(v.Partitions)}
	rng.Shuffle(len(shuffled.Nodes), func(i, j int) { shuffled.Nodes[i], shuffled.Nodes[j] = shuffled.Nodes[j], shuffled.Nodes[i] })
	rng.Shuffle(len(shuffled.Partitions), func(i, j int) {
		shuffled.Partitions[i], shuffled.Partitions[j] = shuffled.Partitions[j], shuffled.Partitions[i]
	})
	again, err := checker.Compute(shuffled, cfg)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(plan, again) {
		return fmt.Errorf("plan depends on the view's order:\n%s\nvs\n%s", formatPlan(plan), formatPlan(again))
	}
	return checkOps(v, cfg, plan)
}

// checkOps checks each operation against the view, with the test's own
// reading of a healthy voter.
func checkOps(v checker.View, cfg checker.Config, plan checker.Plan) error {
	seen := map[uint64]bool{}
	for i, op := range plan.Ops {
		if op.Kind == checker.RemoveNode {
			if err := checkRemoveNode(v, op); err != nil {
				return fmt.Errorf("%s: %w\n%s", op, err, formatPlan(plan))
			}
			continue
		}
		if seen[op.Partition] {
			return fmt.Errorf("two operations for p%d:\n%s", op.Partition, formatPlan(plan))
		}
		seen[op.Partition] = true
		if i > 0 && (plan.Ops[i-1].Priority < op.Priority ||
			plan.Ops[i-1].Priority == op.Priority && plan.Ops[i-1].Partition > op.Partition) {
			return fmt.Errorf("operations out of order:\n%s", formatPlan(plan))
		}
		p := partition(v, op.Partition)
		if op.Generation != p.Generation || !slices.Equal(op.Voters, p.Voters) {
			return fmt.Errorf("%s does not carry the configuration it saw", op)
		}
		if err := checkQuorum(v, cfg, p, op); err != nil {
			return fmt.Errorf("%s: %w\n%s", op, err, formatPlan(plan))
		}
		if err := checkLeaving(v, cfg, p, op); err != nil {
			return fmt.Errorf("%s: %w\n%s", op, err, formatPlan(plan))
		}
		if n, ok := v.Node(op.To); ok && n.IsDraining() && op.Kind == checker.TransferLeader {
			return fmt.Errorf("%s: n%d is draining, yet takes a leadership\n%s", op, op.To, formatPlan(plan))
		}
	}
	return nil
}

// leaving says node is decommissioning in v.
func leaving(v checker.View, node uint64) bool {
	n, ok := v.Node(node)
	return ok && n.Leaving()
}

// checkLeaving fails an operation that gives a decommissioning node a
// replica or a leadership, and a removal from an over-replicated
// partition that spares a voter on a decommissioning node.
func checkLeaving(v checker.View, cfg checker.Config, p checker.Partition, op checker.Op) error {
	if op.To != 0 && leaving(v, op.To) && op.Kind != checker.RollForwardLearner {
		return fmt.Errorf("n%d is decommissioning, yet takes from %s", op.To, op.Kind)
	}
	if op.Kind == checker.RollForwardLearner && leaving(v, op.To) {
		return fmt.Errorf("a learner on decommissioning n%d promoted", op.To)
	}
	over := len(p.Voters) > cfg.ReplicationFactor
	if op.Kind == checker.RemoveReplica && op.Checker == "replica-count" && over && !leaving(v, op.From) &&
		slices.ContainsFunc(p.Voters, func(id uint64) bool { return leaving(v, id) }) {
		return fmt.Errorf("removes n%d while a voter of p%d is on a decommissioning node", op.From, p.ID)
	}
	return nil
}

// checkRemoveNode fails the removal of a record of a node that is not
// decommissioning, or that a partition may still hold.
func checkRemoveNode(v checker.View, op checker.Op) error {
	if !leaving(v, op.From) {
		return fmt.Errorf("n%d is not decommissioning", op.From)
	}
	for _, p := range v.Partitions {
		if p.Hosts(op.From) || p.Leader == 0 {
			return fmt.Errorf("p%d may still hold n%d: voters %v, learners %v, outgoing %v, directory %v, leader n%d",
				p.ID, op.From, p.Voters, p.Learners, p.Outgoing, p.Replicas, p.Leader)
		}
	}
	return nil
}

func partition(v checker.View, id uint64) checker.Partition {
	for _, p := range v.Partitions {
		if p.ID == id {
			return p
		}
	}
	panic(fmt.Sprintf("no partition %d", id))
}

// checkQuorum fails an operation that removes or adds a voter while a
// configuration it passes through lacks a healthy majority, or that
// moves a leadership to, or places a replica on, a node that is not alive.
func checkQuorum(v checker.View, cfg checker.Config, p checker.Partition, op checker.Op) error {
	alive := func(id uint64) bool {
		i := slices.IndexFunc(v.Nodes, func(n checker.Node) bool { return n.ID == id })
		return i >= 0 && v.Nodes[i].Liveness == directory.Alive
	}
	healthy := func(id uint64) bool {
		if id == op.To && op.Kind != checker.TransferLeader {
			return true // promoted only once caught up
		}
		if !alive(id) {
			return false
		}
		i := slices.IndexFunc(p.Status, func(r checker.Replica) bool { return r.Node == id })
		return id == p.Leader || (i >= 0 && p.Status[i].DownSince.IsZero() && !p.Status[i].LastContact.IsZero() &&
			cfg.Now.Sub(p.Status[i].LastContact) < cfg.ContactTimeout)
	}
	majority := func(conf []uint64) bool {
		n := 0
		for _, id := range conf {
			if healthy(id) {
				n++
			}
		}
		return n > len(conf)/2
	}
	if op.To != 0 && !alive(op.To) {
		return fmt.Errorf("n%d is not alive", op.To)
	}
	var confs [][]uint64
	switch op.Kind {
	case checker.TransferLeader:
		if !slices.Contains(p.Voters, op.To) || !healthy(op.To) {
			return fmt.Errorf("leadership to an unhealthy voter")
		}
		return nil
	case checker.SetReplicas, checker.RollBackLearner:
		return nil
	case checker.LeaveJoint:
		confs = [][]uint64{p.Outgoing, p.Voters}
	default:
		grown := slices.Clone(p.Voters)
		if op.To != 0 {
			if p.Hosts(op.To) && op.Kind != checker.RollForwardLearner {
				return fmt.Errorf("n%d already holds p%d", op.To, p.ID)
			}
			grown = append(grown, op.To)
		}
		shrunk := slices.DeleteFunc(slices.Clone(grown), func(id uint64) bool { return id == op.From })
		if op.From != 0 && !slices.Contains(p.Voters, op.From) {
			return fmt.Errorf("n%d is no voter of p%d", op.From, p.ID)
		}
		confs = [][]uint64{p.Voters, p.Outgoing, grown, shrunk}
	}
	for _, c := range confs {
		if len(c) > 0 && !majority(c) {
			return fmt.Errorf("configuration %v lacks a healthy majority", c)
		}
	}
	return nil
}

// healthyView is a random cluster where every node is alive and every
// replica in contact and caught up, partitions anywhere from one voter to
// too many; in a cluster of five nodes or more, one in three times one
// node is decommissioning.
func healthyView(rng *rand.Rand) checker.View {
	v := checker.View{}
	nodes := 3 + rng.IntN(6)
	for id := uint64(1); id <= uint64(nodes); id++ {
		v.Nodes = append(v.Nodes, checker.Node{ID: id, Zone: string(rune('a' + rng.IntN(4))), PeerAddr: "x",
			Liveness: directory.Alive, Since: epoch.Add(-time.Hour)})
	}
	for id := uint64(1); id <= uint64(1+rng.IntN(24)); id++ {
		members := rng.Perm(nodes)[:1+rng.IntN(min(nodes, 5))]
		p := checker.Partition{ID: id, Table: "t", Generation: 1}
		for _, m := range members {
			p.Voters = append(p.Voters, uint64(m)+1)
			p.Status = append(p.Status, checker.Replica{Node: uint64(m) + 1, LastContact: epoch})
		}
		p.Replicas, p.Leader = slices.Clone(p.Voters), p.Voters[rng.IntN(len(p.Voters))]
		v.Partitions = append(v.Partitions, p)
	}
	if nodes >= 5 && rng.IntN(3) == 0 { // drawn last: a seed's cluster is otherwise as before
		v.Nodes[rng.IntN(nodes)].Decommissioning = epoch.Add(-time.Minute)
	}
	return v
}

// TestPlansConverge applies plan after plan to healthy random clusters:
// the plans must run dry within a bounded number of rounds and never undo
// an earlier operation: no replica moved back where it came from, none
// added where one was removed, no leadership handed back; and a
// decommissioning node must be gone at the end, its record removed.
func TestPlansConverge(t *testing.T) {
	for seed := uint64(0); seed < 500; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		v := healthyView(rng)
		cfg := checker.DefaultConfig(epoch)
		done := map[[3]uint64]bool{} // partition, from, to (0 for none)
		for round := 0; ; round++ {
			if round == 40 {
				t.Fatalf("seed %d: plans still not empty after %d rounds", seed, round)
			}
			plan, err := checker.Compute(v, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Ops) == 0 {
				if i := slices.IndexFunc(v.Nodes, checker.Node.Leaving); i >= 0 {
					t.Fatalf("seed %d: the plans ran dry with n%d decommissioning still in the view:\n%s", seed,
						v.Nodes[i].ID, formatCounts(v))
				}
				break
			}
			for _, op := range plan.Ops {
				undo := [3]uint64{op.Partition, op.To, op.From}
				if op.Kind == checker.AddReplica {
					undo = [3]uint64{op.Partition, op.To, 0}
				}
				if done[undo] {
					t.Fatalf("seed %d round %d: %s undoes an earlier operation", seed, round, op)
				}
				done[[3]uint64{op.Partition, op.From, op.To}] = true
			}
			v = apply(v, plan)
		}
	}
}
