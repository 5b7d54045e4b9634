package raftlog

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

func TestOptionsValidate(t *testing.T) {
	fs := vfs.NewMem()
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"minimal", Options{FS: fs, Dir: "/d"}, true},
		{"small segments", Options{FS: fs, Dir: "/d", SegmentBytes: 1}, true},
		{"largest segments", Options{FS: fs, Dir: "/d", SegmentBytes: MaxSegmentBytes}, true},
		{"no fs", Options{Dir: "/d"}, false},
		{"no dir", Options{FS: fs}, false},
		{"negative segments", Options{FS: fs, Dir: "/d", SegmentBytes: -1}, false},
		{"huge segments", Options{FS: fs, Dir: "/d", SegmentBytes: MaxSegmentBytes + 1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestInvalidBatches checks that Write refuses a malformed batch whole,
// and that the log takes writes after.
func TestInvalidBatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		fill func(b *Batch)
	}{
		{"gap", func(b *Batch) { b.Append(1, makeEnts(1, 5, 5, 1, 0)) }},
		{"at truncated index", func(b *Batch) { b.Append(1, makeEnts(1, 2, 3, 1, 0)) }},
		{"not consecutive", func(b *Batch) {
			b.Append(1, []raftpb.Entry{{Index: 4, Term: 1}, {Index: 6, Term: 1}})
		}},
		{"index zero", func(b *Batch) { b.Append(3, []raftpb.Entry{{Index: 0, Term: 1}}) }},
		{"gap after a valid op", func(b *Batch) {
			b.Append(1, makeEnts(1, 4, 4, 1, 0))
			b.Append(2, makeEnts(2, 1, 1, 1, 0))
			b.Truncate(2, 1, 1)
			b.Append(2, makeEnts(2, 1, 1, 1, 0))
		}},
		{"gap after remove", func(b *Batch) {
			b.Remove(1)
			b.Append(1, makeEnts(1, 4, 4, 1, 0))
		}},
		{"gap after reset", func(b *Batch) {
			b.Reset(1, 10, 2)
			b.Append(1, makeEnts(1, 12, 12, 2, 0))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := openTest(t, vfs.NewMem(), 0)
			mustWrite(t, l, true, func(b *Batch) {
				b.Append(1, makeEnts(1, 1, 3, 1, 0))
				b.Truncate(1, 2, 1)
			})
			before, size := describe(l), l.Metrics().DiskBytes
			var b Batch
			tc.fill(&b)
			if err := l.Write(&b, true); !errors.Is(err, ErrInvalidBatch) {
				t.Fatalf("Write() = %v, want ErrInvalidBatch", err)
			}
			if after := describe(l); after != before || l.Metrics().DiskBytes != size {
				t.Fatalf("a refused batch changed the log:\n%s\nwas\n%s", after, before)
			}
			mustWrite(t, l, true, func(b *Batch) { b.Append(1, makeEnts(1, 4, 4, 1, 0)) })
		})
	}
}

func TestEmptyBatch(t *testing.T) {
	l := openTest(t, vfs.NewMem(), 0)
	var b Batch
	if !b.Empty() {
		t.Fatal("zero Batch not empty")
	}
	b.Append(1, nil)
	if !b.Empty() {
		t.Fatal("Append of no entries added an operation")
	}
	if err := l.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	if got := l.Partitions(); len(got) != 0 {
		t.Fatalf("partitions %v after an empty batch", got)
	}
	b.SetHardState(1, raftpb.HardState{Term: 1})
	if b.Empty() {
		t.Fatal("batch with a hard state is empty")
	}
	b.Clear()
	if !b.Empty() {
		t.Fatal("Clear left operations")
	}
}

// TestReads checks Term and Entries at the edges of a log holding (3, 8].
func TestReads(t *testing.T) {
	l := openTest(t, vfs.NewMem(), 0)
	mustWrite(t, l, false, func(b *Batch) {
		b.Append(1, makeEnts(1, 1, 5, 1, 10))
		b.Append(1, makeEnts(1, 6, 8, 2, 10))
		b.Truncate(1, 3, 1)
	})
	for _, tc := range []struct {
		i    uint64
		term uint64
		err  error
	}{
		{2, 0, raft.ErrCompacted}, {3, 1, nil}, {4, 1, nil}, {5, 1, nil}, {6, 2, nil},
		{8, 2, nil}, {9, 0, raft.ErrUnavailable},
	} {
		term, err := l.Term(1, tc.i)
		if term != tc.term || err != tc.err {
			t.Errorf("Term(%d) = %d, %v; want %d, %v", tc.i, term, err, tc.term, tc.err)
		}
	}
	sz := uint64(makeEnts(1, 4, 4, 1, 10)[0].Size())
	for _, tc := range []struct {
		lo, hi, max uint64
		want        int // entries; -1: an error
		err         error
	}{
		{3, 5, 0, -1, raft.ErrCompacted},
		{4, 10, 0, -1, nil},
		{4, 9, 0, 5, nil},
		{4, 4, 0, 0, nil},
		{9, 9, 0, 0, nil},
		{4, 9, 1, 1, nil},
		{4, 9, 2*sz - 1, 1, nil},
		{4, 9, 2 * sz, 2, nil},
		{8, 9, 1, 1, nil},
	} {
		ents, err := l.Entries(1, tc.lo, tc.hi, tc.max)
		switch {
		case tc.want < 0 && tc.err != nil && err != tc.err:
			t.Errorf("Entries(%d, %d, %d) = %v, want %v", tc.lo, tc.hi, tc.max, err, tc.err)
		case tc.want < 0 && err == nil:
			t.Errorf("Entries(%d, %d, %d) succeeded", tc.lo, tc.hi, tc.max)
		case tc.want >= 0 && err != nil:
			t.Errorf("Entries(%d, %d, %d): %v", tc.lo, tc.hi, tc.max, err)
		case tc.want >= 0 && len(ents) != tc.want:
			t.Errorf("Entries(%d, %d, %d) returned %d entries, want %d", tc.lo, tc.hi, tc.max, len(ents), tc.want)
		}
		for k, e := range ents {
			if e.Index != tc.lo+uint64(k) || !bytes.Equal(e.Data, entData(1, e.Index, e.Term, 10)) {
				t.Errorf("Entries(%d, %d): entry %d is %d/%d %q", tc.lo, tc.hi, k, e.Index, e.Term, e.Data)
			}
		}
	}
}

func TestClosed(t *testing.T) {
	l := openTest(t, vfs.NewMem(), 0)
	mustWrite(t, l, false, func(b *Batch) { b.Append(1, makeEnts(1, 1, 2, 1, 0)) })
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var b Batch
	b.Append(1, makeEnts(1, 3, 3, 1, 0))
	if err := l.Write(&b, false); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := l.Sync(); !errors.Is(err, ErrClosed) {
		t.Errorf("Sync after Close: %v", err)
	}
	if _, err := l.Entries(1, 1, 2, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Entries after Close: %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
}

// TestLock checks that a directory has one log open at a time.
func TestLock(t *testing.T) {
	fs := vfs.NewMem()
	l := openTest(t, fs, 0)
	if _, err := Open(Options{FS: fs, Dir: testDir}); err == nil {
		t.Fatal("second Open of an open log succeeded")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	openTest(t, fs, 0)
}

// TestGroupCommit checks that a syncing writer whose record another
// writer's sync covered does not sync again.
func TestGroupCommit(t *testing.T) {
	l := openTest(t, vfs.NewMem(), 0)
	write := func(p uint64) uint64 {
		var b Batch
		b.Append(p, makeEnts(p, 1, 1, 1, 0))
		seq, err := l.write(&b)
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}
	a, b := write(1), write(2)
	syncs := l.Metrics().Syncs
	if err := l.syncTo(b); err != nil {
		t.Fatal(err)
	}
	if err := l.syncTo(a); err != nil { // covered by the sync for b
		t.Fatal(err)
	}
	if got := l.Metrics().Syncs - syncs; got != 1 {
		t.Fatalf("%d syncs for two records, want 1", got)
	}
	if err := l.Sync(); err != nil { // nothing new to sync
		t.Fatal(err)
	}
	if got := l.Metrics().Syncs - syncs; got != 1 {
		t.Fatalf("%d syncs after an idle Sync, want 1", got)
	}
}

// TestConcurrentSyncWriters runs syncing writers in parallel, then crashes:
// every acknowledged batch must survive, and no writer syncs more than once
// per batch.
func TestConcurrentSyncWriters(t *testing.T) {
	const writers, batches = 8, 40
	fs := vfs.NewCrashableMem()
	l := openTest(t, fs, 0) // no rotation: every sync is a writer's
	syncs := l.Metrics().Syncs
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := uint64(w + 1)
			for i := range batches {
				var b Batch
				b.Append(p, makeEnts(p, uint64(i+1), uint64(i+1), 1, 50))
				if err := l.Write(&b, true); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := l.Metrics().Syncs - syncs
	if got > writers*batches {
		t.Errorf("%d syncs for %d batches", got, writers*batches)
	}
	t.Logf("%d syncs for %d batches", got, writers*batches)
	crashed := openTest(t, fs.CrashClone(vfs.CrashCloneCfg{}), 0)
	for w := range writers {
		if s, _ := crashed.State(uint64(w + 1)); s.LastIndex != batches {
			t.Errorf("partition %d recovered to %d, want %d", w+1, s.LastIndex, batches)
		}
	}
}

// TestFailedWriteIsSticky checks that after a write error the log refuses
// writes (what reached the file is unknown), and that a reopen recovers
// what was synced.
func TestFailedWriteIsSticky(t *testing.T) {
	mem := vfs.NewMem()
	var failing atomic.Bool
	fs := errorfs.Wrap(mem, errorfs.InjectorFunc(func(op errorfs.Op) error {
		if failing.Load() && (op.Kind == errorfs.OpFileWrite || op.Kind == errorfs.OpFileWriteAt) {
			return errors.New("injected write error")
		}
		return nil
	}))
	l, err := Open(Options{FS: fs, Dir: testDir})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, l, true, func(b *Batch) { b.Append(1, makeEnts(1, 1, 2, 1, 0)) })
	failing.Store(true)
	var b Batch
	b.Append(1, makeEnts(1, 3, 3, 1, 0))
	if err := l.Write(&b, true); err == nil {
		t.Fatal("Write succeeded despite the injected error")
	}
	failing.Store(false)
	b.Clear()
	b.Append(1, makeEnts(1, 3, 3, 1, 0))
	if err := l.Write(&b, true); err == nil {
		t.Fatal("Write after a failed write succeeded")
	}
	if err := l.Sync(); err == nil {
		t.Fatal("Sync after a failed write succeeded")
	}
	l.Close()
	l = openTest(t, mem, 0)
	if s, _ := l.State(1); s.LastIndex != 2 {
		t.Fatalf("recovered last index %d, want 2", s.LastIndex)
	}
}

// TestMissingSegment checks that a gap in the segments fails Open.
func TestMissingSegment(t *testing.T) {
	fs := vfs.NewMem()
	l := openTest(t, fs, 100)
	for i := range uint64(3) { // each batch passes 100 bytes: a new segment
		mustWrite(t, l, true, func(b *Batch) { b.Append(1, makeEnts(1, i+1, i+1, 1, 100)) })
	}
	l.Close()
	if n := len(segmentFiles(t, fs)); n < 3 {
		t.Fatalf("%d segments", n)
	}
	if err := fs.Remove(fs.PathJoin(testDir, segmentName(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{FS: fs, Dir: testDir}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open without segment 2: %v, want ErrCorrupt", err)
	}
}

// TestLeftoverCopyRemoved checks that Open removes the copy an
// interrupted cut leaves, and files it does not know it leaves alone.
func TestLeftoverCopyRemoved(t *testing.T) {
	fs := vfs.NewMem()
	l := openTest(t, fs, 0)
	mustWrite(t, l, true, func(b *Batch) { b.Append(1, makeEnts(1, 1, 1, 1, 0)) })
	l.Close()
	for _, name := range []string{segmentName(1) + tmpSuffix, "README"} {
		f, err := fs.Create(fs.PathJoin(testDir, name), vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	openTest(t, fs, 0)
	if _, err := fs.Stat(fs.PathJoin(testDir, segmentName(1)+tmpSuffix)); err == nil {
		t.Error("the leftover copy is still there")
	}
	if _, err := fs.Stat(fs.PathJoin(testDir, "README")); err != nil {
		t.Errorf("a file the log does not own went: %v", err)
	}
}

// TestQuietPartitionDoesNotPinSegments writes to a busy partition that
// truncates as it goes while a quiet one keeps two entries in the first
// segment: GC must rewrite them and keep the segments few.
func TestQuietPartitionDoesNotPinSegments(t *testing.T) {
	const segmentBytes = 4 << 10
	fs := vfs.NewMem()
	l := openTest(t, fs, segmentBytes)
	mustWrite(t, l, true, func(b *Batch) { b.Append(1, makeEnts(1, 1, 2, 1, 100)) })
	for i := uint64(1); i <= 2000; i++ {
		mustWrite(t, l, false, func(b *Batch) {
			b.Append(2, makeEnts(2, i, i, 1, 200))
			b.Truncate(2, i-1, 1)
		})
		if m := l.Metrics(); m.Segments > 5 {
			t.Fatalf("after %d writes: %d segments: %+v", i, m.Segments, m)
		}
	}
	if err := l.checkInvariants(); err != nil {
		t.Fatal(err)
	}
	if m := l.Metrics(); m.RewrittenBytes == 0 {
		t.Fatalf("nothing rewritten: %+v", m)
	}
	if n := len(segmentFiles(t, fs)); n > 5 {
		t.Fatalf("%d segment files", n)
	}
	ents, err := l.Entries(1, 1, 3, 0)
	if err != nil || len(ents) != 2 || !bytes.Equal(ents[1].Data, entData(1, 2, 1, 100)) {
		t.Fatalf("quiet partition's entries: %v, %v", ents, err)
	}
}

// TestRemoveReleasesSegments checks that removing every partition lets GC
// delete all but the newest segments.
func TestRemoveReleasesSegments(t *testing.T) {
	fs := vfs.NewMem()
	l := openTest(t, fs, 2<<10)
	for i := uint64(1); i <= 50; i++ {
		mustWrite(t, l, false, func(b *Batch) { b.Append(i%3, makeEnts(i%3, (i-1)/3+1, (i-1)/3+1, 1, 200)) })
	}
	before := l.Metrics()
	mustWrite(t, l, true, func(b *Batch) {
		for p := range uint64(3) {
			b.Remove(p)
		}
	})
	for range 12 { // enough hard states to rotate past the removed entries
		mustWrite(t, l, false, func(b *Batch) { b.SetHardState(7, raftpb.HardState{Term: 1, Commit: 1}) })
		l.Close()
		l = openTest(t, fs, 2<<10)
	}
	after := l.Metrics()
	if after.LiveBytes != 0 || after.Segments > 3 || after.Segments >= before.Segments {
		t.Fatalf("after removing every partition: %+v (before %+v)", after, before)
	}
}

// TestConcurrentReads reads while a writer appends, truncates and rotates
// (and GC deletes segments under the readers): every entry a read returns
// must be the one asked for.
func TestConcurrentReads(t *testing.T) {
	l := openTest(t, vfs.NewMem(), 4<<10)
	const parts = 3
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer done.Store(true)
		for i := uint64(1); i <= 600; i++ {
			var b Batch
			for p := uint64(1); p <= parts; p++ {
				b.Append(p, makeEnts(p, i, i, 1, 100))
				if i > 20 && i%5 == 0 {
					b.Truncate(p, i-20, 1)
				}
			}
			if err := l.Write(&b, i%10 == 0); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 0))
			for !done.Load() {
				p := 1 + rng.Uint64N(parts)
				s, ok := l.State(p)
				if !ok || s.LastIndex <= s.TruncIndex {
					continue
				}
				lo := s.TruncIndex + 1 + rng.Uint64N(s.LastIndex-s.TruncIndex)
				ents, err := l.Entries(p, lo, s.LastIndex+1, uint64(rng.IntN(1000)))
				if errors.Is(err, raft.ErrCompacted) {
					continue // truncated since State
				}
				if err != nil {
					t.Error(err)
					return
				}
				for k, e := range ents {
					if e.Index != lo+uint64(k) || !bytes.Equal(e.Data, entData(p, e.Index, 1, 100)) {
						t.Errorf("read %d of partition %d: got %d %q", lo+uint64(k), p, e.Index, e.Data)
						return
					}
				}
				if _, err := l.Term(p, lo); err != nil && !errors.Is(err, raft.ErrCompacted) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := l.checkInvariants(); err != nil {
		t.Fatal(err)
	}
}

// TestReopenManyTimes reopens after every write: each Open starts a
// segment, and GC must keep their number down.
func TestReopenManyTimes(t *testing.T) {
	fs := vfs.NewMem()
	l := openTest(t, fs, 1<<10)
	for i := uint64(1); i <= 100; i++ {
		mustWrite(t, l, false, func(b *Batch) {
			b.Append(1, makeEnts(1, i, i, 1, 20))
			b.Truncate(1, i-1, 1)
		})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l = openTest(t, fs, 1<<10)
		if s, _ := l.State(1); s.LastIndex != i || s.TruncIndex != i-1 {
			t.Fatalf("after reopen %d: %+v", i, s)
		}
	}
	if n := len(segmentFiles(t, fs)); n > 6 {
		t.Fatalf("%d segment files after 100 reopens", n)
	}
}

func ExampleLog() {
	l, err := Open(Options{FS: vfs.NewMem(), Dir: "/raftlog"})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	var b Batch
	b.Append(7, []raftpb.Entry{{Index: 1, Term: 1, Data: []byte("put a")}, {Index: 2, Term: 1, Data: []byte("put b")}})
	b.SetHardState(7, raftpb.HardState{Term: 1, Vote: 1, Commit: 1})
	if err := l.Write(&b, true); err != nil {
		panic(err)
	}
	ents, _ := l.Entries(7, 1, 3, 0)
	s, _ := l.State(7)
	fmt.Println(len(ents), string(ents[1].Data), s.LastIndex, s.HardState.Commit)
	// Output: 2 put b 2 1
}
