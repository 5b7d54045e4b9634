package raftlog

import (
	"fmt"
	"slices"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// State is what the log holds of a partition.
type State struct {
	HardState raftpb.HardState
	// TruncIndex and TruncTerm are the index and term of the last entry
	// truncated (or of the snapshot the log restarted from): the log's
	// entries start at TruncIndex+1.
	TruncIndex, TruncTerm uint64
	// LastIndex and LastTerm are the last entry's; TruncIndex and
	// TruncTerm when the log holds none.
	LastIndex, LastTerm uint64
	// Bytes is the encoded size of the live entries (raftpb.Entry.Size).
	Bytes uint64
}

// State returns the partition's state; false if the log knows nothing of
// it (it was never written, or was removed).
func (l *Log) State(partition uint64) (State, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	p := l.idx.parts[partition]
	if p == nil {
		return State{}, false
	}
	return State{HardState: p.hs, TruncIndex: p.truncIdx, TruncTerm: p.truncTerm,
		LastIndex: p.lastIdx, LastTerm: p.lastTerm, Bytes: p.bytes}, true
}

// Partitions returns the partitions the log knows, in ascending order.
func (l *Log) Partitions() []uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	ids := make([]uint64, 0, len(l.idx.parts))
	for id := range l.idx.parts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Term returns the term of the partition's entry i, as raft.Storage.Term:
// TruncTerm for TruncIndex, raft.ErrCompacted below it and
// raft.ErrUnavailable past the last index. It does no I/O.
func (l *Log) Term(partition, i uint64) (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	p := l.idx.parts[partition]
	if p == nil {
		p = &partLog{} // an unknown partition has an empty log at 0
	}
	switch {
	case i == p.truncIdx:
		return p.truncTerm, nil
	case i < p.truncIdx:
		return 0, raft.ErrCompacted
	case i > p.lastIdx:
		return 0, raft.ErrUnavailable
	}
	return p.locs[i-p.truncIdx-1].term, nil
}

// Entries returns the partition's entries [lo, hi), as raft.Storage.Entries:
// the first, then as many more as fit in maxSize bytes (0: no limit).
// lo <= TruncIndex gives raft.ErrCompacted; hi > LastIndex+1 an error.
// Entries reads the segment files; it runs concurrently with writes and
// other reads.
func (l *Log) Entries(partition, lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	locs, segs, err := l.locate(partition, lo, hi, maxSize)
	if err != nil || len(locs) == 0 {
		return nil, err
	}
	defer func() {
		for _, s := range segs {
			s.unref()
		}
	}()
	return readEntries(lo, locs, segs)
}

// locate returns where the entries Entries returns live, and a reference
// to each segment run they span.
func (l *Log) locate(partition, lo, hi, maxSize uint64) ([]loc, []*segment, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.shut {
		return nil, nil, ErrClosed
	}
	p := l.idx.parts[partition]
	if p == nil {
		p = &partLog{}
	}
	switch {
	case lo <= p.truncIdx:
		return nil, nil, raft.ErrCompacted
	case hi > p.lastIdx+1:
		return nil, nil, fmt.Errorf("raftlog: partition %d: entries [%d, %d) past last index %d", partition, lo, hi, p.lastIdx)
	case lo >= hi:
		return nil, nil, nil
	}
	span := p.locs[lo-p.truncIdx-1 : hi-p.truncIdx-1]
	n, size := 1, uint64(span[0].n)
	for ; n < len(span); n++ {
		if size += uint64(span[n].n); maxSize > 0 && size > maxSize {
			break
		}
	}
	locs := slices.Clone(span[:n])
	var segs []*segment
	for i, lc := range locs {
		if i > 0 && lc.seg == locs[i-1].seg {
			continue
		}
		s := l.segs[uint64(lc.seg)-l.segs[0].num]
		s.ref()
		segs = append(segs, s)
	}
	return locs, segs, nil
}

// maxReadGap is the largest gap between two entries that one read spans
// rather than two: entries of one record sit a few bytes apart.
const maxReadGap = 64

// readEntries reads and decodes the entries at locs, the first of which has
// index lo; segs holds the segment of each run of locs in one segment.
func readEntries(lo uint64, locs []loc, segs []*segment) ([]raftpb.Entry, error) {
	out := make([]raftpb.Entry, len(locs))
	var buf []byte
	si := -1
	for i := 0; i < len(locs); {
		if i == 0 || locs[i].seg != locs[i-1].seg {
			si++
		}
		s := segs[si]
		start, end := locs[i].off, locs[i].off+locs[i].n
		j := i + 1
		for ; j < len(locs) && locs[j].seg == locs[i].seg && locs[j].off >= end && locs[j].off-end <= maxReadGap; j++ {
			end = locs[j].off + locs[j].n
		}
		buf = slices.Grow(buf[:0], int(end-start))[:end-start]
		if n, err := s.f.ReadAt(buf, int64(start)); n < len(buf) {
			return nil, fmt.Errorf("raftlog: read segment %d at %d: %w", s.num, start, err)
		}
		for k := i; k < j; k++ {
			e, lc := &out[k], locs[k]
			if err := e.Unmarshal(buf[lc.off-start : lc.off-start+lc.n]); err != nil {
				return nil, fmt.Errorf("%w: segment %d at %d: entry %d: %w", ErrCorrupt, s.num, lc.off, lo+uint64(k), err)
			}
			if e.Index != lo+uint64(k) || e.Term != lc.term {
				return nil, fmt.Errorf("%w: segment %d at %d: entry %d/%d where %d/%d belongs",
					ErrCorrupt, s.num, lc.off, e.Index, e.Term, lo+uint64(k), lc.term)
			}
		}
		i = j
	}
	return out, nil
}
