package raftlog

import (
	"fmt"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// rewriteRecordBytes is the size past which GC writes the rewrite record it
// is building and starts another.
const rewriteRecordBytes = 1 << 20

// rotate closes the current segment and starts the next one with a
// checkpoint of every partition's state. The old segment is synced first,
// so that from now on syncing the current segment makes everything
// durable; the checkpoint is synced before rotate returns, so that GC may
// delete every segment before the new one whose entries are dead.
func (l *Log) rotate() error {
	num := uint64(1)
	if len(l.segs) > 0 {
		if err := l.syncLocked(); err != nil {
			return err
		}
		num = l.current().num + 1
	}
	if num > math.MaxUint32 {
		return l.fail(fmt.Errorf("raftlog: segment numbers exhausted"))
	}
	f, err := l.createSegment(num)
	if err != nil {
		return l.fail(err)
	}
	l.mu.Lock()
	l.segs = append(l.segs, newSegment(num, f, 0))
	l.idx.live[uint32(num)] = 0
	l.mu.Unlock()
	ck := op{kind: opCheckpoint, ckpt: l.idx.checkpoint(num)}
	rec := appendOp(make([]byte, headerSize), &ck, nil)
	seal(rec)
	if _, err := l.writeRecord(rec); err != nil {
		return err
	}
	l.log.Debug("raft log segment started", "segment", num, "partitions", len(ck.ckpt.parts))
	return l.syncLocked()
}

// createSegment creates the empty file of segment num, open for positioned
// writes (which vfs promises for files opened with OpenReadWrite only),
// and makes its name durable.
func (l *Log) createSegment(num uint64) (vfs.File, error) {
	path := l.path(segmentName(num))
	f, err := l.fs.Create(path, vfs.WriteCategoryUnspecified) // removes a stale file of that name
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		f, err = l.fs.OpenReadWrite(path, vfs.WriteCategoryUnspecified)
	}
	if err != nil {
		return nil, fmt.Errorf("raftlog: create segment %d: %w", num, err)
	}
	if err := l.syncDir(l.opts.Dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// gc deletes the oldest segments once no live entry is left in them.
// Segments go oldest first only, so that the segments on disk are always
// consecutive and recovery can start from the checkpoint of the first.
// When the closed segments hold much more dead data than live (above
// garbageAllowance), the live entries of the oldest are copied into the
// current segment so that it can go: a quiet partition does not pin old
// segments. GC runs right after a rotation: every record before the new
// segment, and its checkpoint, are durable, so a segment whose entries
// died before may go at once; a segment emptied by rewriting goes once the
// rewrite records are synced.
func (l *Log) gc() error {
	closed := l.segs[:len(l.segs)-1]
	var size, live int64
	for _, s := range closed {
		size += s.size.Load()
		live += l.idx.live[uint32(s.num)]
	}
	// Copy at most twice what was written into the segment just closed
	// (but always make progress), so that a write pays a bounded GC delay
	// yet GC keeps up: holding the dead bytes under half the live ones
	// costs up to two bytes copied per byte written.
	budget := 2 * l.opts.SegmentBytes
	if len(closed) > 0 {
		budget = max(budget, 2*closed[len(closed)-1].size.Load())
	}
	drop, copied := 0, int64(0)
	for ; drop < len(closed); drop++ {
		s := closed[drop]
		n := l.idx.live[uint32(s.num)]
		if n > 0 {
			if size-live <= l.garbageAllowance(live) || (copied > 0 && copied+n > budget) {
				break
			}
			if err := l.rewrite(s); err != nil {
				return err
			}
			copied += n
		}
		size -= s.size.Load()
		live -= n
	}
	l.log.Debug("raft log gc", "closed_segments", len(closed), "deleting", drop, "copied", copied, "budget", budget,
		"dead_left", size-live, "live_left", live)
	if drop == 0 {
		return nil
	}
	if copied > 0 {
		if err := l.syncLocked(); err != nil {
			return err
		}
		l.rewritten.Add(copied)
	}
	return l.remove(closed[:drop])
}

// garbageAllowance is how many dead bytes the closed segments may hold
// before GC copies live entries to free them: two segments, plus half the
// live bytes so that copying costs at most about two bytes written per
// dead byte freed however much is live.
func (l *Log) garbageAllowance(live int64) int64 { return 2*l.opts.SegmentBytes + live/2 }

// rewrite copies the live entries of s into the current segment, in
// records of rewrite operations, leaving none in s.
func (l *Log) rewrite(s *segment) error {
	ids := make([]uint64, 0, len(l.idx.parts))
	for id := range l.idx.parts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	l.gcBuf = append(l.gcBuf[:0], make([]byte, headerSize)...)
	for _, id := range ids {
		p := l.idx.parts[id]
		for i := 0; i < len(p.locs); {
			if p.locs[i].seg != uint32(s.num) {
				i++
				continue
			}
			j, n := i, uint32(0)
			for j < len(p.locs) && p.locs[j].seg == uint32(s.num) && (j == i || n+p.locs[j].n <= rewriteRecordBytes) {
				n += p.locs[j].n
				j++
			}
			var err error
			if l.gcBuf, err = appendRewrite(l.gcBuf, s, id, p.truncIdx+1+uint64(i), p.locs[i:j]); err != nil {
				return l.fail(err)
			}
			i = j
			if len(l.gcBuf) > rewriteRecordBytes {
				if err := l.flushRewrite(); err != nil {
					return err
				}
			}
		}
	}
	if len(l.gcBuf) > headerSize {
		if err := l.flushRewrite(); err != nil {
			return err
		}
	}
	if n := l.idx.live[uint32(s.num)]; n != 0 {
		return l.fail(fmt.Errorf("raftlog: segment %d holds %d live bytes after its rewrite", s.num, n))
	}
	return nil
}

// appendRewrite appends a rewrite operation of the entries at ls, the
// first of which has index first, reading them from s.
func appendRewrite(buf []byte, s *segment, id, first uint64, ls []loc) ([]byte, error) {
	buf = append(buf, byte(opRewrite))
	buf = appendUvarints(buf, id, first, uint64(len(ls)))
	for _, l := range ls {
		buf = appendUvarints(buf, l.term, uint64(l.n))
		at := len(buf)
		buf = append(buf, make([]byte, l.n)...)
		if _, err := s.f.ReadAt(buf[at:], int64(l.off)); err != nil {
			return buf, fmt.Errorf("raftlog: read segment %d at %d for rewrite: %w", s.num, l.off, err)
		}
	}
	return buf, nil
}

// flushRewrite writes the rewrite record in gcBuf and applies it.
func (l *Log) flushRewrite() error {
	if err := l.ops.decode(l.gcBuf[headerSize:]); err != nil {
		return l.fail(fmt.Errorf("raftlog: rewrite encoding: %w", err))
	}
	seal(l.gcBuf)
	err := l.commit(l.gcBuf, l.ops.ops)
	l.gcBuf = append(l.gcBuf[:0], make([]byte, headerSize)...)
	return err
}

// remove deletes the oldest segments gone, whose entries are all dead.
func (l *Log) remove(gone []*segment) error {
	l.mu.Lock()
	l.segs = l.segs[len(gone):]
	for _, s := range gone {
		delete(l.idx.live, uint32(s.num))
	}
	l.mu.Unlock()
	var err error
	for _, s := range gone {
		if err == nil {
			if err = l.fs.Remove(l.path(segmentName(s.num))); err != nil {
				err = fmt.Errorf("raftlog: remove segment %d: %w", s.num, err)
			}
		}
		if cerr := s.unref(); cerr != nil {
			l.log.Warn("raft log: close removed segment", "segment", s.num, "err", cerr)
		}
	}
	if err == nil {
		err = l.syncDir(l.opts.Dir)
	}
	if err != nil {
		return l.fail(err)
	}
	l.log.Debug("raft log segments removed", "first", gone[0].num, "last", gone[len(gone)-1].num)
	return nil
}
