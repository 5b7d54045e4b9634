// Package doctor is Partita's control plane. Its subpackages so far:
//
//   - placement: the one placement policy (which nodes get a new
//     partition's replicas, which node takes over a replica), a pure
//     function of a directory snapshot, liveness and zones; CreateTable
//     and the operators use it.
//   - operator: operations as sequences of small named steps
//     (CreateReplica, AddLearner, PromoteLearner, TransferLeader,
//     RemoveVoter, SetReplicas, DestroyReplica), each idempotent, run by
//     a controller through a narrow Cluster interface; drain and
//     decommission are the first two.
//   - checker: the checkers, pure functions from a view of the cluster to
//     proposed operations with their reasons (dead and down replicas,
//     replica counts from raft's actual configuration, membership left
//     behind, zone spread, sick nodes, balance); nothing runs them on a
//     live cluster yet.
//   - lease: the election of the one active Doctor, a lease in the
//     directory whose epoch fences the commands of a Doctor that lost it.
//
// The doctor acts through package cluster (node-to-node RPC) and the
// directory; it never imports store.
package doctor
