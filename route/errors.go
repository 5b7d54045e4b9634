package route

import (
	"context"
	"errors"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

var (
	// ErrOutcomeUnknown is wrapped by the error of a request that ran out
	// of time after an attempt that may have reached a leader's log: the
	// command may apply (at most once) or may not.
	ErrOutcomeUnknown = errors.New("route: outcome unknown")
	// ErrSlowNode marks a hop cut short by HopTimeout.
	ErrSlowNode = errors.New("route: node did not answer in time")
	// ErrNoTarget: the directory lists no replica of the partition yet.
	ErrNoTarget = errors.New("route: no replica known for partition")
)

// outcome is what an attempt's error means for routing.
type outcome int

const (
	done       outcome = iota // success, or an error to return as it is
	followHint                // another node leads: ask it next
	moveOn                    // this node cannot serve now: ask another replica
	retryLater                // the outcome is unknown or no leader exists yet: back off
)

// classify says what to do after an attempt on target failed with err,
// and whether the command may have reached a log.
func classify(err error, target uint64) (o outcome, hint uint64, maybeApplied bool) {
	var nl *replica.NotLeaderError
	switch {
	case err == nil:
		return done, 0, false
	case errors.As(err, &nl) && nl.Leader != 0 && nl.Leader != target:
		return followHint, nl.Leader, false
	case errors.As(err, &nl):
		return moveOn, 0, false
	case errors.Is(err, replica.ErrAmbiguous):
		return retryLater, 0, true
	case errors.Is(err, ErrSlowNode):
		// A paused or overloaded node costs one hop; the request moves on.
		return moveOn, 0, true
	case errors.Is(err, replica.ErrRemoved):
		// Removed with the proposal pending: another replica may apply it.
		return moveOn, 0, true
	case errors.Is(err, cluster.ErrUnreachable):
		// The connection may have broken after the request left.
		return moveOn, 0, true
	case errors.Is(err, store.ErrNoReplica), errors.Is(err, directory.ErrUnknownNode), errors.Is(err, ErrNoTarget),
		errors.Is(err, cluster.ErrWrongPeer):
		// The last: the node at the address refused the call unrun (it is
		// another node by now).
		return moveOn, 0, false
	}
	return done, 0, false
}

// ctxDone says err is the caller's own context ending.
func ctxDone(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
