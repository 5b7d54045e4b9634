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
