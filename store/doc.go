// Package store hosts a node's replicas and drives them: the multi-raft
// host of one node.
//
// Every partition is a raft group (package replica); a node hosts one
// replica of each partition placed on it, all in the node's one Pebble
// instance. The store owns the goroutines: a tick loop clocks every replica,
// and a few workers process the replicas with work in batches:
//
//	collect each replica's Ready -> one Pebble batch (log entries, hard states)
//	commit the batch with one fsync (group commit across partitions)
//	apply committed commands, answer proposals and reads, advance raft
//	send the round's messages, batched per destination node
//
// Propose answers once the command has applied on this node (the leader),
// with the deterministic apply Result. A node that is not the leader says
// so (*replica.NotLeaderError with a leader hint); a proposal whose outcome
// became unknown is reported as replica.ErrAmbiguous, and may be retried
// with the same command id: commands apply at most once.
//
// A one-node deployment (`partita dev`) uses the same path with one-voter
// groups, which elect themselves at once.
package store
