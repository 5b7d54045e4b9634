package router_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// tokenCall is one call of TransactWriteOnce and what it saw.
type tokenCall struct {
	resp    []byte
	err     error
	ran     bool // answer was called: this call ran the transaction
	outcome router.TxnOutcome
}

// writeOnce puts items (i, v) pairs under tok through r.
func writeOnce(t *testing.T, r *router.Router, tbl *partitapb.Table, tok router.TxnToken, resp string, items ...[2]int) tokenCall {
	t.Helper()
	var c tokenCall
	c.resp, c.err = r.TransactWriteOnce(context.Background(), tok, tokenActions(t, r, tbl, items...),
		func(out router.TxnOutcome) ([]byte, error) {
			c.ran, c.outcome = true, out
			if !out.Committed {
				return nil, errors.New("cancelled")
			}
			return []byte(resp), nil
		})
	return c
}

func tokenActions(t *testing.T, r *router.Router, tbl *partitapb.Table, items ...[2]int) []router.TxnAction {
	t.Helper()
	var actions []router.TxnAction
	for _, iv := range items {
		actions = append(actions, putAction(r, tbl, txnItem(iv[0], iv[1]), t))
	}
	return actions
}

func token(name, digest string) router.TxnToken {
	return router.TxnToken{Token: name, Digest: []byte(digest)}
}

// A token's repeat through another coordinator gets the first answer
// without running; the same token with another request is refused.
func TestTokenRepeatThroughAnotherRouter(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl := twoRouters(t, clock)
	first := writeOnce(t, a, tbl, token("tok", "req1"), "first", [2]int{1, 10}, [2]int{2, 20})
	if first.err != nil || !first.ran || string(first.resp) != "first" {
		t.Fatalf("first call: %+v", first)
	}
	again := writeOnce(t, b, tbl, token("tok", "req1"), "second", [2]int{1, 10}, [2]int{2, 20})
	if again.err != nil || again.ran || string(again.resp) != "first" {
		t.Fatalf("repeat: %+v, want the first answer without running", again)
	}
	other := writeOnce(t, b, tbl, token("tok", "req2"), "other", [2]int{1, 11})
	if !errors.Is(other.err, router.ErrTokenMismatch) || other.ran {
		t.Fatalf("another request with the token: %+v, want ErrTokenMismatch", other)
	}
	if got := readV(t, b, tbl, 1); got != "10" {
		t.Fatalf("item 1 = %s, want 10", got)
	}
	// Past the window the token is free again, and the expiry collects it.
	clock.add(directory.RequestTokenWindow + time.Second)
	if n, err := b.ExpireRequestTokens(context.Background()); err != nil || n != 1 {
		t.Fatalf("expire: %d %v, want 1", n, err)
	}
	late := writeOnce(t, b, tbl, token("tok", "req2"), "late", [2]int{1, 11})
	if late.err != nil || !late.ran || string(late.resp) != "late" {
		t.Fatalf("the token past its window: %+v", late)
	}
}

// A coordinator that stops after the commit point: a repeat does not run
// the transaction again, before and after the sweep collects its record
// (which finishes the token first).
func TestTokenCoordinatorDiesAfterCommit(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl, eng := twoRoutersEngine(t, clock)
	ctx := context.Background()
	tok := token("tok", "req")
	if out, err := a.TransactWriteOnceStopped(ctx, tok, tokenActions(t, a, tbl, [2]int{1, 10}, [2]int{2, 20}), true, false); err != nil || !out.Committed {
		t.Fatalf("commit: %v %v", out, err)
	}
	for range 2 {
		c := writeOnce(t, b, tbl, tok, "again", [2]int{1, 10}, [2]int{2, 20})
		if c.err != nil || c.ran || c.resp != nil {
			t.Fatalf("repeat of a committed request: %+v, want done without running", c)
		}
	}
	clock.add(2*router.TxnDeadline + time.Second)
	var left []fsm.TxnRecordEntry
	for _, p := range tbl.GetPartitions() {
		recs, err := fsm.ReadTxnRecords(eng, p.GetId())
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, recs...)
	}
	if len(left) != 1 || left[0].Record.GetClientToken() != "tok" {
		t.Fatalf("records left: %v, want one with the token", left)
	}
	if swept, err := b.SweepTxnRecord(ctx, left[0].ID, left[0].Record); err != nil || !swept {
		t.Fatalf("sweep: %v %v", swept, err)
	}
	c := writeOnce(t, b, tbl, tok, "again", [2]int{1, 10}, [2]int{2, 20})
	if c.err != nil || c.ran {
		t.Fatalf("repeat after the sweep: %+v, want done without running", c)
	}
	for i, want := range map[int]string{1: "10", 2: "20"} {
		if got := readV(t, b, tbl, i); got != want {
			t.Fatalf("item %d = %s, want %s", i, got, want)
		}
	}
}

// A coordinator that stops after its prepares: a repeat is told the
// first still runs until the transaction's deadline, then aborts it and
// runs in its place.
func TestTokenCoordinatorDiesBeforeCommit(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl := twoRouters(t, clock)
	ctx := context.Background()
	tok := token("tok", "req")
	if out, err := a.TransactWriteOnceStopped(ctx, tok, tokenActions(t, a, tbl, [2]int{1, 10}), false, false); err != nil || !out.Prepared() {
		t.Fatalf("prepare: %v %v", out, err)
	}
	if c := writeOnce(t, b, tbl, tok, "b", [2]int{1, 10}); !errors.Is(c.err, router.ErrTokenInProgress) || c.ran {
		t.Fatalf("repeat while pending: %+v, want ErrTokenInProgress", c)
	}
	clock.add(router.TxnDeadline + time.Second)
	if c := writeOnce(t, b, tbl, tok, "b", [2]int{1, 10}); c.err != nil || !c.ran || string(c.resp) != "b" {
		t.Fatalf("repeat past the deadline: %+v, want it to run", c)
	}
	if c := writeOnce(t, a, tbl, tok, "a", [2]int{1, 10}); c.err != nil || c.ran || string(c.resp) != "b" {
		t.Fatalf("a third call: %+v, want the second's answer", c)
	}
}

// A coordinator that stops between its claim and its record: a repeat
// waits out the deadline, then runs (and the late coordinator can no
// longer start its transaction).
func TestTokenCoordinatorDiesAfterClaim(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl := twoRouters(t, clock)
	ctx := context.Background()
	tok := token("tok", "req")
	if _, err := a.TransactWriteOnceStopped(ctx, tok, tokenActions(t, a, tbl, [2]int{1, 10}), false, true); err != nil {
		t.Fatal(err)
	}
	if c := writeOnce(t, b, tbl, tok, "b", [2]int{1, 10}); !errors.Is(c.err, router.ErrTokenInProgress) {
		t.Fatalf("repeat just after the claim: %+v, want ErrTokenInProgress", c)
	}
	clock.add(router.TxnDeadline + time.Second)
	if c := writeOnce(t, b, tbl, tok, "b", [2]int{1, 10}); c.err != nil || !c.ran {
		t.Fatalf("repeat past the deadline: %+v, want it to run", c)
	}
}

// A transaction that does not commit forgets its token: the retry runs.
func TestTokenForgottenWhenCancelled(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl := twoRouters(t, clock)
	ctx := context.Background()
	if out, err := a.TransactPrepared(ctx, tokenActions(t, a, tbl, [2]int{5, 1})); err != nil || !out.Prepared() {
		t.Fatalf("prepare: %v %v", out, err)
	}
	tok := token("tok", "req")
	if c := writeOnce(t, b, tbl, tok, "b", [2]int{5, 2}); c.err == nil || !c.ran || c.outcome.Committed {
		t.Fatalf("transaction over another's intent: %+v, want cancelled", c)
	}
	clock.add(router.TxnDeadline + time.Second) // the other transaction may be recovered
	if c := writeOnce(t, b, tbl, tok, "b", [2]int{5, 2}); c.err != nil || !c.ran || string(c.resp) != "b" {
		t.Fatalf("retry: %+v, want it to run", c)
	}
	if got := readV(t, b, tbl, 5); got != "2" {
		t.Fatalf("item 5 = %s, want 2", got)
	}
}

// Calls with one token at once, through two routers: one runs; each
// other one gets its answer or is told it is in progress.
func TestTokenConcurrentCalls(t *testing.T) {
	clock := newTxnClock()
	a, b, tbl := twoRouters(t, clock)
	calls := make([]tokenCall, 8)
	var wg sync.WaitGroup
	for i := range calls {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			calls[i] = writeOnce(t, r, tbl, token("tok", "req"), "ran", [2]int{1, 10}, [2]int{2, 20})
		}()
	}
	wg.Wait()
	ran := 0
	for i, c := range calls {
		switch {
		case c.ran && c.err == nil:
			ran++
		case errors.Is(c.err, router.ErrTokenInProgress):
		case c.err == nil && string(c.resp) == "ran":
		default:
			t.Fatalf("call %d: %+v", i, c)
		}
	}
	if ran != 1 {
		t.Fatalf("%d calls ran the transaction, want 1", ran)
	}
}
