package fsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The backfill rounds of an index partition (docs/indexes.md,
// "Tombstones"). A global index's backfill writes are numbered by round
// (the index table's index_epoch: 0 for the backfill of its creation, one
// more for each rebuild of a trimmed log). An index partition keeps, in
// its replicated state:
//
//   - sealed: the rounds below it are over; their writes (IndexBackfill)
//     are refused, so a stalled backfiller of a finished round changes
//     nothing, tombstone or not;
//   - open: round open-1 is running (0: none); a stalled write of it may
//     still come, and only a tombstone refuses it.
//
// A tombstone is needed only to refuse backfill writes older than it, so
// once the partition is sealed (sealed > 0) with no round open, its
// tombstones are collected (IndexSweep) and its deletes leave none.
//
// Its key holds sealed (8 bytes) then open (8 bytes).

func indexRoundKey(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"b")
}

// IndexRound is an index partition's round state.
type IndexRound struct {
	Sealed, Open uint64
}

// Swept says the partition keeps no tombstones: sealed, no round open.
func (r IndexRound) Swept() bool { return r.Sealed > 0 && r.Open == 0 }

// normal closes an open round below the seal.
func (r IndexRound) normal() IndexRound {
	if r.Open != 0 && r.Open-1 < r.Sealed {
		r.Open = 0
	}
	return r
}

// ReadIndexRound returns partition's round state as of r.
func ReadIndexRound(r engine.Reader, partition uint64) (IndexRound, error) {
	raw, err := engine.Get(r, indexRoundKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return IndexRound{}, nil
	}
	if err != nil {
		return IndexRound{}, fmt.Errorf("fsm: read index round: %w", err)
	}
	if len(raw) != 16 {
		return IndexRound{}, fmt.Errorf("fsm: index round of partition %d is corrupt", partition)
	}
	return IndexRound{Sealed: binary.BigEndian.Uint64(raw), Open: binary.BigEndian.Uint64(raw[8:])}, nil
}

func writeIndexRound(b *engine.Batch, partition uint64, r IndexRound) error {
	if r == (IndexRound{}) {
		return nil
	}
	raw := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, r.Sealed), r.Open)
	if err := b.Set(indexRoundKey(partition), raw); err != nil {
		return fmt.Errorf("fsm: write index round: %w", err)
	}
	return nil
}

// applyIndexSeal ends the rounds below op's epoch.
func applyIndexSeal(a *Applier, op *partitapb.IndexSeal) (*partitapb.Result, error) {
	r, err := ReadIndexRound(a.b, a.partition)
	if err != nil {
		return nil, err
	}
	r.Sealed = max(r.Sealed, op.GetEpoch())
	return &partitapb.Result{}, writeIndexRound(a.b, a.partition, r.normal())
}

// applyIndexOpen opens round op's epoch, unless it is over.
func applyIndexOpen(a *Applier, op *partitapb.IndexOpen) (*partitapb.Result, error) {
	r, err := ReadIndexRound(a.b, a.partition)
	if err != nil {
		return nil, err
	}
	if op.GetEpoch() < r.Sealed {
		return &partitapb.Result{}, nil // a stalled opener of a finished round
	}
	r.Open = max(r.Open, op.GetEpoch()+1)
	return &partitapb.Result{}, writeIndexRound(a.b, a.partition, r)
}

// applyIndexBackfill applies a backfill's batch unless its round is over,
// which it refuses whole.
func applyIndexBackfill(a *Applier, op *partitapb.IndexBackfill) (*partitapb.Result, error) {
	r, err := ReadIndexRound(a.b, a.partition)
	if err != nil {
		return nil, err
	}
	if op.GetEpoch() < r.Sealed {
		// A stalled writer of a finished round: it learns it (a writer
		// with a stale copy of the index's record reads it again).
		return reject(partitapb.Error_VALIDATION, "partition %d: backfill round %d of the index is over (sealed below %d)",
			a.partition, op.GetEpoch(), r.Sealed), nil
	}
	return applyIndexWrite(a, &partitapb.IndexWrite{Entries: op.GetEntries()})
}

// applyIndexSweep deletes the tombstones among up to op.limit keys of the
// partition's range from op.from, if the partition keeps none.
func applyIndexSweep(a *Applier, op *partitapb.IndexSweep) (*partitapb.Result, error) {
	r, err := ReadIndexRound(a.b, a.partition)
	if err != nil {
		return nil, err
	}
	if !r.Swept() {
		return &partitapb.Result{IndexSweep: &partitapb.IndexSweepOutcome{Refused: true}}, nil
	}
	limit := max(int(op.GetLimit()), 1)
	out := &partitapb.IndexSweepOutcome{}
	for _, s := range a.desc.GetSpans() {
		if len(s.GetEnd()) > 0 && bytes.Compare(op.GetFrom(), s.GetEnd()) >= 0 {
			continue
		}
		lo := s.GetStart()
		if bytes.Compare(op.GetFrom(), lo) > 0 {
			lo = op.GetFrom()
		}
		next, err := a.sweepSpan(lo, s.GetEnd(), &limit, out)
		if err != nil || next != nil {
			out.Next = next
			return &partitapb.Result{IndexSweep: out}, err
		}
	}
	return &partitapb.Result{IndexSweep: out}, nil
}

// sweepSpan deletes the tombstones of [lo, hi) while *limit keys remain
// to look at; it returns the key to go on from (nil: the span is done).
func (a *Applier) sweepSpan(lo, hi []byte, limit *int, out *partitapb.IndexSweepOutcome) ([]byte, error) {
	iter, err := a.b.NewIter(lo, hi)
	if err != nil {
		return nil, fmt.Errorf("fsm: index sweep: %w", err)
	}
	var doomed [][]byte
	var next []byte
	for ok := iter.First(); ok; ok = iter.Next() {
		if *limit == 0 {
			next = bytes.Clone(iter.Key())
			break
		}
		*limit--
		if _, _, ok := engine.DecodeGlobalTombstone(iter.Value()); ok {
			doomed = append(doomed, bytes.Clone(iter.Key()))
		}
	}
	err = iter.Error()
	if cerr := iter.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: index sweep: %w", err)
	}
	for _, k := range doomed {
		if err := a.b.Delete(k); err != nil {
			return nil, fmt.Errorf("fsm: index sweep: %w", err)
		}
	}
	out.Collected += uint64(len(doomed))
	return next, nil
}

// splitIndexRound gives the right half of a split the partition's rounds.
func (a *Applier) splitIndexRound(right uint64) error {
	r, err := ReadIndexRound(a.b, a.partition)
	if err != nil {
		return err
	}
	return writeIndexRound(a.b, right, r)
}

// mergeIndexRound keeps, at a merge with right, the later seal and the
// later open round of the two halves: a seal is a fact about the whole
// index, and an open round on either side keeps its tombstones.
func (a *Applier) mergeIndexRound(right uint64) error {
	l, err := ReadIndexRound(a.b, a.partition)
	if err != nil {
		return err
	}
	r, err := ReadIndexRound(a.b, right)
	if err != nil {
		return err
	}
	m := IndexRound{Sealed: max(l.Sealed, r.Sealed), Open: max(l.Open, r.Open)}
	return writeIndexRound(a.b, a.partition, m.normal())
}
