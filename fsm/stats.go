package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Stats are a partition's item count and item bytes (DynamoDB's size
// accounting), kept up to date by every apply.
type Stats struct {
	Items int64
	Bytes int64
	// Local are the entry counts and bytes of the table's local secondary
	// indexes, by position (zero for a table without).
	Local [MaxLocalIndexes]IndexStats
	// Blind counts the blind puts applied since the last recount
	// (Effects.blind): each counted as an insert, so Items and Bytes may
	// count too much by up to that many items until a RecountStats
	// settles them. RecountedAt is the applied index of the state the
	// last applied recount counted (0: none).
	Blind       int64
	RecountedAt uint64
}

// IndexStats are a local secondary index's entry count and bytes.
type IndexStats struct{ Items, Bytes int64 }

// MaxLocalIndexes is DynamoDB's limit of local secondary indexes per table.
const MaxLocalIndexes = 5

// add returns s plus sign times o; s's RecountedAt stays.
func (s Stats) add(o Stats, sign int64) Stats {
	s.Items += sign * o.Items
	s.Bytes += sign * o.Bytes
	s.Blind += sign * o.Blind
	for i := range s.Local {
		s.Local[i].Items += sign * o.Local[i].Items
		s.Local[i].Bytes += sign * o.Local[i].Bytes
	}
	return s
}

func statsKey(partition uint64) []byte { return engine.LocalKey(partition, engine.ReplicatedLocal+"s") }

// StatsKey is the key of partition's statistics, in its replicated state.
func StatsKey(partition uint64) []byte { return statsKey(partition) }

// ReadStats returns the statistics of partition as of r.
func ReadStats(r engine.Reader, partition uint64) (Stats, error) {
	raw, err := engine.Get(r, statsKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return Stats{}, nil
	}
	if err != nil {
		return Stats{}, fmt.Errorf("fsm: read stats: %w", err)
	}
	return DecodeStats(partition, raw)
}

// DecodeStats decodes the statistics record of partition (nil: none yet).
func DecodeStats(partition uint64, raw []byte) (Stats, error) {
	if raw == nil {
		return Stats{}, nil
	}
	if len(raw) != 16 && len(raw) != 16*(1+MaxLocalIndexes) && len(raw) != statsWithRecount {
		return Stats{}, fmt.Errorf("fsm: stats of partition %d are corrupt", partition)
	}
	s := Stats{
		Items: int64(binary.BigEndian.Uint64(raw)),
		Bytes: int64(binary.BigEndian.Uint64(raw[8:])),
	}
	for i := range s.Local {
		if o := 16 * (i + 1); len(raw) >= o+16 {
			s.Local[i] = IndexStats{int64(binary.BigEndian.Uint64(raw[o:])), int64(binary.BigEndian.Uint64(raw[o+8:]))}
		}
	}
	if len(raw) == statsWithRecount {
		o := 16 * (1 + MaxLocalIndexes)
		s.Blind, s.RecountedAt = int64(binary.BigEndian.Uint64(raw[o:])), binary.BigEndian.Uint64(raw[o+8:])
	}
	return s, nil
}

// statsWithRecount is the length of a statistics record that counts
// blind puts or a recount (cluster version 22): the local indexes' slots,
// then Blind and RecountedAt. Older records are 16 bytes (no local
// index) or 96.
const statsWithRecount = 16 * (2 + MaxLocalIndexes)

// addStats records a change of the partition's statistics; Flush writes
// the sum of the batch's changes.
func (a *Applier) addStats(items, bytes int64) {
	a.stats.Items += items
	a.stats.Bytes += bytes
	a.statsDirty = true
}

// flushStats adds the batch's changes to the stored statistics.
func (a *Applier) flushStats() error {
	if !a.statsDirty {
		return nil
	}
	s := a.statsBase
	if !a.statsKnown {
		var err error
		if s, err = ReadStats(a.b, a.partition); err != nil {
			return err
		}
	}
	s = s.add(a.stats, 1)
	if err := writeStats(a.b, a.partition, s); err != nil {
		return err
	}
	a.stats, a.statsDirty = Stats{}, false
	a.statsBase, a.statsKnown = s, true
	return nil
}

// writeStats writes s as partition's statistics.
func writeStats(b *engine.Batch, partition uint64, s Stats) error {
	raw := binary.BigEndian.AppendUint64(nil, uint64(s.Items))
	raw = binary.BigEndian.AppendUint64(raw, uint64(s.Bytes))
	recount := s.Blind != 0 || s.RecountedAt != 0
	if recount || s.Local != ([MaxLocalIndexes]IndexStats{}) {
		for _, l := range s.Local {
			raw = binary.BigEndian.AppendUint64(raw, uint64(l.Items))
			raw = binary.BigEndian.AppendUint64(raw, uint64(l.Bytes))
		}
	}
	if recount {
		raw = binary.BigEndian.AppendUint64(raw, uint64(s.Blind))
		raw = binary.BigEndian.AppendUint64(raw, s.RecountedAt)
	}
	if err := b.Set(statsKey(partition), raw); err != nil {
		return fmt.Errorf("fsm: write stats: %w", err)
	}
	return nil
}

func applyDestroyRange(a *Applier, op *partitapb.DestroyRange) (*partitapb.Result, error) {
	start, end := engine.HashSpan(op.GetTableId(), op.GetHashStart(), op.GetHashEnd())
	if err := a.b.DeleteRange(start, end); err != nil {
		return nil, fmt.Errorf("fsm: destroy range: %w", err)
	}
	a.stats, a.statsDirty = Stats{}, false // the changes before it are gone with the range
	a.statsBase, a.statsKnown = Stats{}, true
	if err := a.b.Delete(statsKey(a.partition)); err != nil {
		return nil, fmt.Errorf("fsm: destroy stats: %w", err)
	}
	return &partitapb.Result{}, nil
}
