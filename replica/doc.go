// Package replica is one partition replica: an etcd raft RawNode, its log
// and hard state in the node's Pebble instance (raft_storage.go), and the
// deterministic state machine (package kv) its committed commands apply to.
//
// A Replica has no goroutines. The store drives it:
//
//	rd, ok := r.Collect(b)  // take the Ready, write its entries and hard state into b
//	... the store commits b (one fsync for many replicas) ...
//	r.Finish(rd, send)      // send messages, apply committed commands, Advance
//
// with the replica's lock held from Collect to Finish (Lock/TryLock). Tick,
// Step and Propose may be called between rounds from any goroutine; each
// takes the lock. A proposal is answered through the channel Propose
// returns, once its command applies here, with the apply Result.
//
// Commands carry an id: a command whose id already applied is not applied
// again; it gets the Result recorded the first time. So a caller that lost
// track of a proposal (the leader changed) may retry it with the same id.
package replica
