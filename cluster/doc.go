// Package cluster is the node-to-node RPC service of Partita: what one
// node asks of another, besides the raft messages that package transport
// carries.
//
// A node implements Local over its store and directory and serves it on
// its peer gRPC server, next to the raft transport:
//
//	s := grpc.NewServer(transport.ServerOptions()...)
//	raft.Register(s, st)        // transport.GRPC: raft messages, snapshots
//	cluster.Register(s, node)   // Cluster: Propose, Get, Walk, Join, ...
//	go s.Serve(lis)
//
// Other nodes reach it with a Client, which resolves node ids to peer
// addresses on every call (Config.Resolve, from the cached directory) and
// keeps one connection per address:
//
//	c, err := cluster.NewClient(cluster.Config{Resolve: dir.PeerAddr, Logger: log})
//	defer c.Close()
//	res, err := c.Propose(ctx, leader, partition, cmd)
//	var nl *replica.NotLeaderError
//	if errors.As(err, &nl) {
//		// retry on nl.Leader (0: none known yet; refresh the route)
//	}
//
// Client.Local(node) is the same Client seen as a Local, so a router can
// send a request to its own node or to another through one interface:
//
//	target := self                  // Local of this node
//	if leader != selfID {
//		target = c.Local(leader)
//	}
//	res, err := target.Propose(ctx, partition, cmd)
//
// The replica operations (ReplicaStatus, AddLearner, PromoteLearner,
// RemoveVoter, TransferLeadership, DestroyReplica) are the steps of the
// control plane's operators (package doctor/operator); each is
// idempotent, and the membership changes run on the partition's leader
// (elsewhere: a *replica.NotLeaderError with its hint).
//
// A node joining the cluster knows addresses but no ids yet: it calls
// Join(ctx, addr, node) on any member, which follows NotLeaderError hints
// to the meta leader, and DirectoryAt(ctx, addr) to learn the cluster.
//
// # Errors
//
//	             Local (server)                   Client (caller)
//	*replica.NotLeaderError{P, L}  -- NOT_LEADER -->  *replica.NotLeaderError{P, L}
//	replica.ErrAmbiguous           -- AMBIGUOUS  -->  replica.ErrAmbiguous
//	replica.ErrRemoved             -- REMOVED    -->  replica.ErrRemoved
//	store.ErrNoReplica             -- NO_REPLICA -->  store.ErrNoReplica
//	*partitapb.Error{Code, Msg}    -- DOMAIN     -->  *partitapb.Error{Code, Msg}
//	context.DeadlineExceeded       -- DEADLINE_EXCEEDED --> context.DeadlineExceeded
//	context.Canceled               -- CANCELED   -->  context.Canceled
//	store.ErrLeadershipMoved       -- LEADERSHIP_MOVED --> ErrLeadershipMoved
//	ErrStillListed                 -- STILL_LISTED -->  ErrStillListed
//	anything else                  -- INTERNAL   -->  ErrInternal
//
// Errors travel in every response's error field (clusterpb.Error), not
// in the gRPC status, with their whole text: a wrapped error comes back
// with the same message and errors.Is and errors.As find what they would
// find on the serving node. errors.go holds the one table of this
// mapping.
//
// A call that gets no answer fails with the caller's context error
// (deadline or cancellation, including the default CallTimeout applied
// when ctx has none), or ErrUnreachable when the node cannot be reached or
// the connection broke mid-call. A Propose that failed with
// ErrUnreachable, a deadline or replica.ErrAmbiguous may have applied:
// retrying it with the same command id is safe.
//
// # Connections
//
// A connection is made on first use of an address and kept until Close.
// When Resolve returns a new address for a node, the client dials it and
// closes the old connection unless another node still uses it. A node
// that restarts on the same address is reconnected to by gRPC itself;
// while it is down calls fail fast with ErrUnreachable, and reconnection
// attempts back off up to Config.BackoffMax.
package cluster
