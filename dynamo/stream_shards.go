package dynamo

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/store"
)

// ChangeReader is the part of a Backend that serves DynamoDB Streams: the
// pages of partitions' change logs, read wherever a replica is (the
// router implements it). A Backend without it answers the streams
// operations with a ValidationException.
type ChangeReader interface {
	ReadChanges(ctx context.Context, req store.ChangesRequest) (store.ChangesPage, error)
	// FreshTable is Backend.Table read from the directory, not a cache:
	// a stream's shards follow the table's partitions as they split.
	FreshTable(ctx context.Context, name string) (*partitapb.Table, error)
}

// stateOnly is an After past any sequence: a read of a log's state and
// segments without records.
const stateOnly = math.MaxUint64 / 2

// shard is one shard of a stream: a segment of a partition's change log,
// [ID.Start, End] (End 0: open, the partition's current segment).
type shard struct {
	ID     shardID
	End    uint64
	Parent *shardID
	// first is the first sequence the log still holds in the shard.
	first uint64
	// parentRef is the parent log end a segment names, resolved to a
	// shard once every partition's shards are known.
	parentRef *partitapb.ChangeParent
}

// segmentBounds returns the first sequences of a log's segments, in
// order: 1, then where each split or merge started a new one.
func segmentBounds(segs []*partitapb.ChangeSegment) []uint64 {
	bounds := []uint64{1}
	for _, s := range segs {
		if f := s.GetFirstSeq(); f > bounds[len(bounds)-1] {
			bounds = append(bounds, f)
		}
	}
	return bounds
}

// shardEnd returns the end of the shard of a log with segments segs that
// starts at start (0: open), and false when no shard starts there.
func shardEnd(segs []*partitapb.ChangeSegment, start uint64) (uint64, bool) {
	bounds := segmentBounds(segs)
	for i, b := range bounds {
		if b != start {
			continue
		}
		if i+1 < len(bounds) {
			return bounds[i+1] - 1, true
		}
		return 0, true
	}
	return 0, false
}

// partitionShards lists the shards of partition's log as page (a state
// read) shows it, the ones trimmed whole left out.
func partitionShards(partition uint64, page store.ChangesPage) []shard {
	bounds := segmentBounds(page.Segments)
	var out []shard
	for i, b := range bounds {
		sh := shard{ID: shardID{partition, b}, first: max(b, page.First)}
		if i+1 < len(bounds) {
			sh.End = bounds[i+1] - 1
			if sh.End < page.First {
				continue
			}
		}
		if i > 0 {
			sh.Parent = &shardID{partition, bounds[i-1]}
		} else if len(page.Segments) > 0 && page.Segments[0].GetFirstSeq() == 1 && len(page.Segments[0].GetParents()) > 0 {
			sh.parentRef = page.Segments[0].GetParents()[0]
		}
		out = append(out, sh)
	}
	return out
}

// streamShards lists the shards of t's stream, partition by partition,
// with their parents. A disabled stream's shards are all closed.
func (s *Server) streamShards(ctx context.Context, cr ChangeReader, t *partitapb.Table, st *partitapb.StreamInfo) ([]shard, error) {
	parts := append([]*partitapb.Partition(nil), t.GetPartitions()...)
	sort.Slice(parts, func(i, j int) bool { return parts[i].GetId() < parts[j].GetId() })
	bounds := map[uint64][]uint64{}
	var all []shard
	for _, p := range parts {
		page, err := cr.ReadChanges(ctx, store.ChangesRequest{Partition: p.GetId(), After: stateOnly})
		if err != nil {
			return nil, fmt.Errorf("dynamo: shards of partition %d: %w", p.GetId(), err)
		}
		bounds[p.GetId()] = segmentBounds(page.Segments)
		shards := partitionShards(p.GetId(), page)
		if st.GetDisabledUnixNanos() != 0 && len(shards) > 0 {
			last := &shards[len(shards)-1]
			if last.End == 0 && page.Last >= last.ID.Start {
				last.End = page.Last
			}
		}
		all = append(all, shards...)
	}
	for i := range all {
		ref := all[i].parentRef
		if ref == nil {
			continue
		}
		b := bounds[ref.GetPartition()]
		j := sort.Search(len(b), func(j int) bool { return b[j] > ref.GetLastSeq() })
		if j > 0 {
			all[i].Parent = &shardID{ref.GetPartition(), b[j-1]}
		}
	}
	return all, nil
}
