// Package transport carries raft messages between nodes.
//
// A Transport sends batches of messages, each tagged with its partition,
// to a node by id, best effort: raft tolerates loss, duplication and
// reordering, so Send never blocks on a slow peer and drops what it cannot
// deliver. The receiving side hands each batch to a Handler (the store).
//
// GRPC keeps one sender per node it sends to: a goroutine, a bounded
// queue and a stream. A sender with nothing to send for Config.PeerIdle
// stops and frees its queue, so that nodes removed from the cluster leave
// nothing behind; the next message to the node starts a new one.
//
// Inmem is a complete in-process network for tests and `partita dev`
// clusters, with fault injection: drop, delay, duplicate and reorder
// messages, and partition any set of nodes from the rest.
package transport
