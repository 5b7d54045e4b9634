package ingest

import (
	"cmp"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology/topologypb"
)

// ClusterView is the cluster as the snapshots show it at one moment. It is
// immutable once built: share it, never change it. Its JSON is what
// `partita ctl topology -o json` prints.
type ClusterView struct {
	// At is when the view was built (the ingester's clock).
	At         time.Time       `json:"at"`
	Nodes      []NodeView      `json:"nodes"`
	Zones      []ZoneView      `json:"zones"`
	Partitions []PartitionView `json:"partitions"`
}

// NodeView is one node as its newest snapshot shows it.
type NodeView struct {
	ID        uint64 `json:"id"`
	Zone      string `json:"zone"`
	APIAddr   string `json:"api_addr"`
	PeerAddr  string `json:"peer_addr"`
	AdminAddr string `json:"admin_addr"`
	Version   string `json:"version"`
	// Started is the process's start; Seq and Taken its newest snapshot.
	Started time.Time `json:"started"`
	Seq     uint64    `json:"seq"`
	Taken   time.Time `json:"taken"`
	// Age is At minus Taken: how stale the node's information is.
	Age      time.Duration      `json:"age"`
	Interval time.Duration      `json:"interval"`
	Liveness directory.Liveness `json:"liveness"`
	Health   Health             `json:"health"`
	Replicas int                `json:"replicas"`
	Leaders  int                `json:"leaders"`
	Load     Load               `json:"load"`
	Trend    Trend              `json:"trend"`
}

// Health are a node's health signals over its last interval.
type Health struct {
	FsyncP50      time.Duration `json:"fsync_p50"`
	FsyncP99      time.Duration `json:"fsync_p99"`
	DiskCapacity  uint64        `json:"disk_capacity_bytes"`
	DiskUsed      uint64        `json:"disk_used_bytes"`
	DiskUse       float64       `json:"disk_use"` // DiskUsed / DiskCapacity (0 unknown)
	StoreBytes    uint64        `json:"store_bytes"`
	CPU           float64       `json:"cpu"` // cores busy: CPU seconds per second
	RSSBytes      uint64        `json:"rss_bytes"`
	HeapBytes     uint64        `json:"heap_bytes"`
	Goroutines    uint32        `json:"goroutines"`
	PendingSnaps  int           `json:"pending_snapshots"`
	RaftLogBytes  uint64        `json:"raft_log_bytes"`
	RaftLogLength uint64        `json:"raft_log_entries"`
}

// Trend is a node's window of samples, summarized.
type Trend struct {
	Samples int `json:"samples"`
	// Span is the time between the oldest and newest sample.
	Span time.Duration `json:"span"`
	// Restarts counts process restarts seen in the window.
	Restarts int `json:"restarts"`
	// FsyncP99Max is the worst fsync p99 of the window.
	FsyncP99Max time.Duration `json:"fsync_p99_max"`
	// DiskGrowth is the disk use's growth over the window, in bytes/s.
	DiskGrowth float64 `json:"disk_growth_bytes_per_sec"`
	// WritesPerSec and ReadsPerSec average the window.
	WritesPerSec float64 `json:"writes_per_sec"`
	ReadsPerSec  float64 `json:"reads_per_sec"`
}

// Load is traffic over an interval.
type Load struct {
	ReadsPerSec      float64           `json:"reads_per_sec"`
	WritesPerSec     float64           `json:"writes_per_sec"`
	ReadBytesPerSec  float64           `json:"read_bytes_per_sec"`
	WriteBytesPerSec float64           `json:"write_bytes_per_sec"`
	LatencyP50       time.Duration     `json:"latency_p50,omitempty"`
	LatencyP99       time.Duration     `json:"latency_p99,omitempty"`
	Errors           map[string]uint64 `json:"errors,omitempty"`
	Items            uint64            `json:"items,omitempty"`
	SizeBytes        uint64            `json:"size_bytes,omitempty"`
	// KeySamples recent writes' partition key hashes were sampled; the
	// most frequent took TopKeyShare of them; MedianKeyHash is their
	// median.
	KeySamples    uint32  `json:"key_samples,omitempty"`
	TopKeyShare   float64 `json:"top_key_share,omitempty"`
	MedianKeyHash uint64  `json:"median_key_hash,omitempty"`
	// Latency is the interval's requests by latency bucket (empty from
	// nodes that do not report it).
	Latency []LatencyBucket `json:"latency,omitempty"`
}

// LatencyBucket counts the requests slower than GT and no slower than LE
// (0: no upper bound).
type LatencyBucket struct {
	GT    time.Duration `json:"gt"`
	LE    time.Duration `json:"le,omitempty"`
	Count uint64        `json:"count"`
}

// ZoneView is a zone and its nodes by liveness.
type ZoneView struct {
	Name     string `json:"name"`
	Nodes    int    `json:"nodes"`
	Alive    int    `json:"alive"`
	Suspect  int    `json:"suspect"`
	Dead     int    `json:"dead"`
	Replicas int    `json:"replicas"`
	Leaders  int    `json:"leaders"`
}

// PartitionView is a partition with the replicas the nodes report.
type PartitionView struct {
	Table      string `json:"table"`
	TableID    uint64 `json:"table_id"`
	ID         uint64 `json:"id"`
	HashStart  uint64 `json:"hash_start"`
	HashEnd    uint64 `json:"hash_end"`
	Generation uint64 `json:"generation"`
	// Leader is the node whose replica leads at the highest term, among
	// the nodes not dead (0: none).
	Leader uint64 `json:"leader"`
	Term   uint64 `json:"term"`
	// Voters and Learners are the configuration the leader applied (or,
	// without one, the replica that applied most).
	Voters   []uint64      `json:"voters"`
	Learners []uint64      `json:"learners,omitempty"`
	Replicas []ReplicaView `json:"replicas"`
	// Load is the leader's (or, without one, the busiest replica's).
	Load Load `json:"load"`
	// MaxLag is the largest lag of a replica.
	MaxLag uint64 `json:"max_lag"`
	// IndexLag is, from the leader's report, the age of the oldest change
	// of the partition its table's global secondary indexes lack.
	IndexLag time.Duration `json:"index_lag,omitempty"`
	// Contact is, for each follower the leader lists (reported by its
	// node or not), how long the leader had not heard from it when the
	// leader's snapshot was taken.
	Contact map[uint64]time.Duration `json:"contact,omitempty"`
}

// ReplicaView is one node's replica of a partition.
type ReplicaView struct {
	Node       uint64             `json:"node"`
	Liveness   directory.Liveness `json:"liveness"` // its node's
	Role       string             `json:"role"`
	Term       uint64             `json:"term"`
	Commit     uint64             `json:"commit"`
	Applied    uint64             `json:"applied"`
	Generation uint64             `json:"generation"`
	// Lag is the leader's applied index minus this replica's (0 for the
	// leader, or when no leader is known: then the most applied replica's
	// applied index stands in).
	Lag             uint64 `json:"lag"`
	LogEntries      uint64 `json:"log_entries"`
	LogBytes        uint64 `json:"log_bytes"`
	PendingSnapshot bool   `json:"pending_snapshot,omitempty"`
	// SinceContact is, for a follower, how long its leader had not heard
	// from it when the leader's snapshot was taken.
	SinceContact time.Duration `json:"since_contact,omitempty"`
	// AckLatency is, for a follower, its leader's moving average of the
	// time from appending an entry to this follower acknowledging it.
	AckLatency time.Duration `json:"ack_latency,omitempty"`
	Load       Load          `json:"load"`
}

// Node returns the view of node id (false if the view has none).
func (v *ClusterView) Node(id uint64) (NodeView, bool) {
	i, ok := slices.BinarySearchFunc(v.Nodes, id, func(n NodeView, id uint64) int { return cmp.Compare(n.ID, id) })
	if !ok {
		return NodeView{}, false
	}
	return v.Nodes[i], true
}

// Partition returns the view of partition id (false if none).
func (v *ClusterView) Partition(id uint64) (PartitionView, bool) {
	for _, p := range v.Partitions {
		if p.ID == id {
			return p, true
		}
	}
	return PartitionView{}, false
}

// RoleName names a raft role as ReplicaView.Role does.
func RoleName(r topologypb.Role) string {
	switch r {
	case topologypb.Role_ROLE_LEADER:
		return "leader"
	case topologypb.Role_ROLE_FOLLOWER:
		return "follower"
	case topologypb.Role_ROLE_LEARNER:
		return "learner"
	case topologypb.Role_ROLE_CANDIDATE:
		return "candidate"
	}
	return "unknown"
}
