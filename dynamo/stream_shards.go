package dynamo

import (
	"context"
	"fmt"
	"math"
	"slices"
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
	// DeletedTables lists the records kept, under hidden names, for the
	// streams of deleted tables (directory.IsDeleted), read from the
	// directory.
	DeletedTables(ctx context.Context) ([]*partitapb.Table, error)
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
	// holder is the partition that adopted the log of ID.Partition at a
	// merge and serves it now (0: ID.Partition serves its own log).
	holder uint64
	// refs are the parent log ends the shard's segment names (a merge's
	// names both halves), resolved to shards once every log is known.
	refs []*partitapb.ChangeParent
	// after are all the shards refs resolve to, and the partition's
	// previous segment: the shards listed before this one.
	after []shardID
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

// logShardEnd is shardEnd of the log page read (a state read): an adopted
// log (a merged-away partition's) takes no more records, so its last
// shard ends at its last sequence.
func logShardEnd(page store.ChangesPage, start uint64, adopted bool) (uint64, bool) {
	end, ok := shardEnd(page.Segments, start)
	if ok && end == 0 && adopted {
		end = page.Last
	}
	return end, ok
}

// partitionShards lists the shards of partition's log as page (a state
// read) shows it, the ones trimmed whole left out.
func partitionShards(partition uint64, page store.ChangesPage) []shard {
	bounds := segmentBounds(page.Segments)
	refs := map[uint64][]*partitapb.ChangeParent{}
	for _, seg := range page.Segments {
		refs[seg.GetFirstSeq()] = seg.GetParents()
	}
	var out []shard
	for i, b := range bounds {
		sh := shard{ID: shardID{partition, b}, first: max(b, page.First), refs: refs[b]}
		if i+1 < len(bounds) {
			sh.End = bounds[i+1] - 1
			if sh.End < page.First {
				continue
			}
		}
		if i > 0 {
			sh.Parent = &shardID{partition, bounds[i-1]}
			sh.after = []shardID{*sh.Parent}
		}
		out = append(out, sh)
	}
	return out
}

// closeLast ends the last of a log's shards at last, the log's last
// sequence, when it is open: a disabled stream's shards are all closed,
// and an open one that holds no record (no sequence to end it at) is
// left out.
func closeLast(shards []shard, last uint64) []shard {
	if len(shards) == 0 {
		return shards
	}
	sh := &shards[len(shards)-1]
	switch {
	case sh.End != 0:
	case last >= sh.ID.Start:
		sh.End = last
	default:
		return shards[:len(shards)-1]
	}
	return shards
}

// streamShards lists the shards of t's stream: each partition's, then
// those of the logs it adopted at merges (closed), in an order where
// every shard comes after all its parents (both halves of a merge). A
// disabled stream's shards are all closed.
func (s *Server) streamShards(ctx context.Context, cr ChangeReader, t *partitapb.Table, st *partitapb.StreamInfo) ([]shard, error) {
	parts := append([]*partitapb.Partition(nil), t.GetPartitions()...)
	sort.Slice(parts, func(i, j int) bool { return parts[i].GetId() < parts[j].GetId() })
	current := map[uint64]bool{}
	for _, p := range parts {
		current[p.GetId()] = true
	}
	bounds := map[uint64][]uint64{}
	var all []shard
	for _, p := range parts {
		page, err := cr.ReadChanges(ctx, store.ChangesRequest{Partition: p.GetId(), After: stateOnly})
		if err != nil {
			return nil, fmt.Errorf("dynamo: shards of partition %d: %w", p.GetId(), err)
		}
		bounds[p.GetId()] = segmentBounds(page.Segments)
		shards := partitionShards(p.GetId(), page)
		if st.GetDisabledUnixNanos() != 0 {
			shards = closeLast(shards, page.Last)
		}
		all = append(all, shards...)
		adopted, err := adoptedShards(ctx, cr, p.GetId(), page.Segments, current, bounds)
		if err != nil {
			return nil, err
		}
		all = append(all, adopted...)
	}
	for i := range all {
		resolveParents(&all[i], bounds)
	}
	return parentsFirst(all), nil
}

// adoptedShards lists the shards of the logs holder adopted at merges:
// the merged-away partitions its segments (and theirs, for a merge of a
// partition that had merged before) name as parents. Each is closed at
// its last sequence; a log dropped after the retention has none.
func adoptedShards(ctx context.Context, cr ChangeReader, holder uint64, segs []*partitapb.ChangeSegment, current map[uint64]bool, bounds map[uint64][]uint64) ([]shard, error) {
	var out []shard
	seen := map[uint64]bool{}
	var queue []uint64
	push := func(segs []*partitapb.ChangeSegment) {
		for _, seg := range segs {
			for _, ref := range seg.GetParents() {
				if o := ref.GetPartition(); !current[o] && o != holder && !seen[o] {
					seen[o] = true
					queue = append(queue, o)
				}
			}
		}
	}
	push(segs)
	for len(queue) > 0 {
		origin := queue[0]
		queue = queue[1:]
		page, err := cr.ReadChanges(ctx, store.ChangesRequest{Partition: holder, Origin: origin, After: stateOnly})
		if err != nil {
			return nil, fmt.Errorf("dynamo: shards of partition %d adopted by %d: %w", origin, holder, err)
		}
		if page.Last < page.First {
			continue // dropped after the retention, or nothing retained
		}
		bounds[origin] = segmentBounds(page.Segments)
		shards := closeLast(partitionShards(origin, page), page.Last)
		for i := range shards {
			shards[i].holder = holder
		}
		out = append(out, shards...)
		push(page.Segments)
	}
	return out, nil
}

// resolveParents turns the parent log ends sh's segment names into
// shards: the first becomes sh's ParentShardId when the partition's
// previous segment is not (DynamoDB names one parent; after a merge it is
// the left half's segment, the partition's own), and all order the
// listing.
func resolveParents(sh *shard, bounds map[uint64][]uint64) {
	for _, ref := range sh.refs {
		b := bounds[ref.GetPartition()]
		j := sort.Search(len(b), func(j int) bool { return b[j] > ref.GetLastSeq() })
		if j == 0 {
			continue
		}
		id := shardID{ref.GetPartition(), b[j-1]}
		if sh.Parent == nil {
			sh.Parent = &id
		}
		if !slices.Contains(sh.after, id) {
			sh.after = append(sh.after, id)
		}
	}
}

// parentsFirst orders shards so that each comes after all the shards it
// follows that are listed, keeping the given order otherwise.
func parentsFirst(shards []shard) []shard {
	listed := map[shardID]bool{}
	for _, sh := range shards {
		listed[sh.ID] = true
	}
	out := make([]shard, 0, len(shards))
	done := map[shardID]bool{}
	for len(out) < len(shards) {
		progress := false
		for _, sh := range shards {
			if done[sh.ID] || !ready(sh, listed, done) {
				continue
			}
			out = append(out, sh)
			done[sh.ID], progress = true, true
		}
		if !progress { // a cycle: cannot happen; keep the rest as they are
			for _, sh := range shards {
				if !done[sh.ID] {
					out = append(out, sh)
					done[sh.ID] = true
				}
			}
		}
	}
	return out
}

// ready says whether every listed shard sh follows is done.
func ready(sh shard, listed, done map[shardID]bool) bool {
	for _, p := range sh.after {
		if listed[p] && !done[p] && p != sh.ID {
			return false
		}
	}
	return true
}

// shardRequest returns the request that reads shard id of t's stream:
// its partition's own log, or the log a merge's left half adopted (found
// by listing the stream's shards). false when the stream lists no such
// shard.
func (s *Server) shardRequest(ctx context.Context, cr ChangeReader, t *partitapb.Table, st *partitapb.StreamInfo, id shardID) (store.ChangesRequest, bool, error) {
	if tableHasPartition(t, id.Partition) {
		return store.ChangesRequest{Partition: id.Partition}, true, nil
	}
	shards, err := s.streamShards(ctx, cr, t, st)
	if err != nil {
		return store.ChangesRequest{}, false, err
	}
	for _, sh := range shards {
		if sh.ID == id && sh.holder != 0 {
			return store.ChangesRequest{Partition: sh.holder, Origin: id.Partition}, true, nil
		}
	}
	return store.ChangesRequest{}, false, nil
}

// withinStream bounds the shards of t's stream st, as DescribeStream
// lists them, by the stream's cuts (docs/streams.md, "Status"): a shard
// of a partition whose log the stream starts after sequence c starts at
// c+1 at the earliest, one whose log it ends at sequence e ends there at
// the latest. A shard left with no sequence of the stream (closed before
// its start, or begun after its end) is not the stream's: it is left out,
// and a shard naming it as its parent names none.
func withinStream(t *partitapb.Table, st *partitapb.StreamInfo, shards []shard) []shard {
	out := shards[:0]
	dropped := map[shardID]bool{}
	for _, sh := range shards {
		if c := streamStart(t, st, sh.ID.Partition); c > 0 {
			sh.first = max(sh.first, c+1)
		}
		closed := sh.End != 0
		if e, ok := streamEnd(t, st, sh.ID.Partition); ok && (!closed || sh.End > e) {
			sh.End, closed = e, true
		}
		if closed && sh.End < sh.first {
			dropped[sh.ID] = true
			continue
		}
		out = append(out, sh)
	}
	for i := range out {
		if p := out[i].Parent; p != nil && dropped[*p] {
			out[i].Parent = nil
		}
	}
	return out
}
