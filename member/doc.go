// Package member is this node as a member of its cluster: what it does for
// the cluster besides serving requests.
//
//   - Host: creates this node's replicas of new partitions placed here,
//     and removes those of deleted ones (the router's Host).
//   - Reconcile (the "directory" job): refreshes the directory cache,
//     creates the replicas the directory places here, removes the replicas
//     of deleted tables, heartbeats this node's record, and, on the meta
//     leader, grows the meta partition to three voters as nodes join.
//   - Peer: what this node serves to its peers over cluster RPC (the
//     cluster.Local interface): its replicas, joins, the directory.
//   - HandOff: moves away the leadership of every partition this node
//     leads before it stops, so that stopping costs no election timeout.
//
// A Member holds no goroutines of its own: node registers Reconcile as a
// periodic job and calls HandOff on Close.
package member
