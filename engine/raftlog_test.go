package engine_test

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/engine"
)

// A data directory keeps the raft log layout it was created with, whatever
// the options say when it is opened again.
func TestRaftLogLayoutIsTheDirectorys(t *testing.T) {
	for _, inPebble := range []bool{false, true} {
		dir := t.TempDir()
		eng, err := engine.Open(engine.Options{Dir: dir, SeparateRaftLog: !inPebble})
		if err != nil {
			t.Fatal(err)
		}
		if got := eng.RaftLog() == nil; got != inPebble {
			t.Fatalf("created with inPebble=%v: logs in Pebble %v", inPebble, got)
		}
		if err := eng.Close(); err != nil {
			t.Fatal(err)
		}
		eng, err = engine.Open(engine.Options{Dir: dir, SeparateRaftLog: inPebble})
		if err != nil {
			t.Fatal(err)
		}
		if got := eng.RaftLog() == nil; got != inPebble {
			t.Fatalf("reopened, created with inPebble=%v: logs in Pebble %v", inPebble, got)
		}
		eng.Close()
	}
}

// The ordering Commit keeps between the raft log and Pebble, seen through
// crashes that keep only what was synced.
func TestCommitOrdersTheRaftLogAroundPebble(t *testing.T) {
	fs := engine.NewCrashableMemFS()
	eng, err := engine.Open(engine.Options{Dir: "d", FS: fs, SeparateRaftLog: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ents := []raftpb.Entry{{Index: 1, Term: 1, Data: []byte("a")}, {Index: 2, Term: 1, Data: []byte("b")}}

	// A raft round: its entries synced, its applies (Pebble) not.
	b := eng.NewIndexedBatch()
	b.Log().Append(7, ents)
	b.Log().SetHardState(7, raftpb.HardState{Term: 1, Commit: 2})
	if err := b.Set([]byte("applied"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	if err := eng.CommitLogSync(b); err != nil {
		t.Fatal(err)
	}
	crashed := reopen(t, fs)
	if st, ok := crashed.RaftLog().State(7); !ok || st.LastIndex != 2 || st.HardState.Commit != 2 {
		t.Fatalf("after a crash, the round's log: %+v %v", st, ok)
	}
	if _, err := crashed.Get([]byte("applied")); err == nil {
		t.Fatal("the round's Pebble writes were synced: a round must not pay for Pebble's fsync")
	}
	crashed.Close()

	// A trim: the records that follow Pebble's writes are written only
	// once those are durable, even by a commit that syncs nothing else.
	b = eng.NewIndexedBatch()
	if err := b.Set([]byte("applied"), []byte("2")); err != nil {
		t.Fatal(err)
	}
	b.LogAfter().Truncate(7, 2, 1)
	if err := eng.CommitLogSync(b); err != nil {
		t.Fatal(err)
	}
	crashed = reopen(t, fs)
	defer crashed.Close()
	if st, _ := crashed.RaftLog().State(7); st.TruncIndex != 2 {
		t.Fatalf("after a crash, the trim was lost: %+v", st)
	}
	if v, err := crashed.Get([]byte("applied")); err != nil || string(v) != "2" {
		t.Fatalf("the log was trimmed past what Pebble durably applied: %q %v", v, err)
	}
}

// reopen opens the engine a crash at this moment could leave on fs: only
// synced data.
func reopen(t *testing.T, fs *engine.MemFS) *engine.Engine {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: "d", FS: fs.CrashClone(0, nil), SeparateRaftLog: true})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}
