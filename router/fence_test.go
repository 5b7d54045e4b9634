package router_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
)

// attempt is one proposal a store saw: its partition and how it ended.
type attempt struct {
	partition uint64
	code      partitapb.Error_Code
	id        string
}

// answerLog records every proposal and its outcome, and forwards them.
type answerLog struct {
	route.Local
	attempts []attempt
}

func (l *answerLog) Propose(ctx context.Context, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	res, err := l.Local.Propose(ctx, partition, cmd)
	if err == nil {
		l.attempts = append(l.attempts, attempt{partition, res.GetError().GetCode(), string(cmd.GetId())})
	}
	return res, err
}

// A write routed by an old layout of the table, in which the key's hash
// range belonged to another partition, is refused by that partition and
// sent again, with the same command id, to the partition the directory
// names now: it applies once, and the caller sees only the success.
func TestWriteByOldLayoutIsRefusedAndRerouted(t *testing.T) {
	_, s := startStore(t)
	log := &answerLog{Local: route.LocalStore(s.Store)}
	r := routerOn(t, s, log, 4)
	ctx := context.Background()
	if _, err := r.CreateTable(ctx, table()); err != nil {
		t.Fatal(err)
	}
	current, err := r.Table(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	// The old layout: each hash range was owned by its neighbour's
	// partition.
	old := proto.Clone(current).(*partitapb.Table)
	parts := old.GetPartitions()
	for i, p := range parts {
		p.Id = current.GetPartitions()[(i+1)%len(parts)].GetId()
	}
	add := &partitapb.Expression{Text: "ADD n :one", Values: item.EncodeItem(item.Item{":one": item.N(item.MustNumber("1"))})}
	for i := range 8 {
		key := item.Item{"pk": item.S(fmt.Sprint("user", i)), "sk": item.S("s")}
		sk, err := r.StorageKey(old, key)
		if err != nil {
			t.Fatal(err)
		}
		log.attempts = nil
		cmd := &partitapb.Command{Op: &partitapb.Command_UpdateItem{UpdateItem: &partitapb.UpdateItem{
			Key: sk, KeyItem: item.EncodeItem(key), Update: add,
		}}}
		res, err := r.Write(ctx, old, key, cmd)
		if err != nil || res.GetError() != nil {
			t.Fatalf("write %d: %v %v", i, err, res.GetError())
		}
		if len(log.attempts) != 2 {
			t.Fatalf("write %d: attempts %+v, want a refusal then an apply", i, log.attempts)
		}
		refused, applied := log.attempts[0], log.attempts[1]
		owner := routeOf(current, key).GetId()
		if refused.code != partitapb.Error_WRONG_RANGE || refused.partition == owner {
			t.Fatalf("write %d: first attempt %+v, want WRONG_RANGE from a partition other than %d", i, refused, owner)
		}
		if applied.code != partitapb.Error_UNKNOWN || applied.partition != owner || applied.id != refused.id {
			t.Fatalf("write %d: retry %+v, want the same command applied by partition %d", i, applied, owner)
		}
		got, err := r.Get(ctx, current, key, true)
		if err != nil || got["n"].N.String() != "1" {
			t.Fatalf("write %d: read back %v %v, want n = 1", i, got, err)
		}
	}
	items, _, err := r.TableStats(ctx, current)
	if err != nil || items != 8 {
		t.Fatalf("TableStats items = %d (%v), want 8: a refused write left an item", items, err)
	}
}

// routeOf returns the partition of t owning key's partition key.
func routeOf(t *partitapb.Table, key item.Item) *partitapb.Partition {
	h := item.Hash(key["pk"])
	var owner *partitapb.Partition
	for _, p := range t.GetPartitions() {
		if p.GetHashStart() <= h {
			owner = p
		}
	}
	return owner
}
