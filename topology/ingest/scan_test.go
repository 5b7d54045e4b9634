package ingest

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
)

// FuzzScan: scan accepts exactly what Decode accepts, with the same
// reason, and reads the same identity and sample.
func FuzzScan(f *testing.F) {
	g := Synthetic{Nodes: 5, Replicas: 3, Interval: time.Second, Start: time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)}
	for seq := uint64(1); seq <= 3; seq++ {
		s := g.Snapshot(seq, seq)
		s.Replicas[0].PendingSnapshot = true
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	f.Add([]byte{})
	f.Add([]byte{0x12, 0x02, 0x12, 0x01, 0xff}) // node.zone: invalid UTF-8
	f.Fuzz(func(t *testing.T, data []byte) {
		got, scanErr := scan(data)
		s, err := Decode(data)
		if (scanErr == nil) != (err == nil) || ReasonOf(scanErr) != ReasonOf(err) {
			if ReasonOf(err) == Truncated && ReasonOf(scanErr) == Corrupt || ReasonOf(err) == Corrupt && ReasonOf(scanErr) == Truncated {
				return // cut inside a nested message: either name fits
			}
			t.Fatalf("scan: %v; Decode: %v", scanErr, err)
		}
		if err != nil {
			return
		}
		if got.id != IDOf(s) || got.sample != sampleOf(s) {
			t.Fatalf("scan read %+v %+v, Decode %+v %+v", got.id, got.sample, IDOf(s), sampleOf(s))
		}
	})
}
