package transport

import "go.etcd.io/raft/v3/raftpb"

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
