package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

func newTestSim(t *testing.T, cfg Config, nodes, partitions int) *Sim {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	zones := []string{"a", "b", "c"}
	for i := range nodes {
		if err := s.AddNode(uint64(i+1), zones[i%len(zones)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddPartitions(partitions, 3); err != nil {
		t.Fatal(err)
	}
	return s
}

// opOn is an operation of kind on p as it stands.
func opOn(p *Partition, kind checker.Kind, from, to uint64) checker.Op {
	return checker.Op{Kind: kind, Partition: p.ID, From: from, To: to, Generation: p.Generation,
		Voters: p.Voters, Priority: checker.PriorityBalance, Checker: "test"}
}

func wantViolation(t *testing.T, s *Sim, substr string) {
	t.Helper()
	for _, v := range s.Violations {
		if strings.Contains(v, substr) {
			return
		}
	}
	t.Fatalf("no violation %q among %q", substr, s.Violations)
}

// An operation that removes a healthy voter while another is down costs
// the quorum: the simulator records it.
func TestQuorumLostByOperation(t *testing.T) {
	s := newTestSim(t, DefaultConfig(), 3, 1)
	p := s.Model.Partitions[0]
	if err := s.Kill(2); err != nil {
		t.Fatal(err)
	}
	s.Step()
	s.start(opOn(p, checker.RemoveReplica, 3, 0))
	s.Run(3 * time.Second)
	wantViolation(t, s, "p1 lost its quorum at step remove-voter")
}

// A quorum lost by a fault, not an operation, is no violation.
func TestQuorumLostByFault(t *testing.T) {
	s := newTestSim(t, DefaultConfig(), 3, 1)
	_ = s.Kill(2)
	_ = s.Kill(3)
	s.Run(2 * time.Minute)
	if len(s.Violations) > 0 {
		t.Fatalf("violations %q", s.Violations)
	}
}

func TestTwoOperationsOnOnePartition(t *testing.T) {
	s := newTestSim(t, DefaultConfig(), 4, 1)
	p := s.Model.Partitions[0]
	s.start(opOn(p, checker.AddReplica, 0, 4))
	s.start(opOn(p, checker.TransferLeader, p.Leader, p.Voters[1]))
	s.Step()
	wantViolation(t, s, "p1 has more than one operation running")
}

func TestFlapRecorded(t *testing.T) {
	s := newTestSim(t, DefaultConfig(), 3, 1)
	p := s.Model.Partitions[0]
	from, to := p.Leader, p.Voters[1]
	if to == from {
		to = p.Voters[0]
	}
	s.start(opOn(p, checker.TransferLeader, from, to))
	s.Run(2 * time.Second)
	if p.Leader != to {
		t.Fatalf("leader n%d, want n%d", p.Leader, to)
	}
	s.start(opOn(p, checker.TransferLeader, to, from))
	wantViolation(t, s, "p1 flaps")
}

// A step CheckStep does not pass waits; at the step timeout the
// operation is abandoned, and the learner it added goes again.
func TestCheckStepRefusal(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CheckStep = func(step string, _, _ uint64, _ checker.View, _ time.Time) (bool, string) {
		return step != StepPromote, "no promotions today"
	}
	s := newTestSim(t, cfg, 4, 1)
	p := s.Model.Partitions[0]
	s.start(opOn(p, checker.AddReplica, 0, 4))
	s.Run(time.Minute)
	if s.Aborted != 0 || len(p.Learners) != 1 {
		t.Fatalf("after a minute: aborted %d, learners %v", s.Aborted, p.Learners)
	}
	s.Run(2 * time.Minute)
	if s.Aborted != 1 || len(p.Learners) != 0 || len(p.Voters) != 3 || p.replicas[4] != nil {
		t.Fatalf("aborted %d, learners %v, voters %v", s.Aborted, p.Learners, p.Voters)
	}
	if !strings.Contains(s.Timeline(), "promote-learner timed out: held: no promotions today") {
		t.Fatal("refusal not in the timeline")
	}
}

// An operation planned on a generation since passed does not start.
func TestStaleOperation(t *testing.T) {
	s := newTestSim(t, DefaultConfig(), 4, 1)
	p := s.Model.Partitions[0]
	op := opOn(p, checker.AddReplica, 0, 4)
	op.Generation--
	s.start(op)
	if s.Started != 0 || s.Aborted != 1 {
		t.Fatalf("started %d, aborted %d", s.Started, s.Aborted)
	}
}

// The same scenario and seed give the same timeline; another seed may not.
func TestDeterministic(t *testing.T) {
	run := func(seed uint64) string {
		cfg := DefaultConfig()
		cfg.Seed = seed
		s := newTestSim(t, cfg, 5, 24)
		s.Chaos(time.Minute, 3*time.Second)
		_ = s.Kill(4)
		s.Run(15 * time.Minute)
		return s.Timeline() + s.Summary()
	}
	a, b := run(3), run(3)
	if a != b {
		t.Fatalf("two runs differ:\n%s\n----\n%s", a, b)
	}
}

// A partition short of a serving voter is unsettled until it is
// repaired, unless the nodes left cannot host it.
func TestUnsettled(t *testing.T) {
	s := newTestSim(t, DefaultConfig(), 4, 4)
	_ = s.Kill(1)
	s.Step()
	if len(s.Unsettled()) == 0 {
		t.Fatal("settled with a node down")
	}
	s.Run(2 * time.Minute)
	if u := s.Unsettled(); len(u) > 0 {
		t.Fatalf("unsettled after the repair: %q", u)
	}
	_ = s.Kill(2)
	s.Run(2 * time.Minute)
	if u := s.Unsettled(); len(u) > 0 {
		t.Fatalf("two nodes left cannot host three voters, yet unsettled: %q", u)
	}
}
