package daemon

import (
	"context"
	"time"
)

// loop is the runner's schedule state between cycles.
type loop struct {
	j        *job
	due      time.Time // when the next cycle is due; zero: when triggered
	reason   Reason    // why, if it starts because due passed
	failures int       // consecutive failures feeding the backoff
	event    any       // event of the cycle to run (kept across retries)
	events   <-chan any
	timer    Timer
	timerDue time.Time // the due time timer is set for
}

// wait blocks until the next cycle should start and returns why: due
// passed (unless paused), RunNow or Trigger was called, or an event
// arrived. It returns false when ctx ends.
func (l *loop) wait(ctx context.Context) (Reason, bool) {
	defer l.stopTimer()
	for {
		reason, paused, ready := l.poll()
		if ready {
			return reason, true
		}
		tc := l.arm(paused)
		events := l.events
		if paused || l.failures > 0 {
			events = nil // keep the failed cycle's event for its retry
		}
		select {
		case <-ctx.Done():
			return "", false
		case <-l.j.wake:
		case <-tc:
		case ev, ok := <-events:
			if !ok {
				l.j.log.Warn("events channel closed; job now runs on Trigger only")
				l.events = nil
				continue
			}
			l.event = ev
			return ReasonEvent, true
		}
	}
}

// poll reads the job's status: whether a cycle should start now and why,
// and otherwise whether the job is paused. It records the waiting state.
func (l *loop) poll() (reason Reason, paused, ready bool) {
	j := l.j
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.st.runNow:
		j.st.runNow, j.st.trigger = false, false
		return ReasonRunNow, false, true
	case j.st.paused:
		j.setStateLocked(StatePaused)
		return "", true, false
	case j.st.trigger:
		j.st.trigger = false
		return ReasonTrigger, false, true
	}
	if j.st.reschedule {
		j.st.reschedule = false
		if p, ok := j.sched.(*periodic); ok && l.failures == 0 && !l.due.IsZero() {
			l.due = earliest(l.due, j.clock().Now().Add(p.interval()))
		}
	}
	if !l.due.IsZero() && !j.clock().Now().Before(l.due) {
		return l.reason, false, true
	}
	state := StateIdle
	if l.failures > 0 {
		state = StateBackoff
	}
	j.setStateLocked(state)
	j.st.nextRun = l.due
	return "", false, false
}

// arm sets the timer for the due time and returns its channel; nil when
// paused or nothing is due. A timer already set for the due time is kept
// as is: re-arming it would reset it relative to a clock that may have
// moved, and drop a value it may have sent.
func (l *loop) arm(paused bool) <-chan time.Time {
	if paused || l.due.IsZero() {
		l.stopTimer()
		return nil
	}
	if l.timer != nil && l.timerDue.Equal(l.due) {
		return l.timer.C()
	}
	l.stopTimer()
	l.timer = l.j.clock().NewTimer(l.due.Sub(l.j.clock().Now()))
	l.timerDue = l.due
	return l.timer.C()
}

func (l *loop) stopTimer() {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
}

// settle records the job as waiting for the planned cycle, so that the
// status read after OnCycle is already that of the wait.
func (l *loop) settle() {
	l.j.mu.Lock()
	defer l.j.mu.Unlock()
	state := StateIdle
	if l.failures > 0 {
		state = StateBackoff
	}
	l.j.setStateLocked(state)
	if l.j.st.state != StatePaused {
		l.j.st.nextRun = l.due
	}
}

// plan sets the next due time after a cycle that ended as rec did: a
// retry with backoff after a failure, else the kind's schedule.
func (l *loop) plan(rec CycleRecord) {
	now := l.j.clock().Now()
	b := l.j.spec.Backoff
	if rec.Outcome.Failed() {
		l.failures++
		if b.retry(l.j.spec.Kind, l.failures) {
			l.due, l.reason = now.Add(b.Delay(l.failures)), ReasonRetry
			return
		}
	}
	l.failures, l.event = 0, nil
	l.due, l.reason = l.j.sched.next(now, rec.Outcome)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
