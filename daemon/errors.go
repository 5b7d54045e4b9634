package daemon

import (
	"errors"
	"fmt"
	"strings"
)

// Errors returned by the manager. Check them with errors.Is: most are
// wrapped with the name of the job concerned.
var (
	// ErrUnknownJob: no job of that name is registered.
	ErrUnknownJob = errors.New("daemon: unknown job")
	// ErrDuplicateJob: Register was given a name already taken.
	ErrDuplicateJob = errors.New("daemon: job already registered")
	// ErrInvalidSpec: a JobSpec or Config failed validation.
	ErrInvalidSpec = errors.New("daemon: invalid spec")
	// ErrStarted: Start was called twice.
	ErrStarted = errors.New("daemon: manager already started")
	// ErrStopped: the manager was stopped; it cannot start or take work.
	ErrStopped = errors.New("daemon: manager stopped")
	// ErrStopTimeout: Stop's deadline passed before every job stopped.
	ErrStopTimeout = errors.New("daemon: jobs did not stop before the deadline")
	// ErrCycleTimeout: a cycle or work item ran past its job's Timeout.
	// The cycle's context.Cause wraps it.
	ErrCycleTimeout = errors.New("daemon: cycle timed out")
	// ErrPanic: a cycle or work item panicked; the recovered value follows.
	ErrPanic = errors.New("daemon: job panicked")
	// ErrPaused: the cause of a continuous cycle canceled by Pause.
	ErrPaused = errors.New("daemon: job paused")
	// ErrNoQueue: Submit was called on a job without workers.
	ErrNoQueue = errors.New("daemon: job has no work queue")
	// ErrQueueFull: Submit found the queue full and the job rejects
	// rather than blocks.
	ErrQueueFull = errors.New("daemon: work queue full")
)

// StopError is returned by Stop when its context ended before every job
// stopped. It matches ErrStopTimeout and the context's error.
type StopError struct {
	// Jobs are the names of the jobs still running, sorted.
	Jobs []string
	// Cause is the context's error.
	Cause error
}

func (e *StopError) Error() string {
	return fmt.Sprintf("%v: %s: %v", ErrStopTimeout, strings.Join(e.Jobs, ", "), e.Cause)
}

// Unwrap returns ErrStopTimeout and the context's error.
func (e *StopError) Unwrap() []error { return []error{ErrStopTimeout, e.Cause} }

func unknownJob(name string) error {
	return fmt.Errorf("%w %q", ErrUnknownJob, name)
}

func invalid(name, format string, args ...any) error {
	return fmt.Errorf("%w: job %q: %s", ErrInvalidSpec, name, fmt.Sprintf(format, args...))
}
