package replica

import (
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/engine"
)

func memEngine(t testing.TB) *engine.Engine { return memEngineLogIn(t, true) }

// memEngineLogIn opens an in-memory engine that keeps its raft logs in
// Pebble (inPebble: a data directory created before engine/raftlog) or in
// a log of their own.
func memEngineLogIn(t testing.TB, inPebble bool) *engine.Engine {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: "db", FS: engine.NewMemFS(), SeparateRaftLog: !inPebble})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

func commit(t *testing.T, eng *engine.Engine, f func(b *engine.Batch) error) {
	t.Helper()
	b := eng.NewIndexedBatch()
	if err := f(b); err != nil {
		b.Close()
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
}

// TestRaftStorageAppendTruncateReload exercises the raft.Storage contract
// over Pebble: appends replace conflicting tails, truncation compacts, and
// a reload from disk sees the same log without the cache.
func TestRaftStorageAppendTruncateReload(t *testing.T) {
	for _, inPebble := range []bool{false, true} {
		t.Run(fmt.Sprintf("inPebble=%v", inPebble), func(t *testing.T) { testRaftStorage(t, memEngineLogIn(t, inPebble)) })
	}
}

func testRaftStorage(t *testing.T, eng *engine.Engine) {
	const p = 7
	commit(t, eng, func(b *engine.Batch) error { return Bootstrap(b, p, []uint64{1, 2, 3}, nil) })
	s, err := loadRaftStorage(eng, p, 1<<20, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := s.FirstIndex(); fi != initialIndex+1 {
		t.Fatalf("first index %d after bootstrap", fi)
	}
	if term, _ := s.Term(initialIndex); term != initialTerm {
		t.Fatalf("term of the initial index = %d", term)
	}
	hs, cs, _ := s.InitialState()
	if hs.Commit != initialIndex || len(cs.Voters) != 3 {
		t.Fatalf("initial state %v %v", hs, cs)
	}
	commit(t, eng, func(b *engine.Batch) error { return s.append(b, ents(11, 31, 6)) })
	commit(t, eng, func(b *engine.Batch) error { return s.append(b, ents(25, 27, 7)) }) // replaces 25..30
	if li, _ := s.LastIndex(); li != 26 {
		t.Fatalf("last index %d after a replacing append, want 26", li)
	}
	if _, err := s.Entries(20, 28, 0); err == nil {
		t.Fatal("entries beyond the last index returned")
	}
	commit(t, eng, func(b *engine.Batch) error { return s.truncate(b, 15) })
	if _, err := s.Entries(14, 16, 0); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("truncated entries: %v, want ErrCompacted", err)
	}
	if _, err := s.Term(14); !errors.Is(err, raft.ErrCompacted) {
		t.Fatalf("term of a truncated entry: %v", err)
	}
	reloaded, err := loadRaftStorage(eng, p, 0, 0, 0) // no cache: reads from Pebble
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*raftStorage{s, reloaded} {
		fi, _ := st.FirstIndex()
		li, _ := st.LastIndex()
		got, err := st.Entries(fi, li+1, 0)
		if err != nil || fi != 16 || li != 26 || len(got) != 11 {
			t.Fatalf("log [%d, %d]: %d entries, %v", fi, li, len(got), err)
		}
		if got[len(got)-1].Term != 7 || got[0].Term != 6 {
			t.Fatalf("terms %d..%d, want 6..7", got[0].Term, got[len(got)-1].Term)
		}
		if term, _ := st.Term(15); term != 6 {
			t.Fatalf("term of the truncation point = %d, want 6", term)
		}
	}
	// Restoring a snapshot empties the log and moves its start.
	commit(t, eng, func(b *engine.Batch) error {
		return s.restore(b, raftpb.SnapshotMetadata{Index: 100, Term: 9, ConfState: raftpb.ConfState{Voters: []uint64{4}}})
	})
	reloaded, err = loadRaftStorage(eng, p, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := reloaded.FirstIndex(); fi != 101 {
		t.Fatalf("first index after restore = %d", fi)
	}
	if li, _ := reloaded.LastIndex(); li != 100 {
		t.Fatalf("last index after restore = %d", li)
	}
	if _, cs, _ := reloaded.InitialState(); len(cs.Voters) != 1 || cs.Voters[0] != 4 {
		t.Fatalf("conf state after restore = %v", cs)
	}
}

// BenchmarkAppendEntry appends one entry of 1 KiB to a round's batch in
// the Pebble layout, as a leader's round does for each write.
func BenchmarkAppendEntry(b *testing.B) {
	eng := memEngineLogIn(b, true)
	const p = 7
	batch := eng.NewIndexedBatch()
	if err := Bootstrap(batch, p, []uint64{1}, nil); err != nil {
		b.Fatal(err)
	}
	if err := eng.Commit(batch); err != nil {
		b.Fatal(err)
	}
	s, err := loadRaftStorage(eng, p, 1<<20, 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 1024)
	batch = eng.NewIndexedBatch()
	defer func() { batch.Close() }()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%256 == 255 { // a round's batch holds a few hundred entries at most
			batch.Close()
			batch = eng.NewIndexedBatch()
		}
		e := raftpb.Entry{Index: initialIndex + 1 + uint64(i), Term: 1, Data: data}
		if err := s.append(batch, []raftpb.Entry{e}); err != nil {
			b.Fatal(err)
		}
	}
}
