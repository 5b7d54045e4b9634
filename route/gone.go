package route

import (
	"context"
	"errors"

	"github.com/partitadb/partita/store"
)

// A request whose partition has no replica to serve it (the directory
// lists none, or every node asked has none), or none that leads, is
// retried until its deadline: the replicas may be on their way (a
// partition being created, the right half of a split this node's
// directory has not seen), a leader may be elected. They may also be
// gone for good: the partition's table was deleted after the caller read
// its record, and the nodes destroyed their replicas (or some of them,
// and the others lost their quorum). Only the caller knows which table
// the partition served, so it may attach a GoneCheck to the request's
// context, which Do asks whether to go on: after the 1st, 2nd, 4th,
// 8th... attempt that found no replica, and after the 8th, 16th, 32nd...
// attempt that failed in any other way (a leader election takes a few of
// them). A request that runs 10 s asks it about ten times at most.

// GoneCheck says whether a request may go on retrying on partition: nil
// to retry, or the error that ends the request (returned by Do,
// wrapped). Its context carries no GoneCheck.
type GoneCheck func(ctx context.Context, partition uint64) error

type goneCheckKey struct{}

// WithGoneCheck returns ctx whose requests ask check when they keep
// failing to find their partition (nil: none, as without a check).
func WithGoneCheck(ctx context.Context, check GoneCheck) context.Context {
	return context.WithValue(ctx, goneCheckKey{}, check)
}

// goneCheckOf is the GoneCheck ctx carries (nil: none).
func goneCheckOf(ctx context.Context) GoneCheck {
	check, _ := ctx.Value(goneCheckKey{}).(GoneCheck)
	return check
}

// stuckAfter is the number of failed attempts after which a request
// whose partition has replicas asks its GoneCheck (then at each doubling).
const stuckAfter = 8

// noReplica says err, a hop's or an attempt's, means that no replica of
// the partition was found there.
func noReplica(err error) bool {
	return errors.Is(err, store.ErrNoReplica) || errors.Is(err, ErrNoTarget)
}

// checkGone asks ctx's GoneCheck, when due, after a failed attempt; a
// non-nil error ends the request.
func (a *attempt) checkGone(ctx context.Context) error {
	a.fails++
	due := a.fails >= stuckAfter && pow2(a.fails)
	if a.missing {
		a.misses++
		due = due || pow2(a.misses)
	}
	check := goneCheckOf(ctx)
	if !due || check == nil {
		return nil
	}
	return check(WithGoneCheck(ctx, nil), a.partition)
}

// pow2 says n (positive) is a power of two.
func pow2(n int) bool { return n&(n-1) == 0 }
