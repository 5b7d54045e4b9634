package raftlog

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/raft/v3/raftpb"
)

// FuzzDecodeRecord feeds arbitrary bytes to the record decoder, as a
// framed record and, since a fuzzer rarely forges a checksum, as the
// payload of one. Nothing may panic, a record that decodes must encode back
// to the same bytes, and replaying what decodes must not panic either.
func FuzzDecodeRecord(f *testing.F) {
	for _, rec := range sampleRecords(f) {
		f.Add(rec)
		f.Add(rec[headerSize:])
	}
	f.Add([]byte{})
	f.Add(make([]byte, headerSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		if payload, n, err := decodeRecord(b); err == nil {
			checkRoundTrip(t, payload, b[:n])
		}
		if len(b) == 0 || len(b) > maxPayload {
			return
		}
		rec := append(make([]byte, headerSize, headerSize+len(b)), b...)
		seal(rec)
		payload, n, err := decodeRecord(rec)
		if err != nil || n != len(rec) {
			t.Fatalf("a sealed record does not decode: %v", err)
		}
		checkRoundTrip(t, payload, rec)
	})
}

// checkRoundTrip checks that payload, taken from rec, encodes back to rec if
// it decodes, and replays it on an empty index.
func checkRoundTrip(t *testing.T, payload, rec []byte) {
	var ol opList
	if err := ol.decode(payload); err != nil {
		return
	}
	out := make([]byte, headerSize, len(rec))
	for i := range ol.ops {
		out = appendOp(out, &ol.ops[i], payload)
	}
	seal(out)
	if !bytes.Equal(out, rec) {
		t.Fatalf("record %x decodes to %d operations that encode to %x", rec, len(ol.ops), out)
	}
	x := newIndex()
	for i := range ol.ops {
		o := &ol.ops[i]
		if o.kind != opCheckpoint {
			_ = x.apply(o, 1, 0)
			continue
		}
		// load allocates for every entry a checkpoint implies: keep
		// the fuzzer's memory in bounds.
		if !slices.ContainsFunc(o.ckpt.parts, func(p partState) bool { return p.lastIdx-p.truncIdx > 1<<10 }) {
			_ = x.load(&o.ckpt)
		}
	}
}

// sampleRecords returns the records of a log that saw every operation,
// rotations and rewrites.
func sampleRecords(tb testing.TB) [][]byte {
	fs := vfs.NewMem()
	l := openTest(tb, fs, 256)
	for i := uint64(1); i <= 12; i++ {
		mustWrite(tb, l, false, func(b *Batch) {
			b.Append(1, makeEnts(1, i, i, 1, 40))
			b.SetHardState(1, raftpb.HardState{Term: 1, Vote: 2, Commit: i})
			if i > 2 {
				b.Truncate(1, i-2, 1)
			}
			b.Append(2+i%2, makeEnts(2+i%2, (i+1)/2, (i+1)/2, 1, 10))
		})
	}
	mustWrite(tb, l, true, func(b *Batch) {
		b.Reset(2, 100, 3)
		b.Remove(3)
		b.Append(4, []raftpb.Entry{{Index: 1, Term: 1, Type: raftpb.EntryConfChangeV2, Data: []byte{1, 2}}})
	})
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, name := range segmentFiles(tb, fs) {
		f, err := fs.Open(fs.PathJoin(testDir, name))
		if err != nil {
			tb.Fatal(err)
		}
		st, _ := f.Stat()
		rr := newRecordReader(f, st.Size())
		for {
			payload, err := rr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			rec := append(make([]byte, headerSize), payload...)
			seal(rec)
			out = append(out, rec)
		}
		f.Close()
	}
	return out
}

// TestSampleRecords checks that the fuzzer's seeds hold every kind of
// operation.
func TestSampleRecords(t *testing.T) {
	kinds := map[opKind]bool{}
	for _, rec := range sampleRecords(t) {
		var ol opList
		if err := ol.decode(rec[headerSize:]); err != nil {
			t.Fatal(err)
		}
		for _, o := range ol.ops {
			kinds[o.kind] = true
		}
	}
	for k := opCheckpoint; k <= opRemove; k++ {
		if !kinds[k] {
			t.Errorf("no %s in the sample records", k)
		}
	}
}
