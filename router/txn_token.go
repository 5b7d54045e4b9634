package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// ClientRequestTokens of write transactions (docs/transactions.md,
// "ClientRequestToken"). A token is a record of the meta partition, so
// every node sees the same one:
//
//	1. ClaimRequestToken  the token names the request's digest and the
//	                      transaction about to run it (id, anchor)
//	2. the transaction    its record carries the token
//	3. FinishRequestToken done, with the response, after the commit and
//	                      before the record is forgotten; or the token
//	                      goes, when the transaction did not commit
//
// A repeat that finds the token claimed by another transaction asks that
// transaction's record: pending, the first call still runs; committed,
// the request is done; aborted or gone (a gone record without a done
// token never committed, as the token is finished first), the first call
// failed and the repeat claims the token in its place and runs.

// The answers to a token that names another request, or whose first
// request still runs.
var (
	ErrTokenMismatch   = errors.New("router: the client request token names another request")
	ErrTokenInProgress = errors.New("router: the client request token's transaction is in progress")
)

// maxTokenClaims bounds the claims of one call: each one after the first
// follows a transaction that aborted.
const maxTokenClaims = 4

// TxnToken is a write transaction's ClientRequestToken and the digest of
// the request that came with it.
type TxnToken struct {
	Token  string
	Digest []byte
}

// TokensKept says the cluster keeps ClientRequestTokens in the meta
// partition (TransactWriteOnce); before, a caller remembers them itself.
func (r *Router) TokensKept() bool { return r.allows(clusterversion.RequestTokens) }

// TransactWriteOnce runs the write transaction actions for the request
// tok names, once across the cluster within directory.RequestTokenWindow.
// answer turns this call's outcome into the response to keep (committed)
// or into the error to return (not committed: the token is forgotten, and
// a repeat runs again). A repeat of a committed request gets the first
// call's response without running (nil when the first call's
// coordinator stopped before recording it); of a request whose
// transaction is pending, ErrTokenInProgress; a token of another request
// within the window, ErrTokenMismatch. Another error may leave the
// outcome unknown; a repeat learns it.
func (r *Router) TransactWriteOnce(ctx context.Context, tok TxnToken, actions []TxnAction, answer func(TxnOutcome) ([]byte, error)) ([]byte, error) {
	if err := r.NeedVersion(clusterversion.RequestTokens, "Cluster-wide ClientRequestTokens"); err != nil {
		return nil, err
	}
	if len(actions) == 0 {
		return nil, errors.New("router: a transaction needs an action")
	}
	anchor := &partitapb.TxnAnchor{Table: actions[0].Table.GetName(), Key: actions[0].Prepare.GetKey()}
	var replace []byte
	for range maxTokenClaims {
		id := r.cfg.NewID()
		rec, err := r.claimToken(ctx, &partitapb.ClaimRequestToken{
			Token: tok.Token, Digest: tok.Digest, TxnId: id, Anchor: anchor, ReplaceTxnId: replace})
		if err != nil {
			return nil, err
		}
		switch {
		case !bytes.Equal(rec.GetDigest(), tok.Digest):
			return nil, ErrTokenMismatch
		case bytes.Equal(rec.GetTxnId(), id):
			return r.runWithToken(ctx, tok, id, actions, answer)
		case rec.GetDone():
			return rec.GetResponse(), nil
		}
		status, err := r.tokenTxnStatus(ctx, rec)
		if err != nil {
			return nil, err
		}
		switch status {
		case partitapb.TxnStatus_TXN_PENDING:
			return nil, ErrTokenInProgress
		case partitapb.TxnStatus_TXN_COMMITTED:
			// Committed; its coordinator has not recorded its answer yet,
			// or stopped: the sweep finishes the token.
			return nil, nil
		}
		replace = rec.GetTxnId() // aborted: this call runs it instead
	}
	return nil, ErrTokenInProgress
}

// runWithToken runs actions as transaction id of tok's claim.
func (r *Router) runWithToken(ctx context.Context, tok TxnToken, id []byte, actions []TxnAction, answer func(TxnOutcome) ([]byte, error)) ([]byte, error) {
	var resp []byte
	committed := func(ctx context.Context, out TxnOutcome) error {
		var err error
		if resp, err = answer(out); err != nil {
			return err
		}
		return r.finishToken(ctx, &partitapb.FinishRequestToken{Token: tok.Token, TxnId: id, Done: true, Response: resp})
	}
	out, err := r.transactRun(ctx, actions, true, txnRun{id: id, token: tok.Token, committed: committed})
	if err != nil {
		// The outcome may be unknown: the token stays, and a repeat
		// learns the outcome from the transaction's record.
		return nil, err
	}
	if out.Committed {
		if resp == nil {
			return answer(out)
		}
		return resp, nil
	}
	_, aerr := answer(out)
	// Not committed, and its record is forgotten already: its retry runs.
	if err := r.finishToken(context.WithoutCancel(ctx), &partitapb.FinishRequestToken{Token: tok.Token, TxnId: id}); err != nil {
		r.cfg.Logger.DebugContext(ctx, "request token left to a repeat", "err", err)
	}
	return nil, aerr
}

// tokenTxnStatus settles the status of the transaction that rec names,
// from its record. A pending one past its deadline is aborted. With no
// record, the transaction never committed (its token would say done):
// a claim younger than TxnDeadline may still be about to write it, and
// counts as pending; an older one gets an aborted record, so that a late
// coordinator can no longer start it. The record's table gone, the
// transaction counts as aborted.
func (r *Router) tokenTxnStatus(ctx context.Context, rec *partitapb.RequestToken) (partitapb.TxnStatus, error) {
	at, err := r.Table(ctx, rec.GetAnchor().GetTable())
	if partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return partitapb.TxnStatus_TXN_ABORTED, nil
	}
	if err != nil {
		return 0, err
	}
	key, id := rec.GetAnchor().GetKey(), rec.GetTxnId()
	h, ok := engine.KeyHash(key)
	if !ok {
		return 0, fmt.Errorf("router: %x is not an item key", key)
	}
	p := partitionOfHash(at, h).GetId()
	raw, err := r.get(ctx, p, fsm.TxnRecordKey(p, id), true)
	if err != nil {
		return 0, fmt.Errorf("router: request token's transaction: %w", err)
	}
	now := r.cfg.Now().UnixNano()
	if raw == nil && now-rec.GetClaimedUnixNanos() < int64(TxnDeadline) {
		return partitapb.TxnStatus_TXN_PENDING, nil
	}
	if raw != nil {
		txn := &partitapb.TxnRecord{}
		if err := proto.Unmarshal(raw, txn); err != nil {
			return 0, fmt.Errorf("router: corrupt transaction record: %w", err)
		}
		if txn.GetStatus() != partitapb.TxnStatus_TXN_PENDING || now <= txn.GetDeadlineUnixNanos() {
			return txn.GetStatus(), nil
		}
	}
	status, err := r.abortTxnRecord(ctx, at, key, id)
	if err != nil {
		return 0, fmt.Errorf("router: request token's transaction: %w", err)
	}
	return status, nil
}

// claimToken proposes c and returns the token's record after it.
func (r *Router) claimToken(ctx context.Context, c *partitapb.ClaimRequestToken) (*partitapb.RequestToken, error) {
	cmd := r.command()
	cmd.Op = &partitapb.Command_ClaimRequestToken{ClaimRequestToken: c}
	res, err := r.propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return nil, fmt.Errorf("router: claim request token: %w", err)
	}
	if res.GetError() != nil {
		return nil, res.GetError()
	}
	if rec := res.GetRequestToken(); rec != nil {
		return rec, nil
	}
	// A retried proposal that had applied already answers without its
	// result: read the record it left.
	raw, err := r.get(ctx, directory.MetaPartition, directory.RequestTokenKey(c.GetToken()), true)
	if err != nil {
		return nil, fmt.Errorf("router: claim request token: %w", err)
	}
	if raw == nil {
		return nil, errors.New("router: claim request token: the claim's outcome is unknown")
	}
	return directory.DecodeRequestToken(raw)
}

// finishToken proposes f.
func (r *Router) finishToken(ctx context.Context, f *partitapb.FinishRequestToken) error {
	cmd := r.command()
	cmd.Op = &partitapb.Command_FinishRequestToken{FinishRequestToken: f}
	res, err := r.propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return fmt.Errorf("router: finish request token: %w", err)
	}
	if res.GetError() != nil {
		return res.GetError()
	}
	return nil
}

// ExpireRequestTokens deletes the token records older than
// directory.RequestTokenWindow (a batch of them) and says how many went.
func (r *Router) ExpireRequestTokens(ctx context.Context) (int64, error) {
	if !r.TokensKept() {
		return 0, nil
	}
	cmd := r.command()
	cmd.Op = &partitapb.Command_ExpireRequestTokens{ExpireRequestTokens: &partitapb.ExpireRequestTokens{}}
	res, err := r.propose(ctx, directory.MetaPartition, cmd)
	if err != nil {
		return 0, fmt.Errorf("router: expire request tokens: %w", err)
	}
	if res.GetError() != nil {
		return 0, res.GetError()
	}
	return res.GetRequestTokensExpired(), nil
}
