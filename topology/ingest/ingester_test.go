package ingest_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/ingest"
	"github.com/partitadb/partita/topology/topologypb"
)

// fakeClock is the tests' clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var t0 = time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)

func newIngester(t *testing.T, c *fakeClock, edit func(*ingest.Config)) *ingest.Ingester {
	t.Helper()
	cfg := ingest.DefaultConfig()
	cfg.Interval, cfg.DeadAfter, cfg.Forget, cfg.MaxAge, cfg.Window = time.Second, 10*time.Second, time.Minute, time.Hour, 8
	cfg.Now = c.Now
	if edit != nil {
		edit(&cfg)
	}
	in, err := ingest.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// snap is node's snapshot seq taken at taken, with the given replicas.
func snap(node, seq uint64, taken time.Time, replicas ...*topologypb.Replica) *topologypb.TopologySnapshot {
	return &topologypb.TopologySnapshot{
		Version: topologypb.SchemaVersion_SCHEMA_VERSION_1,
		Node:    &topologypb.Node{Id: node, Zone: "z" + string(rune('a'+node%2)), StartUnixNanos: t0.Add(-time.Hour).UnixNano()},
		Seq:     seq, UnixNanos: taken.UnixNano(), IntervalNanos: int64(time.Second),
		Host:     &topologypb.Host{DiskCapacityBytes: 100, DiskUsedBytes: 25, FsyncP99Nanos: int64(3 * time.Millisecond), CpuSeconds: 0.5},
		Replicas: replicas,
	}
}

func rep(partition uint64, role topologypb.Role, term, applied uint64) *topologypb.Replica {
	return &topologypb.Replica{Table: "t", Partition: partition, Role: role, Term: term, Applied: applied, Commit: applied,
		Generation: 1, Voters: []uint64{1, 2, 3}, Load: &topologypb.Load{WritesPerSec: float64(applied)}}
}

func encode(t *testing.T, s *topologypb.TopologySnapshot) (string, []byte) {
	t.Helper()
	b, err := proto.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	name := history.Name{Node: s.Node.Id, Taken: time.Unix(0, s.UnixNanos), Started: time.Unix(0, s.Node.StartUnixNanos), Seq: s.Seq}
	return name.Key(), b
}

func wantSkip(t *testing.T, err error, r ingest.Reason) {
	t.Helper()
	if !errors.Is(err, ingest.ErrSkipped) || ingest.ReasonOf(err) != r {
		t.Fatalf("err = %v, want a skip for %s", err, r)
	}
}

func TestDedupeAcrossFastPathAndBucket(t *testing.T) {
	c := &fakeClock{t: t0}
	in := newIngester(t, c, nil)
	s := snap(1, 7, t0)
	if err := in.Report(s); err != nil {
		t.Fatal(err)
	}
	wantSkip(t, in.Report(proto.Clone(s).(*topologypb.TopologySnapshot)), ingest.Duplicate)
	key, b := encode(t, s)
	wantSkip(t, in.AddBlob(key, b), ingest.Duplicate)
	name, _ := history.ParseKey(key)
	if in.Wants(name) {
		t.Fatal("Wants a snapshot the fast path delivered")
	}
	// Same seq from a restarted process is another snapshot.
	s2 := snap(1, 7, t0.Add(time.Second))
	s2.Node.StartUnixNanos = t0.UnixNano()
	if err := in.Report(s2); err != nil {
		t.Fatal(err)
	}
	st := in.Stats()
	if st.Added != 2 || st.Skipped[ingest.Duplicate] != 2 {
		t.Fatalf("stats = %+v, want 2 added, 2 duplicates", st)
	}
	v := in.View()
	if n, _ := v.Node(1); n.Seq != 7 || !n.Started.Equal(t0) || n.Trend.Restarts != 1 {
		t.Fatalf("node = %+v, want the restarted process's snapshot and one restart", n)
	}
}

func TestFutureAndPast(t *testing.T) {
	c := &fakeClock{t: t0}
	in := newIngester(t, c, func(cfg *ingest.Config) { cfg.MaxSkew = 2 * time.Second })
	wantSkip(t, in.Report(snap(1, 1, t0.Add(3*time.Second))), ingest.Future)
	wantSkip(t, in.Report(snap(1, 2, t0.Add(-time.Hour-time.Second))), ingest.Past)
	if err := in.Report(snap(1, 3, t0.Add(2*time.Second))); err != nil {
		t.Fatalf("within the skew: %v", err)
	}
	if err := in.Report(snap(1, 4, t0.Add(-59*time.Minute))); err != nil {
		t.Fatalf("within MaxAge: %v", err)
	}
	if n, _ := in.View().Node(1); n.Seq != 3 {
		t.Fatalf("newest seq = %d, want 3 (the older one must not replace it)", n.Seq)
	}
}

func TestLivenessTransitions(t *testing.T) {
	c := &fakeClock{t: t0}
	in := newIngester(t, c, nil)
	if err := in.Report(snap(1, 1, t0)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Duration
		want directory.Liveness
	}{
		{0, directory.Alive}, {2 * time.Second, directory.Alive}, {2*time.Second + 1, directory.Suspect},
		{10 * time.Second, directory.Suspect}, {10*time.Second + 1, directory.Dead}, {time.Minute, directory.Dead},
	} {
		c.Set(t0.Add(tc.at))
		v := in.View()
		if n, ok := v.Node(1); !ok || n.Liveness != tc.want || n.Age != tc.at {
			t.Fatalf("at +%s: node = %+v, want %s", tc.at, n, tc.want)
		}
		if z := v.Zones; len(z) != 1 || z[0].Nodes != 1 {
			t.Fatalf("zones = %+v", z)
		}
	}
	// A fresh snapshot revives it.
	if err := in.Report(snap(1, 2, t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	if n, _ := in.View().Node(1); n.Liveness != directory.Alive {
		t.Fatalf("revived node = %s", n.Liveness)
	}
	c.Set(t0.Add(2*time.Minute + time.Nanosecond))
	if v := in.View(); len(v.Nodes) != 0 || in.Stats().Nodes != 0 {
		t.Fatalf("a node silent for longer than Forget stays: %+v", v.Nodes)
	}
}

func TestLeaderLagAndLoad(t *testing.T) {
	c := &fakeClock{t: t0}
	in := newIngester(t, c, nil)
	lead := rep(7, topologypb.Role_ROLE_LEADER, 5, 100)
	lead.Followers = []*topologypb.Progress{{Node: 2, Match: 95, SinceContactNanos: int64(40 * time.Millisecond)}}
	lead.IndexLagNanos = int64(3 * time.Second) // the leader's global index lag
	follower := rep(7, topologypb.Role_ROLE_FOLLOWER, 5, 90)
	follower.IndexLagNanos = int64(time.Hour) // a former leader's, stale: not the partition's
	for _, s := range []*topologypb.TopologySnapshot{
		snap(1, 1, t0, lead, rep(8, topologypb.Role_ROLE_FOLLOWER, 2, 50)),
		snap(2, 1, t0, follower, rep(8, topologypb.Role_ROLE_FOLLOWER, 2, 40)),
		// Node 3 says it leads 8 at term 2 but is dead: not the leader.
		snap(3, 1, t0.Add(-20*time.Second), rep(7, topologypb.Role_ROLE_FOLLOWER, 4, 60), rep(8, topologypb.Role_ROLE_LEADER, 2, 55)),
	} {
		if err := in.Report(s); err != nil {
			t.Fatal(err)
		}
	}
	v := in.View()
	p, ok := v.Partition(7)
	if !ok || p.Leader != 1 || p.Term != 5 || p.MaxLag != 40 || p.Load.WritesPerSec != 100 || p.IndexLag != 3*time.Second {
		t.Fatalf("partition 7 = %+v", p)
	}
	lags := map[uint64]uint64{}
	for _, r := range p.Replicas {
		lags[r.Node] = r.Lag
	}
	if lags[1] != 0 || lags[2] != 10 || lags[3] != 40 || p.Replicas[1].SinceContact != 40*time.Millisecond {
		t.Fatalf("replicas = %+v", p.Replicas)
	}
	p8, _ := v.Partition(8)
	if p8.Leader != 0 || p8.MaxLag != 15 || p8.Replicas[2].Liveness != directory.Dead {
		t.Fatalf("partition 8 = %+v, want no leader (its leader's node is dead) and lag behind the most applied", p8)
	}
	if n, _ := v.Node(1); n.Leaders != 1 || n.Replicas != 2 || n.Health.DiskUse != 0.25 || n.Health.CPU != 0.5 {
		t.Fatalf("node 1 = %+v", n)
	}
}

func TestWindowIsBounded(t *testing.T) {
	c := &fakeClock{t: t0.Add(1001 * time.Second)}
	in := newIngester(t, c, func(cfg *ingest.Config) { cfg.MaxAge = 2 * time.Hour })
	for seq := uint64(1); seq <= 1000; seq++ {
		if err := in.Report(snap(1, seq, t0.Add(time.Duration(seq)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	s := in.Samples(1)
	if len(s) != 8 || s[7].Seq != 1000 || s[0].Seq != 993 {
		t.Fatalf("window = %d samples, %d..%d; want 8, 993..1000", len(s), s[0].Seq, s[len(s)-1].Seq)
	}
	// Older than the whole full window: past; inside it: kept in order.
	wantSkip(t, in.Report(snap(1, 5, t0.Add(5*time.Second))), ingest.Past)
	if n, _ := in.View().Node(1); n.Seq != 1000 || n.Trend.Samples != 8 || n.Trend.Span != 7*time.Second {
		t.Fatalf("node = %+v", n)
	}
}

func TestBadBlobsAreSkippedAndCounted(t *testing.T) {
	c := &fakeClock{t: t0}
	in := newIngester(t, c, nil)
	good := snap(4, 9, t0, rep(2, topologypb.Role_ROLE_LEADER, 1, 10))
	key, b := encode(t, good)
	newer := proto.Clone(good).(*topologypb.TopologySnapshot)
	newer.Version = topologypb.SchemaVersion(7)
	newer.Seq = 10
	_, newerBytes := encode(t, newer)
	noNode := proto.Clone(good).(*topologypb.TopologySnapshot)
	noNode.Node.Id = 0
	_, noNodeBytes := encode(t, noNode)
	for _, tc := range []struct {
		name string
		key  string
		data []byte
		want ingest.Reason
	}{
		{"garbage", key, []byte{0x0f, 0x01, 0x02}, ingest.Corrupt},
		{"truncated", key, b[:len(b)/2], ingest.Truncated},
		{"empty", key, nil, ingest.Invalid},
		{"unknown version", key, newerBytes, ingest.UnknownVersion},
		{"no node", key, noNodeBytes, ingest.Invalid},
		{"key of another snapshot", history.Name{Node: 5, Taken: t0, Started: t0, Seq: 9}.Key(), b, ingest.Invalid},
	} {
		wantSkip(t, in.AddBlob(tc.key, tc.data), tc.want)
	}
	if err := in.AddBlob(key, b); err != nil {
		t.Fatal(err)
	}
	st := in.Stats()
	if st.Added != 1 || st.Skipped[ingest.Invalid] != 3 || st.Skipped[ingest.Corrupt] != 1 || st.Skipped[ingest.Truncated] != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestViewIsImmutable(t *testing.T) {
	c := &fakeClock{t: t0}
	in := newIngester(t, c, nil)
	if err := in.Report(snap(1, 1, t0, rep(3, topologypb.Role_ROLE_LEADER, 1, 10))); err != nil {
		t.Fatal(err)
	}
	v := in.View()
	if err := in.Report(snap(1, 2, t0.Add(time.Second), rep(3, topologypb.Role_ROLE_LEADER, 1, 20))); err != nil {
		t.Fatal(err)
	}
	if p, _ := v.Partition(3); p.Replicas[0].Applied != 10 {
		t.Fatalf("an older view changed: %+v", p)
	}
	if p, _ := in.View().Partition(3); p.Replicas[0].Applied != 20 {
		t.Fatalf("the new view missed the new snapshot: %+v", p)
	}
}

func TestMetrics(t *testing.T) {
	c := &fakeClock{t: t0}
	reg := prometheus.NewRegistry()
	in := newIngester(t, c, func(cfg *ingest.Config) { cfg.Registerer = reg })
	if err := in.Report(snap(3, 1, t0.Add(-1500*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	key, b := encode(t, snap(4, 1, t0))
	if err := in.AddBlob(key, b); err != nil {
		t.Fatal(err)
	}
	_ = in.AddBlob(key, b)
	_ = in.AddBlob(key, []byte{0x0f})
	in.View()
	text := gather(t, reg)
	for _, want := range []string{
		`partita_topology_ingest_blobs_total{source="report"} 1`,
		`partita_topology_ingest_blobs_total{source="bucket"} 1`,
		`partita_topology_ingest_skipped_total{reason="duplicate"} 1`,
		`partita_topology_ingest_skipped_total{reason="corrupt"} 1`,
		`partita_topology_ingest_lag_seconds{node="3"} 1.5`,
		`partita_topology_ingest_lag_seconds{node="4"} 0`,
		`partita_topology_view_build_seconds_count 1`,
		`partita_topology_view_nodes{liveness="alive"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics miss %q", want)
		}
	}
	c.Set(t0.Add(time.Hour))
	in.View()
	if text := gather(t, reg); strings.Contains(text, `lag_seconds{node="3"}`) {
		t.Errorf("a forgotten node keeps its lag series")
	}
}

func gather(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&sb, mf); err != nil {
			t.Fatal(err)
		}
	}
	return sb.String()
}
