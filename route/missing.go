package route

import (
	"context"
	"errors"

	"github.com/partitadb/partita/store"
)

// A request whose partition has no replica to serve it (the directory
// lists none, or every node asked has none) is retried until its
// deadline: the replicas may be on their way (a partition being created,
// the right half of a split this node's directory has not seen). They
// may also be gone for good: the partition's table was deleted after the
// caller read its record, and each node destroyed its replicas. Only the
// caller knows which table the partition served, so it may attach a
// MissingCheck to the request's context; Do asks it, at most once per
// doubling of the attempts that found no replica (the 1st, 2nd, 4th,
// 8th...: a few times per request), whether to go on.

// MissingCheck says whether a request may go on retrying after an
// attempt found no replica of partition: nil to retry, or the error
// that ends the request (returned by Do as it is, wrapped). Its context
// carries no MissingCheck.
type MissingCheck func(ctx context.Context, partition uint64) error

type missingCheckKey struct{}

// WithMissingCheck returns ctx whose requests ask check when they find
// no replica of their partition (nil: none, as without a check).
func WithMissingCheck(ctx context.Context, check MissingCheck) context.Context {
	return context.WithValue(ctx, missingCheckKey{}, check)
}

// missingCheckOf is the MissingCheck ctx carries (nil: none).
func missingCheckOf(ctx context.Context) MissingCheck {
	check, _ := ctx.Value(missingCheckKey{}).(MissingCheck)
	return check
}

// noReplica says err, a hop's or an attempt's, means that no replica of
// the partition was found there.
func noReplica(err error) bool {
	return errors.Is(err, store.ErrNoReplica) || errors.Is(err, ErrNoTarget)
}

// checkMissing asks ctx's MissingCheck, when due, after an attempt that
// found no replica of a.partition; a non-nil error ends the request.
func (a *attempt) checkMissing(ctx context.Context) error {
	if !a.missing {
		return nil
	}
	a.misses++
	if a.misses&(a.misses-1) != 0 { // not a power of two: not due
		return nil
	}
	check := missingCheckOf(ctx)
	if check == nil {
		return nil
	}
	return check(WithMissingCheck(ctx, nil), a.partition)
}
