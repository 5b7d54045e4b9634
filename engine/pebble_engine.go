package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/partitadb/partita/engine/raftlog"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures Open.
type Options struct {
	// Dir is the data directory; created if missing.
	Dir string
	// FS is an in-memory filesystem to open Dir in; nil means the OS's.
	FS *MemFS
	// Logger receives Pebble's log lines; nil discards them.
	Logger *slog.Logger
	// Registerer receives the storage metrics (nil: not registered).
	Registerer prometheus.Registerer
	// CacheBytes is the block cache size (0: 128 MiB).
	CacheBytes int64
	// SyncDelay, if set, is fault injection: every fsync of the engine's
	// files first waits what it returns (0: no wait), read at each sync,
	// so a test can make a node's disk slow and well again while it runs.
	SyncDelay func() time.Duration
	// MemTableBytes is the memtable size (0: 16 MiB). Every write reads
	// the old item, a seek in each memtable; in 64 MiB memtables those
	// seeks took about a fifth of a write's CPU (docs/performance.md).
	MemTableBytes uint64
	// SeparateRaftLog gives a new data directory a raft log of its own
	// (engine/raftlog, in Dir/raftlog) instead of keeping its replicas'
	// raft logs in Pebble: a round's entries then cost an append to one
	// file instead of a memtable insert, WAL bytes, a flush and a
	// compaction each. A directory keeps the layout it was created with,
	// whatever this says. Not yet the default: measured, it is not yet
	// faster (docs/performance-analysis.md).
	SeparateRaftLog bool
}

// Engine is one node's Pebble instance. It is safe for concurrent use.
type Engine struct {
	db  *pebble.DB
	log *raftlog.Log // nil: raft logs are in Pebble
	// logSyncs observes how long a durable raft log write waits (nanos,
	// Pebble's fsync buckets): Health adds it to Pebble's WAL fsyncs,
	// which a raft log of its own leaves rare.
	logSyncs prometheus.Histogram
	// memTable is the memtable size Pebble was opened with.
	memTable uint64
	// compactions is the number of compactions Pebble runs at once
	// (SetCompactionConcurrency); Pebble reads it as it schedules.
	compactions atomic.Int64
}

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("engine: key not found")

// Open opens (or creates) the engine in opts.Dir.
func Open(opts Options) (*Engine, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{}
	e.compactions.Store(1)
	m := newMetrics(e)
	listener := m.eventListener()
	if opts.CacheBytes == 0 {
		opts.CacheBytes = 128 << 20
	}
	if opts.MemTableBytes == 0 {
		opts.MemTableBytes = 16 << 20
	}
	fs := opts.FS.vfs()
	if fs == nil {
		fs = vfs.Default
	}
	fs = slowSyncs(fs, opts.SyncDelay) // the raft log's syncs are the engine's too
	logDir := fs.PathJoin(opts.Dir, "raftlog")
	separate, err := separateRaftLog(fs, opts.Dir, logDir, opts.SeparateRaftLog)
	if err != nil {
		return nil, err
	}
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref() // the DB holds its own reference
	po := &pebble.Options{
		FS:            fs,
		Logger:        pebbleLogger{log: log.With("component", "pebble")},
		EventListener: &listener,
		Cache:         cache,
		MemTableSize:  opts.MemTableBytes,
		CompactionConcurrencyRange: func() (int, int) {
			n := int(e.compactions.Load())
			return n, n
		},
	}
	// Bloom filters on every level (each level has options of its own): a
	// write of a new key reads the old item first, and a filter answers
	// "absent" without a block read.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("engine: open %s: %w", opts.Dir, err)
	}
	e.db, e.memTable = db, opts.MemTableBytes
	if separate {
		e.logSyncs = prometheus.NewHistogram(prometheus.HistogramOpts{Buckets: pebble.FsyncLatencyBuckets})
		if e.log, err = raftlog.Open(raftlog.Options{FS: fs, Dir: logDir, Logger: log.With("component", "raftlog")}); err != nil {
			db.Close()
			return nil, fmt.Errorf("engine: open raft log: %w", err)
		}
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(m); err != nil {
			e.Close()
			return nil, fmt.Errorf("engine: register metrics: %w", err)
		}
	}
	return e, nil
}

// separateRaftLog says whether the data directory dir keeps its raft logs
// in logDir: it does if logDir exists, or if dir holds no Pebble instance
// yet and want says so. A directory holding Pebble's files and no logDir
// was created with the raft logs in Pebble, and keeps them there.
func separateRaftLog(fs vfs.FS, dir, logDir string, want bool) (bool, error) {
	if _, err := fs.Stat(logDir); err == nil {
		return true, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("engine: %s: %w", logDir, err)
	}
	names, err := fs.List(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("engine: list %s: %w", dir, err)
	}
	for _, name := range names {
		if strings.HasPrefix(name, "MANIFEST-") || strings.HasPrefix(name, "marker.manifest") {
			return false, nil // Pebble's: its manifest, or the marker naming it
		}
	}
	return want, nil
}

// Close flushes nothing extra (every commit is already durable) and closes
// the instance.
func (e *Engine) Close() error {
	var lerr error
	if e.log != nil {
		if err := e.log.Close(); err != nil {
			lerr = fmt.Errorf("engine: close raft log: %w", err)
		}
	}
	if err := e.db.Close(); err != nil {
		return errors.Join(lerr, fmt.Errorf("engine: close: %w", err))
	}
	return lerr
}

// Get returns a copy of the value of key, or ErrNotFound.
func (e *Engine) Get(key []byte) ([]byte, error) {
	return get(e.db, key)
}

// NewIndexedBatch returns a batch whose reads see its own writes; apply
// functions read and write through it.
func (e *Engine) NewIndexedBatch() *Batch {
	return &Batch{pb: e.db.NewIndexedBatch(), log: e.log}
}

// RaftLog returns the raft log of its own the engine keeps
// (Options.SeparateRaftLog);
// nil if raft logs are in Pebble.
func (e *Engine) RaftLog() *raftlog.Log { return e.log }

// Commit writes b durably and closes it: its raft log records and its
// Pebble writes. Concurrent commits share fsyncs.
func (e *Engine) Commit(b *Batch) error { return e.commit(b, true, true) }

// CommitNoSync writes b without waiting for an fsync and closes it. Its
// Pebble writes are durable once a later synced commit returns (the WAL
// is one sequence), its raft log records once a later log sync does.
func (e *Engine) CommitNoSync(b *Batch) error { return e.commit(b, false, false) }

// CommitLogSync writes b and closes it once its raft log records are
// durable, and its Pebble writes too where they share the log's WAL (no
// raft log of its own). What a raft round must persist before its
// messages leave: its entries and hard state. The Pebble writes of an
// engine with a raft log of its own are then durable once a later synced
// Pebble commit returns; all they hold is applied from the log, which
// keeps every entry above Pebble's durable applied index.
func (e *Engine) CommitLogSync(b *Batch) error { return e.commit(b, true, e.log == nil) }

// KeepsLogInPebble says the raft logs are in Pebble, sharing its WAL with
// the applied state: a batch holding both is one atomic WAL record.
func (e *Engine) KeepsLogInPebble() bool { return e.log == nil }

// SyncWAL makes every Pebble write committed before it durable. It is
// meant for an engine that keeps its raft logs in Pebble (one WAL).
func (e *Engine) SyncWAL() error {
	if err := e.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("engine: sync: %w", err)
	}
	return nil
}

// commit writes b's raft log records that come first (synced with
// syncLog), its Pebble writes (synced with syncPebble, or when records
// follow them), then the records that follow (synced with syncLog).
func (e *Engine) commit(b *Batch, syncLog, syncPebble bool) error {
	defer b.pb.Close()
	if b.before != nil && !b.before.Empty() {
		if err := e.writeLog(b.before, syncLog); err != nil {
			return err
		}
	}
	after := b.after != nil && !b.after.Empty()
	if !b.pb.Empty() {
		opts := pebble.NoSync
		if syncPebble || after {
			opts = pebble.Sync
		}
		if err := b.pb.Commit(opts); err != nil {
			return fmt.Errorf("engine: commit: %w", err)
		}
	} else if after {
		// Nothing of b's own for Pebble: earlier commits' writes must
		// still be durable before the records that follow them.
		if err := e.db.LogData(nil, pebble.Sync); err != nil {
			return fmt.Errorf("engine: sync: %w", err)
		}
	}
	if after {
		return e.writeLog(b.after, syncLog)
	}
	return nil
}

// writeLog writes lb to the raft log, timing it when it waits for an
// fsync.
func (e *Engine) writeLog(lb *raftlog.Batch, sync bool) error {
	if !sync {
		if err := e.log.Write(lb, false); err != nil {
			return fmt.Errorf("engine: commit raft log: %w", err)
		}
		return nil
	}
	start := time.Now()
	if err := e.log.Write(lb, true); err != nil {
		return fmt.Errorf("engine: commit raft log: %w", err)
	}
	e.logSyncs.Observe(float64(time.Since(start)))
	return nil
}

// NewIter returns an iterator over [lower, upper) of the latest committed
// state; a nil bound is open. The caller closes it.
func (e *Engine) NewIter(lower, upper []byte) (*Iterator, error) {
	return newIter(e.db, lower, upper)
}

// pebbleLogger routes Pebble's log lines to slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug(fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error(fmt.Sprintf(format, args...), "fatal", true)
	panic(fmt.Sprintf(format, args...))
}

// Reader returns the engine's read side: point reads and iterators over
// the latest committed state.
func (e *Engine) Reader() Reader { return e }

func (e *Engine) reader() pebble.Reader { return e.db }

// NewSnapshot returns a consistent, point-in-time view of the engine. The
// caller closes it.
func (e *Engine) NewSnapshot() *Snapshot { return (*Snapshot)(e.db.NewSnapshot()) }

// SetCompactionConcurrency changes how many compactions Pebble runs at
// once (0: 1, Pebble's default). Pebble takes it up at its next change of
// version: the next flush or compaction.
func (e *Engine) SetCompactionConcurrency(n int) {
	e.compactions.Store(int64(max(n, 1)))
}

// MemTableSize is the size of the engine's memtables (Options.MemTableBytes).
func (e *Engine) MemTableSize() uint64 { return e.memTable }

// CompactionConcurrency is the number of compactions Pebble may run at
// once now, as Pebble itself answers it.
func (e *Engine) CompactionConcurrency() int { return e.db.GetAllowedWithoutPermission() }
