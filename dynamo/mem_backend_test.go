package dynamo_test

import (
	"context"
	"encoding/binary"
	"sort"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/expr"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// memBackend is a small in-memory Backend for the wire layer's tests. It
// applies item commands the way the storage layer does: parse the
// command's expressions with expr and evaluate them against the stored item.
type memBackend struct {
	mu     sync.Mutex
	nextID uint64
	tables map[string]*partitapb.Table
	items  map[string]item.Item // storage key -> item
	writes int                  // commands applied, for tests
}

var _ dynamo.Backend = (*memBackend)(nil)

func newMemBackend() *memBackend {
	return &memBackend{tables: map[string]*partitapb.Table{}, items: map[string]item.Item{}}
}

func (m *memBackend) CreateTable(_ context.Context, t *partitapb.Table) (*partitapb.Table, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tables[t.GetName()]; ok {
		return nil, partitapb.Errorf(partitapb.Error_TABLE_IN_USE, "Table already exists: %s", t.GetName())
	}
	m.nextID++
	created := proto.Clone(t).(*partitapb.Table)
	created.Id = m.nextID
	created.Status = "CREATING"
	active := proto.Clone(created).(*partitapb.Table)
	active.Status = "ACTIVE"
	m.tables[t.GetName()] = active
	return created, nil
}

func (m *memBackend) DeleteTable(_ context.Context, name string) (*partitapb.Table, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tables[name]
	if !ok {
		return nil, partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND, "Requested resource not found")
	}
	delete(m.tables, name)
	prefix := string(tablePrefix(t.GetId()))
	for k := range m.items {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(m.items, k)
		}
	}
	out := proto.Clone(t).(*partitapb.Table)
	out.Status = "DELETING"
	return out, nil
}

func (m *memBackend) UpdateTable(_ context.Context, name string, edit func(*partitapb.Table) (*partitapb.Table, error)) (*partitapb.Table, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.tables[name]
	if !ok {
		return nil, partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND, "Requested resource not found")
	}
	next, err := edit(proto.Clone(cur).(*partitapb.Table))
	if err != nil {
		return nil, err
	}
	m.tables[name] = next
	return proto.Clone(next).(*partitapb.Table), nil
}

// CreateIndex keeps no entries: the wire tests' indexes stay empty.
func (m *memBackend) CreateIndex(context.Context, *partitapb.Table, *partitapb.GlobalIndex) error {
	return nil
}

// DeleteIndex has nothing to drop.
func (m *memBackend) DeleteIndex(context.Context, *partitapb.GlobalIndex) error { return nil }

func (m *memBackend) Table(_ context.Context, name string) (*partitapb.Table, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tables[name]
	if !ok {
		return nil, partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND, "Requested resource not found")
	}
	return proto.Clone(t).(*partitapb.Table), nil
}

func (m *memBackend) SharedTable(ctx context.Context, name string) (*partitapb.Table, error) {
	return m.Table(ctx, name)
}

func (m *memBackend) Tables(context.Context) ([]*partitapb.Table, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*partitapb.Table
	for _, t := range m.tables {
		out = append(out, proto.Clone(t).(*partitapb.Table))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out, nil
}

// LocalIndexStats: the in-memory backend keeps no local index entries.
func (m *memBackend) LocalIndexStats(_ context.Context, t *partitapb.Table) ([][2]int64, error) {
	return make([][2]int64, len(t.GetLocalIndexes())), nil
}

func (m *memBackend) TableStats(_ context.Context, t *partitapb.Table) (int64, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix := string(tablePrefix(t.GetId()))
	var n, size int64
	for k, it := range m.items {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			n++
			size += int64(it.Size())
		}
	}
	return n, size, nil
}

func tablePrefix(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func (m *memBackend) StorageKey(t *partitapb.Table, key item.Item) ([]byte, error) {
	b := tablePrefix(t.GetId())
	for _, k := range t.GetKeySchema() {
		var err error
		if b, err = item.AppendKey(b, key[k.GetAttributeName()]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (m *memBackend) Get(_ context.Context, t *partitapb.Table, key item.Item, _ bool) (item.Item, error) {
	sk, err := m.StorageKey(t, key)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[string(sk)]
	if !ok {
		return nil, nil
	}
	return it.Clone(), nil
}

func (m *memBackend) Write(_ context.Context, t *partitapb.Table, _ item.Item, cmd *partitapb.Command) (*partitapb.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tables[t.GetName()]; !ok {
		return nil, partitapb.Errorf(partitapb.Error_TABLE_NOT_FOUND, "Requested resource not found")
	}
	m.writes++
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_PutItem:
		return m.apply(op.PutItem.GetKey(), op.PutItem.GetCondition(), func(item.Item) (item.Item, error) {
			return item.DecodeItem(op.PutItem.GetItem())
		})
	case *partitapb.Command_DeleteItem:
		return m.apply(op.DeleteItem.GetKey(), op.DeleteItem.GetCondition(), func(item.Item) (item.Item, error) {
			return nil, nil
		})
	case *partitapb.Command_UpdateItem:
		return m.apply(op.UpdateItem.GetKey(), op.UpdateItem.GetCondition(), func(old item.Item) (item.Item, error) {
			return applyUpdate(old, op.UpdateItem)
		})
	}
	return nil, partitapb.Errorf(partitapb.Error_VALIDATION, "unsupported command")
}

// apply checks cond against the stored item, then stores next(old).
func (m *memBackend) apply(key []byte, cond *partitapb.Expression, next func(item.Item) (item.Item, error)) (*partitapb.Result, error) {
	old, hasOld := m.items[string(key)]
	res := &partitapb.Result{HasOld: hasOld}
	if hasOld {
		res.OldItem = item.EncodeItem(old)
	}
	if cond != nil {
		ok, err := evalCondition(cond, old)
		if err != nil {
			res.Error = domainError(err)
			return res, nil
		}
		if !ok {
			res.Error = partitapb.Errorf(partitapb.Error_CONDITION_FAILED, "The conditional request failed")
			return res, nil
		}
	}
	n, err := next(old)
	if err != nil {
		res.Error = domainError(err)
		return res, nil
	}
	if n != nil && n.Size() > item.MaxItemSize {
		res.Error = partitapb.Errorf(partitapb.Error_ITEM_TOO_LARGE, "Item size to update has exceeded the maximum allowed size")
		return res, nil
	}
	if n == nil {
		delete(m.items, string(key))
		return res, nil
	}
	m.items[string(key)] = n
	res.HasNew, res.NewItem = true, item.EncodeItem(n)
	return res, nil
}

// env rebuilds the expression environment of a command expression.
func env(e *partitapb.Expression) (*expr.Env, error) {
	var values item.Item
	if len(e.GetValues()) > 0 {
		var err error
		if values, err = item.DecodeItem(e.GetValues()); err != nil {
			return nil, err
		}
	}
	return expr.NewEnv(e.GetNames(), values).WithoutLimits(), nil
}

func evalCondition(e *partitapb.Expression, old item.Item) (bool, error) {
	en, err := env(e)
	if err != nil {
		return false, err
	}
	c, err := expr.ParseCondition("ConditionExpression", e.GetText(), en)
	if err != nil {
		return false, err
	}
	return c.Eval(old)
}

func applyUpdate(old item.Item, u *partitapb.UpdateItem) (item.Item, error) {
	key, err := item.DecodeItem(u.GetKeyItem())
	if err != nil {
		return nil, err
	}
	out := old
	if u.GetUpdate() != nil {
		en, err := env(u.GetUpdate())
		if err != nil {
			return nil, err
		}
		up, err := expr.ParseUpdate(u.GetUpdate().GetText(), en)
		if err != nil {
			return nil, err
		}
		if out, err = up.Apply(old); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = item.Item{}
	} else {
		out = out.Clone()
	}
	for k, v := range key {
		out[k] = v
	}
	return out, nil
}

// domainError converts an evaluation error to an apply-time rejection.
func domainError(err error) *partitapb.Error {
	return &partitapb.Error{Code: partitapb.Error_VALIDATION, Message: err.Error()}
}
