package dynamo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/partitadb/partita/router"
)

// tokenWindow is how long a ClientRequestToken makes a TransactWriteItems
// idempotent, as in DynamoDB.
const tokenWindow = 10 * time.Minute

// msgIdempotentMismatch and msgInProgress answer a token reused with
// another request, and one whose first request still runs.
const (
	msgIdempotentMismatch = "The request uses the same client token as a previous, but non-identical request."
	msgInProgress         = "The transaction with the given request token is already in progress."
)

// requestTokens remembers the ClientRequestTokens of the transactions
// this node ran in the last tokenWindow, for a backend without
// tokenKeeper (or a cluster below the version that keeps them): a request with a known token
// and the same body gets the first one's answer without running again;
// with another body, IdempotentParameterMismatchException; while the
// first still runs, TransactionInProgressException. A transaction that
// failed is forgotten: its retry runs. Safe for concurrent use.
type requestTokens struct {
	now func() time.Time

	mu       sync.Mutex
	seen     map[string]*tokenUse
	expireAt time.Time // the next sweep of old tokens
}

// tokenUse is one token's request and, once done, its answer.
type tokenUse struct {
	body [sha256.Size]byte
	at   time.Time
	done bool
	resp any
}

func newRequestTokens(now func() time.Time) *requestTokens {
	return &requestTokens{now: now, seen: map[string]*tokenUse{}}
}

// do runs run for the request body under token, or answers as the
// token's earlier use says.
func (t *requestTokens) do(token string, body []byte, run func() (any, error)) (any, error) {
	sum := sha256.Sum256(body)
	t.mu.Lock()
	now := t.now()
	t.expire(now)
	u, ok := t.seen[token]
	switch {
	case ok && u.body != sum:
		t.mu.Unlock()
		return nil, newError(kindIdempotentMismatch, "%s", msgIdempotentMismatch)
	case ok && !u.done:
		t.mu.Unlock()
		return nil, newError(kindTransactionInProgress, "%s", msgInProgress)
	case ok:
		t.mu.Unlock()
		return u.resp, nil
	}
	u = &tokenUse{body: sum, at: now}
	t.seen[token] = u
	t.mu.Unlock()
	resp, err := run()
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		delete(t.seen, token)
		return nil, err
	}
	u.done, u.resp = true, resp
	return resp, nil
}

// expire forgets the tokens older than the window.
func (t *requestTokens) expire(now time.Time) {
	if now.Before(t.expireAt) {
		return
	}
	t.expireAt = now.Add(time.Second)
	for k, u := range t.seen {
		if now.Sub(u.at) > tokenWindow {
			delete(t.seen, k)
		}
	}
}

// tokenKeeper is a backend that keeps the ClientRequestTokens of write
// transactions for the whole cluster (the router, once the cluster
// version allows): a repeat sent to any node is answered as DynamoDB
// does. Otherwise the node remembers its own (requestTokens).
type tokenKeeper interface {
	TokensKept() bool
	TransactWriteOnce(ctx context.Context, tok router.TxnToken, actions []router.TxnAction,
		answer func(router.TxnOutcome) ([]byte, error)) ([]byte, error)
}

// keeper returns the backend's tokenKeeper, if it keeps tokens now.
func (s *Server) keeper() (tokenKeeper, bool) {
	tk, ok := s.cfg.Backend.(tokenKeeper)
	return tk, ok && tk.TokensKept()
}

// transactWriteOnce runs actions under token, once across the cluster:
// answer makes the response of a committed outcome (empty is its
// default) or the error of one that did not commit.
func transactWriteOnce(ctx context.Context, tk tokenKeeper, op, token string, body []byte, actions []router.TxnAction,
	answer func(router.TxnOutcome) (any, error),
) (any, error) {
	tok := router.TxnToken{Token: token, Digest: requestDigest(op, body)}
	raw, err := tk.TransactWriteOnce(ctx, tok, actions, func(out router.TxnOutcome) ([]byte, error) {
		resp, err := answer(out)
		if err != nil {
			return nil, err
		}
		return marshalResponse(resp)
	})
	switch {
	case errors.Is(err, router.ErrTokenMismatch):
		return nil, newError(kindIdempotentMismatch, "%s", msgIdempotentMismatch)
	case errors.Is(err, router.ErrTokenInProgress):
		return nil, newError(kindTransactionInProgress, "%s", msgInProgress)
	case err != nil:
		return nil, fmt.Errorf("dynamo: transaction: %w", err)
	case len(raw) == 0:
		// Committed by a first call whose answer was not kept (its
		// coordinator stopped): the response without its capacity.
		return struct{}{}, nil
	}
	return json.RawMessage(raw), nil
}

// requestDigest is the digest a token keeps of the request op with body,
// over its canonical JSON: an SDK's retry may encode the same request's
// maps in another order (the AWS SDK for Go fills in a token for every
// transaction, and its retries keep it).
func requestDigest(op string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(op))
	h.Write([]byte{0})
	h.Write(canonicalJSON(body))
	return h.Sum(nil)
}

// canonicalJSON re-encodes body with its objects' members sorted and
// numbers as written; a body that does not decode stays as it is.
func canonicalJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}
