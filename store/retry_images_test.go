package store_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// TestRetriedWriteAnswersTheImages: an item write retried after its first
// attempt applied (its leader crashed before answering, or the answer was
// lost) is answered from its at-most-once record, which keeps the item
// images the request returns (Command.record_old, record_new): a PutItem
// with ReturnValues ALL_OLD gets the same Attributes from its retry, and
// a refused transaction prepare the item of its cancellation reason. A
// write that asks for none records none. Both write formats: evaluated
// by the leader (Effects) and by every replica (legacy Commands;
// transaction commands are always evaluated by the leader).
func TestRetriedWriteAnswersTheImages(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { eng.Close() })
			s := startSingleWith(t, eng, func(c *store.Config) { c.LegacyWrites = legacy }, 2)
			t.Cleanup(s.Stop)
			testRetriedImages(t, s)
		})
	}
}

func testRetriedImages(t *testing.T, s *store.Store) {
	ctx := context.Background()
	key, err := engine.DataKey(nil, 1, item.S("k"), item.Value{})
	if err != nil {
		t.Fatal(err)
	}
	v := func(n string) []byte { return item.EncodeItem(item.Item{"pk": item.S("k"), "v": item.S(n)}) }
	n := 0
	var writeSized func(old, new, sizes bool, op func(*partitapb.Command)) (first, retry *partitapb.Result)
	// write proposes op as a first attempt, then retries it under its
	// id, and returns both answers.
	write := func(old, new bool, op func(*partitapb.Command)) (first, retry *partitapb.Result) {
		return writeSized(old, new, false, op)
	}
	writeSized = func(old, new, sizes bool, op func(*partitapb.Command)) (first, retry *partitapb.Result) {
		t.Helper()
		n++
		cmd := &partitapb.Command{Id: fmt.Appendf(nil, "w%d", n), FirstAttempt: true, UnixNanos: time.Now().UnixNano(),
			RecordOld: old, RecordNew: new, RecordSizes: sizes}
		op(cmd)
		if first, err = s.Propose(ctx, 2, cmd); err != nil {
			t.Fatal(err)
		}
		again := &partitapb.Command{Id: cmd.GetId(), UnixNanos: cmd.GetUnixNanos(), RecordOld: old, RecordNew: new, RecordSizes: sizes, Op: cmd.GetOp()}
		if retry, err = s.Propose(ctx, 2, again); err != nil {
			t.Fatal(err)
		}
		return first, retry
	}
	put := func(it []byte, cond string) func(*partitapb.Command) {
		return func(c *partitapb.Command) {
			c.Op = &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: key, Item: it, Condition: &partitapb.Expression{Text: cond}}}
		}
	}
	images := func(res *partitapb.Result) string {
		return fmt.Sprintf("error %v, old %v %q, new %v %q", res.GetError().GetCode(), res.GetHasOld(), res.GetOldItem(), res.GetHasNew(), res.GetNewItem())
	}
	// same checks that the retry answered as the first attempt did, in
	// the images asked for (the first attempt's answer carries both).
	same := func(what string, first, retry *partitapb.Result, old, new bool) {
		t.Helper()
		asked := &partitapb.Result{Error: first.GetError()}
		if old {
			asked.OldItem, asked.HasOld = first.GetOldItem(), first.GetHasOld()
		}
		if new {
			asked.NewItem, asked.HasNew = first.GetNewItem(), first.GetHasNew()
		}
		if images(asked) != images(retry) {
			t.Errorf("%s: the retry answered %s, the first attempt %s", what, images(retry), images(asked))
		}
	}

	// A put over no item, asking for both images: no old, the new one.
	first, retry := write(true, true, put(v("1"), ""))
	if first.GetHasOld() || !bytes.Equal(first.GetNewItem(), v("1")) {
		t.Fatalf("the first put answered %s", images(first))
	}
	same("a put of a new item", first, retry, true, true)

	// ReturnValues ALL_OLD: the item it replaced.
	first, retry = write(true, false, put(v("2"), ""))
	if !bytes.Equal(first.GetOldItem(), v("1")) {
		t.Fatalf("the second put answered %s", images(first))
	}
	same("a put returning the old item", first, retry, true, false)

	// Nothing asked: the record keeps no image.
	_, retry = write(false, false, put(v("3"), ""))
	if retry.GetHasOld() || retry.GetHasNew() || retry.GetError() != nil {
		t.Errorf("a put that returns nothing was recorded as %s", images(retry))
	}

	// A failed condition with ReturnValuesOnConditionCheckFailure ALL_OLD:
	// the refusal and the item that failed it.
	first, retry = write(true, false, put(v("4"), "attribute_not_exists(pk)"))
	if first.GetError().GetCode() != partitapb.Error_CONDITION_FAILED || !bytes.Equal(first.GetOldItem(), v("3")) {
		t.Fatalf("the conditional put answered %s", images(first))
	}
	same("a refused put returning the old item", first, retry, true, false)

	// A transaction's prepare refused by its condition, under
	// ReturnValuesOnConditionCheckFailure ALL_OLD.
	first, retry = write(true, false, func(c *partitapb.Command) {
		c.Op = &partitapb.Command_TxnPrepare{TxnPrepare: &partitapb.TxnPrepare{Key: key, TxnId: []byte("txn"),
			Anchor: &partitapb.TxnAnchor{Table: "t", Key: key}, DeadlineUnixNanos: time.Now().Add(time.Hour).UnixNano(),
			Action: &partitapb.TxnPrepare_Check{Check: &partitapb.Expression{Text: "attribute_not_exists(pk)"}}}}
	})
	if first.GetError().GetCode() != partitapb.Error_CONDITION_FAILED || !bytes.Equal(first.GetOldItem(), v("3")) {
		t.Fatalf("the refused prepare answered %s", images(first))
	}
	same("a refused prepare returning the old item", first, retry, true, false)

	// A delete returning the item it removed.
	first, retry = write(true, false, func(c *partitapb.Command) {
		c.Op = &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: key}}
	})
	if !bytes.Equal(first.GetOldItem(), v("3")) || first.GetHasNew() {
		t.Fatalf("the delete answered %s", images(first))
	}
	same("a delete returning the old item", first, retry, true, false)

	// The sizes its answer counts (ReturnConsumedCapacity,
	// ReturnItemCollectionMetrics; Command.record_sizes), without images:
	// a put of a new item, a put over it, an update, a delete.
	sizes := func(res *partitapb.Result) string {
		if res.OldSize == nil || res.NewSize == nil {
			return fmt.Sprintf("no sizes (old %v, new %v)", res.OldSize != nil, res.NewSize != nil)
		}
		return fmt.Sprintf("old %d new %d", res.GetOldSize(), res.GetNewSize())
	}
	long := item.EncodeItem(item.Item{"pk": item.S("k"), "v": item.S(string(bytes.Repeat([]byte("x"), 1500)))})
	for _, c := range []struct {
		what     string
		op       func(*partitapb.Command)
		old, new int64
	}{
		{"a put of a new item", put(v("5"), ""), 0, int64(len("pk") + 1 + len("v") + 1)},
		{"a put over it", put(long, ""), int64(len("pk") + 1 + len("v") + 1), int64(len("pk") + 1 + len("v") + 1500)},
		{"an update", func(c *partitapb.Command) {
			c.Op = &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{Key: key,
				KeyItem: item.EncodeItem(item.Item{"pk": item.S("k")}), Update: &partitapb.Expression{Text: "REMOVE v"}}}
		}, int64(len("pk") + 1 + len("v") + 1500), int64(len("pk") + 1)},
		{"a delete", func(c *partitapb.Command) {
			c.Op = &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: key}}
		}, int64(len("pk") + 1), 0},
	} {
		first, retry := writeSized(false, false, true, c.op)
		if first.GetError() != nil || sizes(first) != fmt.Sprintf("old %d new %d", c.old, c.new) {
			t.Fatalf("%s answered %v, %s; want old %d new %d", c.what, first.GetError(), sizes(first), c.old, c.new)
		}
		if sizes(retry) != sizes(first) || retry.GetHasOld() || retry.GetHasNew() {
			t.Errorf("%s: the retry answered %s (%s), the first attempt %s", c.what, sizes(retry), images(retry), sizes(first))
		}
	}
	// On a table with a local secondary index: the item collection's
	// size too (ReturnItemCollectionMetrics).
	spec := &partitapb.LocalIndexSpec{HashKey: "pk", RangeKey: "sk", Indexes: []*partitapb.LocalIndex{
		{Name: "byL", KeySchema: []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}, {AttributeName: "l", KeyType: "RANGE"}},
			ProjectionType: "KEYS_ONLY", RangeType: "N"}}}
	lsiItem := item.Item{"pk": item.S("c"), "sk": item.N(item.MustNumber("1")), "l": item.N(item.MustNumber("5"))}
	lsiKey, err := engine.DataKey(nil, 1, lsiItem["pk"], lsiItem["sk"])
	if err != nil {
		t.Fatal(err)
	}
	first, retry = writeSized(false, false, true, func(c *partitapb.Command) {
		c.LocalIndexes = spec
		c.Op = &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: lsiKey, Item: item.EncodeItem(lsiItem)}}
	})
	if first.GetError() != nil || first.GetLocalCollectionBytes() <= 0 {
		t.Fatalf("a put on a table with a local index answered %v, collection %d bytes", first.GetError(), first.GetLocalCollectionBytes())
	}
	if retry.GetLocalCollectionBytes() != first.GetLocalCollectionBytes() || sizes(retry) != sizes(first) {
		t.Errorf("a put on a table with a local index: the retry answered %s and a collection of %d bytes, the first attempt %s and %d",
			sizes(retry), retry.GetLocalCollectionBytes(), sizes(first), first.GetLocalCollectionBytes())
	}

	// Not asked: the record keeps no sizes.
	_, retry = write(false, false, put(v("6"), ""))
	if retry.OldSize != nil || retry.NewSize != nil {
		t.Errorf("a put that counts nothing was recorded with %s", sizes(retry))
	}
}
