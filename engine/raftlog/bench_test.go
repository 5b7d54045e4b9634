package raftlog

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/raft/v3/raftpb"
)

// BenchmarkWrite writes what a store round writes for 4 partitions: 4
// entries of 300 bytes and a hard state each, without sync, on the OS's
// filesystem. Every 16 rounds each partition truncates all but its last 64
// entries, so the logs stay short and GC runs as it would.
func BenchmarkWrite(b *testing.B) {
	l, err := Open(Options{FS: vfs.Default, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	const parts, perBatch, size = 4, 4, 300
	ents := make([]raftpb.Entry, perBatch)
	data := make([]byte, size)
	var batch Batch
	b.ReportAllocs()
	b.ResetTimer()
	for i := uint64(0); i < uint64(b.N); i++ {
		batch.Clear()
		first := i*perBatch + 1
		for p := uint64(1); p <= parts; p++ {
			for k := range ents {
				ents[k] = raftpb.Entry{Index: first + uint64(k), Term: 1, Data: data}
			}
			batch.Append(p, ents)
			batch.SetHardState(p, raftpb.HardState{Term: 1, Vote: 1, Commit: first})
			if i%16 == 15 && first > 64 {
				batch.Truncate(p, first-64, 1)
			}
		}
		if err := l.Write(&batch, false); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(batch.rec)))
}

// BenchmarkEntries reads 8 entries of 300 bytes, written together, from
// the OS's page cache.
func BenchmarkEntries(b *testing.B) {
	l, err := Open(Options{FS: vfs.Default, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	var batch Batch
	batch.Append(1, makeEnts(1, 1, 1024, 1, 300))
	if err := l.Write(&batch, false); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range uint64(b.N) {
		lo := 1 + i%1000
		if _, err := l.Entries(1, lo, lo+8, 0); err != nil {
			b.Fatal(err)
		}
	}
}
