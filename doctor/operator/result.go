package operator

// The outcomes of the operators, as `partita ctl` shows them (JSON).

// DrainResult reports the leaderships a node handed over.
type DrainResult struct {
	Node uint64 `json:"node"`
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

// DecommissionResult reports the replicas moved off a node.
type DecommissionResult struct {
	Node       uint64                  `json:"node"`
	Partitions []DecommissionPartition `json:"partitions"`
	// Done says no partition keeps a replica on the node.
	Done bool `json:"done"`
	// Removed says the node's directory record is gone too (only once
	// Done): it is no longer a member.
	Removed bool `json:"removed"`
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
