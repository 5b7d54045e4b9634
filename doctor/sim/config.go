package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/doctor/checker"
)

// ErrConfig is returned by Config.Validate for a contradictory config.
var ErrConfig = errors.New("sim: invalid config")

// Config is the simulated cluster's physics and the Doctor's hooks.
type Config struct {
	// Start is the virtual time the simulation begins at.
	Start time.Time
	// Tick is the virtual time one step advances.
	Tick time.Duration
	// Cycle is how often the Doctor plans.
	Cycle time.Duration
	// ElectionTimeout is how long a partition stays without a leader
	// once its leader became unreachable.
	ElectionTimeout time.Duration
	// PartitionSize is how many entries a new replica must receive, and
	// CatchUpRate how many a replica receives per second: a new learner
	// catches up in PartitionSize/CatchUpRate.
	PartitionSize uint64
	CatchUpRate   uint64
	// WriteRate is how many entries per second each partition appends;
	// an unreachable replica falls behind by that much.
	WriteRate uint64
	// BaseFsync is a healthy node's fsync p99.
	BaseFsync time.Duration
	// SlowLagPerMs is the steady lag of a follower per millisecond of
	// its node's fsync p99 above BaseFsync.
	SlowLagPerMs uint64
	// StepTimeout is how long an operation may wait on one step before
	// it is abandoned (a learner is removed again).
	StepTimeout time.Duration
	// MaxRunning bounds the operations running at once in the cluster
	// (used by the default Admit).
	MaxRunning int
	// FlapWindow is how soon an operation undoing the previous one on
	// the same partition counts as flapping.
	FlapWindow time.Duration
	// Checker returns the checkers' config at now.
	Checker func(now time.Time) checker.Config
	// Admit decides whether op starts, given the view the plan was made
	// from and the operations running; nil means DefaultAdmit.
	Admit AdmitFunc
	// CheckStep re-checks each step before it runs; a step it does not
	// pass waits and is tried again next tick, until the step's timeout
	// abandons the operation. nil means every step runs.
	CheckStep StepFunc
	// Seed seeds the simulator's randomness (chaos, tie-breaks).
	Seed uint64
}

// AdmitFunc decides whether op starts now, given the view its plan was
// made from and the operations running; why says why not.
type AdmitFunc func(op checker.Op, cur checker.View, running []Running, now time.Time) (run bool, why string)

// StepFunc decides whether step of an operation on partition, acting on
// node, may run on the current view.
type StepFunc func(step string, partition, node uint64, cur checker.View, now time.Time) (ok bool, why string)

// DefaultConfig returns a 1 s tick, a 5 s Doctor cycle and the checkers'
// defaults.
func DefaultConfig() Config {
	return Config{
		Start: time.Unix(1_700_000_000, 0).UTC(), Tick: time.Second, Cycle: 5 * time.Second,
		ElectionTimeout: 2 * time.Second, PartitionSize: 20_000, CatchUpRate: 5_000, WriteRate: 100,
		BaseFsync: 2 * time.Millisecond, SlowLagPerMs: 10, StepTimeout: 2 * time.Minute,
		MaxRunning: 16, FlapWindow: 10 * time.Minute, Checker: checker.DefaultConfig, Seed: 1,
	}
}

// Validate rejects a config whose parts contradict each other.
func (c Config) Validate() error {
	switch {
	case c.Start.IsZero() || c.Checker == nil:
		return fmt.Errorf("%w: no start time or checker config", ErrConfig)
	case c.Tick <= 0 || c.Cycle < c.Tick:
		return fmt.Errorf("%w: tick %v, cycle %v", ErrConfig, c.Tick, c.Cycle)
	case c.CatchUpRate == 0:
		return fmt.Errorf("%w: replicas never catch up", ErrConfig)
	case c.MaxRunning < 1:
		return fmt.Errorf("%w: max running %d", ErrConfig, c.MaxRunning)
	}
	return nil
}
