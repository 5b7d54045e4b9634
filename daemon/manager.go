package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Manager runs a node's background jobs. Register jobs, Start the manager,
// and Stop it on shutdown; in between, the control methods (Pause, Resume,
// RunNow, Trigger, Submit) and the views (List, Info, Timeline,
// AdminHandler) may be used from any goroutine.
type Manager struct {
	cfg     Config
	metrics *metrics

	randMu sync.Mutex // serialises cfg.Rand

	mu      sync.Mutex
	jobs    map[string]*job
	ctx     context.Context // parent of the jobs' contexts, once started
	cancel  context.CancelFunc
	started bool
	stopped bool
}

// New returns a manager with the given dependencies; zero fields of cfg
// take their defaults. It registers the manager's metrics on
// cfg.Registerer, so two managers need two registerers.
func New(cfg Config) (*Manager, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, metrics: newMetrics(), jobs: map[string]*job{}}
	if err := m.metrics.register(cfg.Registerer); err != nil {
		return nil, err
	}
	return m, nil
}

// Register adds a job. A job registered after Start starts at once. It
// fails with ErrInvalidSpec, ErrDuplicateJob or ErrStopped.
func (m *Manager) Register(spec JobSpec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return ErrStopped
	}
	if _, ok := m.jobs[spec.Name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicateJob, spec.Name)
	}
	j := newJob(m, spec.withDefaults())
	m.jobs[spec.Name] = j
	if m.started {
		j.start(m.ctx)
	}
	return nil
}

// Start starts every registered job. Canceling ctx cancels the jobs as
// Stop does; call Stop to wait for them either way.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.stopped:
		return ErrStopped
	case m.started:
		return ErrStarted
	}
	m.started = true
	m.ctx, m.cancel = context.WithCancel(ctx)
	for _, j := range m.sortedJobs() {
		j.start(m.ctx)
	}
	return nil
}

// Stop cancels every job and waits until all have returned or ctx ends.
// Items still queued for workers are dropped. If ctx ends first, Stop
// returns a *StopError naming the jobs still running; their goroutines are
// left behind, and Stop may be called again to wait for them. Stop on a
// manager never started just marks it stopped.
func (m *Manager) Stop(ctx context.Context) error {
	m.mu.Lock()
	m.stopped = true
	if m.cancel != nil {
		m.cancel()
	}
	started, jobs := m.started, m.sortedJobs()
	m.mu.Unlock()

	for _, j := range jobs {
		j.closeQueue()
		if !started && j.queue != nil {
			j.queue.drop()
		}
	}
	if !started {
		return nil
	}
	stuck := waitDone(ctx, jobs)
	if len(stuck) == 0 {
		return nil
	}
	err := &StopError{Jobs: stuck, Cause: ctx.Err()}
	m.cfg.Logger.Error("jobs did not stop", "jobs", stuck, "err", ctx.Err())
	return err
}

// waitDone waits until every job is done or ctx ends, and returns the
// names of the jobs not done.
func waitDone(ctx context.Context, jobs []*job) []string {
	for _, j := range jobs {
		select {
		case <-j.done:
		case <-ctx.Done():
		}
	}
	var stuck []string
	for _, j := range jobs {
		select {
		case <-j.done:
		default:
			stuck = append(stuck, j.spec.Name)
		}
	}
	return stuck
}

// job returns the named job or an error wrapping ErrUnknownJob.
func (m *Manager) job(name string) (*job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[name]
	if !ok {
		return nil, unknownJob(name)
	}
	return j, nil
}

// sortedJobs returns the jobs ordered by name. m.mu is held.
func (m *Manager) sortedJobs() []*job {
	jobs := make([]*job, 0, len(m.jobs))
	for _, j := range m.jobs {
		jobs = append(jobs, j)
	}
	slices.SortFunc(jobs, func(a, b *job) int {
		return strings.Compare(a.spec.Name, b.spec.Name)
	})
	return jobs
}

// jitter returns a random duration in [0, d).
func (m *Manager) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	m.randMu.Lock()
	defer m.randMu.Unlock()
	return time.Duration(m.cfg.Rand.Int64N(int64(d)))
}
