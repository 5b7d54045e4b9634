package fsm

import (
	"bytes"
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The ClientRequestToken records of the meta partition
// (docs/transactions.md, "ClientRequestToken"): a write transaction with
// a token claims it before it runs, and whoever holds the token after
// (the same request sent again, to any node) learns from the record
// which transaction runs it and, once done, the answer it got.

// expireTokensBatch bounds the records one ExpireRequestTokens deletes.
const expireTokensBatch = 1000

// tokenLive says rec is a record that still names its request at now.
func tokenLive(rec *partitapb.RequestToken, now int64) bool {
	return rec != nil && now-rec.GetClaimedUnixNanos() <= int64(directory.RequestTokenWindow)
}

// applyClaimRequestToken claims c's token for c's transaction if no live
// record names another, or if the record's unfinished transaction is
// c.replace_txn_id; the Result carries the record after.
func applyClaimRequestToken(b *engine.Batch, now int64, c *partitapb.ClaimRequestToken) (*partitapb.Result, error) {
	if c.GetToken() == "" || len(c.GetTxnId()) == 0 {
		return reject(partitapb.Error_VALIDATION, "request token: a token and a transaction are required"), nil
	}
	rec, err := directory.ReadRequestToken(b, c.GetToken())
	if err != nil {
		return nil, err
	}
	replace := len(c.GetReplaceTxnId()) > 0 && rec != nil && !rec.GetDone() &&
		bytes.Equal(rec.GetTxnId(), c.GetReplaceTxnId())
	if tokenLive(rec, now) && !replace {
		return &partitapb.Result{RequestToken: rec}, nil
	}
	rec = &partitapb.RequestToken{
		Digest: c.GetDigest(), TxnId: c.GetTxnId(), Anchor: c.GetAnchor(), ClaimedUnixNanos: now,
	}
	return &partitapb.Result{RequestToken: rec},
		writeRecord(b, directory.RequestTokenKey(c.GetToken()), rec, directory.EncodeRequestToken)
}

// applyFinishRequestToken ends the record of f's token if it still names
// f's transaction: done keeps it with the response, otherwise it goes.
func applyFinishRequestToken(b *engine.Batch, f *partitapb.FinishRequestToken) (*partitapb.Result, error) {
	key := directory.RequestTokenKey(f.GetToken())
	rec, err := directory.ReadRequestToken(b, f.GetToken())
	if err != nil {
		return nil, err
	}
	if rec == nil || !bytes.Equal(rec.GetTxnId(), f.GetTxnId()) {
		return &partitapb.Result{RequestToken: rec}, nil
	}
	if !f.GetDone() {
		if err := b.Delete(key); err != nil {
			return nil, fmt.Errorf("fsm: delete request token: %w", err)
		}
		return &partitapb.Result{}, nil
	}
	if !rec.GetDone() { // the first answer stands
		rec.Done, rec.Response = true, f.GetResponse()
	}
	return &partitapb.Result{RequestToken: rec}, writeRecord(b, key, rec, directory.EncodeRequestToken)
}

// applyExpireRequestTokens deletes the records that no longer name their
// request at now, up to expireTokensBatch of them.
func applyExpireRequestTokens(b *engine.Batch, now int64) (*partitapb.Result, error) {
	lo, hi := directory.RequestTokensSpan()
	it, err := b.NewIter(lo, hi)
	if err != nil {
		return nil, fmt.Errorf("fsm: scan request tokens: %w", err)
	}
	var old [][]byte
	for ok := it.First(); ok && len(old) < expireTokensBatch; ok = it.Next() {
		rec, err := directory.DecodeRequestToken(it.Value())
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("fsm: %w", err)
		}
		if !tokenLive(rec, now) {
			old = append(old, bytes.Clone(it.Key()))
		}
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("fsm: scan request tokens: %w", err)
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return nil, fmt.Errorf("fsm: delete request token: %w", err)
		}
	}
	return &partitapb.Result{RequestTokensExpired: int64(len(old))}, nil
}
