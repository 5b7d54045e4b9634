// Package store hosts a node's partitions and turns proposals into applied,
// durable commands.
//
// Today it has one implementation, Local: a single-node store that applies
// each command directly to the node's engine, serialised per partition, and
// commits it with an fsync before answering. It is the seam replication plugs
// into: a raft-backed store offers the same Propose and replaces Local
// without changes above it.
package store
