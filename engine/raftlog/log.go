package raftlog

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

var (
	// ErrClosed is returned by a Log used after Close.
	ErrClosed = errors.New("raftlog: closed")
	// ErrInvalidBatch wraps the reason Write refused a batch; nothing of
	// it was written.
	ErrInvalidBatch = errors.New("raftlog: invalid batch")
	// ErrCorrupt wraps the reason Open refused a log: a damaged record
	// before the last segment's tail, or segments that disagree.
	ErrCorrupt = errors.New("raftlog: corrupt log")
)

// MaxEntries is the most entries a partition's log may hold; Write refuses
// an append past it. Raft logs are truncated long before (a follower too far
// behind gets a snapshot); the limit bounds what recovery allocates.
const MaxEntries = 1 << 24

// Log is a node's raft log: every partition's entries and states in one
// sequence of segment files. All methods are safe for concurrent use.
// Writes are serialized; reads run concurrently with them and with each
// other.
type Log struct {
	opts Options
	fs   vfs.FS
	log  *slog.Logger
	lock io.Closer

	// wmu serializes all that writes files or changes the index: Write,
	// Sync, rotation, GC and Close. The fields after it are its own.
	wmu     sync.Mutex
	written uint64 // records written since Open
	failed  error  // a write or sync failed: what reached the disk is unknown, so no more writes
	closed  bool
	ops     opList              // the record being written, decoded
	sim     map[uint64]simState // validate's scratch
	gcBuf   []byte              // the rewrite record GC is building

	synced atomic.Uint64 // records known durable; stored under wmu

	// mu guards the index and the segment list for readers. Both change
	// only under wmu as well, so wmu's holder reads them without mu.
	mu   sync.RWMutex
	idx  index
	segs []*segment // consecutive numbers, oldest first; the last is the current one
	shut bool       // Close ran: reads fail

	syncs     atomic.Int64
	rewritten atomic.Int64
}

// Open opens the log in opts.Dir, creating it if needed, and recovers its
// state: every record of every segment is replayed, a torn tail of the last
// segment (a crash in the middle of a write) is cut off, and writing
// continues at the end of the last segment.
func Open(opts Options) (*Log, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	l := &Log{opts: opts, fs: opts.FS, log: opts.Logger, idx: newIndex(), sim: make(map[uint64]simState)}
	if err := l.fs.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("raftlog: create %s: %w", opts.Dir, err)
	}
	if err := l.syncDir(l.fs.PathDir(opts.Dir)); err != nil {
		return nil, err
	}
	lock, err := l.fs.Lock(l.path(lockName))
	if err != nil {
		return nil, fmt.Errorf("raftlog: lock %s: %w", opts.Dir, err)
	}
	l.lock = lock
	if err := l.open(); err != nil {
		l.release()
		return nil, err
	}
	return l, nil
}

func (l *Log) open() error {
	if err := l.recover(); err != nil {
		return err
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if len(l.segs) == 0 {
		return l.rotate()
	}
	return l.gc()
}

// Close makes everything written durable and closes the files; a file
// that a running read still uses closes when the read is done.
func (l *Log) Close() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed {
		return ErrClosed
	}
	var err error
	if l.failed == nil {
		err = l.syncLocked()
	}
	l.closed = true
	return errors.Join(err, l.release())
}

// release closes the segments and the lock.
func (l *Log) release() error {
	l.mu.Lock()
	segs := l.segs
	l.segs, l.shut = nil, true
	l.mu.Unlock()
	var errs []error
	for _, s := range segs {
		errs = append(errs, s.unref())
	}
	errs = append(errs, l.lock.Close())
	return errors.Join(errs...)
}

// Write writes b's operations as one record to the current segment and
// applies them to the log's state; reads see them when it returns. With
// sync, Write returns only once they, and every record written before them,
// are durable: concurrent syncing writers share fdatasyncs, and a writer
// whose record another's sync covered does not sync again. On
// ErrInvalidBatch nothing was written. Any other error means the log
// failed: it refuses further writes, and whether b reached the disk is
// known only after reopening. Clear b before filling it again.
func (l *Log) Write(b *Batch, sync bool) error {
	seq, err := l.write(b)
	if err != nil || !sync {
		return err
	}
	return l.syncTo(seq)
}

// write writes b and returns the sequence number of its record (of the
// last record, for an empty batch).
func (l *Log) write(b *Batch) (uint64, error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.writable(); err != nil {
		return 0, err
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.Empty() {
		return l.written, nil
	}
	if n := len(b.rec) - headerSize; n > maxPayload {
		return 0, fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidBatch, n, maxPayload)
	}
	if err := l.ops.decode(b.rec[headerSize:]); err != nil {
		return 0, fmt.Errorf("raftlog: batch encoding: %w", err)
	}
	if err := l.validate(l.ops.ops); err != nil {
		return 0, err
	}
	seal(b.rec)
	if err := l.commit(b.rec, l.ops.ops); err != nil {
		return 0, err
	}
	if l.current().size.Load() > l.opts.SegmentBytes {
		if err := l.rotate(); err != nil {
			return 0, err
		}
		if err := l.gc(); err != nil {
			return 0, err
		}
	}
	return l.written, nil
}

// simState is what validation tracks of a partition a batch touches.
type simState struct{ trunc, last uint64 }

// validate checks that ops, in order, apply to the log: that every append
// continues or overwrites a partition's log.
func (l *Log) validate(ops []op) error {
	clear(l.sim)
	for i := range ops {
		o := &ops[i]
		s, ok := l.sim[o.partition]
		if p := l.idx.parts[o.partition]; !ok && p != nil {
			s = simState{trunc: p.truncIdx, last: p.lastIdx}
		}
		switch o.kind {
		case opAppend:
			if o.first <= s.trunc || o.first > s.last+1 {
				return fmt.Errorf("%w: partition %d: append at index %d to a log holding (%d, %d]",
					ErrInvalidBatch, o.partition, o.first, s.trunc, s.last)
			}
			s.last = o.first + uint64(len(o.ents)) - 1
			if s.last-s.trunc > MaxEntries {
				return fmt.Errorf("%w: partition %d: append to %d makes a log of more than %d entries",
					ErrInvalidBatch, o.partition, s.last, MaxEntries)
			}
		case opTruncate:
			if o.index > s.trunc {
				s.trunc, s.last = o.index, max(s.last, o.index)
			}
		case opReset:
			s = simState{trunc: o.index, last: o.index}
		case opRemove:
			s = simState{}
		case opHardState:
		default:
			return fmt.Errorf("raftlog: batch holds a %s", o.kind)
		}
		l.sim[o.partition] = s
	}
	return nil
}

// commit writes the sealed record rec, whose decoded operations are ops,
// and applies them.
func (l *Log) commit(rec []byte, ops []op) error {
	s := l.current()
	off, err := l.writeRecord(rec)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range ops {
		if err := l.idx.apply(&ops[i], uint32(s.num), uint32(off)+headerSize); err != nil {
			return l.fail(fmt.Errorf("raftlog: apply record at %d of segment %d: %w", off, s.num, err))
		}
	}
	return nil
}

// writeRecord appends the sealed record rec to the current segment and
// returns its offset. Writes are positioned: the current segment may be
// one recovery reopened, whose file position is not at its end.
func (l *Log) writeRecord(rec []byte) (int64, error) {
	s := l.current()
	off := s.size.Load()
	if off+int64(len(rec)) > math.MaxUint32 {
		return 0, l.fail(fmt.Errorf("raftlog: segment %d would outgrow 4 GiB", s.num))
	}
	if _, err := s.f.WriteAt(rec, off); err != nil {
		// Part of the record may be in the file: a later record after
		// it would be lost to recovery, so write no more.
		return 0, l.fail(fmt.Errorf("raftlog: write segment %d: %w", s.num, err))
	}
	s.size.Add(int64(len(rec)))
	l.written++
	return off, nil
}

// current returns the segment being written.
func (l *Log) current() *segment { return l.segs[len(l.segs)-1] }

// Sync makes every record written so far durable.
func (l *Log) Sync() error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.writable(); err != nil {
		return err
	}
	return l.syncLocked()
}

// syncTo returns once record seq is durable, syncing unless a sync that
// covered it has happened since.
func (l *Log) syncTo(seq uint64) error {
	if l.synced.Load() >= seq {
		return nil
	}
	// Syncing under wmu honours vfs.File's rule that a file's Write and
	// Sync calls never overlap. Writers that queue on wmu meanwhile write
	// their records next, and the first of them to sync covers the records
	// of all that wrote before it.
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.synced.Load() >= seq {
		return nil
	}
	if err := l.writable(); err != nil {
		return err
	}
	return l.syncLocked()
}

// syncLocked syncs the current segment if it holds records not yet known
// durable. Earlier segments were synced when they were closed.
func (l *Log) syncLocked() error {
	if l.synced.Load() >= l.written {
		return nil
	}
	target := l.written
	if err := l.current().f.SyncData(); err != nil {
		// After a failed fdatasync the kernel may have dropped the dirty
		// pages: nothing written since the last sync can be trusted.
		return l.fail(fmt.Errorf("raftlog: sync segment %d: %w", l.current().num, err))
	}
	l.syncs.Add(1)
	l.synced.Store(target)
	return nil
}

// writable returns why the log may not be written, if it may not.
func (l *Log) writable() error {
	switch {
	case l.closed:
		return ErrClosed
	case l.failed != nil:
		return fmt.Errorf("raftlog: log failed earlier: %w", l.failed)
	}
	return nil
}

// fail makes err the reason the log refuses further writes.
func (l *Log) fail(err error) error {
	if l.failed == nil {
		l.failed = err
		l.log.Error("raft log failed: refusing writes", "err", err)
	}
	return err
}

func (l *Log) path(name string) string { return l.fs.PathJoin(l.opts.Dir, name) }

// syncDir makes the creations, removals and renames of files in dir
// durable.
func (l *Log) syncDir(dir string) error {
	f, err := l.fs.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("raftlog: open directory %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("raftlog: sync directory %s: %w", dir, err)
	}
	return nil
}

// Metrics are the log's gauges and counters.
type Metrics struct {
	Segments       int   // segment files
	DiskBytes      int64 // their total size
	LiveBytes      int64 // of the entries they hold that are still live
	Partitions     int
	Syncs          int64 // fdatasyncs of segments since Open
	RewrittenBytes int64 // of live entries GC copied forward since Open
}

// Metrics returns the log's current metrics.
func (l *Log) Metrics() Metrics {
	l.mu.RLock()
	defer l.mu.RUnlock()
	m := Metrics{Segments: len(l.segs), Partitions: len(l.idx.parts),
		Syncs: l.syncs.Load(), RewrittenBytes: l.rewritten.Load()}
	for _, s := range l.segs {
		m.DiskBytes += s.size.Load()
		m.LiveBytes += l.idx.live[uint32(s.num)]
	}
	return m
}
