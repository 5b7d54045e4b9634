package fsm_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// TestCollectionLimitCountsPreparedIntents: a transaction's prepared put
// counts against its item collection's limit until it resolves. A put,
// and another transaction's prepare, that fit beside the applied items
// but not beside the prepared one too are refused; the prepare's Effects
// name its growth for the leader to count in flight; once the first
// transaction aborts, the put fits.
func TestCollectionLimitCountsPreparedIntents(t *testing.T) {
	eng := openEngine(t)
	pad := strings.Repeat("x", 600)
	// Each item weighs about 620 bytes, its byL entry about 110.
	row := func(sk int) ([]byte, []byte) {
		k, err := engine.DataKey(nil, 1, item.S("a"), item.N(item.MustNumber(strconv.Itoa(sk))))
		if err != nil {
			t.Fatal(err)
		}
		return k, item.EncodeItem(item.Item{"pk": item.S("a"), "sk": item.N(item.MustNumber(strconv.Itoa(sk))),
			"l": item.N(item.MustNumber("1")), "x": item.S(pad)})
	}
	const limit = 2000 // two items fit, not three
	lai := uint64(0)
	evaluate := func(cmd *partitapb.Command) (*partitapb.Effects, *partitapb.Result) {
		t.Helper()
		cmd.LocalIndexes, cmd.LocalCollectionLimit = lsiSpec, limit
		eff, res, err := fsm.Evaluate(eng.Reader(), rangeOf(part), cmd, nil, fsm.EvalHints{})
		if err != nil {
			t.Fatal(err)
		}
		if eff != nil && eff.GetError() == nil {
			lai++
			eff.Term, eff.LeaseIndex = 1, lai
			if codes := applyEffects(t, eng, eff); codes[0] != partitapb.Error_UNKNOWN {
				t.Fatalf("apply: %v", codes)
			}
		}
		return eff, res
	}
	put := func(id string, sk int) *partitapb.Result {
		k, v := row(sk)
		_, res := evaluate(&partitapb.Command{Id: []byte(id), Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: k, Item: v}}})
		return res
	}
	prepare := func(txn string, sk int) (*partitapb.Effects, *partitapb.Result) {
		k, v := row(sk)
		return evaluate(&partitapb.Command{Id: []byte("p" + txn), Op: &partitapb.Command_TxnPrepare{TxnPrepare: &partitapb.TxnPrepare{
			Key: k, TxnId: []byte(txn), Anchor: &partitapb.TxnAnchor{Table: "t", Key: k}, DeadlineUnixNanos: 1 << 62,
			Action: &partitapb.TxnPrepare_Put{Put: &partitapb.PutItem{Key: k, Item: v}}}}})
	}
	tooLarge := partitapb.Error_ITEM_COLLECTION_TOO_LARGE

	if res := put("w1", 1); res.GetError() != nil {
		t.Fatalf("the first put: %v", res.GetError())
	}
	eff, res := prepare("T1", 2)
	if res.GetError() != nil {
		t.Fatalf("the prepare beside one item: %v", res.GetError())
	}
	if eff.GetReservedCollectionDelta() <= 0 || len(eff.GetReservedCollectionKey()) == 0 {
		t.Fatalf("the prepare's Effects name no growth: %d", eff.GetReservedCollectionDelta())
	}
	if res := put("w3", 3); res.GetError().GetCode() != tooLarge {
		t.Fatalf("a put past the limit with the prepared item: %v, want ITEM_COLLECTION_TOO_LARGE", res.GetError())
	}
	if _, res := prepare("T2", 4); res.GetError().GetCode() != tooLarge {
		t.Fatalf("a prepare past the limit with the prepared item: %v, want ITEM_COLLECTION_TOO_LARGE", res.GetError())
	}
	// T1 aborts: its intent goes, and the put fits.
	k, _ := row(2)
	if _, res := evaluate(&partitapb.Command{Id: []byte("rT1"), Op: &partitapb.Command_TxnResolve{TxnResolve: &partitapb.TxnResolve{
		Key: k, TxnId: []byte("T1"), Commit: false}}}); res.GetError() != nil {
		t.Fatalf("abort: %v", res.GetError())
	}
	if res := put("w3b", 3); res.GetError() != nil {
		t.Fatalf("the put once the transaction aborted: %v", res.GetError())
	}
}
