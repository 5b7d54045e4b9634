package cluster

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
)

var (
	// ErrInternal is wrapped by errors a remote node returned that have
	// no wire form of their own; the error's text is the remote one.
	ErrInternal = errors.New("cluster: internal error on the remote node")
	// ErrUnreachable is wrapped by errors of calls that could not reach
	// the node, or lost it mid-call. A Propose that fails with it may or
	// may not have applied: retrying with the same command id is safe.
	ErrUnreachable = errors.New("cluster: node unreachable")
	// ErrWrongPeer wraps a call the node at the address refused before
	// running it: it is another node than the one meant, or belongs to
	// another cluster (the address is someone else's by now). Nothing
	// ran; another replica may serve the call.
	ErrWrongPeer = errors.New("cluster: the node at that address is not the one meant")
	// ErrClosed is returned by a Client after Close.
	ErrClosed = errors.New("cluster: client closed")
	// ErrStillListed is returned by DestroyReplica while the directory
	// lists the node among the partition's replicas (its reconciler would
	// create the replica again).
	ErrStillListed = errors.New("cluster: the directory still lists the replica")
	// ErrJoinRefused is a Join the member refused for who asked: a closed
	// cluster admits a node with a node certificate or a valid join token
	// (see JoinAdmitter). Retrying cannot help.
	ErrJoinRefused = errors.New("cluster: join refused")
)

// Errors of the store that callers of a Client check without importing
// store (a control plane acts through this package).
var (
	// ErrNoReplica: the node hosts no replica of the partition.
	ErrNoReplica = store.ErrNoReplica
	// ErrLeadershipMoved: RemoveVoter was asked to remove the leader
	// itself; it handed leadership over, and the removal is retried on the
	// new leader.
	ErrLeadershipMoved = store.ErrLeadershipMoved
)

// remoteError is an error re-created from the wire whose text differs
// from that of the error it wraps (a wrapped sentinel, for example): it
// keeps the remote text and lets errors.Is and errors.As find err.
type remoteError struct {
	msg string
	err error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.err }

// sentinels are the errors that travel as a kind alone.
var sentinels = []struct {
	kind clusterpb.Error_Kind
	err  error
}{
	{clusterpb.Error_AMBIGUOUS, replica.ErrAmbiguous},
	{clusterpb.Error_REMOVED, replica.ErrRemoved},
	{clusterpb.Error_NO_REPLICA, store.ErrNoReplica},
	{clusterpb.Error_DEADLINE_EXCEEDED, context.DeadlineExceeded},
	{clusterpb.Error_CANCELED, context.Canceled},
	{clusterpb.Error_LEADERSHIP_MOVED, store.ErrLeadershipMoved},
	{clusterpb.Error_STILL_LISTED, ErrStillListed},
	{clusterpb.Error_JOIN_REFUSED, ErrJoinRefused},
}

// encodeError is the wire form of err (nil for nil): the one table, with
// decodeError, between Go errors and the Cluster service.
func encodeError(err error) *clusterpb.Error {
	if err == nil {
		return nil
	}
	e := &clusterpb.Error{Kind: clusterpb.Error_INTERNAL, Message: err.Error()}
	var nl *replica.NotLeaderError
	var pe *partitapb.Error
	switch {
	case errors.As(err, &nl):
		e.Kind, e.Partition, e.Leader = clusterpb.Error_NOT_LEADER, nl.Partition, nl.Leader
	case errors.As(err, &pe):
		e.Kind, e.Domain = clusterpb.Error_DOMAIN, proto.CloneOf(pe)
	default:
		for _, s := range sentinels {
			if errors.Is(err, s.err) {
				e.Kind = s.kind
				break
			}
		}
	}
	return e
}

// decodeError re-creates the Go error that e describes (nil for nil).
func decodeError(e *clusterpb.Error) error {
	if e == nil {
		return nil
	}
	inner := ErrInternal
	switch e.Kind {
	case clusterpb.Error_NOT_LEADER:
		inner = &replica.NotLeaderError{Partition: e.Partition, Leader: e.Leader}
	case clusterpb.Error_DOMAIN:
		inner = &partitapb.Error{Code: e.GetDomain().GetCode(), Message: e.GetDomain().GetMessage()}
	default:
		for _, s := range sentinels {
			if e.Kind == s.kind {
				inner = s.err
			}
		}
	}
	if e.Message == inner.Error() {
		return inner
	}
	return &remoteError{msg: e.Message, err: inner}
}

// callError is the error of a call that failed at the gRPC level (the
// node never answered): the call's context errors and
// codes.DeadlineExceeded come back as context errors; an unreachable
// node, or a connection closed under the call (codes.Canceled while ctx
// is live), as ErrUnreachable; anything else as ErrInternal.
func callError(ctx context.Context, method, where string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("cluster: %s to %s: %w", method, where, ctx.Err())
	}
	switch status.Code(err) {
	case codes.DeadlineExceeded:
		return fmt.Errorf("cluster: %s to %s: %w", method, where, context.DeadlineExceeded)
	case codes.Unavailable, codes.Canceled:
		return fmt.Errorf("%w: %s to %s: %w", ErrUnreachable, method, where, err)
	case codes.FailedPrecondition:
		return fmt.Errorf("%w: %s to %s: %w", ErrWrongPeer, method, where, err)
	}
	return fmt.Errorf("%w: %s to %s: %w", ErrInternal, method, where, err)
}
