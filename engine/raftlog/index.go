package raftlog

import (
	"cmp"
	"fmt"
	"slices"

	"go.etcd.io/raft/v3/raftpb"
)

// loc says where an entry lives: 24 bytes per live entry.
type loc struct {
	term uint64
	seg  uint32 // segment number; 0 while recovery has yet to find the entry
	off  uint32 // offset of the encoded entry in the segment
	n    uint32 // its length
}

// partLog is the in-memory state of one partition's log.
type partLog struct {
	hs                  raftpb.HardState
	truncIdx, truncTerm uint64
	lastIdx, lastTerm   uint64 // (truncIdx, truncTerm) when the log is empty
	locs                []loc  // entry truncIdx+1+i at locs[i]; len is lastIdx-truncIdx
	bytes               uint64 // sum of the lengths of the entries
}

// index is the state of every partition and the live entry bytes of every
// segment. Its methods change it only as the log's records say, so that
// writing a record and replaying it leave the same index.
type index struct {
	parts map[uint64]*partLog
	live  map[uint32]int64 // segment number -> bytes of its live entries
}

func newIndex() index {
	return index{parts: make(map[uint64]*partLog), live: make(map[uint32]int64)}
}

// part returns the partition, created empty if the index does not know it.
func (x *index) part(id uint64) *partLog {
	p := x.parts[id]
	if p == nil {
		p = &partLog{}
		x.parts[id] = p
	}
	return p
}

// apply applies o, read from the record whose payload starts at offset base
// of segment seg. Recovery applies every record; Write applies a batch it
// validated, so an error here means a corrupt log or a bug.
func (x *index) apply(o *op, seg, base uint32) error {
	switch o.kind {
	case opAppend:
		return x.append(o.partition, x.part(o.partition), o, seg, base)
	case opRewrite:
		return x.relocate(o.partition, o, seg, base)
	case opHardState:
		x.part(o.partition).hs = o.hs
	case opTruncate:
		x.truncate(x.part(o.partition), o.index, o.term)
	case opReset:
		p := x.part(o.partition)
		x.drop(p, p.locs)
		*p = partLog{hs: p.hs, truncIdx: o.index, truncTerm: o.term, lastIdx: o.index, lastTerm: o.term}
	case opRemove:
		if p := x.parts[o.partition]; p != nil {
			x.drop(p, p.locs)
			delete(x.parts, o.partition)
		}
	default:
		return fmt.Errorf("%s inside a segment", o.kind)
	}
	return nil
}

func (x *index) append(id uint64, p *partLog, o *op, seg, base uint32) error {
	if o.first <= p.truncIdx || o.first > p.lastIdx+1 {
		return fmt.Errorf("partition %d: append at %d to a log holding (%d, %d]", id, o.first, p.truncIdx, p.lastIdx)
	}
	keep := o.first - p.truncIdx - 1
	x.drop(p, p.locs[keep:])
	p.locs = p.locs[:keep]
	var added int64
	for _, e := range o.ents {
		p.locs = append(p.locs, loc{term: e.term, seg: seg, off: base + e.off, n: e.n})
		added += int64(e.n)
	}
	p.bytes += uint64(added)
	x.live[seg] += added
	p.lastIdx = o.first + uint64(len(o.ents)) - 1
	p.lastTerm = o.ents[len(o.ents)-1].term
	return nil
}

// relocate records that o's entries, all live, now also live in seg: GC
// copied them there from an older segment.
func (x *index) relocate(id uint64, o *op, seg, base uint32) error {
	p := x.parts[id]
	if p == nil || o.first <= p.truncIdx || o.first+uint64(len(o.ents))-1 > p.lastIdx {
		return fmt.Errorf("partition %d: rewrite of [%d, %d] outside its log", id, o.first, o.first+uint64(len(o.ents))-1)
	}
	for i, e := range o.ents {
		l := &p.locs[o.first-p.truncIdx-1+uint64(i)]
		if l.seg != 0 {
			if l.term != e.term {
				return fmt.Errorf("partition %d: rewrite of entry %d with term %d, the log has term %d",
					id, o.first+uint64(i), e.term, l.term)
			}
			x.live[l.seg] -= int64(l.n)
			p.bytes -= uint64(l.n)
		}
		*l = loc{term: e.term, seg: seg, off: base + e.off, n: e.n}
		p.bytes += uint64(e.n)
		x.live[seg] += int64(e.n)
	}
	return nil
}

func (x *index) truncate(p *partLog, index, term uint64) {
	switch {
	case index <= p.truncIdx:
		return
	case index >= p.lastIdx:
		x.drop(p, p.locs)
		p.locs = nil
		p.lastIdx, p.lastTerm = index, term
	default:
		k := index - p.truncIdx
		x.drop(p, p.locs[:k])
		p.locs = p.locs[k:]
		if k > 64 && k > uint64(len(p.locs)) {
			// Most of the array is dead: let it go rather than wait
			// for an append to outgrow it.
			p.locs = slices.Clone(p.locs)
		}
	}
	p.truncIdx, p.truncTerm = index, term
}

// drop takes the bytes of entries leaving p's log off the books.
func (x *index) drop(p *partLog, ls []loc) {
	for _, l := range ls {
		if l.seg != 0 {
			x.live[l.seg] -= int64(l.n)
			p.bytes -= uint64(l.n)
		}
	}
}

// checkpoint returns every partition's state, as segment seg records it
// at its start.
func (x *index) checkpoint(seg uint64) checkpoint {
	c := checkpoint{segment: seg, parts: make([]partState, 0, len(x.parts))}
	for id, p := range x.parts {
		c.parts = append(c.parts, partState{id: id, hs: p.hs, truncIdx: p.truncIdx, truncTerm: p.truncTerm,
			lastIdx: p.lastIdx, lastTerm: p.lastTerm})
	}
	slices.SortFunc(c.parts, func(a, b partState) int { return cmp.Compare(a.id, b.id) })
	return c
}

// load starts recovery from the checkpoint of the first segment. The
// entries it implies are holes until replay finds them in rewrite records
// (GC rewrote every live entry of a segment before deleting it) or a later
// record ends them.
func (x *index) load(c *checkpoint) error {
	for _, s := range c.parts {
		if s.lastIdx-s.truncIdx > MaxEntries {
			return fmt.Errorf("checkpoint of partition %d implies %d entries, more than %d", s.id, s.lastIdx-s.truncIdx, MaxEntries)
		}
		x.parts[s.id] = &partLog{hs: s.hs, truncIdx: s.truncIdx, truncTerm: s.truncTerm,
			lastIdx: s.lastIdx, lastTerm: s.lastTerm, locs: make([]loc, s.lastIdx-s.truncIdx)}
	}
	return nil
}

// verify checks that a later segment's checkpoint agrees with the state
// replay reached: it must, as both describe the same moment.
func (x *index) verify(c *checkpoint) error {
	if len(c.parts) != len(x.parts) {
		return fmt.Errorf("checkpoint of segment %d holds %d partitions, replay %d", c.segment, len(c.parts), len(x.parts))
	}
	for _, s := range c.parts {
		p := x.parts[s.id]
		if p == nil || p.hs != s.hs || p.truncIdx != s.truncIdx || p.truncTerm != s.truncTerm ||
			p.lastIdx != s.lastIdx || p.lastTerm != s.lastTerm {
			return fmt.Errorf("checkpoint of segment %d disagrees with replay on partition %d", c.segment, s.id)
		}
	}
	return nil
}

// missing reports an entry recovery did not find: GC deleted a segment
// it still needed, or a segment is lost.
func (x *index) missing() error {
	for id, p := range x.parts {
		for i, l := range p.locs {
			if l.seg == 0 {
				return fmt.Errorf("partition %d: entry %d is in no segment", id, p.truncIdx+1+uint64(i))
			}
		}
	}
	return nil
}
