package router

import (
	"bytes"
	"context"
	"errors"

	"github.com/partitadb/partita/partitapb"
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

// TransactWriteOnceStopped claims tok for a write transaction of actions
// and runs it up to its prepares (committed false) or its commit point,
// then stops, as a coordinator that died there. With claimOnly it stops
// right after the claim.
func (r *Router) TransactWriteOnceStopped(ctx context.Context, tok TxnToken, actions []TxnAction, committed, claimOnly bool) (TxnOutcome, error) {
	id := r.cfg.NewID()
	anchor := &partitapb.TxnAnchor{Table: actions[0].Table.GetName(), Key: actions[0].Prepare.GetKey()}
	rec, err := r.claimToken(ctx, &partitapb.ClaimRequestToken{Token: tok.Token, Digest: tok.Digest, TxnId: id, Anchor: anchor})
	if err != nil || claimOnly {
		return TxnOutcome{}, err
	}
	if !bytes.Equal(rec.GetTxnId(), id) {
		return TxnOutcome{}, errors.New("the token was claimed already")
	}
	stop := txnStopPrepared
	if committed {
		stop = txnStopCommitted
	}
	return r.transactRun(ctx, actions, true, txnRun{stop: stop, id: id, token: tok.Token})
}
