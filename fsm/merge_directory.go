package fsm

import (
	"bytes"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The directory is a merge's arbiter: its intent, kept on the right
// partition's record, is either committed (the left record widens, the
// right one goes) or aborted (the intent goes), by compare-and-set, never
// both. The partitions only follow what it decided: a frozen right half
// is unfrozen after an abort only, the left half widens after a commit
// only.

// applyBeginMerge records op's merge intent on the right partition.
func applyBeginMerge(b *engine.Batch, now int64, op *partitapb.BeginMerge) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetTable())
	if err != nil || t == nil {
		return notFound(op.GetTable(), err)
	}
	m := op.GetMerge()
	i, res := mergePair(t, m)
	if res != nil {
		return res, nil
	}
	parts := t.GetPartitions()
	for _, p := range parts[i : i+2] {
		if p.GetMerge() != nil {
			if bytes.Equal(p.GetMerge().GetId(), m.GetId()) {
				return &partitapb.Result{Table: t}, nil // begun already
			}
			return reject(partitapb.Error_VALIDATION, "partition %d has a merge in flight", p.GetId()), nil
		}
	}
	if len(m.GetId()) == 0 {
		return reject(partitapb.Error_VALIDATION, "a merge needs an id"), nil
	}
	r := parts[i+1]
	intent := cloneIntent(m)
	intent.StartedUnixNanos = now
	r.Merge = intent
	r.Generation++
	if err := writeTable(b, t); err != nil {
		return nil, err
	}
	return &partitapb.Result{Table: t}, nil
}

// mergePair finds m's left partition at index i of t's partitions, with
// its right partition after it, both as m read them.
func mergePair(t *partitapb.Table, m *partitapb.MergeIntent) (int, *partitapb.Result) {
	parts := t.GetPartitions()
	i := slices.IndexFunc(parts, func(p *partitapb.Partition) bool { return p.GetId() == m.GetLeft() })
	if i < 0 || i+1 >= len(parts) || parts[i+1].GetId() != m.GetRight() {
		return 0, reject(partitapb.Error_VALIDATION, "partitions %d and %d of table %s are not adjacent",
			m.GetLeft(), m.GetRight(), t.GetName())
	}
	l, r := parts[i], parts[i+1]
	switch {
	case l.GetHashEnd() != r.GetHashStart() || l.GetHashEnd() == 0:
		return 0, reject(partitapb.Error_VALIDATION, "partition %d does not start where partition %d ends", r.GetId(), l.GetId())
	case l.GetRangeGeneration() != m.GetLeftGeneration() || r.GetRangeGeneration() != m.GetRightGeneration():
		return 0, reject(partitapb.Error_VALIDATION, "partitions %d and %d are at range generations %d and %d, not %d and %d",
			l.GetId(), r.GetId(), l.GetRangeGeneration(), r.GetRangeGeneration(), m.GetLeftGeneration(), m.GetRightGeneration())
	case !sameNodes(l.GetReplicas(), r.GetReplicas()):
		return 0, reject(partitapb.Error_VALIDATION, "partitions %d and %d are not on the same nodes (%v and %v)",
			l.GetId(), r.GetId(), l.GetReplicas(), r.GetReplicas())
	}
	return i, nil
}

// applyCommitMerge commits a pending merge: the left record takes the
// right's range at the merged generation, and the right record goes.
func applyCommitMerge(b *engine.Batch, op *partitapb.CommitMerge) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetTable())
	if err != nil || t == nil {
		return notFound(op.GetTable(), err)
	}
	if committedMerge(t, op.GetMergeId()) {
		return &partitapb.Result{Table: t}, nil
	}
	parts := t.GetPartitions()
	j := slices.IndexFunc(parts, func(p *partitapb.Partition) bool { return bytes.Equal(p.GetMerge().GetId(), op.GetMergeId()) })
	if j < 0 {
		return reject(partitapb.Error_VALIDATION, "merge %x of table %s was aborted", op.GetMergeId(), op.GetTable()), nil
	}
	m := parts[j].GetMerge()
	i, res := mergePair(t, m)
	if res != nil {
		return res, nil
	}
	l, r := parts[i], parts[i+1]
	l.HashEnd, l.RangeGeneration, l.Merged = r.GetHashEnd(), MergedGeneration(m), m
	l.Generation++
	t.Partitions = slices.Delete(parts, i+1, i+2)
	if err := writeTable(b, t); err != nil {
		return nil, err
	}
	return &partitapb.Result{Table: t}, nil
}

// applyAbortMerge drops a pending merge intent.
func applyAbortMerge(b *engine.Batch, op *partitapb.AbortMerge) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetTable())
	if err != nil || t == nil {
		return notFound(op.GetTable(), err)
	}
	if committedMerge(t, op.GetMergeId()) {
		return reject(partitapb.Error_VALIDATION, "merge %x of table %s is committed", op.GetMergeId(), op.GetTable()), nil
	}
	for _, p := range t.GetPartitions() {
		if bytes.Equal(p.GetMerge().GetId(), op.GetMergeId()) {
			p.Merge = nil
			p.Generation++
			if err := writeTable(b, t); err != nil {
				return nil, err
			}
		}
	}
	return &partitapb.Result{Table: t}, nil
}

// committedMerge says t records merge id as committed.
func committedMerge(t *partitapb.Table, id []byte) bool {
	return len(id) > 0 && slices.ContainsFunc(t.GetPartitions(), func(p *partitapb.Partition) bool {
		return bytes.Equal(p.GetMerged().GetId(), id)
	})
}

// sameNodes says a and b list the same nodes, in any order.
func sameNodes(a, b []uint64) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

func cloneIntent(m *partitapb.MergeIntent) *partitapb.MergeIntent {
	return proto.Clone(m).(*partitapb.MergeIntent)
}
