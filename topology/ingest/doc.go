// Package ingest turns topology snapshots into the cluster view the Doctor
// plans on and `partita ctl topology` shows.
//
// Snapshots arrive two ways: reported by the nodes over the cluster service
// (the fast path, Ingester.Report) and read back from the bucket the nodes
// publish to (the history, BucketReader). Both feed one Ingester, which
// keeps per node a bounded window: the newest snapshot in full and a ring
// of small samples for rates and trends. A snapshot is identified by its
// node, its process's start time and its sequence number; the same
// snapshot arriving both ways is kept once.
//
//	fast path ──Report──┐
//	                    ├──> Ingester (window per node) ──View()──> *ClusterView
//	bucket ──AddBlob────┘      skipped: corrupt, truncated, unknown version,
//	                           duplicate, future, past, invalid
//
// Nothing that arrives makes the ingester panic or stall: a snapshot it
// cannot use is skipped, counted by reason (Ingester.Skipped and the
// partita_topology_ingest_skipped_total metric) and forgotten.
//
// View builds an immutable ClusterView at the configured clock's now: each
// node's liveness from the age of its newest snapshot (alive up to
// Config.SuspectAfter intervals, suspect up to Config.DeadAfter, dead
// beyond), its health signals, zones, and every partition with its
// replicas, leader, lag and load. The ingester reads no clock but
// Config.Now, so tests and `partita doctor replay` build views at any time.
package ingest
