// Package directory is the cluster's catalogue as data: the records the meta
// partition holds (nodes, tables with their partitions, id counters), their
// keys and codecs, an immutable Snapshot of them, and the Cache a node keeps
// of the last snapshot with leader hints. It also defines what the records
// mean: a node's liveness from its heartbeat, a table's status.
//
// The directory is passive. The meta partition's state machine (package
// fsm) writes the records; package route keeps a node's Cache fresh; the
// control plane reads Snapshots. Nothing here does I/O beyond reading
// records from a reader it is given.
//
//	meta partition (fsm) --writes--> records --read--> Snapshot --> Cache
//	                                                      |           |
//	                                          ctl, topology, doctor   route (hints)
package directory
