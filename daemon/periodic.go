package daemon

import (
	"fmt"
	"sync/atomic"
	"time"
)

// periodic schedules a cycle every Interval plus a jitter in [0, Jitter),
// counted from the end of the previous cycle, so cycles never pile up
// behind a slow one. SetInterval changes the interval at run time.
type periodic struct {
	spec   JobSpec
	jitter func(time.Duration) time.Duration
	every  atomic.Int64 // the interval in force, in nanoseconds
}

func newPeriodic(spec JobSpec, jitter func(time.Duration) time.Duration) *periodic {
	p := &periodic{spec: spec, jitter: jitter}
	p.every.Store(int64(spec.Interval))
	return p
}

func (p *periodic) first(now time.Time) (time.Time, Reason) {
	if p.spec.RunAtStart {
		return now, ReasonSchedule
	}
	return now.Add(p.interval()), ReasonSchedule
}

func (p *periodic) next(now time.Time, _ Outcome) (time.Time, Reason) {
	return now.Add(p.interval()), ReasonSchedule
}

// interval returns the wait before the next cycle: the interval in force,
// with the jitter scaled to it as JobSpec's was to Interval.
func (p *periodic) interval() time.Duration {
	every := time.Duration(p.every.Load())
	jitter := p.spec.Jitter
	if every != p.spec.Interval && p.spec.Interval > 0 {
		jitter = time.Duration(float64(jitter) * float64(every) / float64(p.spec.Interval))
	}
	return every + p.jitter(jitter)
}

// SetInterval changes a periodic job's interval (0: back to its spec's).
// The next cycle is due at most one new interval from now: a job waiting
// out a long interval does not wait for it to end.
func (m *Manager) SetInterval(name string, d time.Duration) error {
	j, err := m.job(name)
	if err != nil {
		return err
	}
	p, ok := j.sched.(*periodic)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s is a %s job, without an interval", ErrInvalidSpec, name, j.spec.Kind)
	case d < 0:
		return fmt.Errorf("%w: negative interval %v for %s", ErrInvalidSpec, d, name)
	case d == 0:
		d = j.spec.Interval
	}
	if time.Duration(p.every.Swap(int64(d))) == d {
		return nil
	}
	j.mu.Lock()
	j.st.reschedule = true
	j.mu.Unlock()
	j.signal()
	j.log.Info("job interval changed", "interval", d)
	return nil
}
