package topology

import (
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
)

// The JSON shapes below are what `partita ctl` reads from the admin
// endpoint: fields are renamed only with the ctl commands.

// NodeInfo is a node's directory record with its liveness.
type NodeInfo struct {
	ID        uint64 `json:"id"`
	APIAddr   string `json:"api_addr"`
	PeerAddr  string `json:"peer_addr"`
	AdminAddr string `json:"admin_addr"`
	Zone      string `json:"zone"`
	Version   string `json:"version"`
	// WriteFormat is how the node's leaders propose item writes
	// (partitapb.Node.write_format; "commands" when the record says none).
	WriteFormat string    `json:"write_format"`
	Joined      time.Time `json:"joined"`
	Heartbeat   time.Time `json:"heartbeat"`
	// Status is alive, suspect or dead, from the heartbeat's age.
	Status directory.Liveness `json:"status"`
	// MetaVoter says the node holds a voter of the meta partition.
	MetaVoter bool `json:"meta_voter"`
	// Stopped is when the node last stopped cleanly, zero while it runs
	// (partitapb.Node.stopped_unix_nanos).
	Stopped time.Time `json:"stopped,omitzero"`
	// Decommissioning is when the node was marked for decommissioning,
	// zero for a full member (partitapb.Node.decommissioning_unix_nanos);
	// DecommissionBy and DecommissionReason are who marked it and why.
	Decommissioning    time.Time `json:"decommissioning,omitzero"`
	DecommissionBy     string    `json:"decommission_by,omitempty"`
	DecommissionReason string    `json:"decommission_reason,omitempty"`
	// Draining is when the node was drained, zero if it is not draining
	// (partitapb.Node.draining_unix_nanos: until it restarts or is
	// undrained, it takes no leadership); DrainBy is who drained it.
	Draining time.Time `json:"draining,omitzero"`
	DrainBy  string    `json:"drain_by,omitempty"`
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
	// without one, the replica that applied most) applied it: raft's
	// actual configuration, beside the directory's list.
	Voters   []uint64 `json:"voters"`
	Learners []uint64 `json:"learners,omitempty"`
	// Leader is the node leading the partition (0: none found).
	Leader uint64 `json:"leader"`
	// Status has one entry per node in Replicas, Voters or Learners.
	Status []ReplicaInfo `json:"status"`
}

// Hosts says p lists node in its directory record or its configuration.
func (p PartitionInfo) Hosts(node uint64) bool {
	return slices.Contains(p.Replicas, node) || slices.Contains(p.Voters, node) || slices.Contains(p.Learners, node)
}

// Replica roles in ReplicaInfo.
const (
	RoleLeader      = "leader"
	RoleFollower    = "follower"
	RoleLearner     = "learner"
	RoleUnreachable = "unreachable" // the node did not answer ReplicaStatus
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
