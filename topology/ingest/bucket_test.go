package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/topology/topologypb"
)

func openBuckets(t *testing.T) map[string]*blob.Bucket {
	t.Helper()
	out := map[string]*blob.Bucket{}
	for name, url := range map[string]string{
		"file": "file://" + t.TempDir() + "?create_dir=1&metadata=skip",
		"mem":  "mem://",
	} {
		b, err := blob.OpenBucket(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		out[name] = b
	}
	return out
}

func put(t *testing.T, b *blob.Bucket, key string, data []byte) {
	t.Helper()
	if err := b.WriteAll(context.Background(), key, data, nil); err != nil {
		t.Fatal(err)
	}
}

// writeHistory writes nodes' snapshots every second over span, from
// start, node 3 stopping at start+stop3; it returns the number of blobs
// written.
func writeHistory(t *testing.T, b *blob.Bucket, start time.Time, span, stop3 time.Duration) int {
	t.Helper()
	n := 0
	for node := uint64(1); node <= 3; node++ {
		for seq := uint64(1); time.Duration(seq)*time.Second <= span; seq++ {
			at := start.Add(time.Duration(seq) * time.Second)
			if node == 3 && at.After(start.Add(stop3)) {
				break
			}
			role := topologypb.Role_ROLE_FOLLOWER
			if node == 3 || (node == 1 && at.After(start.Add(stop3))) {
				role = topologypb.Role_ROLE_LEADER
			}
			key, data := encode(t, snap(node, seq, at, rep(2, role, 1+seq/100, seq*10)))
			put(t, b, key, data)
			n++
		}
	}
	return n
}

func TestBucketLoad(t *testing.T) {
	for name, b := range openBuckets(t) {
		t.Run(name, func(t *testing.T) {
			// 10 minutes across two hour prefixes; node 3 stops after 5.
			start := t0.Add(55 * time.Minute)
			written := writeHistory(t, b, start, 10*time.Minute, 5*time.Minute)
			put(t, b, history.HourPrefix(t0)+"node-0000000001/junk.pb", []byte("x"))
			bad := history.Name{Node: 4, Taken: start.Add(time.Minute), Started: t0, Seq: 99999}
			put(t, b, bad.Key(), []byte{0x0a, 0x10, 0x01})
			c := &fakeClock{t: start.Add(10 * time.Minute)}
			in := newIngester(t, c, func(cfg *ingest.Config) { cfg.MaxAge, cfg.Forget = 2*time.Hour, 2*time.Hour })
			r := ingest.BucketReader{Bucket: b, Ingester: in, Readers: 4}
			st, err := r.Load(context.Background(), t0, c.Now())
			if err != nil {
				t.Fatal(err)
			}
			// Readers run in parallel: a blob older than a node's full
			// window when its turn comes is not read (Known) or skipped
			// (past), whatever the order.
			if st.Listed != int64(written)+2 || st.Ignored != 1 || st.Added+st.Skipped+st.Known != int64(written)+1 ||
				st.Read != st.Added+st.Skipped || st.Errors != 0 || in.Stats().Skipped[ingest.Truncated] != 1 {
				t.Fatalf("stats = %+v, written %d, ingester %+v", st, written, in.Stats())
			}
			v := in.View()
			if n3, _ := v.Node(3); n3.Liveness != directory.Dead || len(v.Nodes) != 3 { // node 4 only wrote a bad blob
				t.Fatalf("nodes = %+v", v.Nodes)
			}
			if p, _ := v.Partition(2); p.Leader != 1 {
				t.Fatalf("partition 2 = %+v, want node 1 leading after node 3 stopped", p)
			}
			// A second load reads nothing again.
			st, err = r.Load(context.Background(), t0, c.Now())
			if err != nil || st.Read != 1 || st.Known != int64(written) {
				t.Fatalf("second load: %+v, %v; want only the corrupt blob read again", st, err)
			}
		})
	}
}

func TestReplayAtAndWalk(t *testing.T) {
	for name, b := range openBuckets(t) {
		t.Run(name, func(t *testing.T) {
			writeHistory(t, b, t0, 10*time.Minute, 5*time.Minute)
			cfg := ingest.DefaultConfig()
			cfg.Interval, cfg.DeadAfter = time.Second, 10*time.Second
			rp := ingest.Replay{Bucket: b, Config: cfg, Lookback: 5 * time.Minute}
			v, _, err := rp.At(context.Background(), t0.Add(4*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if n3, ok := v.Node(3); !ok || n3.Liveness != directory.Alive || n3.Seq != 240 {
				t.Fatalf("node 3 at +4m = %+v, want alive with seq 240", n3)
			}
			if p, _ := v.Partition(2); p.Leader != 3 {
				t.Fatalf("partition 2 at +4m = %+v", p)
			}
			var log []string
			err = rp.Walk(context.Background(), t0.Add(4*time.Minute), t0.Add(6*time.Minute), 2*time.Second, func(s ingest.Step) error {
				for _, c := range s.Changes {
					log = append(log, c.String())
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(log, "\n")
			for _, want := range []string{
				"2026-12-03T16:04:00Z node 3 node_appeared: - -> alive",
				"2026-12-03T16:05:04Z node 3 node_liveness: alive -> suspect",
				"2026-12-03T16:05:02Z partition 2 leader_moved: node 3 -> node 1",
				"2026-12-03T16:05:12Z node 3 node_liveness: suspect -> dead",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("walk misses %q; got:\n%s", want, got)
				}
			}
		})
	}
}
