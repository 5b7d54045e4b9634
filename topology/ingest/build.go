package ingest

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology/topologypb"
)

// nodeInput is what View copies out of a node's window under the lock;
// the view is built from it without the lock. Snapshots are never changed
// once added, so sharing latest is safe.
type nodeInput struct {
	latest  *topologypb.TopologySnapshot
	samples []Sample
}

// build is the view of nodes at now: a pure function of its arguments.
func build(now time.Time, cfg Config, nodes []nodeInput) *ClusterView {
	v := &ClusterView{At: now, Nodes: make([]NodeView, 0, len(nodes))}
	for _, n := range nodes {
		v.Nodes = append(v.Nodes, nodeView(now, cfg, n))
	}
	slices.SortFunc(v.Nodes, func(a, b NodeView) int { return cmp.Compare(a.ID, b.ID) })
	v.Zones = zones(v.Nodes)
	v.Partitions = partitions(v, nodes)
	return v
}

// Liveness classifies a node whose newest snapshot is age old, for
// snapshots every interval.
func Liveness(cfg Config, age, interval time.Duration) directory.Liveness {
	if interval <= 0 {
		interval = cfg.Interval
	}
	switch {
	case age <= time.Duration(cfg.SuspectAfter)*interval:
		return directory.Alive
	case age <= cfg.DeadAfter:
		return directory.Suspect
	}
	return directory.Dead
}

func nodeView(now time.Time, cfg Config, in nodeInput) NodeView {
	s, n, h := in.latest, in.latest.GetNode(), in.latest.GetHost()
	taken := time.Unix(0, s.GetUnixNanos()).UTC()
	nv := NodeView{
		ID: n.GetId(), Zone: n.GetZone(), APIAddr: n.GetApiAddr(), PeerAddr: n.GetPeerAddr(), AdminAddr: n.GetAdminAddr(),
		Version: n.GetBinaryVersion(), Started: time.Unix(0, n.GetStartUnixNanos()).UTC(), Seq: s.GetSeq(),
		Taken: taken, Age: now.Sub(taken), Interval: time.Duration(s.GetIntervalNanos()),
		Replicas: len(s.GetReplicas()),
	}
	if nv.Interval <= 0 {
		nv.Interval = cfg.Interval
	}
	nv.Liveness = Liveness(cfg, nv.Age, nv.Interval)
	nv.Health = Health{
		FsyncP50: time.Duration(h.GetFsyncP50Nanos()), FsyncP99: time.Duration(h.GetFsyncP99Nanos()),
		DiskCapacity: h.GetDiskCapacityBytes(), DiskUsed: h.GetDiskUsedBytes(), StoreBytes: h.GetStoreBytes(),
		RSSBytes: h.GetRssBytes(), HeapBytes: h.GetHeapBytes(), Goroutines: h.GetGoroutines(),
		CPU: h.GetCpuSeconds() / nv.Interval.Seconds(),
	}
	if h.GetDiskCapacityBytes() > 0 {
		nv.Health.DiskUse = float64(h.GetDiskUsedBytes()) / float64(h.GetDiskCapacityBytes())
	}
	for _, r := range s.GetReplicas() {
		if r.GetRole() == topologypb.Role_ROLE_LEADER {
			nv.Leaders++
		}
		if r.GetPendingSnapshot() {
			nv.Health.PendingSnaps++
		}
		nv.Health.RaftLogBytes += r.GetLogBytes()
		nv.Health.RaftLogLength += r.GetLogEntries()
		nv.Load.add(loadOf(r.GetLoad()))
	}
	nv.Trend = trend(in.samples)
	return nv
}

// trend summarizes a window of samples, oldest first.
func trend(samples []Sample) Trend {
	t := Trend{Samples: len(samples)}
	if len(samples) == 0 {
		return t
	}
	first, last := samples[0], samples[len(samples)-1]
	t.Span = last.Taken.Sub(first.Taken)
	for i, s := range samples {
		t.FsyncP99Max = max(t.FsyncP99Max, s.FsyncP99)
		t.WritesPerSec += s.WritesPerSec / float64(len(samples))
		t.ReadsPerSec += s.ReadsPerSec / float64(len(samples))
		if i > 0 && s.Started != samples[i-1].Started {
			t.Restarts++
		}
	}
	if t.Span > 0 {
		t.DiskGrowth = (float64(last.DiskUsedBytes) - float64(first.DiskUsedBytes)) / t.Span.Seconds()
	}
	return t
}

func loadOf(l *topologypb.Load) Load {
	out := Load{
		ReadsPerSec: l.GetReadsPerSec(), WritesPerSec: l.GetWritesPerSec(),
		ReadBytesPerSec: l.GetReadBytesPerSec(), WriteBytesPerSec: l.GetWriteBytesPerSec(),
		LatencyP50: time.Duration(l.GetLatencyP50Nanos()), LatencyP99: time.Duration(l.GetLatencyP99Nanos()),
		Items: l.GetItems(), SizeBytes: l.GetSizeBytes(),
		KeySamples: l.GetKeySamples(), TopKeyShare: l.GetTopKeyShare(), MedianKeyHash: l.GetMedianKeyHash(),
	}
	if len(l.GetErrors()) > 0 {
		out.Errors = maps.Clone(l.GetErrors())
	}
	for _, b := range l.GetLatency() {
		out.Latency = append(out.Latency, LatencyBucket{GT: time.Duration(b.GetGtNanos()), LE: time.Duration(b.GetLeNanos()), Count: b.GetCount()})
	}
	return out
}

// add sums o's rates and counts into l (latencies keep the worst; the
// latency histograms are not summed).
func (l *Load) add(o Load) {
	l.ReadsPerSec += o.ReadsPerSec
	l.WritesPerSec += o.WritesPerSec
	l.ReadBytesPerSec += o.ReadBytesPerSec
	l.WriteBytesPerSec += o.WriteBytesPerSec
	l.LatencyP50, l.LatencyP99 = max(l.LatencyP50, o.LatencyP50), max(l.LatencyP99, o.LatencyP99)
	l.Items += o.Items
	l.SizeBytes += o.SizeBytes
	for k, n := range o.Errors {
		if l.Errors == nil {
			l.Errors = map[string]uint64{}
		}
		l.Errors[k] += n
	}
}

func zones(nodes []NodeView) []ZoneView {
	byName := map[string]*ZoneView{}
	for _, n := range nodes {
		z := byName[n.Zone]
		if z == nil {
			z = &ZoneView{Name: n.Zone}
			byName[n.Zone] = z
		}
		z.Nodes++
		z.Replicas += n.Replicas
		z.Leaders += n.Leaders
		switch n.Liveness {
		case directory.Alive:
			z.Alive++
		case directory.Suspect:
			z.Suspect++
		default:
			z.Dead++
		}
	}
	out := make([]ZoneView, 0, len(byName))
	for _, z := range byName {
		out = append(out, *z)
	}
	slices.SortFunc(out, func(a, b ZoneView) int { return cmp.Compare(a.Name, b.Name) })
	return out
}
