package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

// Sim is a cluster model and the Doctor driving it, in virtual time.
type Sim struct {
	cfg   Config
	Model Model
	Now   time.Time
	rnd   *rand.Rand

	nextCycle time.Time
	running   []*Running
	// last is each partition's last finished operation, and when.
	last map[uint64]finished
	// chaos pauses a random node for chaosPause every chaosEvery.
	chaosEvery, chaosPause time.Duration
	nextChaos              time.Time

	// Events is the timeline; Violations the broken invariants;
	// Proposed counts the plans' proposals by kind.
	Events     []Event
	shown      int
	Violations []string
	Proposed   map[checker.Kind]int
	// Started, Finished and Aborted count operations; Held the plans'
	// operations Admit did not let start.
	Started  int
	Finished int
	Aborted  int
	Held     int
}

type finished struct {
	op checker.Op
	at time.Time
}

// Event is one line of the timeline.
type Event struct {
	At   time.Duration // since the start
	What string
}

// New returns a simulator with an empty cluster.
func New(cfg Config) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, Now: cfg.Start, rnd: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)),
		last: map[uint64]finished{}, Proposed: map[checker.Kind]int{}}
	s.Model.ZoneOut = map[string]time.Time{}
	s.Model.Cuts = map[[2]uint64]time.Time{}
	s.Model.size = cfg.PartitionSize
	s.nextCycle = s.Now.Add(cfg.Cycle)
	return s, nil
}

func (s *Sim) record(format string, args ...any) {
	s.Events = append(s.Events, Event{At: s.Now.Sub(s.cfg.Start), What: fmt.Sprintf(format, args...)})
}

func (s *Sim) violate(format string, args ...any) {
	v := fmt.Sprintf("+%v ", s.Now.Sub(s.cfg.Start)) + fmt.Sprintf(format, args...)
	s.Violations = append(s.Violations, v)
	s.record("VIOLATION %s", fmt.Sprintf(format, args...))
}

// Elapsed is the virtual time since the start.
func (s *Sim) Elapsed() time.Duration { return s.Now.Sub(s.cfg.Start) }

// Running returns the operations in progress.
func (s *Sim) Running() []Running {
	out := make([]Running, 0, len(s.running))
	for _, r := range s.running {
		out = append(out, *r)
	}
	return out
}

// Run advances the simulation by d, one tick at a time.
func (s *Sim) Run(d time.Duration) {
	for end := s.Now.Add(d); s.Now.Before(end); {
		s.Step()
	}
}

// RunUntil advances the simulation until done holds (checked after each
// tick) or max has passed; it returns how long it ran and whether done
// held.
func (s *Sim) RunUntil(max time.Duration, done func() bool) (time.Duration, bool) {
	start := s.Now
	for s.Now.Sub(start) < max {
		s.Step()
		if done() {
			return s.Now.Sub(start), true
		}
	}
	return s.Now.Sub(start), false
}

// Step advances the simulation by one tick.
func (s *Sim) Step() {
	s.Now = s.Now.Add(s.cfg.Tick)
	s.chaos()
	s.liveness()
	for _, p := range s.Model.Partitions {
		s.Model.elect(p, s.Now, s.cfg.ElectionTimeout, s.rnd)
		s.Model.replicate(p, s.Now, &s.cfg)
	}
	if !s.Now.Before(s.nextCycle) {
		s.nextCycle = s.Now.Add(s.cfg.Cycle)
		s.cycle()
	}
	s.checkOnePerPartition()
	s.advance()
}

// liveness updates the nodes' liveness and records its changes.
func (s *Sim) liveness() {
	before := make([]string, len(s.Model.Nodes))
	for i, n := range s.Model.Nodes {
		before[i] = string(n.Liveness)
	}
	s.Model.updateLiveness(s.Now)
	for i, n := range s.Model.Nodes {
		if string(n.Liveness) != before[i] {
			s.record("n%d %s", n.ID, n.Liveness)
		}
	}
}

// Plan is what the checkers propose for the model as it stands.
func (s *Sim) Plan() (checker.Plan, error) {
	return checker.Compute(s.Model.View(s.Now), s.cfg.Checker(s.Now))
}

// cycle is one round of the Doctor: plan over the view, carry the sick
// nodes into the next view, start what Admit lets through.
func (s *Sim) cycle() {
	view := s.Model.View(s.Now)
	plan, err := checker.Compute(view, s.cfg.Checker(s.Now))
	if err != nil {
		s.violate("checker: %v", err)
		return
	}
	for _, n := range s.Model.Nodes {
		switch sick := slices.Contains(plan.Sick, n.ID); {
		case sick && n.SickSince.IsZero():
			n.SickSince = s.Now
			s.record("n%d judged sick", n.ID)
		case !sick && !n.SickSince.IsZero():
			n.SickSince, n.HealedAt = time.Time{}, s.Now
			s.record("n%d no longer sick", n.ID)
		}
	}
	admit := s.cfg.Admit
	if admit == nil {
		admit = s.defaultAdmit
	}
	for _, op := range plan.Ops {
		if !slices.ContainsFunc(s.running, func(r *Running) bool { return r.Op.Partition == op.Partition }) {
			s.Proposed[op.Kind]++ // proposals on busy partitions are the caller's to drop
		}
		if run, _ := admit(op, view, s.Running(), s.Now); !run {
			s.Held++
			continue
		}
		s.start(op)
	}
}

// SetAdmit replaces the admission hook (nil: the default).
func (s *Sim) SetAdmit(f AdmitFunc) { s.cfg.Admit = f }

// Cooldown returns an admission hook that holds an operation on a
// partition whose last operation finished less than d ago, unless it is
// a repair, and otherwise asks next (nil: the default).
func (s *Sim) Cooldown(d time.Duration, next AdmitFunc) AdmitFunc {
	if next == nil {
		next = s.defaultAdmit
	}
	return func(op checker.Op, cur checker.View, running []Running, now time.Time) (bool, string) {
		if prev, ok := s.last[op.Partition]; ok && !isRepair(op) && now.Sub(prev.at) < d {
			return false, fmt.Sprintf("p%d changed %v ago (%s): cooling down for %v", op.Partition, now.Sub(prev.at), prev.op.Kind, d)
		}
		return next(op, cur, running, now)
	}
}

// defaultAdmit runs op if its partition has no operation running and the
// cluster runs fewer than MaxRunning.
func (s *Sim) defaultAdmit(op checker.Op, _ checker.View, running []Running, _ time.Time) (bool, string) {
	if slices.ContainsFunc(running, func(r Running) bool { return r.Op.Partition == op.Partition }) {
		return false, fmt.Sprintf("p%d has an operation running", op.Partition)
	}
	if len(running) >= s.cfg.MaxRunning {
		return false, fmt.Sprintf("%d operations running, the bound", len(running))
	}
	return true, ""
}

// start begins op, unless its partition changed since the plan. A
// remove-node is done at once: the record of a node that holds no replica.
func (s *Sim) start(op checker.Op) {
	if op.Kind == checker.RemoveNode {
		s.removeNode(op)
		return
	}
	p := s.Model.partition(op.Partition)
	if p == nil || p.Generation != op.Generation {
		s.record("stale %s", op)
		s.Aborted++
		return
	}
	s.checkFlap(op)
	s.running = append(s.running, &Running{Op: op, Started: s.Now, Steps: steps(op.Kind), Since: s.Now})
	s.Started++
	s.record("start %s %s", op.Kind, opTarget(op))
}

// removeNode takes a decommissioned node out of the cluster: a violation
// if it was not marked, or if a partition still holds a replica on it.
func (s *Sim) removeNode(op checker.Op) {
	n := s.Model.node(op.From)
	switch {
	case n == nil:
		s.record("stale %s", op)
		s.Aborted++
		return
	case !n.leaving():
		s.violate("remove-node of n%d, which is not decommissioning", n.ID)
	}
	for _, p := range s.Model.Partitions {
		if slices.Contains(p.Voters, n.ID) || slices.Contains(p.Learners, n.ID) || p.replicas[n.ID] != nil {
			s.violate("n%d removed while p%d holds a replica on it", n.ID, p.ID)
			return
		}
	}
	s.Model.Nodes = slices.DeleteFunc(s.Model.Nodes, func(m *Node) bool { return m == n })
	s.Started++
	s.Finished++
	s.record("remove-node n%d [%s]", n.ID, op.Checker)
}

func opTarget(op checker.Op) string {
	out := fmt.Sprintf("p%d", op.Partition)
	if op.From != 0 {
		out += fmt.Sprintf(" from=n%d", op.From)
	}
	if op.To != 0 {
		out += fmt.Sprintf(" to=n%d", op.To)
	}
	return out + " [" + op.Checker + "]"
}
