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
