package kv

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

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
func ReadStats(r pebble.Reader, partition uint64) (Stats, error) {
	raw, err := engine.Get(r, statsKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return Stats{}, nil
	}
	if err != nil {
		return Stats{}, fmt.Errorf("kv: read stats: %w", err)
	}
	return DecodeStats(partition, raw)
}

// DecodeStats decodes the statistics record of partition (nil: none yet).
func DecodeStats(partition uint64, raw []byte) (Stats, error) {
	if raw == nil {
		return Stats{}, nil
	}
	if len(raw) != 16 {
		return Stats{}, fmt.Errorf("kv: stats of partition %d are corrupt", partition)
	}
	return Stats{
		Items: int64(binary.BigEndian.Uint64(raw)),
		Bytes: int64(binary.BigEndian.Uint64(raw[8:])),
	}, nil
}

func addStats(b *pebble.Batch, partition uint64, items, bytes int64) error {
	s, err := ReadStats(b, partition)
	if err != nil {
		return err
	}
	s.Items += items
	s.Bytes += bytes
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:], uint64(s.Items))
	binary.BigEndian.PutUint64(raw[8:], uint64(s.Bytes))
	if err := b.Set(statsKey(partition), raw[:], nil); err != nil {
		return fmt.Errorf("kv: write stats: %w", err)
	}
	return nil
}

func applyDestroyRange(b *pebble.Batch, partition uint64, op *partitapb.DestroyRange) (*partitapb.Result, error) {
	start, end := engine.HashSpan(op.GetTableId(), op.GetHashStart(), op.GetHashEnd())
	if err := b.DeleteRange(start, end, nil); err != nil {
		return nil, fmt.Errorf("kv: destroy range: %w", err)
	}
	if err := b.Delete(statsKey(partition), nil); err != nil {
		return nil, fmt.Errorf("kv: destroy stats: %w", err)
	}
	return &partitapb.Result{}, nil
}
