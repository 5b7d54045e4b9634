package gate_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
)

// kinds are the operation kinds the property tests draw from, an unknown
// one included.
var kinds = []checker.Kind{checker.ReplaceReplica, checker.AddReplica, checker.RemoveReplica, checker.MoveReplica,
	checker.TransferLeader, checker.RollForwardLearner, checker.RollBackLearner, checker.LeaveJoint,
	checker.SetReplicas, "split"}

// randomView is a cluster of 1 to 7 nodes in up to 3 zones, some suspect,
// dead, without a peer address or with a full disk, and up to 6
// partitions with voters, learners, joint configurations, no leader,
// replicas down, out of contact or lagging.
func randomView(rng *rand.Rand) checker.View {
	var v checker.View
	ago := func(max time.Duration) time.Time { return epoch.Add(-time.Duration(rng.Int64N(int64(max)))) }
	nodes := 1 + rng.IntN(7)
	for id := uint64(1); id <= uint64(nodes); id++ {
		n := checker.Node{ID: id, Zone: string(rune('a' + rng.IntN(3))), PeerAddr: "x", Liveness: directory.Alive, Since: ago(time.Hour)}
		switch r := rng.IntN(10); {
		case r < 2:
			n.Liveness = directory.Dead
		case r < 3:
			n.Liveness = directory.Suspect
		case r < 4:
			n.PeerAddr = ""
		case r < 5:
			n.Health.DiskUsed = 0.95
		}
		v.Nodes = append(v.Nodes, n)
	}
	for id := uint64(1); id <= uint64(1+rng.IntN(6)); id++ {
		// Node ids reach one past the view: a member the view lacks.
		members := rng.Perm(nodes + 1)[:min(nodes+1, 1+rng.IntN(5))]
		for i := range members {
			members[i]++
		}
		nv := 1 + rng.IntN(len(members))
		p := checker.Partition{ID: id, Table: "t", Generation: uint64(rng.IntN(3))}
		for i, m := range members {
			if i < nv {
				p.Voters = append(p.Voters, uint64(m))
			} else {
				p.Learners = append(p.Learners, uint64(m))
			}
		}
		p.Replicas = slices.Clone(p.Voters)
		if rng.IntN(8) == 0 {
			p.Outgoing = []uint64{uint64(1 + rng.IntN(nodes+1))}
		}
		if rng.IntN(6) != 0 {
			p.Leader = p.Voters[rng.IntN(len(p.Voters))]
		}
		for _, m := range slices.Concat(p.Voters, p.Learners) {
			r := checker.Replica{Node: m, LastContact: ago(5 * time.Second)}
			switch rng.IntN(8) {
			case 0:
				r.LastContact = time.Time{}
			case 1:
				r.LastContact = ago(time.Minute)
			case 2:
				r.DownSince = ago(time.Minute)
			case 3:
				r.Lag = uint64(rng.IntN(100))
			}
			p.Status = append(p.Status, r)
		}
		v.Partitions = append(v.Partitions, p)
	}
	return v
}

// randomOp is an operation on one of v's partitions (or one past them),
// stamped as the plan saw it: mostly as v has it, sometimes not.
func randomOp(rng *rand.Rand, v checker.View) checker.Op {
	node := func() uint64 { return uint64(rng.IntN(len(v.Nodes) + 2)) } // 0: none
	op := checker.Op{Kind: kinds[rng.IntN(len(kinds))], Partition: uint64(1 + rng.IntN(len(v.Partitions))), From: node(), To: node()}
	if rng.IntN(10) == 0 {
		op.Partition = uint64(len(v.Partitions) + 1)
	}
	for _, p := range v.Partitions {
		if p.ID != op.Partition {
			continue
		}
		op.Generation, op.Voters, op.Learners = p.Generation, slices.Clone(p.Voters), slices.Clone(p.Learners)
		members := slices.Concat(p.Voters, p.Learners)
		if rng.IntN(3) != 0 {
			op.From = members[rng.IntN(len(members))]
		}
		if op.Kind == checker.TransferLeader && rng.IntN(2) == 0 {
			op.From = p.Leader
		}
	}
	switch rng.IntN(16) {
	case 0:
		op.Generation++
	case 1:
		op.Voters = append(op.Voters, node())
	case 2:
		op.Learners = nil
	}
	return op
}

// TestAdmitProperties checks, over random clusters and operations, that
// Admit runs nothing stale, unsafe or busy, whatever the colour.
func TestAdmitProperties(t *testing.T) {
	decisions := map[gate.Decision]int{}
	for seed := uint64(0); seed < 20000; seed++ {
		d, err := checkAdmit(seed)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		decisions[d]++
	}
	runs := decisions[gate.Run]
	// A property that never meets a Run proves nothing.
	t.Logf("decisions: %v", decisions)
	if runs < 300 {
		t.Fatalf("only %d of 20000 random operations ran: the generator is too narrow", runs)
	}
}

// FuzzAdmit is TestAdmitProperties driven by the fuzzer's seeds.
func FuzzAdmit(f *testing.F) {
	f.Add(uint64(1))
	f.Fuzz(func(t *testing.T, seed uint64) {
		if _, err := checkAdmit(seed); err != nil {
			t.Fatal(err)
		}
	})
}

func checkAdmit(seed uint64) (gate.Decision, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5851f42d4c957f2d))
	v := randomView(rng)
	cfg := checker.DefaultConfig(epoch)
	op := randomOp(rng, v)
	var running []gate.Running
	for range rng.IntN(3) {
		running = append(running, gate.Running{Op: randomOp(rng, v), Started: epoch.Add(-time.Second)})
	}
	var starts []time.Time
	for range rng.IntN(4) {
		starts = append(starts, epoch.Add(-time.Duration(rng.IntN(90))*time.Second))
	}
	color := gate.Color(rng.IntN(4)) // the zero Color too
	limits := gate.Limits{PerNode: 1 + rng.IntN(3), PerZone: 1 + rng.IntN(4), PerCluster: 1 + rng.IntN(4), StartsPerMinute: 1 + rng.IntN(6)}
	approved := rng.IntN(2) == 0
	verdict := gate.Admit(op, v, cfg, running, starts, color, approved, limits, epoch)
	if verdict.Decision == 0 || len(verdict.Reasons) == 0 {
		return verdict.Decision, fmt.Errorf("%s: verdict %v without a decision or reasons", op, verdict)
	}
	if verdict.Decision != gate.Run {
		return verdict.Decision, nil
	}
	i := slices.IndexFunc(v.Partitions, func(p checker.Partition) bool { return p.ID == op.Partition })
	if i < 0 {
		return verdict.Decision, fmt.Errorf("%s ran on a partition the view lacks", op)
	}
	p := v.Partitions[i]
	if op.Generation != p.Generation || !sameSet(op.Voters, p.Voters) || !sameSet(op.Learners, p.Learners) {
		return verdict.Decision, fmt.Errorf("%s ran stale: the view has gen=%d voters=%v learners=%v", op, p.Generation, p.Voters, p.Learners)
	}
	if ok, why := checker.Safe(v, cfg, p, op); !ok {
		return verdict.Decision, fmt.Errorf("%s ran though unsafe: %s", op, why)
	}
	if slices.ContainsFunc(running, func(r gate.Running) bool { return r.Op.Partition == op.Partition }) {
		return verdict.Decision, fmt.Errorf("%s ran beside another operation on its partition", op)
	}
	if color == gate.Red && !approved || color == 0 {
		return verdict.Decision, fmt.Errorf("%s ran through gate %v, approved %v", op, color, approved)
	}
	if len(running) >= limits.PerCluster {
		return verdict.Decision, fmt.Errorf("%s ran with %d in flight, cluster limit %d", op, len(running), limits.PerCluster)
	}
	if op.To != 0 {
		n, ok := v.Node(op.To)
		if !ok || n.Liveness != directory.Alive || n.PeerAddr == "" {
			return verdict.Decision, fmt.Errorf("%s ran to a target that is not alive and reachable: %+v", op, n)
		}
	}
	return verdict.Decision, nil
}

// TestCheckStepProperties checks, over random clusters, that a step that
// changes the configuration runs only when the quorum survives it.
func TestCheckStepProperties(t *testing.T) {
	steps := []gate.StepKind{gate.StepAddLearner, gate.StepPromoteLearner, gate.StepRemoveVoter, gate.StepTransferLeader,
		gate.StepDestroyReplica}
	for seed := uint64(0); seed < 5000; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
		v := randomView(rng)
		cfg := checker.DefaultConfig(epoch)
		kind := steps[rng.IntN(len(steps))]
		p := v.Partitions[rng.IntN(len(v.Partitions))]
		node := uint64(rng.IntN(len(v.Nodes) + 2))
		verdict := gate.CheckStep(kind, p.ID, node, v, cfg)
		if verdict.Decision == 0 || len(verdict.Reasons) == 0 {
			t.Fatalf("seed %d: %s p%d n%d: verdict %v without a decision or reasons", seed, kind, p.ID, node, verdict)
		}
		if verdict.Decision != gate.Run {
			continue
		}
		var op checker.Op
		switch {
		case kind == gate.StepRemoveVoter && slices.Contains(p.Voters, node):
			op = checker.Op{Kind: checker.RemoveReplica, From: node}
		case kind == gate.StepPromoteLearner && slices.Contains(p.Learners, node):
			op = checker.Op{Kind: checker.RollForwardLearner, To: node}
		case kind == gate.StepTransferLeader && p.Leader != node:
			op = checker.Op{Kind: checker.TransferLeader, To: node}
		case kind == gate.StepDestroyReplica && p.Hosts(node):
			t.Fatalf("seed %d: destroy-replica on n%d ran though p%d holds it", seed, node, p.ID)
		default:
			continue
		}
		if ok, why := checker.Safe(v, cfg, p, op); !ok {
			t.Fatalf("seed %d: %s p%d n%d ran though unsafe: %s", seed, kind, p.ID, node, why)
		}
	}
}

func sameSet(a, b []uint64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
