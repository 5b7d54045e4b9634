package fsm

import (
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// A blind put (Blind) is counted as an insert: when it replaced an item,
// the partition's statistics count one item too many, and the old item's
// bytes too. Recounts settle them. The partition's leader counts its
// items in one committed state (CountItems, on an engine snapshot taken
// between two of its rounds), then proposes a RecountStats carrying what
// it found beside the statistics that state held. Every replica adds the
// difference: the statistics then hold the true count as of that state,
// plus the deltas of the writes applied since, which are exact unless
// blind. The difference carries over splits and merges: a split counts
// the right half's items exactly and leaves the left half every counted
// excess, and a merge adds the halves' statistics, so a correction made
// for the left half before either stays right for it after.

// CountItems counts the items (not their local index entries) of the
// partition with range d in r: their number and their bytes as DynamoDB
// sizes them.
func CountItems(r engine.Reader, d *partitapb.Descriptor) (Stats, error) {
	var s Stats
	for _, sp := range d.GetSpans() {
		if err := countSpan(r, sp, &s); err != nil {
			return Stats{}, err
		}
	}
	return s, nil
}

// countSpan adds the items of span sp in r to s, and the entries of the
// local secondary indexes there to s.Local.
func countSpan(r engine.Reader, sp *partitapb.Span, s *Stats) error {
	it, err := r.NewIter(sp.GetStart(), sp.GetEnd())
	if err != nil {
		return fmt.Errorf("fsm: count items: %w", err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		if i, enc, ok := engine.DecodeLocalEntry(it.Value()); ok {
			if err := countEntry(s, i, enc); err != nil {
				it.Close()
				return err
			}
			continue
		}
		v, err := item.DecodeItem(it.Value())
		if err != nil {
			it.Close()
			return fmt.Errorf("fsm: count items: stored item is corrupt: %w", err)
		}
		s.Items++
		s.Bytes += int64(v.Size())
	}
	if err := it.Error(); err != nil {
		it.Close()
		return fmt.Errorf("fsm: count items: %w", err)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("fsm: count items: %w", err)
	}
	return nil
}

// applyRecountStats corrects the partition's statistics by op (see
// RecountStats), unless a recount of a state at or after op's applied.
func (a *Applier) applyRecountStats(op *partitapb.RecountStats) (*partitapb.Result, error) {
	if err := a.flushStats(); err != nil {
		return nil, err
	}
	cur, err := a.currentStats()
	if err != nil {
		return nil, err
	}
	if op.GetAppliedIndex() <= cur.RecountedAt {
		return &partitapb.Result{}, nil // a later state's count settled it already
	}
	cur.Items += op.GetFoundItems() - op.GetSeenItems()
	cur.Bytes += op.GetFoundBytes() - op.GetSeenBytes()
	cur.Blind -= op.GetSeenBlind()
	cur.RecountedAt = op.GetAppliedIndex()
	if err := a.setStats(cur); err != nil {
		return nil, err
	}
	return &partitapb.Result{}, nil
}

// currentStats returns the partition's statistics after the commands
// applied so far; call it after flushStats.
func (a *Applier) currentStats() (Stats, error) {
	if a.statsKnown {
		return a.statsBase, nil
	}
	s, err := ReadStats(a.b, a.partition)
	if err != nil {
		return Stats{}, err
	}
	a.statsBase, a.statsKnown = s, true
	return s, nil
}

// setStats writes s as the partition's statistics, after flushStats,
// and keeps it as the base of the batch's next changes.
func (a *Applier) setStats(s Stats) error {
	if err := writeStats(a.b, a.partition, s); err != nil {
		return err
	}
	a.statsBase, a.statsKnown = s, true
	return nil
}
