package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// schedule is what differs between kinds of job: when cycles are due.
type schedule interface {
	// first returns when the first cycle is due, and why; a zero time
	// means only when triggered.
	first(now time.Time) (time.Time, Reason)
	// next returns when the cycle after one that ended with o, and is not
	// retried, is due.
	next(now time.Time, o Outcome) (time.Time, Reason)
}

// job is a registered job: its spec, its state and its goroutines (one
// runner, plus the workers). The runner alone runs cycles, so cycles of a
// job never overlap.
type job struct {
	m     *Manager
	spec  JobSpec
	sched schedule
	log   *slog.Logger
	cache *Cache
	tl    *timeline
	queue *queue // nil without workers
	gate  *gate
	wake  chan struct{} // signalled (capacity 1) by the control methods
	done  chan struct{} // closed when the runner and workers have exited

	mu     sync.Mutex
	st     status
	cancel context.CancelCauseFunc // of the running cycle, if any
}

// status is the mutable part of a job, guarded by job.mu.
type status struct {
	state       State
	paused      bool
	runNow      bool // RunNow called: run once, even if paused
	trigger     bool // Trigger called: run once, unless paused
	reschedule  bool // SetInterval called: the next cycle is due at most one interval from now
	nextRun     time.Time
	lastOutcome Outcome
	lastErr     string
	lastStart   time.Time
	lastSuccess time.Time
	consecutive int
	runs        uint64
	failures    uint64
	retries     uint64
	panics      uint64
	timeouts    uint64
}

func newJob(m *Manager, spec JobSpec) *job {
	j := &job{
		m:     m,
		spec:  spec,
		log:   m.cfg.Logger.With("job", spec.Name),
		cache: NewCache(spec.CacheSize),
		tl:    newTimeline(m.cfg.TimelineSize),
		gate:  newGate(),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	j.sched = newSchedule(m, spec)
	if spec.Workers > 0 {
		j.queue = newQueue(spec, m.metrics)
	}
	m.metrics.initJob(spec.Name, j.queue != nil)
	return j
}

func newSchedule(m *Manager, spec JobSpec) schedule {
	switch spec.Kind {
	case Periodic:
		return newPeriodic(spec, m.jitter)
	case Continuous:
		return continuous{restart: spec.Backoff.Initial}
	default:
		return triggered{}
	}
}

func (j *job) clock() Clock { return j.m.cfg.Clock }

// start launches the runner under ctx. The job reads idle (or paused)
// from then on, until its runner says otherwise.
func (j *job) start(ctx context.Context) {
	j.setState(StateIdle)
	go j.run(ctx)
}

// run is the job's runner goroutine.
func (j *job) run(ctx context.Context) {
	defer close(j.done)
	defer j.setState(StateStopped)
	defer j.startWorkers(ctx)() // start the workers now, wait for them last
	if j.spec.Run == nil {
		j.idle(ctx)
		return
	}
	l := &loop{j: j, events: j.spec.Events}
	l.due, l.reason = j.sched.first(j.clock().Now())
	for {
		reason, ok := l.wait(ctx)
		if !ok {
			return
		}
		rec := j.runCycle(ctx, reason, l.failures+1, l.event)
		stopping := ctx.Err() != nil
		if !stopping {
			l.plan(rec)
			l.settle()
		}
		j.notify(rec)
		if stopping {
			return
		}
	}
}

// idle is the runner of a job without Run: it only tracks pause state
// while the workers consume.
func (j *job) idle(ctx context.Context) {
	for {
		j.mu.Lock()
		j.st.runNow, j.st.trigger = false, false
		j.setStateLocked(StateIdle)
		j.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-j.wake:
		}
	}
}

// signal wakes the runner to re-read its status.
func (j *job) signal() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

func (j *job) setState(s State) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.setStateLocked(s)
}

// setStateLocked records s, shown as paused while the job is paused and
// waiting. j.mu is held.
func (j *job) setStateLocked(s State) {
	if j.st.paused && (s == StateIdle || s == StateBackoff) {
		s = StatePaused
	}
	if s != StateIdle && s != StateBackoff {
		j.st.nextRun = time.Time{}
	}
	j.st.state = s
	j.m.metrics.setState(j.spec.Name, s)
}
