package operator

import "time"

// The outcomes of the operators, as `partita ctl` shows them (JSON).

// DrainResult reports the leaderships a node handed over, and its drain
// mark.
type DrainResult struct {
	Node uint64 `json:"node"`
	// Draining is when the node was drained, as its directory record's
	// mark says (zero: no mark, below the cluster version
	// clusterversion.DrainMarks or after an undrain); DrainBy is who
	// drained it. While the mark lasts (until the node restarts or is
	// undrained) the Doctor keeps leaderships off it.
	Draining time.Time `json:"draining,omitzero"`
	DrainBy  string    `json:"drain_by,omitempty"`
	// Led counts the partitions the node led when the drain began, Moved
	// those whose leadership it handed to another voter.
	Led        int              `json:"led"`
	Moved      int              `json:"moved"`
	Partitions []DrainPartition `json:"partitions"`
}

// DrainPartition is the outcome of one leadership transfer.
type DrainPartition struct {
	Partition uint64 `json:"partition"`
	To        uint64 `json:"to,omitempty"`
	Error     string `json:"error,omitempty"`
}

// DecommissionResult reports a decommission. From the cluster version
// clusterversion.DecommissionMarks on (Mode DecommissionByDoctor), a
// decommission is a mark on the node's record: the Doctor moves its
// replicas, then removes its record, and the result is the mark and what
// the node still holds. Before it (Mode DecommissionByOperator), the
// request moved the replicas itself, and Partitions reports each move.
type DecommissionResult struct {
	Node uint64 `json:"node"`
	Mode string `json:"mode"`
	// Decommissioning is when the node was marked (zero: it is not), By
	// and Reason who marked it and why.
	Decommissioning time.Time `json:"decommissioning,omitzero"`
	By              string    `json:"by,omitempty"`
	Reason          string    `json:"reason,omitempty"`
	// Remaining are the partitions that still have the node in their
	// directory list or raft configuration (Mode DecommissionByDoctor).
	Remaining []RemainingReplica `json:"remaining,omitempty"`
	// Waiting says why no replica may move for now (no Doctor active, the
	// Doctor paused, the decommission gate red), empty when they may.
	Waiting    string                  `json:"waiting,omitempty"`
	Partitions []DecommissionPartition `json:"partitions"`
	// Done says no partition keeps a replica on the node.
	Done bool `json:"done"`
	// Removed says the node's directory record is gone too (only once
	// Done): it is no longer a member.
	Removed bool `json:"removed"`
}

// The modes of a decommission.
const (
	DecommissionByDoctor   = "doctor"
	DecommissionByOperator = "operator"
)

// RemainingReplica is a replica a decommissioning node still holds.
type RemainingReplica struct {
	Partition uint64 `json:"partition"`
	Table     string `json:"table"`
	// Role is the node's part in the partition: voter, learner, or
	// listed (in the directory's list only).
	Role   string `json:"role"`
	Leader bool   `json:"leader,omitempty"`
}

// Decommission step states.
const (
	StepMoved  = "moved"
	StepFailed = "failed"
)

// DecommissionPartition is the outcome for one partition: the replica on
// the node replaced by one on To, the directory record updated, the old
// replica destroyed.
type DecommissionPartition struct {
	Partition uint64 `json:"partition"`
	Table     string `json:"table"`
	To        uint64 `json:"to,omitempty"`
	State     string `json:"state"`
	// Directory is "updated" when the partition's directory record lists
	// the new replicas ("n/a" for the meta partition, whose replicas are
	// its raft configuration).
	Directory string `json:"directory,omitempty"`
	// Destroyed says the node's old replica was removed from its store.
	Destroyed bool   `json:"destroyed"`
	Error     string `json:"error,omitempty"`
}
