package transport

import (
	"context"

	"go.etcd.io/raft/v3/raftpb"
)

// Message is a raft message of one partition.
type Message struct {
	Partition uint64
	Raft      raftpb.Message
}

// Handler receives the messages sent to a node.
type Handler interface {
	// HandleRaft is called with each batch sent to the node; it must not
	// block for long (the store queues the work).
	HandleRaft(msgs []Message)
}

// Transport sends raft messages to other nodes.
type Transport interface {
	// Send delivers msgs to node to, best effort. It does not block on the
	// peer and may drop messages; raft retransmits.
	Send(to uint64, msgs []Message)
}

// KV is one key/value pair of a snapshot's data.
type KV struct {
	Key, Value []byte
}

// Snapshot is a partition's state as of a raft snapshot: the MsgSnap to
// step into the receiving replica, and the partition's key/value pairs,
// read in key order by Next until it returns false (then Err tells why).
type Snapshot struct {
	Partition uint64
	Raft      raftpb.Message // a MsgSnap; its Snapshot.Data is empty
	Data      SnapshotReader
}

// SnapshotReader yields a snapshot's key/value pairs in order. The slices
// are valid until the next call to Next.
type SnapshotReader interface {
	Next() (KV, bool)
	Err() error
}

// SnapshotHandler receives snapshots sent to a node.
type SnapshotHandler interface {
	// HandleSnapshot consumes s.Data completely (or fails) before
	// returning; the sender learns the outcome from the returned error.
	HandleSnapshot(s Snapshot) error
}

// SnapshotSender streams snapshots to other nodes.
type SnapshotSender interface {
	// SendSnapshot streams s to node to and returns once the receiver has
	// handled it, or the first error.
	SendSnapshot(ctx context.Context, to uint64, s Snapshot) error
}
