package engine_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
)

// fsyncsOver counts the fsyncs of e's histogram slower than d.
func fsyncsOver(e *engine.Engine, d time.Duration) uint64 {
	var atMost, all uint64
	for _, b := range e.Health().Fsync {
		if b.UpperBound <= d {
			atMost = b.Count
		}
		all = b.Count
	}
	return all - atMost
}

// SyncDelay slows every fsync while it says so, and the engine's own fsync
// histogram (what topology snapshots report) sees it.
func TestSyncDelay(t *testing.T) {
	var delay atomic.Int64
	e, err := engine.Open(engine.Options{Dir: "/data", FS: engine.NewMemFS(),
		SyncDelay: func() time.Duration { return time.Duration(delay.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	commit := func(n int) {
		t.Helper()
		for i := range n {
			b := e.NewIndexedBatch()
			if err := b.Set([]byte(fmt.Sprint("k", i)), []byte("v")); err != nil {
				t.Fatal(err)
			}
			if err := e.Commit(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	commit(5)
	// A disk may be slow by itself now and then: the delay is judged by
	// the slow fsyncs it adds to those before it.
	before := fsyncsOver(e, 50*time.Millisecond)
	delay.Store(int64(60 * time.Millisecond))
	commit(3)
	// Pebble's WAL writer releases a commit waiting for its fsync before it
	// records the fsync's latency: the last one may land just after Commit
	// returns.
	deadline := time.Now().Add(5 * time.Second)
	for fsyncsOver(e, 50*time.Millisecond)-before < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if slow := fsyncsOver(e, 50*time.Millisecond) - before; slow < 3 {
		t.Fatalf("%d more fsyncs over 50ms with a 60ms delay, want at least 3", slow)
	}
}

// SyncDelay still slows the WAL's fsyncs once Pebble writes a recycled
// WAL file: a file reused for writing is wrapped too. Before, errorfs
// handed it back unwrapped, and a slow disk turned fast again after the
// first memtable flushes (a harmful rollout on processes passed every
// stage).
func TestSyncDelayOnRecycledWALs(t *testing.T) {
	var asked atomic.Int64
	e, err := engine.Open(engine.Options{Dir: "/data", FS: engine.NewMemFS(), MemTableBytes: 1 << 20,
		SyncDelay: func() time.Duration { asked.Add(1); return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	value := make([]byte, 4<<10)
	commit := func(from, n int) {
		t.Helper()
		for i := range n {
			b := e.NewIndexedBatch()
			if err := b.Set([]byte(fmt.Sprint("k", from+i)), value); err != nil {
				t.Fatal(err)
			}
			if err := e.Commit(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	// 16 MiB through 1 MiB memtables: many flushes, WALs recycled.
	commit(0, 4096)
	asked.Store(0)
	commit(4096, 3)
	if n := asked.Load(); n < 3 {
		t.Fatalf("%d syncs asked the delay for 3 synced commits on a recycled WAL, want at least 3", n)
	}
}
