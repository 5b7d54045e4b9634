package daemon

import "time"

// periodic schedules a cycle every Interval plus a jitter in [0, Jitter),
// counted from the end of the previous cycle, so cycles never pile up
// behind a slow one.
type periodic struct {
	spec   JobSpec
	jitter func(time.Duration) time.Duration
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

// interval returns the wait before the next cycle.
func (p *periodic) interval() time.Duration {
	return p.spec.Interval + p.jitter(p.spec.Jitter)
}
