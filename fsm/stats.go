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
	if len(raw) != 16 {
		return Stats{}, fmt.Errorf("fsm: stats of partition %d are corrupt", partition)
	}
	return Stats{
		Items: int64(binary.BigEndian.Uint64(raw)),
		Bytes: int64(binary.BigEndian.Uint64(raw[8:])),
	}, nil
}

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
	s, err := ReadStats(a.b, a.partition)
	if err != nil {
		return err
	}
	s.Items += a.stats.Items
	s.Bytes += a.stats.Bytes
	if err := writeStats(a.b, a.partition, s); err != nil {
		return err
	}
	a.stats, a.statsDirty = Stats{}, false
	return nil
}

// writeStats writes s as partition's statistics.
func writeStats(b *engine.Batch, partition uint64, s Stats) error {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:], uint64(s.Items))
	binary.BigEndian.PutUint64(raw[8:], uint64(s.Bytes))
	if err := b.Set(statsKey(partition), raw[:]); err != nil {
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
	if err := a.b.Delete(statsKey(a.partition)); err != nil {
		return nil, fmt.Errorf("fsm: destroy stats: %w", err)
	}
	return &partitapb.Result{}, nil
}
