package fsm

import (
	"errors"
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// stored is an item as read from the batch: its decoded form, and its size.
type stored struct {
	item item.Item // nil when absent
	raw  []byte
}

func applyPut(a *Applier, op *partitapb.PutItem) (*partitapb.Result, error) {
	old, err := load(a.b, op.GetKey())
	if err != nil {
		return nil, err
	}
	if res, err := checkCondition(op.GetCondition(), old); res != nil || err != nil {
		return res, err
	}
	next, err := item.DecodeItem(op.GetItem())
	if err != nil {
		return reject(partitapb.Error_VALIDATION, "malformed item: %v", err), nil
	}
	if next.Size() > item.MaxItemSize {
		return reject(partitapb.Error_ITEM_TOO_LARGE, "Item size has exceeded the maximum allowed size"), nil
	}
	return write(a, op.GetKey(), old, next, op.GetItem())
}

func applyUpdate(a *Applier, op *partitapb.UpdateItem) (*partitapb.Result, error) {
	old, err := load(a.b, op.GetKey())
	if err != nil {
		return nil, err
	}
	if res, err := checkCondition(op.GetCondition(), old); res != nil || err != nil {
		return res, err
	}
	keyItem, err := item.DecodeItem(op.GetKeyItem())
	if err != nil {
		return reject(partitapb.Error_VALIDATION, "malformed key: %v", err), nil
	}
	next := withKey(old.item, keyItem)
	if u := op.GetUpdate(); u.GetText() != "" {
		next, err = evalUpdate(u, old.item, keyItem)
		if err != nil {
			return validationResult(err)
		}
	}
	if next.Size() > item.MaxItemSize {
		return reject(partitapb.Error_ITEM_TOO_LARGE, "Item size to update has exceeded the maximum allowed size"), nil
	}
	return write(a, op.GetKey(), old, next, nil)
}

func applyDelete(a *Applier, op *partitapb.DeleteItem) (*partitapb.Result, error) {
	old, err := load(a.b, op.GetKey())
	if err != nil {
		return nil, err
	}
	if res, err := checkCondition(op.GetCondition(), old); res != nil || err != nil {
		return res, err
	}
	res := &partitapb.Result{}
	if old.item == nil {
		return res, nil
	}
	if err := a.b.Delete(op.GetKey()); err != nil {
		return nil, fmt.Errorf("fsm: delete: %w", err)
	}
	a.addStats(-1, -int64(old.item.Size()))
	res.OldItem, res.HasOld = old.raw, true
	return res, nil
}

// load reads and decodes the item under key.
func load(b *engine.Batch, key []byte) (stored, error) {
	raw, err := engine.Get(b, key)
	if errors.Is(err, engine.ErrNotFound) {
		return stored{}, nil
	}
	if err != nil {
		return stored{}, fmt.Errorf("fsm: read item: %w", err)
	}
	it, err := item.DecodeItem(raw)
	if err != nil {
		return stored{}, fmt.Errorf("fsm: stored item is corrupt: %w", err)
	}
	return stored{item: it, raw: raw}, nil
}

// write stores next (encoded as enc, or encoded here when enc is nil) under
// key, maintains the partition's statistics and returns both images.
func write(a *Applier, key []byte, old stored, next item.Item, enc []byte) (*partitapb.Result, error) {
	if enc == nil {
		enc = item.EncodeItem(next)
	}
	if err := a.b.Set(key, enc); err != nil {
		return nil, fmt.Errorf("fsm: write item: %w", err)
	}
	count, size := int64(1), int64(next.Size())
	if old.item != nil {
		count, size = 0, size-int64(old.item.Size())
	}
	a.addStats(count, size)
	return &partitapb.Result{
		OldItem: old.raw, HasOld: old.item != nil,
		NewItem: enc, HasNew: true,
	}, nil
}

// checkCondition evaluates cond (nil: none) against old. It returns a
// non-nil Result when the command must be rejected.
func checkCondition(cond *partitapb.Expression, old stored) (*partitapb.Result, error) {
	if cond.GetText() == "" {
		return nil, nil
	}
	env, err := newEnv(cond)
	if err != nil {
		return validationResult(err)
	}
	c, err := expr.ParseCondition("ConditionExpression", cond.GetText(), env)
	if err != nil {
		return validationResult(err)
	}
	ok, err := c.Eval(old.item)
	if err != nil {
		return validationResult(err)
	}
	if ok {
		return nil, nil
	}
	res := reject(partitapb.Error_CONDITION_FAILED, "The conditional request failed")
	res.OldItem, res.HasOld = old.raw, old.item != nil
	return res, nil
}

// evalUpdate applies the update expression u to old, or, when there is no
// item yet, to the new item made of its key attributes.
func evalUpdate(u *partitapb.Expression, old, key item.Item) (item.Item, error) {
	env, err := newEnv(u)
	if err != nil {
		return nil, err
	}
	upd, err := expr.ParseUpdate(u.GetText(), env)
	if err != nil {
		return nil, err
	}
	if old == nil {
		return upd.ApplyToKey(key)
	}
	return upd.Apply(old)
}

func newEnv(e *partitapb.Expression) (*expr.Env, error) {
	var values item.Item
	if len(e.GetValues()) > 0 {
		v, err := item.DecodeItem(e.GetValues())
		if err != nil {
			return nil, fmt.Errorf("malformed expression values: %w", err)
		}
		values = v
	}
	return expr.NewEnv(e.GetNames(), values), nil
}

// validationResult turns an expression error into a VALIDATION rejection.
func validationResult(err error) (*partitapb.Result, error) {
	return reject(partitapb.Error_VALIDATION, "%s", err.Error()), nil
}

// withKey returns it with the key attributes of key set (it may be nil).
func withKey(it item.Item, key item.Item) item.Item {
	out := make(item.Item, len(it)+len(key))
	for k, v := range it {
		out[k] = v
	}
	for k, v := range key {
		out[k] = v
	}
	return out
}
