package directory_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// TestRecordsRoundTrip writes records under their keys and reads them
// back through the readers every node uses.
func TestRecordsRoundTrip(t *testing.T) {
	eng, err := engine.Open(engine.Options{Dir: "/d", FS: engine.NewMemFS()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	tables := []*partitapb.Table{{Name: "a", Id: 1}, {Name: "b", Id: 2, Partitions: []*partitapb.Partition{{Id: 2, Replicas: []uint64{1}}}}}
	nodes := []*partitapb.Node{{Id: 1, PeerAddr: "x"}, {Id: 300, PeerAddr: "y"}}
	b := eng.NewIndexedBatch()
	for _, tb := range tables {
		raw, err := directory.EncodeTable(tb)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Set(directory.TableKey(tb.GetName()), raw); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes {
		raw, err := directory.EncodeNode(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Set(directory.NodeKey(n.GetId()), raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	gotTables, err := directory.ReadTables(eng.Reader())
	if err != nil || len(gotTables) != 2 || !proto.Equal(gotTables[1], tables[1]) {
		t.Fatalf("ReadTables = %v, %v", gotTables, err)
	}
	gotNodes, err := directory.ReadNodes(eng.Reader())
	if err != nil || len(gotNodes) != 2 || gotNodes[0].GetId() != 1 || gotNodes[1].GetId() != 300 {
		t.Fatalf("ReadNodes = %v, %v (want ids in order 1, 300)", gotNodes, err)
	}
	if tb, err := directory.ReadTable(eng.Reader(), "b"); err != nil || !proto.Equal(tb, tables[1]) {
		t.Fatalf("ReadTable(b) = %v, %v", tb, err)
	}
	if tb, err := directory.ReadTable(eng.Reader(), "missing"); err != nil || tb != nil {
		t.Fatalf("ReadTable(missing) = %v, %v", tb, err)
	}
	if n, err := directory.ReadNode(eng.Reader(), 300); err != nil || n.GetPeerAddr() != "y" {
		t.Fatalf("ReadNode(300) = %v, %v", n, err)
	}
	if _, err := directory.DecodeTable([]byte{0xff, 0xff}); err == nil {
		t.Fatal("a corrupt table record decoded")
	}
}
