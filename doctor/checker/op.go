package checker

import (
	"fmt"
	"strings"
)

// Kind is what an operation does to a partition.
type Kind string

// The operation kinds. Each becomes a sequence of operator steps when it
// runs; the checkers only propose.
const (
	// ReplaceReplica moves From's replica to To: From is dead or down.
	ReplaceReplica Kind = "replace-replica"
	// AddReplica adds a voter on To to an under-replicated partition.
	AddReplica Kind = "add-replica"
	// RemoveReplica removes From's voter from an over-replicated one.
	RemoveReplica Kind = "remove-replica"
	// MoveReplica moves a healthy replica from From to To, for zone
	// spread or balance.
	MoveReplica Kind = "move-replica"
	// TransferLeader moves the leadership from From to To.
	TransferLeader Kind = "transfer-leader"
	// RollForwardLearner promotes To's caught-up learner to a voter.
	RollForwardLearner Kind = "promote-learner"
	// RollBackLearner removes From's learner, which never caught up or
	// is not needed.
	RollBackLearner Kind = "remove-learner"
	// LeaveJoint finishes a joint configuration left behind.
	LeaveJoint Kind = "leave-joint"
	// SetReplicas makes the directory's list match raft's configuration.
	SetReplicas Kind = "set-replicas"
	// Split splits the partition's hash range in two at its middle: the
	// right half becomes a new partition on the same replicas, with no
	// data copied.
	Split Kind = "split"
	// Decommission moves a decommissioning node's (From's) replica to
	// To, as MoveReplica does.
	Decommission Kind = "decommission"
	// RemoveNode removes the directory record of a decommissioning node
	// (From) that holds no replica any more. It acts on no partition
	// (Partition 0).
	RemoveNode Kind = "remove-node"
	// Merge merges the partition with its right neighbour (With), a
	// partition on the same nodes whose range starts where its ends: the
	// partition then owns both ranges; no data moves.
	Merge Kind = "merge"
)

// Priorities order a plan's operations: repairs before improvements.
const (
	PriorityRepair       = 100 // a dead or down replica
	PriorityStuck        = 90  // a configuration left half changed
	PriorityReplicas     = 80  // too few or too many voters
	PriorityDecommission = 70  // replicas off a decommissioning node, and its record
	PriorityDrain        = 65  // leaders off a draining node
	PrioritySick         = 60  // leaders off a sick node
	PrioritySplit        = 50  // a partition too large or too hot
	PriorityZone         = 40  // zone spread
	PriorityRecord       = 30  // the directory's list
	PriorityBalance      = 20  // replicas and leaders per node
	PriorityMerge        = 10  // two small, cold neighbours
)

// Op is a proposed operation: data, validated again against the current
// directory before each of its steps runs.
type Op struct {
	Kind      Kind
	Partition uint64
	Table     string
	From, To  uint64 // 0 where the kind has none
	// At is where a split's right half starts (0: the middle of the
	// partition's hash range).
	At uint64
	// With is the right neighbour a merge absorbs.
	With uint64
	// Generation, Voters and Learners are the partition as the plan saw
	// it: a partition that changed since makes the operation stale.
	Generation uint64
	Voters     []uint64
	Learners   []uint64
	Priority   int
	// Checker is the checker that proposed the operation, Reasons why.
	Checker string
	Reasons []string
}

// String is the operation on one line, reasons left out.
func (o Op) String() string {
	var b strings.Builder
	if o.Kind == RemoveNode {
		fmt.Fprintf(&b, "%s n%d prio=%d [%s]", o.Kind, o.From, o.Priority, o.Checker)
		return b.String()
	}
	fmt.Fprintf(&b, "%s p%d", o.Kind, o.Partition)
	if o.From != 0 {
		fmt.Fprintf(&b, " from=%d", o.From)
	}
	if o.To != 0 {
		fmt.Fprintf(&b, " to=%d", o.To)
	}
	if o.With != 0 {
		fmt.Fprintf(&b, " with=p%d", o.With)
	}
	fmt.Fprintf(&b, " prio=%d gen=%d voters=%v", o.Priority, o.Generation, o.Voters)
	if len(o.Learners) > 0 {
		fmt.Fprintf(&b, " learners=%v", o.Learners)
	}
	fmt.Fprintf(&b, " [%s]", o.Checker)
	return b.String()
}

// WhyNot is why a checker proposed nothing for a partition it looked at
// (Partition set), or for a node (Partition 0, Node set), or for the
// cluster (both 0).
type WhyNot struct {
	Partition uint64
	Node      uint64
	Checker   string
	Reason    string
}

// Plan is the outcome of one round of the checkers.
type Plan struct {
	// Ops are the proposed operations, at most one per partition, by
	// priority (highest first), then partition.
	Ops []Op
	// WhyNots are, in dry-run, the reasons partitions without an
	// operation got none, by partition.
	WhyNots []WhyNot
	// Sick are the nodes judged sick, by id: the caller carries since
	// when into the next view (Health.SickSince).
	Sick []uint64
	// Slow are the nodes whose fsyncs are slow, sick or not yet
	// confirmed, by id: a node that was sick or slow and is neither any
	// more recovers (Health.HealedAt) before it takes load back.
	Slow []uint64
	// Zones is the health of the view's zones, by name.
	Zones []ZoneHealth
}
