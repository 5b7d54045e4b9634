package ingest_test

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/ingest"
)

func seeds(f *testing.F) {
	g := ingest.Synthetic{Nodes: 5, Replicas: 3, Interval: time.Second, Start: t0}
	for seq := uint64(1); seq <= 3; seq++ {
		b, err := proto.Marshal(g.Snapshot(seq, seq))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x02})
}

// FuzzDecode: arbitrary bytes never panic; what decodes re-encodes and
// decodes to the same snapshot.
func FuzzDecode(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ingest.Decode(data)
		if err != nil {
			if ingest.ReasonOf(err) == "" {
				t.Fatalf("a decode error without a reason: %v", err)
			}
			return
		}
		b, err := proto.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ingest.Decode(b)
		if err != nil || !proto.Equal(s, again) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzAddBlob: arbitrary blobs under their own key or another never panic
// nor stall the ingester, which still builds views and keeps a good
// snapshot afterwards.
func FuzzAddBlob(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &fakeClock{t: t0.Add(2 * time.Second)}
		in := newIngester(t, c, nil)
		key := history.Name{Node: 1, Taken: t0.Add(time.Second), Started: t0, Seq: 1}.Key()
		if s, err := ingest.Decode(data); err == nil {
			key = history.Name{Node: s.Node.Id, Taken: time.Unix(0, s.UnixNanos), Started: time.Unix(0, s.Node.GetStartUnixNanos()), Seq: s.Seq}.Key()
		}
		for _, k := range []string{key, "", "topology/v1/not-a-key"} {
			if err := in.AddBlob(k, data); err != nil && ingest.ReasonOf(err) == "" {
				t.Fatalf("an error without a reason: %v", err)
			}
		}
		_ = in.View()
		good := ingest.Synthetic{Nodes: 3, Replicas: 2, Interval: time.Second, Start: t0.Add(time.Hour)}.Snapshot(9, 1)
		good.UnixNanos = c.Now().UnixNano()
		if err := in.Report(good); err != nil {
			t.Fatalf("a good snapshot after the blob: %v", err)
		}
		if _, ok := in.View().Node(9); !ok {
			t.Fatal("the good snapshot is not in the view")
		}
		st := in.Stats()
		var skipped uint64
		for _, n := range st.Skipped {
			skipped += n
		}
		if st.Added+skipped != 4 {
			t.Fatalf("stats %+v: every blob must be added or skipped", st)
		}
	})
}
