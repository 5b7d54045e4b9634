package transport_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/partitadb/partita/transport"
)

// genReader yields n pairs of valueSize-byte values in key order,
// reusing its buffers between calls as the SnapshotReader contract
// allows; after failAfter pairs (if positive) it fails.
type genReader struct {
	n, valueSize, failAfter int
	i                       int
	key, value              []byte
	err                     error
}

func newGenReader(n, valueSize int) *genReader {
	return &genReader{n: n, valueSize: valueSize, key: make([]byte, 8), value: make([]byte, valueSize)}
}

func (g *genReader) Next() (transport.KV, bool) {
	if g.failAfter > 0 && g.i == g.failAfter {
		g.err = errors.New("disk on fire")
		return transport.KV{}, false
	}
	if g.i == g.n {
		return transport.KV{}, false
	}
	binary.BigEndian.PutUint64(g.key, uint64(g.i))
	fillValue(g.value, g.i)
	g.i++
	return transport.KV{Key: g.key, Value: g.value}, true
}

func (g *genReader) Err() error { return g.err }

func fillValue(v []byte, i int) {
	for j := range v {
		v[j] = byte(i + j)
	}
}

// snapshotSink is a Handler and SnapshotHandler that checks what it reads
// against genReader's sequence.
type snapshotSink struct {
	recorder
	fail   func(pairs int) error // if set, asked after each pair
	mu     sync.Mutex
	got    []transport.Snapshot
	pairs  int
	stream error // the reader's error, if any
}

func (s *snapshotSink) HandleSnapshot(snap transport.Snapshot) error {
	n := 0
	want := make([]byte, 0, 64<<10)
	for {
		if s.fail != nil {
			if err := s.fail(n); err != nil {
				return err
			}
		}
		kv, ok := snap.Data.Next()
		if !ok {
			break
		}
		if binary.BigEndian.Uint64(kv.Key) != uint64(n) {
			return errors.New("pair out of order")
		}
		want = want[:len(kv.Value)]
		fillValue(want, n)
		if !bytes.Equal(kv.Value, want) {
			return errors.New("pair corrupted")
		}
		n++
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pairs, s.stream = n, snap.Data.Err()
	if s.stream == nil {
		s.got = append(s.got, snap)
	}
	return s.stream
}

func snapMsg(to uint64) raftpb.Message {
	return raftpb.Message{Type: raftpb.MsgSnap, From: 1, To: to, Term: 3, Snapshot: &raftpb.Snapshot{
		Metadata: raftpb.SnapshotMetadata{Index: 42, Term: 3, ConfState: raftpb.ConfState{Voters: []uint64{1, 2, 3}}},
	}}
}

func sendSnapshot(t *testing.T, from *node, to uint64, data transport.SnapshotReader) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	return from.tr.SendSnapshot(ctx, to, transport.Snapshot{Partition: 9, Raft: snapMsg(to), Data: data})
}

func TestGRPCSnapshotStreamsInChunks(t *testing.T) {
	dir := newDirectory()
	sink := &snapshotSink{}
	b := startNode(t, dir, 2, "", sink)
	a := startNode(t, dir, 1, "", &recorder{})
	const pairs, size = 5000, 1000 // about 5 MB
	if err := sendSnapshot(t, a, 2, newGenReader(pairs, size)); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 1 || sink.pairs != pairs || sink.stream != nil {
		t.Fatalf("received %d snapshots, %d pairs, err %v", len(sink.got), sink.pairs, sink.stream)
	}
	got := sink.got[0]
	if got.Partition != 9 || got.Raft.Type != raftpb.MsgSnap || got.Raft.Snapshot.Metadata.Index != 42 ||
		len(got.Raft.Snapshot.Metadata.ConfState.Voters) != 3 {
		t.Fatalf("header arrived as partition %d, %+v", got.Partition, got.Raft)
	}
	// 1 MiB chunks of 1016-byte pairs (with framing): 1033 pairs each.
	perChunk := (1<<20 + 1015) / 1016
	wantChunks := 1 + (pairs+perChunk-1)/perChunk
	if got := a.metric(t, "partita_transport_snapshot_chunks_sent_total"); got != float64(wantChunks) {
		t.Errorf("%v chunks sent, want %d", got, wantChunks)
	}
	wantBytes := float64(pairs * (8 + size))
	if got := a.metric(t, "partita_transport_snapshot_bytes_sent_total"); got != wantBytes {
		t.Errorf("%v snapshot bytes sent, want %v", got, wantBytes)
	}
	if got := b.metric(t, "partita_transport_snapshot_bytes_received_total"); got != wantBytes {
		t.Errorf("%v snapshot bytes received, want %v", got, wantBytes)
	}
	if a.metric(t, "partita_transport_snapshots_sent_total", "outcome", "ok") != 1 ||
		b.metric(t, "partita_transport_snapshots_received_total", "outcome", "ok") != 1 {
		t.Error("snapshot outcomes not counted")
	}
}

func TestGRPCSnapshotErrorsPropagate(t *testing.T) {
	dir := newDirectory()
	sink := &snapshotSink{}
	b := startNode(t, dir, 2, "", sink)
	a := startNode(t, dir, 1, "", &recorder{})

	// The receiver fails midway, and before reading anything.
	for _, at := range []int{2500, 0} {
		sink.fail = func(n int) error {
			if n == at {
				return errors.New("no space left")
			}
			return nil
		}
		err := sendSnapshot(t, a, 2, newGenReader(5000, 1000))
		if !errors.Is(err, transport.ErrSnapshotRejected) || !strings.Contains(err.Error(), "no space left") {
			t.Fatalf("receiver failing at pair %d: SendSnapshot = %v", at, err)
		}
	}
	sink.fail = nil

	// The sender cannot read its snapshot: both sides fail.
	g := newGenReader(5000, 1000)
	g.failAfter = 3000
	if err := sendSnapshot(t, a, 2, g); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("sender failing: SendSnapshot = %v", err)
	}
	eventually(t, "receiver sees the broken stream", func() bool {
		return b.metric(t, "partita_transport_snapshots_received_total", "outcome", "error") == 3
	})
	if len(sink.got) != 0 {
		t.Errorf("%d snapshots accepted", len(sink.got))
	}

	// A receiver that takes no snapshots, and a node that is down.
	startNode(t, dir, 3, "", &recorder{})
	if err := sendSnapshot(t, a, 3, newGenReader(10, 10)); err == nil {
		t.Error("a node without a SnapshotHandler accepted a snapshot")
	}
	dir.set(4, "127.0.0.1:1")
	if err := sendSnapshot(t, a, 4, newGenReader(10, 10)); err == nil {
		t.Error("a snapshot reached a node that is down")
	}
	if got := a.metric(t, "partita_transport_snapshots_sent_total", "outcome", "error"); got != 5 {
		t.Errorf("%v failed snapshots counted, want 5", got)
	}
}

func TestGRPCSnapshotRateLimit(t *testing.T) {
	dir := newDirectory()
	startNode(t, dir, 2, "", &snapshotSink{})
	const rate, chunk = 16 << 20, 256 << 10
	a := startNode(t, dir, 1, "", &recorder{}, func(c *transport.Config) {
		c.SnapshotRate, c.SnapshotChunkBytes = rate, chunk
	})
	const pairs, size = 2048, 1008 // 1 KiB a pair with framing: 8 chunks of 256 KiB
	start := time.Now()
	if err := sendSnapshot(t, a, 2, newGenReader(pairs, size)); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start).Seconds()
	if got := a.metric(t, "partita_transport_snapshot_chunks_sent_total"); got != 1+8 {
		t.Errorf("%v chunks sent, want 9", got)
	}
	// The bucket starts with one chunk of tokens; the other 7 chunks are
	// paced, less whatever the transfer itself took.
	debt := float64(7*chunk) / rate
	throttled := a.metric(t, "partita_transport_snapshot_throttled_seconds_total")
	if throttled > debt+1e-6 || throttled < debt-elapsed {
		t.Errorf("throttled %.3fs, want %.3fs less at most the %.3fs the transfer took", throttled, debt, elapsed)
	}

	// Without a rate there is no throttling.
	c := startNode(t, dir, 3, "", &recorder{})
	if err := sendSnapshot(t, c, 2, newGenReader(pairs, size)); err != nil {
		t.Fatal(err)
	}
	if got := c.metric(t, "partita_transport_snapshot_throttled_seconds_total"); got != 0 {
		t.Errorf("throttled %v without a rate", got)
	}
}

func TestGRPCSnapshotFailsWhenClosed(t *testing.T) {
	dir := newDirectory()
	gate := make(chan struct{})
	startNode(t, dir, 2, "", &snapshotSink{fail: func(n int) error {
		if n == 100 {
			<-gate
		}
		return nil
	}})
	a := startNode(t, dir, 1, "", &recorder{})
	errc := make(chan error, 1)
	go func() { errc <- sendSnapshot(t, a, 2, newGenReader(5000, 1000)) }()
	eventually(t, "snapshot under way", func() bool {
		return a.metric(t, "partita_transport_snapshot_chunks_sent_total") >= 2
	})
	a.close(t)
	if err := <-errc; !errors.Is(err, transport.ErrClosed) {
		t.Errorf("SendSnapshot during Close = %v, want ErrClosed", err)
	}
	close(gate)
	if err := a.tr.SendSnapshot(context.Background(), 2, transport.Snapshot{}); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("SendSnapshot after Close = %v", err)
	}
}
