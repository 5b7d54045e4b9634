package ingest

import (
	"slices"
	"time"

	"github.com/partitadb/partita/topology/topologypb"
)

// ID identifies a snapshot: its node, its process's start and its
// sequence number in that process.
type ID struct {
	Node    uint64
	Started int64 // Unix nanoseconds
	Seq     uint64
}

// IDOf returns s's identity.
func IDOf(s *topologypb.TopologySnapshot) ID {
	return ID{Node: s.GetNode().GetId(), Started: s.GetNode().GetStartUnixNanos(), Seq: s.GetSeq()}
}

// Sample is what a node's window keeps of each snapshot: enough for rates
// and trends, a few dozen bytes.
type Sample struct {
	Taken         time.Time
	Started       int64
	Seq           uint64
	Interval      time.Duration
	FsyncP99      time.Duration
	DiskUsedBytes uint64
	CPUSeconds    float64
	ReadsPerSec   float64
	WritesPerSec  float64
	Replicas      int
	Leaders       int
	PendingSnaps  int
	LogBytes      uint64
	RSSBytes      uint64
}

// sampleOf summarizes s.
func sampleOf(s *topologypb.TopologySnapshot) Sample {
	h := s.GetHost()
	out := Sample{
		Taken: time.Unix(0, s.GetUnixNanos()).UTC(), Started: s.GetNode().GetStartUnixNanos(), Seq: s.GetSeq(),
		Interval: time.Duration(s.GetIntervalNanos()), FsyncP99: time.Duration(h.GetFsyncP99Nanos()),
		DiskUsedBytes: h.GetDiskUsedBytes(), CPUSeconds: h.GetCpuSeconds(), RSSBytes: h.GetRssBytes(),
		Replicas: len(s.GetReplicas()),
	}
	for _, r := range s.GetReplicas() {
		out.ReadsPerSec += r.GetLoad().GetReadsPerSec()
		out.WritesPerSec += r.GetLoad().GetWritesPerSec()
		out.LogBytes += r.GetLogBytes()
		if r.GetRole() == topologypb.Role_ROLE_LEADER {
			out.Leaders++
		}
		if r.GetPendingSnapshot() {
			out.PendingSnaps++
		}
	}
	return out
}

// window is one node's recent history: its newest snapshot in full and up
// to cap samples, oldest first. Its memory is bounded by cap and the size
// of one snapshot.
type window struct {
	// latest is the newest snapshot, decoded; or nil, and raw holds its
	// blob until a view decodes it.
	latest  *topologypb.TopologySnapshot
	raw     []byte
	samples []Sample
}

func before(a Sample, taken time.Time, started int64, seq uint64) bool {
	if !a.Taken.Equal(taken) {
		return a.Taken.Before(taken)
	}
	if a.Started != started {
		return a.Started < started
	}
	return a.Seq < seq
}

// admits says whether a snapshot of id taken at taken would enter a window
// of capacity cap: not a duplicate, and not older than every sample of a
// full window.
func (w *window) admits(id ID, taken time.Time, cap int) Reason {
	for i := range w.samples {
		if w.samples[i].Started == id.Started && w.samples[i].Seq == id.Seq {
			return Duplicate
		}
	}
	if len(w.samples) >= cap && before(Sample{Taken: taken, Started: id.Started, Seq: id.Seq}, w.samples[0].Taken, w.samples[0].Started, w.samples[0].Seq) {
		return Past
	}
	return ""
}

// add inserts the sample of an admitted snapshot, s decoded or its blob
// raw, and keeps the window within cap; the snapshot becomes the latest
// when it is the newest.
func (w *window) add(sm Sample, s *topologypb.TopologySnapshot, raw []byte, cap int) {
	i := len(w.samples)
	for i > 0 && !before(w.samples[i-1], sm.Taken, sm.Started, sm.Seq) {
		i--
	}
	if i == len(w.samples) {
		w.latest, w.raw = s, raw
	}
	w.samples = slices.Insert(w.samples, i, sm)
	if len(w.samples) > cap {
		w.samples = slices.Delete(w.samples, 0, len(w.samples)-cap)
	}
}

// decoded returns the latest snapshot, decoding its blob if need be (nil
// when it does not decode: its node leaves the view until its next
// snapshot).
func (w *window) decoded() (*topologypb.TopologySnapshot, error) {
	if w.latest == nil && w.raw != nil {
		s, err := Decode(w.raw)
		w.raw = nil
		if err != nil {
			return nil, err
		}
		w.latest = s
	}
	return w.latest, nil
}

// newest is the time of the newest snapshot.
func (w *window) newest() time.Time { return w.samples[len(w.samples)-1].Taken }
