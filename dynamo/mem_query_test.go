package dynamo_test

import (
	"bytes"
	"context"
	"math/bits"
	"sort"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
)

// memEntry is one stored item with its storage key.
type memEntry struct {
	key []byte
	it  item.Item
}

// sortedItems returns copies of t's items in storage key order (partition
// key, then sort key: the fake does not hash).
func (m *memBackend) sortedItems(t *partitapb.Table) []memEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix := string(tablePrefix(t.GetId()))
	var out []memEntry
	for k, it := range m.items {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			out = append(out, memEntry{[]byte(k), it.Clone()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].key, out[j].key) < 0 })
	return out
}

// keyNames returns t's hash and range key names ("" for none).
func keyNames(t *partitapb.Table) (hash, rng string) {
	for _, k := range t.GetKeySchema() {
		if k.GetKeyType() == "HASH" {
			hash = k.GetAttributeName()
		} else {
			rng = k.GetAttributeName()
		}
	}
	return hash, rng
}

func (m *memBackend) Query(_ context.Context, t *partitapb.Table, spec router.QuerySpec, visit router.Visit) error {
	hash, rng := keyNames(t)
	var after []byte
	if spec.StartAfter != nil {
		var err error
		if after, err = m.StorageKey(t, spec.StartAfter); err != nil {
			return err
		}
	}
	var match []memEntry
	for _, e := range m.sortedItems(t) {
		if item.Equal(e.it[hash], spec.PK) && sortMatches(spec, e.it[rng]) {
			match = append(match, e)
		}
	}
	if !spec.Forward {
		for i, j := 0, len(match)-1; i < j; i, j = i+1, j-1 {
			match[i], match[j] = match[j], match[i]
		}
	}
	for _, e := range match {
		c := bytes.Compare(e.key, after)
		if after != nil && ((spec.Forward && c <= 0) || (!spec.Forward && c >= 0)) {
			continue
		}
		if !visit(e.it, e.it.Size()) {
			return nil
		}
	}
	return nil
}

// sortMatches evaluates a sort key condition on v.
func sortMatches(spec router.QuerySpec, v item.Value) bool {
	cmp := func(i int) int { c, _ := item.Compare(v, spec.Values[i]); return c }
	switch spec.Op {
	case router.SortEQ:
		return cmp(0) == 0
	case router.SortLT:
		return cmp(0) < 0
	case router.SortLE:
		return cmp(0) <= 0
	case router.SortGT:
		return cmp(0) > 0
	case router.SortGE:
		return cmp(0) >= 0
	case router.SortBetween:
		return cmp(0) >= 0 && cmp(1) <= 0
	case router.SortBeginsWith:
		p := spec.Values[0]
		return (v.Type == item.TypeS && len(v.S) >= len(p.S) && v.S[:len(p.S)] == p.S) ||
			(v.Type == item.TypeB && bytes.HasPrefix(v.B, p.B))
	}
	return true
}

func (m *memBackend) Scan(_ context.Context, t *partitapb.Table, spec router.ScanSpec, visit router.Visit) error {
	hash, _ := keyNames(t)
	var after []byte
	if spec.StartAfter != nil {
		var err error
		if after, err = m.StorageKey(t, spec.StartAfter); err != nil {
			return err
		}
	}
	for _, e := range m.sortedItems(t) {
		if !memInSegment(item.Hash(e.it[hash]), spec.Segment, spec.TotalSegments) {
			continue
		}
		if after != nil && bytes.Compare(e.key, after) <= 0 {
			continue
		}
		if !visit(e.it, e.it.Size()) {
			return nil
		}
	}
	return nil
}

// memInSegment reports whether hash h is in a scan segment.
func memInSegment(h uint64, seg, total int) bool {
	if total <= 1 {
		return true
	}
	lo, _ := bits.Div64(uint64(seg), 0, uint64(total))
	hi, _ := bits.Div64(uint64(seg+1), 0, uint64(total))
	return h >= lo && (seg+1 == total || h < hi)
}
