// Package operator runs the control plane's changes to the cluster as
// operators: named sequences of small steps, each idempotent, so that a
// retried or resumed operator is safe.
//
//	MoveReplica(p, from, to):
//	  CreateReplica(to) -> AddLearner(to) -> PromoteLearner(to)
//	  -> TransferLeader(off from, if it leads) -> RemoveVoter(from)
//	  -> SetReplicas(directory CAS on the partition's generation)
//	  -> DestroyReplica(from)
//
// Run executes an operator's steps in order, each bounded, through an Env:
// a narrow Cluster interface (the directory, each node's replica
// operations over the cluster service, the directory's changes) and the
// leader hints the steps learn. Steps that must run on a partition's
// leader follow its hints, and follow it when it hands over.
//
// Drain (move every leadership off a node) and Decommission (move every
// replica off a node, then remove its record) are the first operators;
// `partita ctl node drain|decommission` drive them through package admin.
// The package never imports store: it acts as a remote operator would.
package operator
