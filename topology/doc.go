// Package topology is the cluster view: the nodes, tables and partitions
// of the directory beside what each node's replicas report (raft's actual
// configuration, leadership, applied index, log size). It is what
// `partita ctl` shows and what the Doctor plans on.
//
// The view is a pure function of a directory.Snapshot and the nodes'
// answers to ReplicaStatus: gathering the answers is the caller's job
// (a node does it over cluster.Client), so the view can be built and
// tested from data alone.
package topology
