package replica

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// TestSnapshotSourceCloseAfterAStoppedStream: a snapshot stream that
// stops part way (its follower went away, its deadline passed) leaves its
// reader's iterator open; closing the source closes it, so the engine
// keeps no leaked iterator (which would pin every file and memtable of
// its time) and closes cleanly.
func TestSnapshotSourceCloseAfterAStoppedStream(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	start, end := engine.HashSpan(1, 0, 0)
	desc, err := proto.Marshal(&partitapb.Descriptor{Partition: 7, Spans: []*partitapb.Span{{Start: start, End: end}}})
	if err != nil {
		t.Fatal(err)
	}
	b := eng.NewIndexedBatch()
	if err := b.Set(fsm.DescriptorKey(7), desc); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := b.Set(append(append([]byte(nil), start...), fmt.Sprint("k", i)...), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	src := &SnapshotSource{partition: 7, index: 1, snap: eng.NewSnapshot()}
	rd, err := src.Reader()
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, ok := rd.Next(); ok && read < 3; _, ok = rd.Next() {
		read++
	}
	if read < 3 {
		t.Fatalf("read %d pairs, want 3 before the stream stops", read)
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := eng.Close(); err != nil {
		t.Fatalf("closing the engine after the source: %v", err)
	}
}

// TestHaltReleasesUnsentSnapshots: a snapshot raft asked for a MsgSnap
// that no round sent (the store stopped first) pins a Pebble snapshot.
// Halt releases it, and makes none after, so the engine closes without a
// leaked snapshot.
func TestHaltReleasesUnsentSnapshots(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: "db", FS: engine.NewMemFS()})
	if err != nil {
		t.Fatal(err)
	}
	r := leadSingle(t, eng)
	r.mu.Lock()
	_, err = r.makeSnapshot()
	r.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	r.Halt()
	r.mu.Lock()
	_, err = r.makeSnapshot()
	r.mu.Unlock()
	if err == nil {
		t.Fatal("a snapshot was made after Halt")
	}
	if err := eng.Close(); err != nil {
		t.Fatalf("closing the engine after Halt: %v", err)
	}
}
