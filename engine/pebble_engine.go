package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
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
}

// Engine is one node's Pebble instance. It is safe for concurrent use.
type Engine struct {
	db *pebble.DB
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
	cache := pebble.NewCache(opts.CacheBytes)
	defer cache.Unref() // the DB holds its own reference
	po := &pebble.Options{
		FS:            slowSyncs(opts.FS.vfs(), opts.SyncDelay),
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
	e.db = db
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(m); err != nil {
			db.Close()
			return nil, fmt.Errorf("engine: register metrics: %w", err)
		}
	}
	return e, nil
}

// Close flushes nothing extra (every commit is already durable) and closes
// the instance.
func (e *Engine) Close() error {
	if err := e.db.Close(); err != nil {
		return fmt.Errorf("engine: close: %w", err)
	}
	return nil
}

// Get returns a copy of the value of key, or ErrNotFound.
func (e *Engine) Get(key []byte) ([]byte, error) {
	return get(e.db, key)
}

// NewIndexedBatch returns a batch whose reads see its own writes; apply
// functions read and write through it.
func (e *Engine) NewIndexedBatch() *Batch { return (*Batch)(e.db.NewIndexedBatch()) }

// Commit writes b durably (fsync of the WAL) and closes it. Concurrent
// commits share fsyncs.
func (e *Engine) Commit(b *Batch) error { return commit(b.pebble(), pebble.Sync) }

// CommitNoSync writes b without waiting for an fsync and closes it. It is
// durable once a later synced commit returns (the WAL is one sequence).
func (e *Engine) CommitNoSync(b *Batch) error { return commit(b.pebble(), pebble.NoSync) }

func commit(b *pebble.Batch, opts *pebble.WriteOptions) error {
	defer b.Close()
	if b.Empty() {
		return nil
	}
	if err := b.Commit(opts); err != nil {
		return fmt.Errorf("engine: commit: %w", err)
	}
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

// CompactionConcurrency is the number of compactions Pebble may run at
// once now, as Pebble itself answers it.
func (e *Engine) CompactionConcurrency() int { return e.db.GetAllowedWithoutPermission() }
