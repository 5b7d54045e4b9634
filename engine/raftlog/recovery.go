package raftlog

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// recover rebuilds the index by replaying every segment in order. The
// first segment starts from its checkpoint; every later checkpoint must
// agree with the state replay reached.
func (l *Log) recover() error {
	names, err := l.fs.List(l.opts.Dir)
	if err != nil {
		return fmt.Errorf("raftlog: list %s: %w", l.opts.Dir, err)
	}
	var nums []uint64
	for _, name := range names {
		if seg, ok := strings.CutSuffix(name, tmpSuffix); ok {
			if _, ok := parseSegmentName(seg); !ok {
				continue
			}
			// The copy of a cut that a crash interrupted: the segment
			// it was to replace is there, torn or already cut.
			if err := l.fs.Remove(l.path(name)); err != nil {
				return fmt.Errorf("raftlog: remove %s: %w", name, err)
			}
			continue
		}
		num, ok := parseSegmentName(name)
		if !ok {
			continue
		}
		nums = append(nums, num)
	}
	slices.Sort(nums)
	for i := 1; i < len(nums); i++ {
		if nums[i] != nums[i-1]+1 {
			return fmt.Errorf("%w: segments %d to %d are missing", ErrCorrupt, nums[i-1]+1, nums[i]-1)
		}
	}
	if len(nums) > 0 && nums[len(nums)-1] > math.MaxUint32 {
		return fmt.Errorf("%w: segment number %d out of range", ErrCorrupt, nums[len(nums)-1])
	}
	for i, num := range nums {
		if err := l.replay(num, i == 0, i == len(nums)-1); err != nil {
			return err
		}
	}
	if err := l.idx.missing(); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(l.segs) > 0 {
		if err := l.reopenLast(); err != nil {
			return err
		}
	}
	return l.syncDir(l.opts.Dir)
}

// reopenLast opens the last segment for writing: the log writes on at its
// end. It syncs it first: a process that crashed may have left records in
// it that it never synced, and they must be durable before later ones are.
func (l *Log) reopenLast() error {
	s := l.current()
	f, err := l.fs.OpenReadWrite(l.path(segmentName(s.num)), vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("raftlog: open segment %d for writing: %w", s.num, err)
	}
	if err := f.SyncData(); err != nil {
		f.Close()
		return fmt.Errorf("raftlog: sync segment %d: %w", s.num, err)
	}
	old := s.f
	s.f = f
	return old.Close()
}

// replay applies the records of segment num and adds it to the segment
// list. The tail of the last segment may be torn: it is cut off, or the
// whole segment removed if not even its checkpoint is whole. Anywhere else
// a bad record is corruption.
func (l *Log) replay(num uint64, first, last bool) error {
	name := segmentName(num)
	f, err := l.fs.Open(l.path(name))
	if err != nil {
		return fmt.Errorf("raftlog: open segment %s: %w", name, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("raftlog: stat segment %s: %w", name, err)
	}
	size := st.Size()
	rr := newRecordReader(f, size)
	var torn error
	records := 0
	for ; ; records++ {
		off := rr.off
		payload, err := rr.next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, errTorn) {
			torn = err
			break
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("raftlog: read segment %s at %d: %w", name, off, err)
		}
		if err := l.replayRecord(num, records == 0, first, payload, off); err != nil {
			f.Close()
			return fmt.Errorf("%w: segment %s, record at offset %d: %w", ErrCorrupt, name, off, err)
		}
	}
	switch {
	case torn != nil && !last:
		f.Close()
		return fmt.Errorf("%w: segment %s, record at offset %d: %w", ErrCorrupt, name, rr.off, torn)
	case records == 0 && !last:
		f.Close()
		return fmt.Errorf("%w: segment %s holds no record", ErrCorrupt, name)
	case records == 0:
		// A crash before the checkpoint of a new segment was synced.
		f.Close()
		l.log.Warn("raft log: removing segment without a whole record", "segment", num, "size", size)
		if err := l.fs.Remove(l.path(name)); err != nil {
			return fmt.Errorf("raftlog: remove segment %s: %w", name, err)
		}
		return nil
	case torn != nil:
		l.log.Warn("raft log: cutting torn tail", "segment", num, "offset", rr.off, "size", size, "err", torn)
		f.Close()
		if f, err = l.cut(name, rr.off); err != nil {
			return err
		}
		size = rr.off
	}
	l.segs = append(l.segs, newSegment(num, f, size))
	l.idx.live[uint32(num)] += 0 // a segment without live entries is still on the books
	return nil
}

// replayRecord applies the record at offset off of segment num.
func (l *Log) replayRecord(num uint64, firstRecord, firstSegment bool, payload []byte, off int64) error {
	if err := l.ops.decode(payload); err != nil {
		return err
	}
	ops := l.ops.ops
	if !firstRecord {
		for i := range ops {
			if err := l.idx.apply(&ops[i], uint32(num), uint32(off)+headerSize); err != nil {
				return err
			}
		}
		return nil
	}
	if len(ops) != 1 || ops[0].kind != opCheckpoint {
		return errors.New("the segment does not start with a checkpoint")
	}
	c := &ops[0].ckpt
	if c.segment != num {
		return fmt.Errorf("the checkpoint is segment %d's", c.segment)
	}
	if firstSegment {
		return l.idx.load(c)
	}
	return l.idx.verify(c)
}

// cut shortens segment name to its first end bytes: it copies them to a
// new file that then replaces the segment (vfs has no truncate). A crash
// leaves either the old segment, cut again at the next Open, or the new
// one, and perhaps the copy, which recovery removes.
func (l *Log) cut(name string, end int64) (vfs.File, error) {
	path, tmp := l.path(name), l.path(name+tmpSuffix)
	if err := l.copyPrefix(path, tmp, end); err != nil {
		return nil, fmt.Errorf("raftlog: cut segment %s: %w", name, err)
	}
	if err := l.fs.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("raftlog: cut segment %s: %w", name, err)
	}
	if err := l.syncDir(l.opts.Dir); err != nil {
		return nil, err
	}
	f, err := l.fs.Open(path)
	if err != nil {
		return nil, fmt.Errorf("raftlog: open segment %s: %w", name, err)
	}
	return f, nil
}

// copyPrefix writes the first n bytes of file src to a new, synced file
// dst.
func (l *Log) copyPrefix(src, dst string, n int64) (err error) {
	in, err := l.fs.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := l.fs.Create(dst, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, io.NewSectionReader(in, 0, n)); err != nil {
		return err
	}
	return out.Sync()
}
