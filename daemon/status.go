package daemon

import (
	"fmt"
	"time"
)

// State is what a job is doing. Its numeric value is exported as the
// partita_daemon_job_state gauge.
type State int

const (
	// StateStopped: the job is not running (before Start, after Stop).
	StateStopped State = iota
	// StateIdle: waiting for its next interval or trigger.
	StateIdle
	// StateRunning: a cycle is in progress.
	StateRunning
	// StatePaused: paused by Pause; no new cycle starts.
	StatePaused
	// StateBackoff: waiting to retry after a failed cycle.
	StateBackoff
)

var stateNames = [...]string{"stopped", "idle", "running", "paused", "backoff"}

// String returns the state's name ("idle", ...).
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MarshalText encodes the state as its name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Outcome is how a cycle or work item ended.
type Outcome string

// The outcomes. Failure, Timeout and Panic count as failures and are
// retried; Canceled (by Stop or Pause) is not.
const (
	OutcomeSuccess  Outcome = "success"
	OutcomeFailure  Outcome = "failure"
	OutcomeTimeout  Outcome = "timeout"
	OutcomePanic    Outcome = "panic"
	OutcomeCanceled Outcome = "canceled"
)

// Failed reports whether o counts as a failure.
func (o Outcome) Failed() bool {
	return o == OutcomeFailure || o == OutcomeTimeout || o == OutcomePanic
}

// Reason says what started a cycle.
type Reason string

// The reasons.
const (
	// ReasonSchedule: a periodic job's interval elapsed.
	ReasonSchedule Reason = "schedule"
	// ReasonStart: a continuous job's first cycle.
	ReasonStart Reason = "start"
	// ReasonRestart: a continuous job's cycle returned or was paused, and
	// runs again.
	ReasonRestart Reason = "restart"
	// ReasonRetry: the previous cycle failed.
	ReasonRetry Reason = "retry"
	// ReasonRunNow: RunNow was called.
	ReasonRunNow Reason = "run-now"
	// ReasonTrigger: Trigger was called.
	ReasonTrigger Reason = "trigger"
	// ReasonEvent: an event arrived on JobSpec.Events.
	ReasonEvent Reason = "event"
)

// CycleRecord is one finished cycle, as kept in a job's timeline.
type CycleRecord struct {
	Job     string    `json:"job"`
	Attempt int       `json:"attempt"`
	Reason  Reason    `json:"reason"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Outcome Outcome   `json:"outcome"`
	// Err is the cycle's error text; empty on success.
	Err string `json:"error,omitempty"`
}

// Duration returns End - Start.
func (r CycleRecord) Duration() time.Duration { return r.End.Sub(r.Start) }

// JobInfo is a snapshot of a job for List and the admin surface.
type JobInfo struct {
	Name   string `json:"name"`
	Kind   Kind   `json:"kind"`
	State  State  `json:"state"`
	Paused bool   `json:"paused"`
	// Interval is a periodic job's interval in force (SetInterval).
	Interval time.Duration `json:"interval,omitempty"`
	// LastOutcome and LastError describe the last finished cycle.
	LastOutcome Outcome   `json:"last_outcome,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastStart   time.Time `json:"last_start,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// NextRun is when the next cycle is due; zero while running, paused,
	// or waiting for a trigger.
	NextRun time.Time `json:"next_run,omitzero"`
	// ConsecutiveFailures counts failed cycles since the last success.
	ConsecutiveFailures int `json:"consecutive_failures"`

	// Counters of cycles since the manager was made.
	Runs     uint64 `json:"runs"`
	Failures uint64 `json:"failures"`
	Retries  uint64 `json:"retries"`
	Panics   uint64 `json:"panics"`
	Timeouts uint64 `json:"timeouts"`

	Cache CacheStats `json:"cache"`
	// Queue describes the work queue of jobs with workers.
	Queue *QueueInfo `json:"queue,omitempty"`
}

// QueueInfo describes a job's work queue and workers.
type QueueInfo struct {
	Workers  int    `json:"workers"`
	Capacity int    `json:"capacity"`
	Length   int    `json:"length"`
	Busy     int    `json:"busy"`
	Handled  uint64 `json:"handled"`
	// Failed counts items that failed, timed out or panicked; Panics
	// those that panicked.
	Failed   uint64 `json:"failed"`
	Panics   uint64 `json:"panics"`
	Rejected uint64 `json:"rejected"`
	Dropped  uint64 `json:"dropped"`
}
