package router

import (
	"context"
)

// TransactPrepared runs a write transaction up to its prepares and stops,
// as a coordinator that died there.
func (r *Router) TransactPrepared(ctx context.Context, actions []TxnAction) (TxnOutcome, error) {
	return r.transactUntil(ctx, actions, true, txnStopPrepared)
}

// TransactCommitted runs a write transaction up to its commit point and
// stops before resolving its intents.
func (r *Router) TransactCommitted(ctx context.Context, actions []TxnAction) (TxnOutcome, error) {
	return r.transactUntil(ctx, actions, true, txnStopCommitted)
}
