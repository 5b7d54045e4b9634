package raftlog

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.etcd.io/raft/v3/raftpb"
)

// model is what the log should hold, kept the simplest way: each
// partition's states and entries. A model is never changed once a write
// succeeded with it; the next is a copy.
type model map[uint64]*modelPart

type modelPart struct {
	hs                  raftpb.HardState
	truncIdx, truncTerm uint64
	lastIdx, lastTerm   uint64
	ents                []raftpb.Entry // truncIdx+1 onwards
}

func (m model) clone() model {
	c := make(model, len(m))
	for id, p := range m {
		q := *p
		q.ents = slices.Clone(p.ents)
		c[id] = &q
	}
	return c
}

func (m model) part(id uint64) *modelPart {
	if m[id] == nil {
		m[id] = &modelPart{}
	}
	return m[id]
}

func (p *modelPart) append(ents []raftpb.Entry) {
	keep := ents[0].Index - p.truncIdx - 1
	p.ents = append(p.ents[:keep:keep], ents...)
	p.lastIdx, p.lastTerm = ents[len(ents)-1].Index, ents[len(ents)-1].Term
}

func (p *modelPart) truncate(index, term uint64) {
	switch {
	case index <= p.truncIdx:
		return
	case index >= p.lastIdx:
		p.ents = nil
		p.lastIdx, p.lastTerm = index, term
	default:
		p.ents = p.ents[index-p.truncIdx:]
	}
	p.truncIdx, p.truncTerm = index, term
}

func (p *modelPart) String() string {
	return fmt.Sprintf("hs=%v trunc=(%d,%d) last=(%d,%d) ents=%d", p.hs, p.truncIdx, p.truncTerm, p.lastIdx, p.lastTerm, len(p.ents))
}

func (m model) String() string {
	var sb strings.Builder
	for _, id := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&sb, "  p%d: %v\n", id, m[id])
	}
	return sb.String()
}

// equal reports how got, read back from a log, differs from m ("" if not).
func (m model) diff(got model) string {
	if !slices.Equal(slices.Sorted(maps.Keys(m)), slices.Sorted(maps.Keys(got))) {
		return fmt.Sprintf("partitions %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(m)))
	}
	for id, p := range m {
		q := got[id]
		if p.hs != q.hs || p.truncIdx != q.truncIdx || p.truncTerm != q.truncTerm || p.lastIdx != q.lastIdx ||
			p.lastTerm != q.lastTerm || len(p.ents) != len(q.ents) {
			return fmt.Sprintf("partition %d: %v, want %v", id, q, p)
		}
		for i := range p.ents {
			a, b := &p.ents[i], &q.ents[i]
			if a.Index != b.Index || a.Term != b.Term || a.Type != b.Type || !bytes.Equal(a.Data, b.Data) {
				return fmt.Sprintf("partition %d: entry %d/%d, want %d/%d", id, b.Index, b.Term, a.Index, a.Term)
			}
		}
	}
	return ""
}

// readModel reads everything l holds.
func readModel(t *testing.T, l *Log) model {
	t.Helper()
	got := model{}
	for _, id := range l.Partitions() {
		s, _ := l.State(id)
		p := &modelPart{hs: s.HardState, truncIdx: s.TruncIndex, truncTerm: s.TruncTerm, lastIdx: s.LastIndex, lastTerm: s.LastTerm}
		ents, err := l.Entries(id, s.TruncIndex+1, s.LastIndex+1, 0)
		if err != nil {
			t.Fatalf("partition %d: %v", id, err)
		}
		var size uint64
		for _, e := range ents {
			size += uint64(e.Size())
		}
		if size != s.Bytes {
			t.Fatalf("partition %d: State says %d bytes, entries take %d", id, s.Bytes, size)
		}
		p.ents = ents
		got[id] = p
	}
	return got
}

// gen builds random batches that a raft host could write.
type gen struct {
	rng   *rand.Rand
	parts uint64
}

// op adds a random valid operation to b and applies it to m.
func (g *gen) op(b *Batch, m model) {
	// Low ids are busy, high ones quiet: a quiet partition's entries sit
	// in old segments, for GC to rewrite.
	id := 1 + min(g.rng.Uint64N(g.parts), g.rng.Uint64N(g.parts), g.rng.Uint64N(g.parts))
	p := m.part(id)
	switch r := g.rng.IntN(100); {
	case r < 55:
		first, term := p.lastIdx+1, max(p.lastTerm, 1)
		if len(p.ents) > 0 && g.rng.IntN(5) == 0 { // a new leader overwrites a suffix
			first, term = p.truncIdx+1+g.rng.Uint64N(p.lastIdx-p.truncIdx), p.lastTerm+1
		}
		ents := makeEnts(id, first, first+g.rng.Uint64N(4), term, g.rng.IntN(250))
		b.Append(id, ents)
		p.append(ents)
	case r < 70:
		hs := raftpb.HardState{Term: g.rng.Uint64N(100), Vote: g.rng.Uint64N(4), Commit: g.rng.Uint64N(1000)}
		b.SetHardState(id, hs)
		p.hs = hs
	case r < 90:
		index := p.truncIdx + g.rng.Uint64N(p.lastIdx-p.truncIdx+3)
		if len(p.ents) > 30 {
			index = p.lastIdx - 5
		}
		term := p.lastTerm
		if index > p.truncIdx && index <= p.lastIdx {
			term = p.ents[index-p.truncIdx-1].Term
		}
		b.Truncate(id, index, term)
		p.truncate(index, term)
	case r < 95:
		index, term := p.lastIdx+g.rng.Uint64N(5), p.lastTerm+1
		b.Reset(id, index, term)
		*p = modelPart{hs: p.hs, truncIdx: index, truncTerm: term, lastIdx: index, lastTerm: term}
	default:
		b.Remove(id)
		delete(m, id)
	}
}

// TestModel runs random batches on a few partitions, with reopens and
// crashes (CrashClone keeping none, half or all of the unsynced data), and
// checks after each reopen that the log holds what the model held at a
// batch boundary no earlier than the last synced write. Segments are small,
// so rotation, checkpoints, rewrites and GC happen all the time; the disk
// use must stay bounded.
func TestModel(t *testing.T) {
	for seed := range *modelSeeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			runModel(t, seed, *modelSteps)
		})
	}
}

// For a longer run: go test -run TestModel -model.seeds=40 -model.steps=20000.
// A seed fixes the operations; what a crash keeps of unsynced data varies
// from run to run (CrashClone draws in the order of a map).
var (
	modelSeeds = flag.Uint64("model.seeds", 8, "TestModel: seeds to run")
	modelSteps = flag.Int("model.steps", 1500, "TestModel: steps per seed")
)

func runModel(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 42))
	// CrashClone draws from its own source: it draws in the order of a
	// map, which would make the operations differ from run to run too.
	crashRNG := rand.New(rand.NewPCG(seed, 1))
	segmentBytes := []int64{512, 1 << 10, 4 << 10}[seed%3]
	g := gen{rng: rng, parts: 2 + rng.Uint64N(5)}
	fs := vfs.NewCrashableMem()
	var logBuf bytes.Buffer
	open := func() *Log {
		logBuf.Reset()
		logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		l, err := Open(Options{FS: fs, Dir: testDir, SegmentBytes: segmentBytes, Logger: logger})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		return l
	}
	l := open()
	defer func() { l.Close() }()
	m := model{}
	// history holds the models since the last synced write, oldest first:
	// what a crash may leave.
	history := []model{m}
	var reopens, crashes, invalid int
	var bound diskBound
	for step := range steps {
		switch r := rng.IntN(100); {
		case r < 2:
			reopens++
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = open()
			if d := m.diff(readModel(t, l)); d != "" {
				t.Fatalf("seed %d step %d: after reopen: %s", seed, step, d)
			}
			history = []model{m}
		case r < 5:
			crashes++
			unsynced := []int{0, 50, 100}[rng.IntN(3)]
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsynced, RNG: crashRNG})
			l.Close()
			fs = crashed
			l = open()
			got := readModel(t, l)
			i := slices.IndexFunc(history, func(h model) bool { return h.diff(got) == "" })
			if i < 0 {
				t.Fatalf("seed %d step %d: after a crash keeping %d%% of unsynced data, the log matches no state "+
					"since the last sync (%d states).\ngot:\n%v\nlast synced: %s\nlast written: %s", seed, step, unsynced,
					len(history), got, history[0].diff(got), history[len(history)-1].diff(got))
			}
			m, history = history[i], []model{history[i]}
		case r < 7:
			if err := l.Sync(); err != nil {
				t.Fatal(err)
			}
			history = []model{m}
		default:
			next := m.clone()
			var b Batch
			for range 1 + rng.IntN(3) {
				g.op(&b, next)
			}
			bad := rng.IntN(40) == 0
			if bad { // a gap: the whole batch must be refused
				invalid++
				id := 1 + rng.Uint64N(g.parts)
				p := next.part(id)
				b.Append(id, makeEnts(id, p.lastIdx+2, p.lastIdx+2, p.lastTerm, 10))
			}
			sync := rng.IntN(4) == 0
			bound.maxBatch = max(bound.maxBatch, int64(len(b.rec)))
			err := l.Write(&b, sync)
			if bad {
				if !errors.Is(err, ErrInvalidBatch) {
					t.Fatalf("seed %d step %d: invalid batch: %v", seed, step, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("seed %d step %d: %v", seed, step, err)
			}
			m = next
			if sync {
				history = []model{m}
			} else {
				history = append(history, m)
			}
		}
		if err := l.checkInvariants(); err != nil {
			t.Fatalf("seed %d step %d: %v", seed, step, err)
		}
		if !bound.check(t, l, segmentBytes) {
			lines := strings.Split(logBuf.String(), "\n")
			t.Fatalf("log:\n%s", strings.Join(lines[max(0, len(lines)-30):], "\n"))
		}
		if step%50 == 0 {
			if d := m.diff(readModel(t, l)); d != "" {
				t.Fatalf("seed %d step %d: %s", seed, step, d)
			}
		}
	}
	if d := m.diff(readModel(t, l)); d != "" {
		t.Fatalf("seed %d: at the end: %s", seed, d)
	}
	met := l.Metrics()
	t.Logf("seed %d: %d partitions, %d reopens, %d crashes, %d invalid batches; %+v", seed, g.parts, reopens, crashes, invalid, met)
}

// checkBounded checks that the segments take no more than about 1.5 times
// the live bytes plus a few segments.
// diskBound checks that the segments take no more than about 1.5 times the
// live bytes plus a few segments (a segment may overshoot by a batch). GC
// runs at rotations and copies a bounded amount each time, so after live
// bytes drop it takes a few rotations to catch up: the live bytes that count
// are the most there were over the last few segments.
type diskBound struct {
	segment  uint64  // the current segment
	peaks    []int64 // the most live bytes while each of the last few segments was current
	maxBatch int64   // the largest record written
}

func (d *diskBound) check(t *testing.T, l *Log, segmentBytes int64) bool {
	t.Helper()
	m := l.Metrics()
	l.mu.RLock()
	cur := l.current().num
	l.mu.RUnlock()
	if cur != d.segment || len(d.peaks) == 0 {
		d.segment = cur
		d.peaks = append(d.peaks[max(0, len(d.peaks)-7):], 0)
	}
	d.peaks[len(d.peaks)-1] = max(d.peaks[len(d.peaks)-1], m.LiveBytes)
	peak := slices.Max(d.peaks)
	limit := peak*3/2 + 4*segmentBytes + 3*d.maxBatch
	if m.DiskBytes > limit {
		l.mu.RLock()
		for _, s := range l.segs {
			t.Logf("segment %d size %d live %d", s.num, s.size.Load(), l.idx.live[uint32(s.num)])
		}
		l.mu.RUnlock()
		t.Errorf("segments take %d bytes, over %d (live peaks %v, max batch %d): %+v", m.DiskBytes, limit, d.peaks, d.maxBatch, m)
		return false
	}
	if n := int(limit/segmentBytes) + 2; m.Segments > n {
		t.Errorf("%d segments, over %d: %+v", m.Segments, n, m)
		return false
	}
	return true
}
