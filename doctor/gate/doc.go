// Package gate is the doctor's judgement of whether an operation may act:
// pure functions from an operation (or one of its steps), a fresh View of
// the cluster and the operations in flight to a Verdict with its reasons.
// It reads no clock and calls no node: the time comes in the arguments.
//
// Before an operation starts, Admit checks, in order:
//
//	stale     the partition is gone, or its generation, voters or learners
//	          are not what the plan saw (a transfer: the leader moved; a
//	          decommission: the node is no longer decommissioning)
//	          -> Stale: drop the operation and record it
//	busy      another operation is in flight on the partition -> Hold
//	leader    no leader is known: the replicas' state is unknown -> Hold
//	safety    every colour, always: the quorum rule of checker.Safe; the
//	          target alive, reachable (a peer address), not decommissioning,
//	          not a member yet (a promotion's target is a learner, a
//	          transfer's a voter); zone spread -> Refuse
//	gate      red without an operator's approval -> AwaitApproval; yellow
//	          (and approved red) within the per-node, per-zone,
//	          per-cluster and per-minute limits, green within the
//	          per-cluster one -> else Hold
//
// A remove-node operation acts on no partition: it is stale once its node
// is gone, no longer decommissioning or held by a partition again, held
// while an operation involving the node (or another removal) is in flight
// or a partition's leader is unknown, then gated.
//
// Before each step of a running operation, CheckStep judges the step
// against a view read right before it.
package gate
