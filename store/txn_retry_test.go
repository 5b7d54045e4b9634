package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestRetriedPrepareAnswersTheItem: a transaction prepare retried after
// its first attempt applied (the leader crashed before answering, say)
// is answered with the item as the prepare found it, while its intent
// stands: a read transaction needs every value. The at-most-once record
// keeps no item, and answered with none ("account 5 is missing" in the
// harness's bank after every node crashed). Once the intent is resolved
// the record stands, and the retry writes no second intent.
func TestRetriedPrepareAnswersTheItem(t *testing.T) {
	eng, s := openSingle(t, 2)
	ctx := context.Background()
	pk := item.S("account-5")
	key, err := engine.DataKey(nil, 1, pk, item.Value{})
	if err != nil {
		t.Fatal(err)
	}
	account := item.EncodeItem(item.Item{"pk": pk, "balance": item.N(item.MustNumber("100"))})
	propose := func(cmd *partitapb.Command) *partitapb.Result {
		t.Helper()
		res, err := s.Propose(ctx, 2, cmd)
		if err != nil {
			t.Fatal(err)
		}
		if res.GetError() != nil {
			t.Fatalf("%s: %v", cmd.GetId(), res.GetError())
		}
		return res
	}
	propose(&partitapb.Command{Id: []byte("put"), FirstAttempt: true, Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: key, Item: account}}})

	txn := []byte("txn-1")
	prepare := &partitapb.Command{Id: []byte("prepare"), FirstAttempt: true, UnixNanos: time.Now().UnixNano(),
		Op: &partitapb.Command_TxnPrepare{TxnPrepare: &partitapb.TxnPrepare{Key: key, TxnId: txn,
			Anchor: &partitapb.TxnAnchor{Table: "bank", Key: key}, DeadlineUnixNanos: time.Now().Add(time.Hour).UnixNano(),
			Action: &partitapb.TxnPrepare_Check{Check: &partitapb.Expression{}}}}}
	first := propose(prepare)
	if !first.GetHasOld() || !bytes.Equal(first.GetOldItem(), account) {
		t.Fatalf("the prepare found %v (has old %v), want the account", first.GetOldItem(), first.GetHasOld())
	}
	retry := func() *partitapb.Result {
		t.Helper()
		again := &partitapb.Command{Id: prepare.GetId(), UnixNanos: prepare.GetUnixNanos(), Op: prepare.GetOp()}
		return propose(again)
	}
	if res := retry(); !res.GetHasOld() || !bytes.Equal(res.GetOldItem(), account) {
		t.Fatalf("the retried prepare answered %v (has old %v), want the account as the prepare found it", res.GetOldItem(), res.GetHasOld())
	}

	if raw, err := eng.Get(key); err != nil || !bytes.Equal(raw, account) {
		t.Fatalf("after the retry the account is %v (%v), want it unchanged", raw, err)
	}

	propose(&partitapb.Command{Id: []byte("resolve"), FirstAttempt: true,
		Op: &partitapb.Command_TxnResolve{TxnResolve: &partitapb.TxnResolve{Key: key, TxnId: txn}}})
	retry()
	if in, err := fsm.ReadTxnIntent(eng.Reader(), 2, key); err != nil || in != nil {
		t.Fatalf("after the intent resolved, a retried prepare left intent %v (%v)", in, err)
	}
}
