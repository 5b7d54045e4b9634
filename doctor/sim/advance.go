package sim

import (
	"fmt"
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

// advance moves every running operation on by one step; steps with
// nothing to do do not take the tick.
func (s *Sim) advance() {
	var view *checker.View
	cur := func() checker.View {
		if view == nil {
			v := s.Model.View(s.Now)
			view = &v
		}
		return *view
	}
	kept := s.running[:0]
	for _, r := range s.running {
		changed, over := s.advanceOne(r, cur)
		if changed {
			view = nil
		}
		if !over {
			kept = append(kept, r)
		}
	}
	s.running = kept
}

// advanceOne runs r's next step; it says whether the model changed and
// whether r is over (finished or abandoned).
func (s *Sim) advanceOne(r *Running, cur func() checker.View) (changed, over bool) {
	p := s.Model.partition(r.Op.Partition)
	if !r.Started.Before(s.Now) {
		return false, false // a step takes the tick after the start
	}
	for r.Next < len(r.Steps) {
		step := r.Steps[r.Next]
		out, why := stepWait, ""
		had := s.Model.hasQuorum(p, s.Now)
		if ok, held := s.checkStep(step, r.Op, p, cur); ok {
			out, why = s.Model.doStep(step, r.Op, p, s.Now)
		} else {
			why = "held: " + held
		}
		if had && !s.Model.hasQuorum(p, s.Now) {
			s.violate("p%d lost its quorum at step %s of %s", p.ID, step, r.Op)
		}
		switch out {
		case stepWait:
			if s.Now.Sub(r.Since) >= s.stepTimeout(step) {
				return s.abandon(r, p, fmt.Sprintf("%s timed out: %s", step, why)), true
			}
			return false, false
		case stepDone:
			r.Next, r.Since = r.Next+1, s.Now
			if r.Next == len(r.Steps) {
				s.finish(r)
				return true, true
			}
			return true, false
		}
		r.Next, r.Since = r.Next+1, s.Now
	}
	s.finish(r)
	return false, true
}

// checkStep asks CheckStep whether step may run now; a step it holds
// waits, and is abandoned with its operation once its timeout passes.
func (s *Sim) checkStep(step string, op checker.Op, p *Partition, cur func() checker.View) (bool, string) {
	if s.cfg.CheckStep == nil {
		return true, ""
	}
	name, node, checked := s.Model.checked(step, op, p, s.Now)
	if !checked {
		return true, ""
	}
	return s.cfg.CheckStep(name, op.Partition, node, cur(), s.Now)
}

func (s *Sim) finish(r *Running) {
	s.Finished++
	s.last[r.Op.Partition] = finished{op: r.Op, at: s.Now}
	if p := s.Model.partition(r.Op.Partition); p != nil && r.Op.Checker == "balance-leaders" {
		p.balanced = checker.Balanced{At: s.Now, From: r.Op.From}
	}
	s.record("finish %s %s after %v", r.Op.Kind, opTarget(r.Op), s.Now.Sub(r.Started))
}

// abandon gives r up, removing the learner it added if that is still
// one; it says whether the model changed.
func (s *Sim) abandon(r *Running, p *Partition, why string) bool {
	s.Aborted++
	s.record("abort %s %s: %s", r.Op.Kind, opTarget(r.Op), why)
	added := r.Next > 0 && r.Steps[0] == StepAddLearner && r.Next <= 2
	if !added || p.Leader == 0 || !s.Model.hasQuorum(p, s.Now) {
		return false
	}
	out, _ := s.Model.removeLearner(p, r.Op.To)
	return out == stepDone
}

// stepTimeout is how long step may wait: a leadership transfer gives up
// after an election timeout, as raft's does; other steps StepTimeout.
func (s *Sim) stepTimeout(step string) time.Duration {
	if step == StepTransferLeader || step == StepLeaveLeader {
		return s.cfg.ElectionTimeout
	}
	return s.cfg.StepTimeout
}
