package topology

// LocalReplicas are the replicas one node hosts: its answer to a
// ReplicaStatus request (cluster.Local.ReplicaStatus).
type LocalReplicas struct {
	Node     uint64         `json:"node"`
	Replicas []LocalReplica `json:"replicas"`
}

// LocalReplica is a replica's raft progress (replica.Stats) and the
// configuration it has applied.
type LocalReplica struct {
	Partition  uint64   `json:"partition"`
	Leader     bool     `json:"leader"`
	Lead       uint64   `json:"lead"`
	Term       uint64   `json:"term"`
	Applied    uint64   `json:"applied"`
	LogEntries uint64   `json:"log_entries"`
	LogBytes   uint64   `json:"log_bytes"`
	Voters     []uint64 `json:"voters"`
	Learners   []uint64 `json:"learners,omitempty"`
	// RangeGeneration is the generation of the replica's range; FrozenFor
	// the id of the merge it is frozen for (empty: none), FrozenLeft
	// whether as that merge's left half.
	RangeGeneration uint64 `json:"range_generation,omitempty"`
	FrozenFor       []byte `json:"frozen_for,omitempty"`
	FrozenLeft      bool   `json:"frozen_left,omitempty"`
}

// Replica returns the node's replica of partition, if it hosts one.
func (l LocalReplicas) Replica(partition uint64) (LocalReplica, bool) {
	for _, r := range l.Replicas {
		if r.Partition == partition {
			return r, true
		}
	}
	return LocalReplica{}, false
}
