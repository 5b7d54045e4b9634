package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Kind says what starts a job's cycles.
type Kind int

const (
	// Periodic jobs run a cycle every Interval plus a random jitter.
	Periodic Kind = iota + 1
	// Continuous jobs run one long cycle (a loop, a stream consumer) and
	// are restarted when it returns or fails.
	Continuous
	// Triggered jobs run a cycle when Trigger is called or an event
	// arrives on JobSpec.Events.
	Triggered
)

var kindNames = [...]string{"", "periodic", "continuous", "triggered"}

// String returns the kind's name ("periodic", ...).
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText encodes the kind as its name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// JobSpec describes a job. Only Name, Kind and Run (or Handle) are required;
// zero fields take the defaults documented on each.
type JobSpec struct {
	// Name identifies the job in metrics, logs and the admin surface:
	// letters, digits, '.', '_' and '-' only, at most 64 bytes.
	Name string
	// Kind is Periodic, Continuous or Triggered.
	Kind Kind
	// Run is one cycle of the job. Its context ends when the job is
	// stopped, when the cycle times out, and for continuous jobs when
	// the job is paused. A returned error fails the cycle, which is then
	// retried with backoff. Run may be nil only for a Triggered job with
	// Workers, which then only consumes items given to Submit.
	Run func(ctx context.Context, c *Cycle) error

	// Interval is the time between the end of one periodic cycle and the
	// start of the next, before jitter. Required for Periodic jobs.
	Interval time.Duration
	// Jitter adds a random delay in [0, Jitter) to each Interval, drawn
	// from Config.Rand. Periodic jobs only.
	Jitter time.Duration
	// RunAtStart makes a periodic job run its first cycle at Start instead
	// of after one interval.
	RunAtStart bool
	// Events, for Triggered jobs, is a source of events: each one received
	// starts a cycle that sees it as Cycle.Event. Events are not received
	// while a cycle runs or the job is paused, which pushes back on the
	// sender. A closed channel is ignored from then on.
	Events <-chan any

	// Timeout bounds each cycle and each work item; 0 means none. When it
	// passes, the cycle's context is canceled and its Err is
	// context.DeadlineExceeded. The manager still waits for Run to return.
	Timeout time.Duration
	// Backoff spaces retries after failed cycles. Zero fields take their
	// value from DefaultBackoff.
	Backoff Backoff
	// CacheSize bounds the entries of the job's cache; 0 means 256.
	CacheSize int

	// Workers is the number of goroutines handling submitted items with
	// Handle; 0 means the job has no work queue.
	Workers int
	// QueueSize is the capacity of the work queue; 0 means Workers.
	QueueSize int
	// RejectWhenFull makes Submit fail with ErrQueueFull when the queue
	// is full, instead of blocking until there is room.
	RejectWhenFull bool
	// Handle processes one submitted item. Required with Workers.
	Handle func(ctx context.Context, item any) error
}

// Cycle is what one run of a job is given.
type Cycle struct {
	// Job is the job's name.
	Job string
	// Attempt is 1 for a normal cycle and n+1 for the n-th retry.
	Attempt int
	// Reason says what started the cycle.
	Reason Reason
	// Event is the event that triggered the cycle, or nil.
	Event any
	// Cache lives across cycles of the job.
	Cache *Cache
	// Logger logs with the job's name attached.
	Logger *slog.Logger

	queue *queue
}

// Submit enqueues item for the job's workers, as Manager.Submit does.
func (c *Cycle) Submit(ctx context.Context, item any) error {
	if c.queue == nil {
		return fmt.Errorf("%w: %q", ErrNoQueue, c.Job)
	}
	return c.queue.submit(ctx, item)
}

// Validate checks the spec and returns an error wrapping ErrInvalidSpec
// for the first problem found.
func (s JobSpec) Validate() error {
	if err := validName(s.Name); err != nil {
		return invalid(s.Name, "%v", err)
	}
	if err := s.validateKind(); err != nil {
		return err
	}
	if s.Timeout < 0 || s.CacheSize < 0 || s.Workers < 0 || s.QueueSize < 0 {
		return invalid(s.Name, "negative Timeout, CacheSize, Workers or QueueSize")
	}
	if (s.Workers > 0) != (s.Handle != nil) {
		return invalid(s.Name, "Workers and Handle go together")
	}
	if s.QueueSize > 0 && s.Workers == 0 {
		return invalid(s.Name, "QueueSize without Workers")
	}
	if err := s.Backoff.Validate(); err != nil {
		return invalid(s.Name, "%v", err)
	}
	return nil
}

func (s JobSpec) validateKind() error {
	switch s.Kind {
	case Periodic:
		if s.Interval <= 0 {
			return invalid(s.Name, "periodic job needs a positive Interval")
		}
		if s.Jitter < 0 {
			return invalid(s.Name, "negative Jitter")
		}
	case Continuous, Triggered:
		if s.Interval != 0 || s.Jitter != 0 || s.RunAtStart {
			return invalid(s.Name, "Interval, Jitter and RunAtStart are for periodic jobs")
		}
	default:
		return invalid(s.Name, "unknown kind %v", s.Kind)
	}
	if s.Events != nil && s.Kind != Triggered {
		return invalid(s.Name, "Events are for triggered jobs")
	}
	if s.Run == nil && (s.Kind != Triggered || s.Workers == 0) {
		return invalid(s.Name, "Run is required (except for a triggered job with Workers)")
	}
	return nil
}

// validName accepts the names usable as metric labels and URL segments.
func validName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("name must be 1 to 64 bytes")
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return !nameRune(r) }); i >= 0 {
		return fmt.Errorf("name has invalid character %q", name[i])
	}
	return nil
}

func nameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '.' || r == '_' || r == '-'
}

// withDefaults returns the spec with zero fields filled in.
func (s JobSpec) withDefaults() JobSpec {
	s.Backoff = s.Backoff.withDefaults()
	if s.CacheSize == 0 {
		s.CacheSize = 256
	}
	if s.Workers > 0 && s.QueueSize == 0 {
		s.QueueSize = s.Workers
	}
	return s
}
