package daemon

import "time"

// triggered runs a cycle only when Trigger or RunNow is called or an event
// arrives on JobSpec.Events; a failed cycle is retried with backoff up to
// Backoff.MaxRetries times.
type triggered struct{}

func (triggered) first(time.Time) (time.Time, Reason) { return time.Time{}, "" }

func (triggered) next(time.Time, Outcome) (time.Time, Reason) { return time.Time{}, "" }

// Trigger asks the named job for a cycle, with reason "trigger". Triggers
// coalesce: any number of calls before the cycle starts cause one cycle;
// a call while a cycle runs causes one more after it. Unlike RunNow, a
// trigger waits while the job is paused. Any kind of job can be
// triggered; for a job without Run, Trigger does nothing.
func (m *Manager) Trigger(name string) error {
	j, err := m.job(name)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.st.trigger = true
	j.mu.Unlock()
	j.signal()
	return nil
}
