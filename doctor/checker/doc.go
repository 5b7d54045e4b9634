// Package checker is the doctor's deciding half: pure functions from a
// View of the cluster and a Config to a Plan of proposed operations, each
// with the reasons it was chosen, and in dry-run the reasons nothing was
// proposed for the partitions (and nodes) left alone. It reads no clock,
// calls no node and keeps no state: the same view and config give the
// same plan, whatever order the view lists things in.
//
//	view := checker.FromTopology(topology.Nodes(snap, now), parts, now, &prev)
//	cfg := checker.DefaultConfig(now)
//	cfg.DryRun = true
//	plan, err := checker.Compute(view, cfg)
//	for _, op := range plan.Ops { ... } // highest priority first
//
// Compute runs, in the manner of PD's checkers and schedulers:
//
//	per partition, the first safe proposal wins:
//	  membership     joint configuration left behind -> leave-joint;
//	                 learner caught up and wanted -> promote-learner;
//	                 never caught up, unhealthy or unwanted -> remove-learner
//	  replica        node dead for DeadAfter and the leader agrees, or a
//	                 replica down on a live node for ReplicaDownAfter
//	                 -> replace-replica (remove-replica when over-replicated)
//	  replica-count  raft's voters (not the directory's list) below or
//	                 above the replication factor -> add- / remove-replica
//	                 (a decommissioning node's voter goes first)
//	  decommission   a voter on a node marked decommissioning -> decommission
//	                 (moved as move-replica; the meta partition last)
//	  zone           two voters in a zone while another zone has room
//	                 -> move-replica
//	  record         the directory's list differs from raft's voters
//	                 -> set-replicas
//	over the cluster, on partitions still without an operation:
//	  decommission   a decommissioning node no partition holds, every
//	                 partition's leader known -> remove-node (its record)
//	  sick-node      fsync p99 far above the peers' median, and followers
//	                 seen slow (lag or late acks) by SickVantages leaders -> transfer-leader;
//	                 still sick after SickReplicasAfter -> move-replica
//	  balance        replicas, then leaders, per node within the tolerance
//	                 -> move-replica, transfer-leader
//
// Every proposal passes one safety rule before it is kept: each voter set
// the operation takes the partition through (the current one, both halves
// of a joint one, with the new voter promoted, without the old one) keeps
// a healthy majority, where dead and suspect nodes, replicas down and
// replicas out of the leader's contact do not count. A partition gets at
// most one operation per plan; a partition without a known leader gets
// none. Operations carry the generation and configuration the plan saw,
// so that the acting half can reject a stale plan. Safe and Healthy
// export the rule, for doctor/gate to judge operations again against a
// fresh view.
//
// The checkers do not know which operations are already running: the
// caller leaves partitions with an operation in flight out of the view,
// or drops the plan's operations on them.
package checker
