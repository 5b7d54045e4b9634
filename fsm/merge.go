package fsm

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// A merge, as the partitions apply it (the directory's part is in
// merge_directory.go, the protocol in docs/splits.md):
//
//	FreezeRange   right: no item write applies any more (WRONG_RANGE);
//	              left: no split or other merge applies any more
//	UnfreezeRange both, after the directory aborted the merge
//	MergeRange    left, after the directory committed it: the range
//	              widens over the right's, which the replica destroys
//
// A frozen right range changes no item, so a right replica that applied
// its freeze holds exactly the items every other one holds: what the left
// replica on its node takes over when it applies MergeRange.

// MergeKey is the key of the last merge partition applied as a left half
// (a MergeIntent), in its replicated local state: a repeated MergeRange
// is recognised by it.
func MergeKey(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"g")
}

// commandIDPrefix is the key prefix of partition's applied command ids.
func commandIDPrefix(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"i")
}

// MergedGeneration is the range generation of the range a merge makes:
// above both halves'.
func MergedGeneration(m *partitapb.MergeIntent) uint64 {
	return max(m.GetLeftGeneration(), m.GetRightGeneration()) + 1
}

// FrozenRight says d is the right half of a merge in flight: it takes no
// item write and serves no strongly consistent read.
func FrozenRight(d *partitapb.Descriptor) bool {
	return d.GetFrozen() != nil && !d.GetFrozenLeft()
}

func mergeOutcome(d *partitapb.Descriptor, m *partitapb.MergeIntent, merged bool) *partitapb.Result {
	return &partitapb.Result{Merge: &partitapb.MergeOutcome{RangeDescriptor: d, Merge: m, Merged: merged}}
}

// applyFreeze freezes the range for op's merge.
func applyFreeze(a *Applier, op *partitapb.FreezeRange) (*partitapb.Result, error) {
	m, d := op.GetMerge(), a.desc
	want, gen := m.GetRight(), m.GetRightGeneration()
	if op.GetLeft() {
		want, gen = m.GetLeft(), m.GetLeftGeneration()
	}
	switch {
	case len(m.GetId()) == 0 || want != a.partition:
		return reject(partitapb.Error_VALIDATION, "merge: freeze of partition %d proposed to partition %d", want, a.partition), nil
	case d.GetFrozen() != nil && bytes.Equal(d.GetFrozen().GetId(), m.GetId()):
		return mergeOutcome(d, m, false), nil
	case d.GetFrozen() != nil:
		return reject(partitapb.Error_VALIDATION, "merge: partition %d is frozen for another merge", a.partition), nil
	case d.GetGeneration() != gen:
		return reject(partitapb.Error_VALIDATION, "merge: partition %d is at range generation %d, not %d",
			a.partition, d.GetGeneration(), gen), nil
	}
	if res := checkMembers(a, "merge", m.GetVoters()); res != nil {
		return res, nil
	}
	if !op.GetLeft() { // the right half's keys move to the left partition
		if res, err := a.refuseWhileTxnBusy("merge"); res != nil || err != nil {
			return res, err
		}
	}
	if t, _, _, ok := singleSpan(d); !ok || t != m.GetTableId() {
		return reject(partitapb.Error_VALIDATION, "merge: partition %d is not one range of table %d", a.partition, m.GetTableId()), nil
	}
	nd := proto.Clone(d).(*partitapb.Descriptor)
	nd.Frozen, nd.FrozenLeft = m, op.GetLeft()
	if err := a.setDescriptor(nd); err != nil {
		return nil, err
	}
	return mergeOutcome(nd, m, false), nil
}

// applyUnfreeze lifts a freeze for op's merge; any other state stays.
func applyUnfreeze(a *Applier, op *partitapb.UnfreezeRange) (*partitapb.Result, error) {
	d := a.desc
	if d.GetFrozen() == nil || !bytes.Equal(d.GetFrozen().GetId(), op.GetMergeId()) {
		return mergeOutcome(d, nil, false), nil
	}
	nd := proto.Clone(d).(*partitapb.Descriptor)
	nd.Frozen, nd.FrozenLeft = nil, false
	if err := a.setDescriptor(nd); err != nil {
		return nil, err
	}
	return mergeOutcome(nd, nil, false), nil
}

// applyMerge widens the left half over the right: the descriptor, the
// statistics (the right's added), the applied command ids (the right's
// copied, so a retry of a command the right applied is answered, not
// applied again) and the merge record.
func applyMerge(a *Applier, op *partitapb.MergeRange) (*partitapb.Result, error) {
	m, d := op.GetMerge(), a.desc
	if last, err := readMerge(a.b, a.partition); err != nil {
		return nil, err
	} else if last != nil && bytes.Equal(last.GetId(), m.GetId()) {
		return mergeOutcome(d, m, false), nil // merged already
	}
	table, lo, hi, ok := singleSpan(d)
	switch {
	case m.GetLeft() != a.partition || len(m.GetId()) == 0:
		return reject(partitapb.Error_VALIDATION, "merge: merge into partition %d proposed to partition %d", m.GetLeft(), a.partition), nil
	case d.GetFrozen() == nil || !bytes.Equal(d.GetFrozen().GetId(), m.GetId()) || !d.GetFrozenLeft():
		return reject(partitapb.Error_VALIDATION, "merge: partition %d is not frozen for this merge", a.partition), nil
	case d.GetGeneration() != m.GetLeftGeneration():
		return reject(partitapb.Error_VALIDATION, "merge: partition %d is at range generation %d, not %d",
			a.partition, d.GetGeneration(), m.GetLeftGeneration()), nil
	case !ok || table != m.GetTableId() || hi == 0 || (op.GetRightHashEnd() != 0 && op.GetRightHashEnd() <= hi):
		return reject(partitapb.Error_VALIDATION, "merge: partition %d's range cannot widen to %#x", a.partition, op.GetRightHashEnd()), nil
	}
	if err := absorbRight(a, m.GetRight()); err != nil {
		return nil, err
	}
	if err := a.mergeIndexRound(m.GetRight()); err != nil {
		return nil, err
	}
	if err := a.mergeChangeFloor(m.GetRight()); err != nil {
		return nil, err
	}
	if err := a.mergeChangeLog(m.GetRight(), MergedGeneration(m), op.GetKeepSegments()); err != nil {
		return nil, err
	}
	s, e := engine.HashSpan(table, lo, op.GetRightHashEnd())
	nd := &partitapb.Descriptor{Partition: a.partition, Spans: []*partitapb.Span{{Start: s, End: e}}, Generation: MergedGeneration(m)}
	if err := a.setDescriptor(nd); err != nil {
		return nil, err
	}
	raw, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("fsm: encode merge: %w", err)
	}
	if err := a.b.Set(MergeKey(a.partition), raw); err != nil {
		return nil, fmt.Errorf("fsm: write merge: %w", err)
	}
	return mergeOutcome(nd, m, true), nil
}

// absorbRight adds the statistics of right's replica on this node to the
// partition's, and copies its applied command ids.
func absorbRight(a *Applier, right uint64) error {
	if err := a.flushStats(); err != nil {
		return err
	}
	ls, err := a.currentStats()
	if err != nil {
		return err
	}
	rs, err := ReadStats(a.b, right)
	if err != nil {
		return err
	}
	if err := a.setStats(ls.add(rs, 1)); err != nil {
		return err
	}
	if err := copyRecords(a.b, commandIDPrefix(right), commandIDPrefix(a.partition)); err != nil {
		return err
	}
	return copyRecords(a.b, timedRecordPrefix(right), timedRecordPrefix(a.partition))
}

// copyRecords copies the at-most-once records under the prefix from (one
// suffix letter after the replicated-local prefix) to the prefix to.
func copyRecords(b *engine.Batch, from, to []byte) error {
	end := bytes.Clone(from)
	end[len(end)-1]++
	it, err := b.NewIter(from, end)
	if err != nil {
		return fmt.Errorf("fsm: merge: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		k := append(bytes.Clone(to), it.Key()[len(from):]...)
		if err := b.Set(k, bytes.Clone(it.Value())); err != nil {
			it.Close()
			return fmt.Errorf("fsm: merge: copy command ids: %w", err)
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("fsm: merge: %w", err)
	}
	return nil
}

// readMerge reads the last merge partition applied as a left half (nil:
// none).
func readMerge(r engine.Reader, partition uint64) (*partitapb.MergeIntent, error) {
	raw, err := engine.Get(r, MergeKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: read merge record: %w", err)
	}
	m := &partitapb.MergeIntent{}
	if err := proto.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("fsm: corrupt merge record of partition %d: %w", partition, err)
	}
	return m, nil
}

// setDescriptor writes d as the partition's descriptor; the commands after
// it in the batch are fenced to it.
func (a *Applier) setDescriptor(d *partitapb.Descriptor) error {
	if err := WriteDescriptor(a.b, d); err != nil {
		return err
	}
	a.desc = d
	return nil
}

// singleSpan returns the table and hash range of a descriptor of one
// table range.
func singleSpan(d *partitapb.Descriptor) (table, lo, hi uint64, ok bool) {
	if len(d.GetSpans()) != 1 {
		return 0, 0, 0, false
	}
	return ParseHashSpan(d.GetSpans()[0])
}
