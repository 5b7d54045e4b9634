package node

import (
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology"
)

// The JSON documents of the cluster admin endpoints (`partita ctl` reads
// them). Cluster-wide views are served by any node:
//
//	GET  /cluster/nodes                     []NodeInfo
//	GET  /cluster/tables                    []TableInfo
//	GET  /cluster/partitions[?table=T]      []PartitionInfo
//	POST /cluster/nodes/{id}/drain          DrainResult
//	POST /cluster/nodes/{id}/decommission   DecommissionResult
//
// Each node answers for itself over the cluster service (ReplicaStatus,
// AddLearner, PromoteLearner, RemoveVoter, TransferLeadership,
// DestroyReplica), not over admin HTTP.
//
// Errors come back as ErrorInfo with a 4xx or 5xx status.

// NodeInfo is a node's directory record with its liveness.
type NodeInfo struct {
	ID        uint64    `json:"id"`
	APIAddr   string    `json:"api_addr"`
	PeerAddr  string    `json:"peer_addr"`
	AdminAddr string    `json:"admin_addr"`
	Zone      string    `json:"zone"`
	Version   string    `json:"version"`
	Joined    time.Time `json:"joined"`
	Heartbeat time.Time `json:"heartbeat"`
	// Status is alive, suspect or dead, from the heartbeat's age.
	Status directory.Liveness `json:"status"`
	// MetaVoter says the node holds a voter of the meta partition.
	MetaVoter bool `json:"meta_voter"`
}

// TableInfo is a table of the directory.
type TableInfo struct {
	Name       string    `json:"name"`
	ID         uint64    `json:"id"`
	Status     string    `json:"status"`
	Partitions int       `json:"partitions"`
	Created    time.Time `json:"created"`
}

// MetaTable is the table name partition views give the meta partition.
const MetaTable = "(meta)"

// PartitionInfo is a partition, its replicas and their progress.
type PartitionInfo struct {
	ID         uint64 `json:"id"`
	Table      string `json:"table"`
	TableID    uint64 `json:"table_id"`
	HashStart  uint64 `json:"hash_start"`
	HashEnd    uint64 `json:"hash_end"`
	Generation uint64 `json:"generation"`
	// Replicas are the nodes the directory lists for the partition.
	Replicas []uint64 `json:"replicas"`
	// Voters and Learners are the raft configuration as the leader (or,
	// without one, any replica that answered) applied it.
	Voters   []uint64 `json:"voters"`
	Learners []uint64 `json:"learners,omitempty"`
	// Leader is the node leading the partition (0: none found).
	Leader uint64 `json:"leader"`
	// Status has one entry per node in Replicas, Voters or Learners.
	Status []ReplicaInfo `json:"status"`
}

// Replica roles in ReplicaInfo.
const (
	RoleLeader      = "leader"
	RoleFollower    = "follower"
	RoleLearner     = "learner"
	RoleUnreachable = "unreachable" // the node's admin endpoint did not answer
	RoleMissing     = "missing"     // the node answered without a replica
)

// ReplicaInfo is one node's replica of a partition.
type ReplicaInfo struct {
	Node       uint64 `json:"node"`
	Role       string `json:"role"`
	Term       uint64 `json:"term"`
	Applied    uint64 `json:"applied"`
	LogEntries uint64 `json:"log_entries"`
	// Lag is the leader's applied index minus this replica's.
	Lag   uint64 `json:"lag"`
	Error string `json:"error,omitempty"`
}

// LocalReplicas are the replicas one node hosts.
type LocalReplicas = topology.LocalReplicas

// LocalReplica is a replica's figures (replica.Stats) and configuration.
type LocalReplica = topology.LocalReplica

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

// ErrorInfo is the body of a failed admin request.
type ErrorInfo struct {
	Error string `json:"error"`
}
