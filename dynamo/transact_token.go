package dynamo

import (
	"crypto/sha256"
	"sync"
	"time"
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
// this node ran in the last tokenWindow: a request with a known token
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
