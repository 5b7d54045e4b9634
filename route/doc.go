// Package route delivers a partition's requests to the replica that can
// serve them: the leader for proposals and consistent reads, any replica for
// eventually consistent reads, on this node or another. It is the one place
// that follows leader hints, moves on from nodes that cannot serve, bounds a
// hop to a silent node, and retries until the request's deadline.
//
//	router / harness / node jobs
//	        |  Propose, Get, Walk, Do(partition, ...)
//	        v
//	     Sender ---- hints, replicas ----> directory.Cache
//	        |
//	   +----+------------------+
//	   v                       v
//	 Local (this node's store)  Remote (cluster.Client: another node)
//
// One attempt follows at most MaxHops hints or replicas; then the Sender
// backs off (Backoff, doubling up to MaxBackoff) and starts another attempt,
// until the context ends (RequestTimeout bounds a context without a
// deadline). A proposal is retried with the same command id, so the
// partition applies it at most once however many attempts reach a log.
//
// When every attempt failed, the error says whether the outcome is known:
// errors.Is(err, ErrOutcomeUnknown) when some attempt may have reached a
// leader's log (the command may still apply), otherwise none did.
package route
