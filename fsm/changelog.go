package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The change log of a partition: every item write applied from Effects
// whose change_view is not CHANGE_VIEW_NONE appends a ChangeRecord, in
// the batch of the write, under the next sequence number of the
// partition. Its keys, all in the partition's replicated local state (so
// in its snapshots and digests):
//
//	x c <seq 8>         a ChangeRecord
//	x q                 the log's state: first retained seq, last seq (8 + 8)
//	x e <first seq 8>   a ChangeSegment: where a range generation starts
//	x a <origin 8> <seq 8>  a record of an adopted log (a merged right half's)
//	x A <origin 8>      an adopted log's state
//	x E <origin 8> <first seq 8>  an adopted log's ChangeSegment
//
// Sequence numbers are dense and start at 1; the last is 0 while the log
// is empty. Trimming (Effects.change_trim_to) deletes the records below a
// sequence with one range deletion and raises the first retained one: a
// reader after a sequence below it has lost records (Changes.Trimmed).
//
// Splits and merges: changelog_lineage.go.

func changeRecordPrefix(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"c")
}

// ChangeRecordKey is the key of partition's change record seq.
func ChangeRecordKey(partition, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(changeRecordPrefix(partition), seq)
}

func changeStateKey(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"q")
}

func changeSegmentPrefix(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"e")
}

// ChangeState is where a partition's change log stands: its records are
// the sequences [First, Last]; none when Last < First.
type ChangeState struct {
	First, Last uint64
}

// next is the sequence of the next record.
func (s ChangeState) next() uint64 { return s.Last + 1 }

// ReadChangeState returns partition's change log state as of r.
func ReadChangeState(r engine.Reader, partition uint64) (ChangeState, error) {
	raw, err := engine.Get(r, changeStateKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return ChangeState{First: 1}, nil
	}
	if err != nil {
		return ChangeState{}, fmt.Errorf("fsm: read change log state: %w", err)
	}
	if len(raw) != 16 {
		return ChangeState{}, fmt.Errorf("fsm: change log state of partition %d is corrupt", partition)
	}
	return ChangeState{First: binary.BigEndian.Uint64(raw), Last: binary.BigEndian.Uint64(raw[8:])}, nil
}

func writeChangeState(b *engine.Batch, partition uint64, s ChangeState) error {
	raw := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), s.First), s.Last)
	if err := b.Set(changeStateKey(partition), raw); err != nil {
		return fmt.Errorf("fsm: write change log state: %w", err)
	}
	return nil
}

// changeState returns the log's state as of the commands applied so far
// (read once from the batch, then kept).
func (a *Applier) changeState() (ChangeState, error) {
	if !a.clogKnown {
		s, err := ReadChangeState(a.b, a.partition)
		if err != nil {
			return ChangeState{}, err
		}
		a.clog, a.clogKnown = s, true
	}
	return a.clog, nil
}

// flushChangeState writes the log's state if an entry changed it.
func (a *Applier) flushChangeState() error {
	if !a.clogDirty {
		return nil
	}
	a.clogDirty = false
	return writeChangeState(a.b, a.partition, a.clog)
}

// WithChange completes the Effects e of a write evaluated at unixNanos
// (the leader's clock) with the Result res for a table whose change log
// keeps view: apply then appends the change record from e alone, timed
// unixNanos. The new image is e's value already; the old one is added
// when the view keeps it. A refused write (e.error) writes no record,
// and carries nothing more.
func WithChange(e *partitapb.Effects, res *partitapb.Result, view partitapb.ChangeView, unixNanos int64) {
	if e == nil || e.GetError() != nil || view == partitapb.ChangeView_CHANGE_VIEW_NONE {
		return
	}
	e.ChangeView, e.ChangeUnixNanos = view, unixNanos
	if keepsOld(view) && res.GetHasOld() {
		e.OldImage = res.GetOldItem()
	}
}

func keepsOld(v partitapb.ChangeView) bool {
	return v == partitapb.ChangeView_OLD_IMAGE || v == partitapb.ChangeView_NEW_AND_OLD_IMAGES
}

func keepsNew(v partitapb.ChangeView) bool {
	return v == partitapb.ChangeView_NEW_IMAGE || v == partitapb.ChangeView_NEW_AND_OLD_IMAGES
}

// changeKind is the event of the write c: a deletion removes, a write
// that adds an item inserts (the statistics count it), any other write
// modifies.
func changeKind(c change) partitapb.ChangeKind {
	switch {
	case c.del:
		return partitapb.ChangeKind_REMOVE
	case c.items > 0:
		return partitapb.ChangeKind_INSERT
	default:
		return partitapb.ChangeKind_MODIFY
	}
}

// appendChange appends the change record of the applied write c of e.
func (a *Applier) appendChange(e *partitapb.Effects, c change) error {
	view := e.GetChangeView()
	if view == partitapb.ChangeView_CHANGE_VIEW_NONE || (!c.del && c.value == nil) {
		return nil
	}
	s, err := a.changeState()
	if err != nil {
		return err
	}
	rec := &partitapb.ChangeRecord{UnixNanos: e.GetChangeUnixNanos(), Key: c.key, Kind: changeKind(c), ByService: e.GetByService()}
	if keepsOld(view) {
		rec.OldImage = e.GetOldImage()
	}
	if keepsNew(view) && !c.del {
		rec.NewImage = c.value
	}
	raw, err := proto.Marshal(rec)
	if err != nil {
		return fmt.Errorf("fsm: encode change record: %w", err)
	}
	seq := s.next()
	if err := a.b.Set(ChangeRecordKey(a.partition, seq), raw); err != nil {
		return fmt.Errorf("fsm: write change record: %w", err)
	}
	a.clog.Last, a.clogDirty = seq, true
	return nil
}

// trimChanges deletes the change records below to (at most the next
// sequence: the log never trims what it has not written) and raises the
// first retained sequence to it.
func (a *Applier) trimChanges(to uint64) error {
	s, err := a.changeState()
	if err != nil {
		return err
	}
	to = min(to, s.next())
	if to <= s.First {
		return nil
	}
	if err := a.b.DeleteRange(ChangeRecordKey(a.partition, s.First), ChangeRecordKey(a.partition, to)); err != nil {
		return fmt.Errorf("fsm: trim change log: %w", err)
	}
	a.clog.First, a.clogDirty = to, true
	return nil
}

// ChangeTrimPoint returns the sequence below which partition's change
// records, as of r, are older than cutoff (unix nanoseconds): the
// Effects.change_trim_to a leader proposes for a retention. It bisects
// by the records' command times, which follow their sequence within the
// clock skew of the partition's successive leaders; 0 when there is
// nothing to trim.
func ChangeTrimPoint(r engine.Reader, partition uint64, cutoff int64) (uint64, error) {
	s, err := ReadChangeState(r, partition)
	if err != nil || s.Last < s.First {
		return 0, err
	}
	lo, hi := s.First, s.Last+1 // the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		t, err := changeTime(r, partition, mid)
		if err != nil {
			return 0, err
		}
		if t < cutoff {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo <= s.First {
		return 0, nil
	}
	return lo, nil
}

// changeTime returns the command time of partition's record seq.
func changeTime(r engine.Reader, partition, seq uint64) (int64, error) {
	raw, err := engine.Get(r, ChangeRecordKey(partition, seq))
	if err != nil {
		return 0, fmt.Errorf("fsm: read change record %d: %w", seq, err)
	}
	rec := &partitapb.ChangeRecord{}
	if err := proto.Unmarshal(raw, rec); err != nil {
		return 0, fmt.Errorf("fsm: corrupt change record %d of partition %d: %w", seq, partition, err)
	}
	return rec.GetUnixNanos(), nil
}

// Change is one record of a change log with its sequence number.
type Change struct {
	Seq    uint64
	Record *partitapb.ChangeRecord
}

// Changes is a page of a change log: the records after a sequence, in
// order, and the log's state when it was read.
type Changes struct {
	Records []Change
	ChangeState
	// Trimmed says records after the sequence asked for were trimmed:
	// the page starts at First, not right after it.
	Trimmed bool
	// FloorRevision is the table revision of the partition's change floor
	// as of the page (replica.ReadChanges sets it; 0: no floor). A stream
	// cut is taken at a floor of the revision that settles it, so a page
	// holding a record past a cut has a floor at least that revision.
	FloorRevision uint64
}

// ReadChanges returns up to limit (0: no limit) of partition's change
// records after sequence after, as of r, with the log's state. Read from
// one snapshot (or the engine between commits), the page and the state
// agree.
func ReadChanges(r engine.Reader, partition, after uint64, limit int) (Changes, error) {
	s, err := ReadChangeState(r, partition)
	if err != nil {
		return Changes{}, err
	}
	return readChanges(r, s, changeRecordPrefix(partition), after, limit)
}

// readChanges reads the records of the log in state s whose keys are
// prefix and a sequence.
func readChanges(r engine.Reader, s ChangeState, prefix []byte, after uint64, limit int) (Changes, error) {
	out := Changes{ChangeState: s, Trimmed: after+1 < s.First}
	from := max(after+1, s.First)
	if from > s.Last {
		return out, nil
	}
	key := func(seq uint64) []byte { return binary.BigEndian.AppendUint64(bytes.Clone(prefix), seq) }
	it, err := r.NewIter(key(from), key(s.Last+1))
	if err != nil {
		return Changes{}, fmt.Errorf("fsm: read changes: %w", err)
	}
	for ok := it.First(); ok && (limit <= 0 || len(out.Records) < limit); ok = it.Next() {
		rec := &partitapb.ChangeRecord{}
		if err := proto.Unmarshal(it.Value(), rec); err != nil {
			it.Close()
			return Changes{}, fmt.Errorf("fsm: corrupt change record %x: %w", it.Key(), err)
		}
		seq := binary.BigEndian.Uint64(it.Key()[len(it.Key())-8:])
		out.Records = append(out.Records, Change{Seq: seq, Record: rec})
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Changes{}, fmt.Errorf("fsm: read changes: %w", err)
	}
	return out, nil
}
