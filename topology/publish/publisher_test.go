package publish_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gocloud.dev/blob"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/publish"
	"github.com/partitadb/partita/topology/topologypb"
)

// testRoundTrip publishes snapshots of two nodes and reads them back by
// their keys' prefixes.
func testRoundTrip(t *testing.T, b *blob.Bucket) {
	p := newPublisher(t, b, nil)
	run(t, p)
	at := time.Date(2026, 12, 3, 16, 59, 58, 0, time.UTC)
	var sent []*topologypb.TopologySnapshot
	for i := range uint64(4) {
		for node := uint64(1); node <= 2; node++ {
			s := snapshot(node, i+1, at.Add(time.Duration(i)*time.Second)) // crosses into hour 17
			sent = append(sent, s)
			if err := p.Publish(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "every snapshot published", func() bool { return p.Stats().Published == uint64(len(sent)) })
	for _, s := range sent {
		key := publish.Key(s)
		n, err := history.ParseKey(key)
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		if n.Node != s.GetNode().GetId() || n.Seq != s.GetSeq() || n.Taken.UnixNano() != s.GetUnixNanos() {
			t.Fatalf("key %q names %+v, not snapshot %d of node %d", key, n, s.GetSeq(), s.GetNode().GetId())
		}
		raw, err := b.ReadAll(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		var got topologypb.TopologySnapshot
		if err := proto.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&got, s) {
			t.Fatalf("%s holds %v, want %v", key, &got, s)
		}
	}
	// One hour of one node is one prefix.
	if got := keys(t, b, history.NodePrefix(at, 2)); len(got) != 2 {
		t.Fatalf("node 2's hour 16 lists %v, want its 2 snapshots", got)
	}
	if got := keys(t, b, history.HourPrefix(at.Add(time.Hour))); len(got) != 4 {
		t.Fatalf("hour 17 lists %v, want 4 snapshots", got)
	}
	if got := keys(t, b, ""); len(got) != len(sent) {
		t.Fatalf("bucket holds %v, want only the %d snapshots", got, len(sent))
	}
}

func TestPublishFileBucket(t *testing.T) {
	testRoundTrip(t, openBucket(t, "file://"+filepath.ToSlash(filepath.Join(t.TempDir(), "topology"))))
}

func TestPublishMemBucket(t *testing.T) { testRoundTrip(t, openBucket(t, "mem://")) }

func TestPublishS3Bucket(t *testing.T) { testRoundTrip(t, s3Bucket(t)) }

func TestPublishRefusesSnapshotWithoutNode(t *testing.T) {
	p := newPublisher(t, openBucket(t, "mem://"), nil)
	if err := p.Publish(&topologypb.TopologySnapshot{Seq: 1}); !errors.Is(err, publish.ErrNoNode) {
		t.Fatalf("Publish = %v, want ErrNoNode", err)
	}
}

// A stalled bucket never blocks Publish: the queue keeps the newest
// snapshots within its bound, drops the oldest and counts them, and
// publishing resumes once the bucket does.
func TestStalledBucketDropsOldest(t *testing.T) {
	mem := openBucket(t, "mem://")
	fb := publish.NewFaultyBucket(mem)
	fb.Stall()
	const bound = 4
	p := newPublisher(t, fb, func(c *publish.Config) { c.QueueSnapshots = bound })
	run(t, p)
	at := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	publishN := func(from, to uint64) {
		for seq := from; seq <= to; seq++ {
			if err := p.Publish(snapshot(7, seq, at.Add(time.Duration(seq)*time.Second))); err != nil {
				t.Fatal(err)
			}
		}
	}
	publishN(1, 1)
	waitFor(t, "the first write to stall", func() bool { return fb.Writes() == 1 })
	publishN(2, 100) // returns although every write is stuck
	st := p.Stats()
	if st.Queued != bound || st.Dropped != 100-bound || st.Published != 0 {
		t.Fatalf("stats %+v under a stalled bucket, want %d queued, %d dropped, none published", st, bound, 100-bound)
	}
	fb.Heal()
	// The stalled write of snapshot 1 completes; then the newest four.
	waitFor(t, "the queue to drain", func() bool { return p.Stats().Queued == 0 })
	var seqs []uint64
	for _, k := range keys(t, mem, "") {
		n, err := history.ParseKey(k)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, n.Seq)
	}
	slices.Sort(seqs)
	if want := []uint64{1, 97, 98, 99, 100}; !slices.Equal(seqs, want) {
		t.Fatalf("bucket holds snapshots %v, want %v", seqs, want)
	}
}

// The queue's byte bound holds too, and always keeps the newest snapshot.
func TestQueueBoundInBytes(t *testing.T) {
	fb := publish.NewFaultyBucket(openBucket(t, "mem://"))
	fb.Stall()
	defer fb.Heal()
	p := newPublisher(t, fb, func(c *publish.Config) { c.QueueBytes = 1000 })
	for i := range 50 {
		if err := p.PublishEncoded(fmt.Sprintf("k%d", i), make([]byte, 300)); err != nil {
			t.Fatal(err)
		}
	}
	if st := p.Stats(); st.QueuedBytes > 1000 || st.Queued != 3 || st.Dropped != 47 {
		t.Fatalf("stats %+v, want 3 snapshots (900 bytes) queued, 47 dropped", st)
	}
	if err := p.PublishEncoded("big", make([]byte, 5000)); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Queued != 1 || st.QueuedBytes != 5000 {
		t.Fatalf("stats %+v, want the oversized newest snapshot kept alone", st)
	}
}

// A failing bucket is retried with backoff, and publishing resumes on its
// own when it heals, without losing the snapshots still queued.
func TestFailingBucketResumes(t *testing.T) {
	mem := openBucket(t, "mem://")
	fb := publish.NewFaultyBucket(mem)
	fb.Fail()
	p := newPublisher(t, fb, nil)
	run(t, p)
	at := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	for seq := uint64(1); seq <= 3; seq++ {
		if err := p.Publish(snapshot(2, seq, at.Add(time.Duration(seq)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "retries", func() bool { return fb.Writes() >= 3 })
	if st := p.Stats(); st.Published != 0 || st.Queued != 3 {
		t.Fatalf("stats %+v while failing, want 3 queued", st)
	}
	fb.Heal()
	waitFor(t, "publishing to resume", func() bool { return p.Stats().Published == 3 })
	if got := keys(t, mem, ""); len(got) != 3 {
		t.Fatalf("bucket holds %v, want 3 snapshots", got)
	}
}
