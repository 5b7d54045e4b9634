package fsm

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

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

// change is what evaluating an item command decided: the write (value
// under key, or its deletion; neither for a rejection) and the change of
// the partition's statistics.
type change struct {
	key          []byte
	value        []byte
	del          bool
	items, bytes int64
	// oldItem and newItem are the item before and after the write (nil:
	// none), from which its local secondary index entries are decided;
	// localDel and localPut are those entries' writes (local_index.go).
	oldItem, newItem item.Item
	localDel         [][]byte
	localPut         []localEntry
	// localStats change the indexes' statistics; collKey is the size
	// record of the item's collection, which collDelta changes.
	localStats []*partitapb.LocalStats
	collKey    []byte
	collDelta  int64
	// blind: the write was evaluated without reading the item it
	// replaces (a blind put), counted as an insert.
	blind bool
}

// applyItemWrite evaluates the item write cmd against the batch and
// makes its writes there, its local secondary index entries with them.
func applyItemWrite(a *Applier, cmd *partitapb.Command) (*partitapb.Result, error) {
	c, res, err := evalItemWrite(engineItems{a.b}, cmd, true, false, collectionLimit{bytes: cmd.GetLocalCollectionLimit()})
	if err != nil || res.GetError() != nil {
		return res, err
	}
	return res, a.write(c)
}

// evalItemWrite evaluates the item write cmd (put, update or delete)
// against the items of r, with the entries of its table's local
// secondary indexes, its item collection checked against lim. blind lets
// a put that may be written blind (Blind) skip reading the item it
// replaces.
func evalItemWrite(r itemReader, cmd *partitapb.Command, legacy, blind bool, lim collectionLimit) (change, *partitapb.Result, error) {
	var (
		c   change
		res *partitapb.Result
		err error
	)
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_PutItem:
		c, res, err = evalPut(r, op.PutItem, blind && Blind(cmd))
	case *partitapb.Command_UpdateItem:
		c, res, err = evalUpdateItem(r, op.UpdateItem, legacy)
	case *partitapb.Command_DeleteItem:
		c, res, err = evalDelete(r, op.DeleteItem)
	default:
		return change{}, reject(partitapb.Error_VALIDATION, "only item writes are evaluated by the proposer"), nil
	}
	if err != nil || res.GetError() != nil {
		return change{}, res, err
	}
	if rej, err := localEntries(r, cmd.GetLocalIndexes(), lim, &c, res); rej != nil || err != nil {
		return change{}, rej, err
	}
	return c, res, nil
}

// write makes c's write in the batch and adds its statistics.
func (a *Applier) write(c change) error {
	switch {
	case c.del:
		if err := a.b.Delete(c.key); err != nil {
			return fmt.Errorf("fsm: delete: %w", err)
		}
	case c.value != nil:
		if err := a.b.Set(c.key, c.value); err != nil {
			return fmt.Errorf("fsm: write item: %w", err)
		}
	}
	if err := a.writeLocal(c); err != nil {
		return err
	}
	if c.items != 0 || c.bytes != 0 {
		a.addStats(c.items, c.bytes)
	}
	if c.blind {
		a.stats.Blind++
		a.statsDirty = true
	}
	return nil
}

func evalPut(r itemReader, op *partitapb.PutItem, blind bool) (change, *partitapb.Result, error) {
	var old stored
	if !blind {
		var err error
		if old, err = load(r, op.GetKey()); err != nil {
			return change{}, nil, err
		}
	}
	if res, err := checkCondition(op.GetCondition(), old); res != nil || err != nil {
		return change{}, res, err
	}
	next, err := item.DecodeItem(op.GetItem())
	if err != nil {
		return change{}, reject(partitapb.Error_VALIDATION, "malformed item: %v", err), nil
	}
	if next.Size() > item.MaxItemSize {
		return change{}, reject(partitapb.Error_ITEM_TOO_LARGE, "Item size has exceeded the maximum allowed size"), nil
	}
	c, res := written(op.GetKey(), old, next, op.GetItem())
	c.blind = blind
	return c, res, nil
}

// Blind says cmd is a put that may be written without reading the item it
// replaces, as far as the command itself tells: its router set
// Command.blind (its answer needs nothing of the old item), and nothing
// the command carries needs it either (a condition, images or sizes for
// its record, local index entries, a change record). The leader adds
// what only it knows (EvalHints.Blind).
func Blind(cmd *partitapb.Command) bool {
	put := cmd.GetPutItem()
	return cmd.GetBlind() && put != nil && put.GetCondition().GetText() == "" &&
		!cmd.GetRecordOld() && !cmd.GetRecordSizes() && len(cmd.GetLocalIndexes().GetIndexes()) == 0 &&
		cmd.GetChangeView() == partitapb.ChangeView_CHANGE_VIEW_NONE
}

// evalUpdateItem evaluates op against r. legacy is the evaluation of a
// Command by every replica (before clusterversion.Effects), which keeps
// the older binaries' rule: an update that only removes attributes of a
// missing item creates it with its key.
func evalUpdateItem(r itemReader, op *partitapb.UpdateItem, legacy bool) (change, *partitapb.Result, error) {
	old, err := load(r, op.GetKey())
	if err != nil {
		return change{}, nil, err
	}
	if res, err := checkCondition(op.GetCondition(), old); res != nil || err != nil {
		return change{}, res, err
	}
	keyItem, err := item.DecodeItem(op.GetKeyItem())
	if err != nil {
		return change{}, reject(partitapb.Error_VALIDATION, "malformed key: %v", err), nil
	}
	next := withKey(old.item, keyItem)
	if u := op.GetUpdate(); u.GetText() != "" {
		next, err = evalUpdate(u, old.item, keyItem)
		if err != nil {
			res, _ := validationResult(err)
			return change{}, res, nil
		}
	}
	if next.Size() > item.MaxItemSize {
		return change{}, reject(partitapb.Error_ITEM_TOO_LARGE, "Item size to update has exceeded the maximum allowed size"), nil
	}
	if !legacy && old.item == nil && op.GetUpdate().GetText() != "" && len(next) == len(keyItem) {
		// An update that only removes attributes, or deletes from sets, of
		// an item that does not exist leaves it absent, as DynamoDB does:
		// nothing is written and there are no new attributes to return.
		return change{}, sized(&partitapb.Result{}, 0, 0), nil
	}
	c, res := written(op.GetKey(), old, next, nil)
	return c, res, nil
}

func evalDelete(r itemReader, op *partitapb.DeleteItem) (change, *partitapb.Result, error) {
	old, err := load(r, op.GetKey())
	if err != nil {
		return change{}, nil, err
	}
	if res, err := checkCondition(op.GetCondition(), old); res != nil || err != nil {
		return change{}, res, err
	}
	res := &partitapb.Result{}
	if old.item == nil {
		return change{}, sized(res, 0, 0), nil
	}
	res.OldItem, res.HasOld = old.raw, true
	size := int64(old.item.Size())
	return change{key: op.GetKey(), del: true, items: -1, bytes: -size, oldItem: old.item}, sized(res, size, 0), nil
}

// sized sets the item sizes of res, an item write's Result, and returns
// it.
func sized(res *partitapb.Result, oldSize, newSize int64) *partitapb.Result {
	res.OldSize, res.NewSize = proto.Int64(oldSize), proto.Int64(newSize)
	return res
}

// itemReader reads items: engineItems from the engine, priorItems over
// a write not yet applied.
type itemReader interface {
	// getItem returns the encoded item under key, or engine.ErrNotFound.
	getItem(key []byte) ([]byte, error)
}

type engineItems struct{ r engine.Reader }

func (e engineItems) getItem(key []byte) ([]byte, error) { return engine.Probe(e.r, key) }

// Prior is a write of one item proposed but not yet applied: an item
// evaluated after it sees Value (or no item when Delete) under Key.
type Prior struct {
	Key    []byte
	Value  []byte
	Delete bool
}

type priorItems struct {
	engineItems
	p *Prior
}

func (v priorItems) getItem(key []byte) ([]byte, error) {
	if !bytes.Equal(key, v.p.Key) {
		return v.engineItems.getItem(key)
	}
	if v.p.Delete {
		return nil, engine.ErrNotFound
	}
	return v.p.Value, nil
}

// load reads and decodes the item under key.
func load(r itemReader, key []byte) (stored, error) {
	raw, err := r.getItem(key)
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

// written is the write of next (encoded as enc, or encoded here when enc
// is nil) under key over old, with both images as the result.
func written(key []byte, old stored, next item.Item, enc []byte) (change, *partitapb.Result) {
	if enc == nil {
		enc = item.EncodeItem(next)
	}
	count, newSize, oldSize := int64(1), int64(next.Size()), int64(0)
	if old.item != nil {
		count, oldSize = 0, int64(old.item.Size())
	}
	return change{key: key, value: enc, items: count, bytes: newSize - oldSize, oldItem: old.item, newItem: next}, sized(&partitapb.Result{
		OldItem: old.raw, HasOld: old.item != nil,
		NewItem: enc, HasNew: true,
	}, oldSize, newSize)
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
	// DynamoDB's expression limits were the edge's to check: they do not
	// bind a legacy parameter's translation, which must apply as well.
	return expr.NewEnv(e.GetNames(), values).WithoutLimits(), nil
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
