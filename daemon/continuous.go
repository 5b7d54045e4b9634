package daemon

import "time"

// continuous runs one long cycle at a time: at once at Start, again after
// a restart delay when a cycle returns, and at once when a Pause that
// canceled it is lifted. Failed cycles are retried with backoff, without
// limit.
type continuous struct {
	restart time.Duration // Backoff.Initial
}

func (c continuous) first(now time.Time) (time.Time, Reason) {
	return now, ReasonStart
}

func (c continuous) next(now time.Time, o Outcome) (time.Time, Reason) {
	if o == OutcomeCanceled {
		return now, ReasonRestart
	}
	return now.Add(c.restart), ReasonRestart
}
