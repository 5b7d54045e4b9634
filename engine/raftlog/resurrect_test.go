package raftlog

import (
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestRemovedSegmentsComeBack checks the case of a crash after GC removed
// segments but before the directory sync: the removed segments come back
// (they were synced when closed). Recovery then replays them first, and
// every later checkpoint must agree; the log must hold the same as before.
func TestRemovedSegmentsComeBack(t *testing.T) {
	fs := vfs.NewMem()
	l := openTest(t, fs, 1<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	prev := fileContents(t, fs)
	checks := 0
	for i := uint64(1); i <= 1500; i++ {
		mustWrite(t, l, rng.IntN(3) == 0, func(b *Batch) {
			p := 1 + min(rng.Uint64N(4), rng.Uint64N(4)) // partition 4 is quiet
			s, _ := l.State(p)
			b.Append(p, makeEnts(p, s.LastIndex+1, s.LastIndex+1+rng.Uint64N(3), 1, rng.IntN(200)))
			if s.LastIndex > 6 {
				b.Truncate(p, s.LastIndex-rng.Uint64N(6), 1)
			}
		})
		cur := fileContents(t, fs)
		removed := map[string][]byte{}
		for name, data := range prev {
			if _, ok := cur[name]; !ok {
				removed[name] = data
			}
		}
		prev = cur
		if len(removed) == 0 {
			continue
		}
		checks++
		crashed := vfs.NewMem()
		if err := crashed.MkdirAll(testDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range cur {
			writeFile(t, crashed, name, data)
		}
		for name, data := range removed {
			writeFile(t, crashed, name, data)
		}
		l2, err := Open(Options{FS: crashed, Dir: testDir, SegmentBytes: 1 << 10})
		if err != nil {
			t.Fatalf("write %d: reopen with %d removed segments back: %v", i, len(removed), err)
		}
		if d := readModel(t, l).diff(readModel(t, l2)); d != "" {
			t.Fatalf("write %d: with %d removed segments back: %s", i, len(removed), d)
		}
		if err := l2.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("removed segments came back after %d of the writes; %d bytes rewritten", checks, l.Metrics().RewrittenBytes)
	if checks < 10 || l.Metrics().RewrittenBytes == 0 {
		t.Fatalf("GC removed segments %d times, rewrote %d bytes: the test does not test much", checks, l.Metrics().RewrittenBytes)
	}
}

// fileContents returns the segment files of testDir in fs.
func fileContents(t *testing.T, fs vfs.FS) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range segmentFiles(t, fs) {
		f, err := fs.Open(fs.PathJoin(testDir, name))
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[name] = data
	}
	return out
}

func writeFile(t *testing.T, fs vfs.FS, name string, data []byte) {
	t.Helper()
	f, err := fs.Create(fs.PathJoin(testDir, name), vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(slices.Clone(data)); err != nil { // under -race, memfs scribbles on what it wrote
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
