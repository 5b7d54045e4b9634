package checker

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig is returned by Config.Validate for a contradictory config.
var ErrConfig = errors.New("checker: invalid config")

// Config is what the checkers judge by.
type Config struct {
	// Now is the time the plan is made at.
	Now time.Time
	// DeadAfter is how long a node stays dead (by heartbeat) before its
	// replicas are replaced.
	DeadAfter time.Duration
	// ZoneDeadAfter is how long a zone stays down (none of its nodes
	// alive) before the replicas it held are replaced in other zones;
	// until then they wait, as zoneOutage explains. DeadAfter when
	// longer (a run-time override may raise DeadAfter alone).
	ZoneDeadAfter time.Duration
	// RestartGrace is how long the replicas of a node that stopped
	// cleanly (drained, as on SIGTERM) wait before they are replaced,
	// instead of DeadAfter: a planned restart is not a death. 0: none.
	RestartGrace time.Duration
	// ReplicaDownAfter is how long a replica on a live node stays down
	// (unusable, or out of its leader's contact) before it is replaced.
	ReplicaDownAfter time.Duration
	// ContactTimeout is how old a leader's last contact with a replica
	// may be for the replica to count as in contact.
	ContactTimeout time.Duration
	// LearnerTimeout is how long a learner may trail before it is rolled
	// back.
	LearnerTimeout time.Duration
	// ReplicationFactor is the number of voters every partition wants
	// (the meta partition at least MetaVoters): the cluster's, which the
	// caller reads from the directory.
	ReplicationFactor int
	// BalanceTolerance is how many more replicas (or leaders) the fullest
	// node may hold than the emptiest before the balancer moves one.
	BalanceTolerance int
	// MaxBalanceMoves bounds the balance moves of one plan.
	MaxBalanceMoves int
	// BalanceCooldown is how long a leader the balancer moved is moved
	// again only when no other can be, and never back where it came
	// from: elections (a paused node, a restart) move leaders back and
	// forth, and a balancer that chases each of them makes leaderships
	// flap.
	BalanceCooldown time.Duration
	// SickFactor is how many times its peers' median fsync p99 a node's
	// must be to count as slow; SickFloor is the least p99 that counts.
	SickFactor float64
	SickFloor  time.Duration
	// DiskFull is the disk use (0 to 1) at which a node takes no more
	// replicas.
	DiskFull float64
	// SlowLag is the lag at which a leader sees a follower as slow, and
	// SickVantages how many distinct leaders must see it so.
	SlowLag      uint64
	SickVantages int
	// SickReplicasAfter is how long a node stays sick, its leaders gone,
	// before its replicas move too.
	SickReplicasAfter time.Duration
	// RecoveryPeriod is how long a node that stopped being sick waits
	// (plus a per-node jitter of up to a fifth) before it takes leaders
	// or replicas again.
	RecoveryPeriod time.Duration
	// SplitWrites and SplitReads are the write and read rates (per
	// second) past which a partition is split once they have lasted
	// SplitAfter; 0 disables a trigger. (Splits by size are the
	// partition leader's job, which finds the median key by a scan of
	// its own replica: member.SplitOversized.)
	SplitWrites, SplitReads float64
	// TableSplitWrites replaces SplitWrites for the tables it names (a
	// table-scoped override of the doctor.split-writes setting).
	TableSplitWrites map[string]float64
	SplitAfter       time.Duration
	// MergeBytes is the combined size of items under which two adjacent
	// partitions on the same nodes merge, once their combined rates have
	// stayed below MergeLoad of SplitWrites and SplitReads for
	// MergeAfter, and neither range changed within MergeCooldown. The
	// hysteresis against flapping: a merged range is far below any split
	// trigger (a quarter of partition-max-bytes, a quarter of the rates).
	// 0 disables merges.
	MergeBytes    int64
	MergeLoad     float64
	MergeAfter    time.Duration
	MergeCooldown time.Duration
	// HotKeyShare is the share of the sampled writes one partition key
	// may take before the partition counts as one hot key, which no
	// split can divide.
	HotKeyShare float64
	// CaughtUpLag is the most entries a learner may trail its leader by
	// and count as caught up when the gate checks its promotion.
	CaughtUpLag uint64
	// DryRun adds to the plan the reasons no operation was proposed for
	// each partition without one.
	DryRun bool
}

// DefaultMergeBytes is the default MergeBytes: a quarter of the default
// partition-max-bytes (256 MiB), past which a partition splits by size.
const DefaultMergeBytes = 64 << 20

// DefaultConfig returns the defaults, judged at now.
func DefaultConfig(now time.Time) Config {
	return Config{
		Now: now, DeadAfter: 30 * time.Second, ZoneDeadAfter: 10 * time.Minute, ReplicaDownAfter: 30 * time.Second,
		ContactTimeout: 10 * time.Second, LearnerTimeout: 5 * time.Minute, SickReplicasAfter: 10 * time.Minute,
		RecoveryPeriod:    10 * time.Minute,
		ReplicationFactor: 3, BalanceTolerance: 2, MaxBalanceMoves: 4, BalanceCooldown: 10 * time.Minute,
		SickFactor: 4, SickFloor: 20 * time.Millisecond, DiskFull: 0.9, SlowLag: 1000, SickVantages: 2,
		// DynamoDB's own per-partition limits: 1,000 writes and 3,000
		// reads a second.
		SplitWrites: 1000, SplitReads: 3000, SplitAfter: 10 * time.Second, HotKeyShare: 0.5,
		MergeBytes: DefaultMergeBytes, MergeLoad: 0.25, MergeAfter: 10 * time.Minute, MergeCooldown: 10 * time.Minute,
	}
}

// Validate rejects a config whose parts contradict each other.
func (c Config) Validate() error {
	switch {
	case c.Now.IsZero():
		return fmt.Errorf("%w: no time to judge at", ErrConfig)
	case c.ReplicationFactor < 1:
		return fmt.Errorf("%w: replication factor %d", ErrConfig, c.ReplicationFactor)
	case c.DeadAfter <= 0 || c.ReplicaDownAfter <= 0 || c.ContactTimeout <= 0 || c.LearnerTimeout <= 0 || c.SickReplicasAfter <= 0:
		return fmt.Errorf("%w: timeouts must be positive", ErrConfig)
	case c.ContactTimeout > c.ReplicaDownAfter:
		return fmt.Errorf("%w: contact timeout %v above replica down-after %v", ErrConfig, c.ContactTimeout, c.ReplicaDownAfter)
	case c.BalanceTolerance < 1:
		return fmt.Errorf("%w: balance tolerance %d below 1 would flap", ErrConfig, c.BalanceTolerance)
	case c.DiskFull <= 0 || c.DiskFull > 1:
		return fmt.Errorf("%w: disk-full threshold %v outside (0, 1]", ErrConfig, c.DiskFull)
	case c.SickFactor <= 1 || c.SickVantages < 1:
		return fmt.Errorf("%w: sick factor must exceed 1 and vantages be positive", ErrConfig)
	case c.SplitWrites < 0 || c.SplitReads < 0 || c.SplitAfter < 0:
		return fmt.Errorf("%w: split thresholds must not be negative", ErrConfig)
	case c.MergeBytes < 0 || c.MergeLoad < 0 || c.MergeLoad >= 1 || c.MergeAfter < 0 || c.MergeCooldown < 0:
		return fmt.Errorf("%w: merge thresholds must not be negative, and the merge load a fraction below 1", ErrConfig)
	}
	return nil
}

// splitWrites is the write rate past which a partition of table splits.
func (c *Config) splitWrites(table string) float64 {
	if w, ok := c.TableSplitWrites[table]; ok {
		return w
	}
	return c.SplitWrites
}
