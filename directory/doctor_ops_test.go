package directory_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

func openEngine(t *testing.T) *engine.Engine {
	t.Helper()
	eng, err := engine.Open(engine.Options{Dir: "/d", FS: engine.NewMemFS()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng
}

// TestDoctorOpKeysOrderByID: the timeline's keys sort by id (a walk reads
// it oldest first), stay inside DoctorOpsSpan, and the span holds no other
// record of the directory.
func TestDoctorOpKeysOrderByID(t *testing.T) {
	lo, hi := directory.DoctorOpsSpan()
	ids := []uint64{0, 1, 2, 255, 256, 1 << 32, 1<<64 - 1}
	for i, id := range ids {
		k := directory.DoctorOpKey(id)
		if bytes.Compare(k, lo) < 0 || bytes.Compare(k, hi) >= 0 {
			t.Fatalf("DoctorOpKey(%d) = %q outside [%q, %q)", id, k, lo, hi)
		}
		if i > 0 && bytes.Compare(directory.DoctorOpKey(ids[i-1]), k) >= 0 {
			t.Fatalf("DoctorOpKey(%d) does not sort before DoctorOpKey(%d)", ids[i-1], id)
		}
		if got, err := directory.DoctorOpID(k); err != nil || got != id {
			t.Fatalf("DoctorOpID(DoctorOpKey(%d)) = %d, %v", id, got, err)
		}
	}
	others := [][]byte{directory.DoctorLeaseKey(), directory.DoctorSettingsKey(), directory.DoctorTimelineKey(),
		directory.CounterKey(directory.DoctorOpCounter), directory.NodeKey(1), directory.TableKey("doctor-op")}
	for _, k := range others {
		if bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0 {
			t.Fatalf("key %q is inside the timeline's span", k)
		}
		if _, err := directory.DoctorOpID(k); !errors.Is(err, directory.ErrBadDoctorOpKey) {
			t.Fatalf("DoctorOpID(%q) = %v, want ErrBadDoctorOpKey", k, err)
		}
	}
	meta, metaEnd := engine.MetaRange()
	if bytes.Compare(lo, meta) < 0 || bytes.Compare(hi, metaEnd) > 0 {
		t.Fatalf("DoctorOpsSpan [%q, %q) is not in the meta partition's range", lo, hi)
	}
}

func TestDoctorSettingsRoundTrip(t *testing.T) {
	eng := openEngine(t)
	s, err := directory.ReadDoctorSettings(eng.Reader())
	if err != nil || s == nil || s.GetPaused() || len(s.GetGates()) != 0 {
		t.Fatalf("settings never written = %v, %v; want empty settings", s, err)
	}
	want := &partitapb.DoctorSettings{Paused: true, ChangedBy: "ops", Reason: "upgrade", ChangedUnixNanos: 5,
		Gates: map[string]partitapb.GateColor{"a": partitapb.GateColor_RED, "b": partitapb.GateColor_GREEN}}
	raw, err := directory.EncodeDoctorSettings(want)
	if err != nil {
		t.Fatal(err)
	}
	b := eng.NewIndexedBatch()
	if err := b.Set(directory.DoctorSettingsKey(), raw); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	got, err := directory.ReadDoctorSettings(eng.Reader())
	if err != nil || !proto.Equal(got, want) {
		t.Fatalf("ReadDoctorSettings = %v, %v; want %v", got, err, want)
	}
	if _, err := directory.DecodeDoctorSettings([]byte{0xff}); err == nil {
		t.Fatal("a corrupt settings record decoded")
	}
}

// TestScanDoctorOps writes a timeline with gaps (retention deleted some
// ids) and reads it back from several ids and limits.
func TestScanDoctorOps(t *testing.T) {
	eng := openEngine(t)
	b := eng.NewIndexedBatch()
	ids := []uint64{1, 2, 5, 256, 300}
	for _, id := range ids {
		op := &partitapb.DoctorOp{Id: id, Kind: "replace-replica", State: partitapb.DoctorOp_SUCCEEDED,
			Steps: []*partitapb.DoctorStep{{Name: "AddLearner", Attempts: 1}}}
		raw, err := directory.EncodeDoctorOp(op)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Set(directory.DoctorOpKey(id), raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Set(directory.DoctorSettingsKey(), []byte("not an op")); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from  uint64
		limit int
		want  []uint64
	}{
		{0, 0, ids},
		{1, 2, []uint64{1, 2}},
		{3, 0, []uint64{5, 256, 300}},
		{256, 1, []uint64{256}},
		{301, 0, nil},
	} {
		got, err := directory.ScanDoctorOps(eng.Reader(), tc.from, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []uint64
		for _, op := range got {
			gotIDs = append(gotIDs, op.GetId())
		}
		if !slices.Equal(gotIDs, tc.want) {
			t.Fatalf("ScanDoctorOps(from %d, limit %d) = %v, want %v", tc.from, tc.limit, gotIDs, tc.want)
		}
	}
	op, err := directory.ReadDoctorOp(eng.Reader(), 256)
	if err != nil || op.GetId() != 256 || op.GetSteps()[0].GetName() != "AddLearner" {
		t.Fatalf("ReadDoctorOp(256) = %v, %v", op, err)
	}
	if op, err := directory.ReadDoctorOp(eng.Reader(), 3); op != nil || err != nil {
		t.Fatalf("ReadDoctorOp(3), never written = %v, %v; want nil, nil", op, err)
	}
}

func TestDoctorTimelineRoundTrip(t *testing.T) {
	eng := openEngine(t)
	if tl, err := directory.ReadDoctorTimeline(eng.Reader()); err != nil || tl != (directory.DoctorTimeline{}) {
		t.Fatalf("timeline never written = %+v, %v; want zero", tl, err)
	}
	want := directory.DoctorTimeline{Count: 1000, Floor: 1 << 40}
	for _, c := range []struct {
		raw     []byte
		wantErr bool
	}{{directory.EncodeDoctorTimeline(want), false}, {[]byte{1, 2, 3}, true}} {
		b := eng.NewIndexedBatch()
		if err := b.Set(directory.DoctorTimelineKey(), c.raw); err != nil {
			t.Fatal(err)
		}
		if err := eng.Commit(b); err != nil {
			t.Fatal(err)
		}
		tl, err := directory.ReadDoctorTimeline(eng.Reader())
		if (err != nil) != c.wantErr || (!c.wantErr && tl != want) {
			t.Fatalf("ReadDoctorTimeline(%x) = %+v, %v", c.raw, tl, err)
		}
	}
}

func TestDoctorOpTerminal(t *testing.T) {
	terminal := map[partitapb.DoctorOp_State]bool{partitapb.DoctorOp_SUCCEEDED: true, partitapb.DoctorOp_FAILED: true,
		partitapb.DoctorOp_REJECTED: true, partitapb.DoctorOp_STALE: true, partitapb.DoctorOp_ROLLED_BACK: true,
		partitapb.DoctorOp_HELD: true}
	for n := range partitapb.DoctorOp_State_name {
		s := partitapb.DoctorOp_State(n)
		if directory.DoctorOpTerminal(s) != terminal[s] {
			t.Errorf("DoctorOpTerminal(%s) = %v", s, !terminal[s])
		}
	}
}

// TestCacheCarriesDoctorRecords: the lease and the settings survive a
// cache update and a node learnt outside a refresh.
func TestCacheCarriesDoctorRecords(t *testing.T) {
	c := directory.NewCache()
	s := snapshot()
	s.DoctorLease = &partitapb.DoctorLease{Holder: 1, Epoch: 3}
	s.DoctorSettings = &partitapb.DoctorSettings{Paused: true}
	c.Update(s)
	c.AddNode(&partitapb.Node{Id: 9, PeerAddr: "z:7000"})
	got := c.Snapshot()
	if got.DoctorLease.GetEpoch() != 3 || !got.DoctorSettings.GetPaused() {
		t.Fatalf("cached snapshot lost the Doctor's records: lease %v, settings %v", got.DoctorLease, got.DoctorSettings)
	}
}

// FuzzDecodeDoctorOp: any bytes decode to an op or an error, never a
// panic, and a decoded op encodes back to an equal op.
func FuzzDecodeDoctorOp(f *testing.F) {
	raw, err := directory.EncodeDoctorOp(&partitapb.DoctorOp{Id: 7, Kind: "k", Voters: []uint64{1, 2},
		Reasons: []string{"dead"}, Steps: []*partitapb.DoctorStep{{Name: "s", Error: "e"}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff})
	f.Fuzz(func(t *testing.T, raw []byte) {
		op, err := directory.DecodeDoctorOp(raw)
		if err != nil {
			return
		}
		again, err := directory.EncodeDoctorOp(op)
		if err != nil {
			t.Fatalf("a decoded op does not encode: %v", err)
		}
		back, err := directory.DecodeDoctorOp(again)
		if err != nil || !proto.Equal(back, op) {
			t.Fatalf("re-decoded op %v, %v differs from %v", back, err, op)
		}
	})
}
