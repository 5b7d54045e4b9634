package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/transport"
)

// syncGate holds the engine's fsyncs while it is closed: each waits until
// it opens again, and says it waits on waiting.
type syncGate struct {
	mu      sync.Mutex
	open    chan struct{} // nil: open
	waiting chan struct{}
}

func newSyncGate() *syncGate { return &syncGate{waiting: make(chan struct{}, 64)} }

func (g *syncGate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
}

func (g *syncGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open != nil {
		close(g.open)
		g.open = nil
	}
}

func (g *syncGate) delay() time.Duration {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	if open != nil {
		g.waiting <- struct{}{}
		<-open
	}
	return 0
}

// TestRoundAnswersBeforeItsFsync: a round that applies committed writes
// and appends new entries answers the applied writes before the fsync
// the new entries wait for (Replica.Settle). An answered write survives a
// crash in that fsync: its entry was durable before, and is applied again.
// The new entries, unanswered, may be lost.
func TestRoundAnswersBeforeItsFsync(t *testing.T) {
	fs := engine.NewCrashableMemFS()
	gate := newSyncGate()
	t.Cleanup(gate.release) // a failed test leaves no round waiting
	eng, err := engine.Open(engine.Options{Dir: "db", FS: fs, SyncDelay: gate.delay})
	if err != nil {
		t.Fatal(err)
	}
	s := newSettleStore(t, eng)
	r := s.Replica(2)
	add := func(id string) <-chan replica.Outcome {
		t.Helper()
		ch, err := r.ProposeEvaluated(context.Background(), addCommand(t, id))
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	round := func() {
		t.Helper()
		if err := s.Process([]uint64{2}); err != nil {
			t.Error(err)
		}
	}
	b := add("b")
	round() // b's entry appended and synced; committed, not yet applied
	select {
	case o := <-b:
		t.Fatalf("b answered before it applied: %+v", o)
	default:
	}
	c := add("c")
	gate.close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		round() // applies b, appends c, and waits in c's fsync
	}()
	<-gate.waiting
	select {
	case o := <-b:
		if o.Err != nil {
			t.Fatal(o.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b was not answered while the round waited for its fsync")
	}
	if got := counterOn(t, eng); got != "1" {
		t.Fatalf("counter %s once b is answered: want 1 (its effect visible)", got)
	}
	crashed := fs.CrashClone(0, nil)
	gate.release()
	<-done
	round() // applies c
	if o := <-c; o.Err != nil {
		t.Fatal(o.Err)
	}
	s.Stop()
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}

	// After the crash: b's entry is in the log, and applies again; c's,
	// never synced, is gone.
	eng, err = engine.Open(engine.Options{Dir: "db", FS: crashed})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s, err = store.NewStore(storeConfig(eng))
	if err != nil {
		t.Fatal(err)
	}
	s.SetTransport(transport.NewInmem(1).Connect(1, s))
	defer s.Stop()
	elect(t, s)
	for i := 0; i < 10; i++ {
		round()
	}
	if got := counterOn(t, eng); got != "1" {
		t.Fatalf("counter %s after the crash: want 1 (b applied again, c lost)", got)
	}
}

func storeConfig(eng *engine.Engine) store.Config {
	cfg := store.DefaultConfig()
	cfg.NodeID, cfg.Engine = 1, eng
	return cfg
}

// newSettleStore makes a one-node store whose rounds the test runs
// itself (Process), with partition 2 led by its only voter.
func newSettleStore(t *testing.T, eng *engine.Engine) *store.Store {
	t.Helper()
	s, err := store.NewStore(storeConfig(eng))
	if err != nil {
		t.Fatal(err)
	}
	s.SetTransport(transport.NewInmem(1).Connect(1, s))
	if err := s.Bootstrap(2, []uint64{1}, tableSpan()); err != nil {
		t.Fatal(err)
	}
	elect(t, s)
	// The leader's empty entry, applied.
	for i := 0; i < 10; i++ {
		if err := s.Process([]uint64{2}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// elect makes partition 2's only voter its leader, running the rounds.
func elect(t *testing.T, s *store.Store) {
	t.Helper()
	r := s.Replica(2)
	if err := r.Campaign(); err != nil {
		t.Fatal(err)
	}
	for i := 0; r.Leader() != 1; i++ {
		if i == 100 {
			t.Fatalf("partition 2 elected no leader: %+v", r.Status())
		}
		if err := s.Process([]uint64{2}); err != nil {
			t.Fatal(err)
		}
	}
}
