package fsm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// A split closes the partition's segment: the left half (the partition)
// opens a segment at its next sequence, and the right half's log starts
// with a segment whose parent is the partition's log up to the split. No
// record moves: the records of the right half's keys written before the
// split stay in the parent's log, as a DynamoDB stream's parent shard.
//
// A merge adopts the right half's log: its retained records and state are
// copied under the right half's id (the origin) into the partition's
// adopted logs, with the logs the right half had adopted itself, and read
// with ReadAdoptedChanges. The right half's segments (and those of the
// logs it had adopted) are copied too, so the merged-away partition's
// shards keep their bounds (ReadAdoptedSegments). An adopted log takes no
// new record; the leader drops it whole, segments and all
// (Effects.change_drop_adopted), once its last record is older than the
// retention.

// ReadChangeSegments returns partition's change log segments as of r, in
// order of their first sequence.
func ReadChangeSegments(r engine.Reader, partition uint64) ([]*partitapb.ChangeSegment, error) {
	return readSegments(r, changeSegmentPrefix(partition), partition)
}

// readSegments reads the segments of partition's log stored under prefix.
func readSegments(r engine.Reader, prefix []byte, partition uint64) ([]*partitapb.ChangeSegment, error) {
	start := prefix
	end := append(bytes.Clone(prefix), 0xff)
	it, err := r.NewIter(start, end)
	if err != nil {
		return nil, fmt.Errorf("fsm: read change segments: %w", err)
	}
	var out []*partitapb.ChangeSegment
	for ok := it.First(); ok; ok = it.Next() {
		seg := &partitapb.ChangeSegment{}
		if err := proto.Unmarshal(it.Value(), seg); err != nil {
			it.Close()
			return nil, fmt.Errorf("fsm: corrupt change segment of partition %d: %w", partition, err)
		}
		out = append(out, seg)
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: read change segments: %w", err)
	}
	return out, nil
}

func writeChangeSegment(b *engine.Batch, partition uint64, seg *partitapb.ChangeSegment) error {
	raw, err := proto.Marshal(seg)
	if err != nil {
		return fmt.Errorf("fsm: encode change segment: %w", err)
	}
	k := binary.BigEndian.AppendUint64(changeSegmentPrefix(partition), seg.GetFirstSeq())
	if err := b.Set(k, raw); err != nil {
		return fmt.Errorf("fsm: write change segment: %w", err)
	}
	return nil
}

// splitChangeLog closes the partition's change log segment at a split to
// generation gen: the left half (the partition) opens a segment at its
// next sequence, and the right half's log starts empty, at sequence 1,
// with a segment whose parent is the partition's log up to here. The
// state of an empty log is not written: nothing is recorded for a table
// whose log never held a record.
func (a *Applier) splitChangeLog(right uint64, gen uint64) error {
	s, err := a.changeState()
	if err != nil {
		return err
	}
	if s.Last == 0 {
		return nil
	}
	parent := &partitapb.ChangeParent{Partition: a.partition, LastSeq: s.Last}
	if err := writeChangeSegment(a.b, a.partition, &partitapb.ChangeSegment{
		FirstSeq: s.next(), RangeGeneration: gen, Parents: []*partitapb.ChangeParent{parent}}); err != nil {
		return err
	}
	if err := writeChangeState(a.b, right, ChangeState{First: 1}); err != nil {
		return err
	}
	return writeChangeSegment(a.b, right, &partitapb.ChangeSegment{
		FirstSeq: 1, RangeGeneration: gen, Parents: []*partitapb.ChangeParent{parent}})
}

// mergeChangeLog closes the partition's change log segment at a merge
// into generation gen with the right half right: the partition opens a
// segment at its next sequence whose parents are both halves' logs up to
// here, and adopts the right half's log (with its segments when keep).
// Nothing is written when neither log ever held a record.
func (a *Applier) mergeChangeLog(right, gen uint64, keep bool) error {
	s, err := a.changeState()
	if err != nil {
		return err
	}
	rs, err := ReadChangeState(a.b, right)
	if err != nil {
		return err
	}
	if err := a.adopt(right, rs, keep); err != nil {
		return err
	}
	if s.Last == 0 && rs.Last == 0 {
		return nil
	}
	return writeChangeSegment(a.b, a.partition, &partitapb.ChangeSegment{
		FirstSeq: s.next(), RangeGeneration: gen, Parents: []*partitapb.ChangeParent{
			{Partition: a.partition, LastSeq: s.Last}, {Partition: right, LastSeq: rs.Last}}})
}

// SplitRightKeys are the keys of the right half's replicated state that
// applying a split writes (beyond its descriptor): what a replica keeps
// as it is when the right half is already on its node, newer than the
// split.
func SplitRightKeys(right uint64) [][]byte {
	return [][]byte{StatsKey(right), changeStateKey(right), binary.BigEndian.AppendUint64(changeSegmentPrefix(right), 1), changeFloorKey(right)}
}

func adoptedPrefix(holder uint64) []byte {
	return engine.LocalKey(holder, engine.ReplicatedLocal+"a")
}

func adoptedStatePrefix(holder uint64) []byte {
	return engine.LocalKey(holder, engine.ReplicatedLocal+"A")
}

func adoptedRecordPrefix(holder, origin uint64) []byte {
	return binary.BigEndian.AppendUint64(adoptedPrefix(holder), origin)
}

func adoptedSegmentPrefix(holder uint64) []byte {
	return engine.LocalKey(holder, engine.ReplicatedLocal+"E")
}

func adoptedSegmentOriginPrefix(holder, origin uint64) []byte {
	return binary.BigEndian.AppendUint64(adoptedSegmentPrefix(holder), origin)
}

func adoptedStateKey(holder, origin uint64) []byte {
	return binary.BigEndian.AppendUint64(adoptedStatePrefix(holder), origin)
}

// adopt copies the right half's retained records (its log in state rs)
// and its own adopted logs into the partition's adopted logs, and their
// segments when keep.
func (a *Applier) adopt(right uint64, rs ChangeState, keep bool) error {
	if err := copyRecords(a.b, adoptedPrefix(right), adoptedPrefix(a.partition)); err != nil {
		return err
	}
	if err := copyRecords(a.b, adoptedStatePrefix(right), adoptedStatePrefix(a.partition)); err != nil {
		return err
	}
	if keep {
		if err := copyRecords(a.b, adoptedSegmentPrefix(right), adoptedSegmentPrefix(a.partition)); err != nil {
			return err
		}
	}
	if rs.Last < rs.First {
		return nil
	}
	if err := copyRecords(a.b, changeRecordPrefix(right), adoptedRecordPrefix(a.partition, right)); err != nil {
		return err
	}
	if keep {
		if err := copyRecords(a.b, changeSegmentPrefix(right), adoptedSegmentOriginPrefix(a.partition, right)); err != nil {
			return err
		}
	}
	raw := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), rs.First), rs.Last)
	if err := a.b.Set(adoptedStateKey(a.partition, right), raw); err != nil {
		return fmt.Errorf("fsm: adopt the change log of partition %d: %w", right, err)
	}
	return nil
}

// AdoptedLogs returns the states of the change logs holder adopted, by
// origin (the merged partition whose log it was), as of r.
func AdoptedLogs(r engine.Reader, holder uint64) (map[uint64]ChangeState, error) {
	start := adoptedStatePrefix(holder)
	it, err := r.NewIter(start, append(adoptedStatePrefix(holder), 0xff))
	if err != nil {
		return nil, fmt.Errorf("fsm: read adopted change logs: %w", err)
	}
	out := map[uint64]ChangeState{}
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != len(start)+8 || len(v) != 16 {
			it.Close()
			return nil, fmt.Errorf("fsm: adopted change log state %x of partition %d is corrupt", k, holder)
		}
		out[binary.BigEndian.Uint64(k[len(start):])] = ChangeState{First: binary.BigEndian.Uint64(v), Last: binary.BigEndian.Uint64(v[8:])}
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: read adopted change logs: %w", err)
	}
	return out, nil
}

// ReadAdoptedChanges is ReadChanges of the log of origin that holder
// adopted in a merge; a log holder never adopted, or dropped, reads as
// empty and trimmed past after.
func ReadAdoptedChanges(r engine.Reader, holder, origin, after uint64, limit int) (Changes, error) {
	logs, err := AdoptedLogs(r, holder)
	if err != nil {
		return Changes{}, err
	}
	s, ok := logs[origin]
	if !ok {
		s = ChangeState{First: after + 2, Last: after + 1}
	}
	return readChanges(r, s, adoptedRecordPrefix(holder, origin), after, limit)
}

// ExpiredAdoptedLogs returns the adopted logs of holder, as of r, whose
// last record is older than cutoff (unix nanoseconds): the
// Effects.change_drop_adopted a leader proposes for a retention.
func ExpiredAdoptedLogs(r engine.Reader, holder uint64, cutoff int64) ([]uint64, error) {
	logs, err := AdoptedLogs(r, holder)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for origin, s := range logs {
		raw, err := engine.Get(r, binary.BigEndian.AppendUint64(adoptedRecordPrefix(holder, origin), s.Last))
		if err != nil {
			return nil, fmt.Errorf("fsm: read the last record adopted from partition %d: %w", origin, err)
		}
		rec := &partitapb.ChangeRecord{}
		if err := proto.Unmarshal(raw, rec); err != nil {
			return nil, fmt.Errorf("fsm: corrupt change record adopted from partition %d: %w", origin, err)
		}
		if rec.GetUnixNanos() < cutoff {
			out = append(out, origin)
		}
	}
	slices.Sort(out)
	return out, nil
}

// dropAdopted deletes the adopted log of origin (nothing when there is
// none).
func (a *Applier) dropAdopted(origin uint64) error {
	p := adoptedRecordPrefix(a.partition, origin)
	if err := a.b.DeleteRange(p, binary.BigEndian.AppendUint64(adoptedPrefix(a.partition), origin+1)); err != nil {
		return fmt.Errorf("fsm: drop the change log adopted from partition %d: %w", origin, err)
	}
	if err := a.b.Delete(adoptedStateKey(a.partition, origin)); err != nil {
		return fmt.Errorf("fsm: drop the change log adopted from partition %d: %w", origin, err)
	}
	segs := adoptedSegmentOriginPrefix(a.partition, origin)
	if err := a.b.DeleteRange(segs, binary.BigEndian.AppendUint64(adoptedSegmentPrefix(a.partition), origin+1)); err != nil {
		return fmt.Errorf("fsm: drop the segments adopted from partition %d: %w", origin, err)
	}
	return nil
}

// ReadAdoptedSegments returns the segments of the log of origin that
// holder adopted in a merge, in order of their first sequence: none for a
// log holder never adopted or dropped, or adopted by a binary that kept
// no segments (its log then reads as one segment from sequence 1).
func ReadAdoptedSegments(r engine.Reader, holder, origin uint64) ([]*partitapb.ChangeSegment, error) {
	return readSegments(r, adoptedSegmentOriginPrefix(holder, origin), origin)
}
