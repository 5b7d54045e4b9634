package daemon

import "time"

// Pause stops the named job from starting cycles until Resume. A running
// periodic or triggered cycle finishes; a running continuous cycle is
// canceled with cause ErrPaused. Workers stop taking items, so Submit
// pushes back once the queue fills. RunNow still runs one cycle.
func (m *Manager) Pause(name string) error {
	j, err := m.job(name)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.st.paused = true
	if j.st.state == StateIdle || j.st.state == StateBackoff {
		j.setStateLocked(StatePaused)
	}
	if j.cancel != nil && j.spec.Kind == Continuous {
		j.cancel(ErrPaused)
	}
	j.mu.Unlock()
	j.gate.set(true)
	j.signal()
	j.log.Info("job paused")
	return nil
}

// Resume lets a paused job run again. A cycle that fell due while paused
// starts at once.
func (m *Manager) Resume(name string) error {
	j, err := m.job(name)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.st.paused = false
	if j.st.state == StatePaused {
		j.setStateLocked(StateIdle)
	}
	j.mu.Unlock()
	j.gate.set(false)
	j.signal()
	j.log.Info("job resumed")
	return nil
}

// RunNow asks the named job for a cycle as soon as possible, with reason
// "run-now": at once if it is waiting (for its interval, a trigger or a
// backoff), after the current cycle if one runs. It runs even if the job
// is paused. Requests coalesce like Trigger's. For a job without Run it
// does nothing.
func (m *Manager) RunNow(name string) error {
	j, err := m.job(name)
	if err != nil {
		return err
	}
	j.mu.Lock()
	j.st.runNow = true
	j.mu.Unlock()
	j.signal()
	return nil
}

// List returns a snapshot of every job, sorted by name.
func (m *Manager) List() []JobInfo {
	m.mu.Lock()
	jobs := m.sortedJobs()
	m.mu.Unlock()
	out := make([]JobInfo, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, j.info())
	}
	return out
}

// Info returns a snapshot of the named job.
func (m *Manager) Info(name string) (JobInfo, error) {
	j, err := m.job(name)
	if err != nil {
		return JobInfo{}, err
	}
	return j.info(), nil
}

// Timeline returns the named job's recent cycles, oldest first.
func (m *Manager) Timeline(name string) ([]CycleRecord, error) {
	j, err := m.job(name)
	if err != nil {
		return nil, err
	}
	return j.tl.records(), nil
}

// Cache returns the named job's cache, the one its cycles see.
func (m *Manager) Cache(name string) (*Cache, error) {
	j, err := m.job(name)
	if err != nil {
		return nil, err
	}
	return j.cache, nil
}

func (j *job) info() JobInfo {
	j.mu.Lock()
	st := j.st
	j.mu.Unlock()
	info := JobInfo{
		Name: j.spec.Name, Kind: j.spec.Kind, State: st.state, Paused: st.paused,
		LastOutcome: st.lastOutcome, LastError: st.lastErr,
		LastStart: st.lastStart, LastSuccess: st.lastSuccess, NextRun: st.nextRun,
		ConsecutiveFailures: st.consecutive,
		Runs:                st.runs, Failures: st.failures, Retries: st.retries,
		Panics: st.panics, Timeouts: st.timeouts,
		Cache: j.cache.Stats(),
	}
	if p, ok := j.sched.(*periodic); ok {
		info.Interval = time.Duration(p.every.Load())
	}
	if j.queue != nil {
		info.Queue = j.queue.info()
	}
	return info
}
