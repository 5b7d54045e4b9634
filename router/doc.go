// Package router maps tables and keys to partitions and sends each request to
// the partition that owns it.
//
// A table's partitions are ranges of the 64-bit hash space of partition keys
// (engine key layout). The router finds the owning partition of a key by the
// key's hash, builds the storage key, and hands the command to a Proposer
// (the store). Table records live in the meta partition and are cached here.
//
// Today the router serves one node: reads go to the local engine. The
// cluster work adds leader lookup and forwarding to other nodes behind the
// same methods.
package router
