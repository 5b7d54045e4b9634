package raftlog

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/raft/v3/raftpb"
)

// testDir is where tests keep the log on their in-memory filesystems.
const testDir = "/raftlog"

// openTest opens a log in testDir of fs and closes it when the test ends
// (unless the test closed it).
func openTest(t testing.TB, fs vfs.FS, segmentBytes int64) *Log {
	t.Helper()
	l, err := Open(Options{FS: fs, Dir: testDir, SegmentBytes: segmentBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// entData is the payload of the test entry (partition, index, term),
// padded to size bytes: it lets a reader check that it got the entry it
// asked for.
func entData(partition, index, term uint64, size int) []byte {
	s := fmt.Sprintf("p%d/i%d/t%d", partition, index, term)
	if len(s) < size {
		s += strings.Repeat(".", size-len(s))
	}
	return []byte(s)
}

// makeEnts returns the entries [lo, hi] of term for partition, each of
// size data bytes at least.
func makeEnts(partition, lo, hi, term uint64, size int) []raftpb.Entry {
	var out []raftpb.Entry
	for i := lo; i <= hi; i++ {
		out = append(out, raftpb.Entry{Index: i, Term: term, Type: raftpb.EntryNormal, Data: entData(partition, i, term, size)})
	}
	return out
}

// mustWrite writes one batch built by fill.
func mustWrite(t testing.TB, l *Log, sync bool, fill func(b *Batch)) {
	t.Helper()
	var b Batch
	fill(&b)
	if err := l.Write(&b, sync); err != nil {
		t.Fatal(err)
	}
}

// describe prints every partition's state, one a line.
func describe(l *Log) string {
	var sb strings.Builder
	for _, id := range l.Partitions() {
		s, _ := l.State(id)
		fmt.Fprintf(&sb, "p%d: hs=(term=%d vote=%d commit=%d) trunc=(%d,%d) last=(%d,%d) bytes=%d\n", id,
			s.HardState.Term, s.HardState.Vote, s.HardState.Commit, s.TruncIndex, s.TruncTerm, s.LastIndex, s.LastTerm, s.Bytes)
	}
	if sb.Len() == 0 {
		return "empty\n"
	}
	return sb.String()
}

// segmentFiles returns the names of the segment files in testDir.
func segmentFiles(t testing.TB, fs vfs.FS) []string {
	t.Helper()
	names, err := fs.List(testDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if _, ok := parseSegmentName(n); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// checkInvariants checks the index against itself: the lengths of the
// entry slices, the byte counts, the live bytes per segment, and that every
// entry lives in a segment the log has.
func (l *Log) checkInvariants() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	live := make(map[uint32]int64)
	for id, p := range l.idx.parts {
		if uint64(len(p.locs)) != p.lastIdx-p.truncIdx {
			return fmt.Errorf("partition %d: %d locations for (%d, %d]", id, len(p.locs), p.truncIdx, p.lastIdx)
		}
		if len(p.locs) == 0 && p.lastTerm != p.truncTerm {
			return fmt.Errorf("partition %d: empty log with last term %d, truncated term %d", id, p.lastTerm, p.truncTerm)
		}
		var bytes uint64
		for i, lc := range p.locs {
			if len(l.segs) == 0 || uint64(lc.seg) < l.segs[0].num || uint64(lc.seg) > l.current().num {
				return fmt.Errorf("partition %d: entry %d in segment %d, outside [%d, %d]", id, p.truncIdx+1+uint64(i),
					lc.seg, l.segs[0].num, l.current().num)
			}
			bytes += uint64(lc.n)
			live[lc.seg] += int64(lc.n)
		}
		if bytes != p.bytes {
			return fmt.Errorf("partition %d: %d bytes, entries hold %d", id, p.bytes, bytes)
		}
	}
	for i, s := range l.segs {
		if i > 0 && s.num != l.segs[i-1].num+1 {
			return fmt.Errorf("segments %d and %d not consecutive", l.segs[i-1].num, s.num)
		}
		if got := l.idx.live[uint32(s.num)]; got != live[uint32(s.num)] {
			return fmt.Errorf("segment %d: %d live bytes, entries hold %d", s.num, got, live[uint32(s.num)])
		}
	}
	if len(l.idx.live) != len(l.segs) {
		return fmt.Errorf("live bytes of %d segments, %d segments", len(l.idx.live), len(l.segs))
	}
	return nil
}
