package harness

import (
	"context"
	"errors"
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// The key/value helpers store key k of partition p as the item
// {pk: S(k), v: S(value)} of table p: Cluster.Bootstrap gives partition p
// the whole key span of table p.

// ItemKey returns the storage key of key in partition.
func ItemKey(partition uint64, key string) []byte {
	k, err := engine.DataKey(nil, partition, item.S(key), item.Value{})
	if err != nil {
		panic(err) // a string key always encodes
	}
	return k
}

// PutCommand returns a command writing value under key, with a new id. With
// cond, the write only applies if the item's v equals expect ("" for an
// absent item), a ConditionExpression evaluated at apply time.
func (cl *Client) PutCommand(partition uint64, key, value string, cond bool, expect string) *partitapb.Command {
	put := &partitapb.PutItem{
		Key:  ItemKey(partition, key),
		Item: item.EncodeItem(item.Item{"pk": item.S(key), "v": item.S(value)}),
	}
	if cond {
		put.Condition = &partitapb.Expression{Text: "attribute_not_exists(pk)"}
		if expect != "" {
			put.Condition = &partitapb.Expression{
				Text:   "v = :e",
				Values: item.EncodeItem(item.Item{":e": item.S(expect)}),
			}
		}
	}
	return &partitapb.Command{Id: cl.NewCommandID(), FirstAttempt: true, Op: &partitapb.Command_PutItem{PutItem: put}}
}

// Put writes value under key in partition.
func (cl *Client) Put(ctx context.Context, partition uint64, key, value string) error {
	res, err := cl.Propose(ctx, partition, cl.PutCommand(partition, key, value, false, ""))
	if err != nil {
		return err
	}
	if e := res.GetError(); e != nil {
		return fmt.Errorf("harness: put rejected: %s", e.GetMessage())
	}
	return nil
}

// CompareAndSet writes value under key if its current value is expect (""
// for an absent item) and reports whether it did.
func (cl *Client) CompareAndSet(ctx context.Context, partition uint64, key, expect, value string) (bool, error) {
	res, err := cl.Propose(ctx, partition, cl.PutCommand(partition, key, value, true, expect))
	if err != nil {
		return false, err
	}
	switch e := res.GetError(); {
	case e == nil:
		return true, nil
	case e.GetCode() == partitapb.Error_CONDITION_FAILED:
		return false, nil
	default:
		return false, fmt.Errorf("harness: conditional put rejected: %s", e.GetMessage())
	}
}

// Get reads key's value linearizably ("" when absent).
func (cl *Client) Get(ctx context.Context, partition uint64, key string) (string, error) {
	var v string
	err := cl.Read(ctx, partition, func(eng *engine.Engine) error {
		var err error
		v, err = ValueOf(eng, partition, key)
		return err
	})
	return v, err
}

// ValueOf reads the value of key in partition from one engine ("" when
// absent).
func ValueOf(eng *engine.Engine, partition uint64, key string) (string, error) {
	raw, err := eng.Get(ItemKey(partition, key))
	if errors.Is(err, engine.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		return "", fmt.Errorf("harness: decode item %q: %w", key, err)
	}
	return it["v"].S, nil
}
