package ingest

import (
	"sync"
	"time"

	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/topologypb"
)

// Source says how a snapshot arrived.
type Source string

// The sources of snapshots.
const (
	FromReport Source = "report" // the fast path
	FromBucket Source = "bucket" // the history
)

// Ingester keeps a window of recent snapshots per node and builds cluster
// views from them. It is safe for concurrent use: reports, blob readers
// and view builders may call it at once.
type Ingester struct {
	cfg Config
	met *metrics

	mu      sync.Mutex
	nodes   map[uint64]*window
	skipped map[Reason]uint64
	added   uint64
}

// New returns an empty Ingester.
func New(cfg Config) (*Ingester, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	met, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Ingester{cfg: cfg, met: met, nodes: map[uint64]*window{}, skipped: map[Reason]uint64{}}, nil
}

// Report takes a snapshot a node reported (the fast path). The ingester
// keeps s: the caller must not change it afterwards. A skipped snapshot
// returns a *SkipError.
func (in *Ingester) Report(s *topologypb.TopologySnapshot) error {
	if err := Check(s); err != nil {
		return in.skipped1(err)
	}
	return in.add(IDOf(s), sampleOf(s), s, nil, FromReport)
}

// AddBlob takes a snapshot blob read from the bucket under key (a
// history key; "" when unknown). Corrupt, truncated, unknown-version,
// mismatched, duplicate and out-of-range blobs are skipped, counted, and
// returned as a *SkipError.
// data is not kept: the caller may reuse it.
func (in *Ingester) AddBlob(key string, data []byte) error {
	s, err := scan(data)
	if err != nil {
		return in.skipped1(err)
	}
	if key != "" {
		if err := matches(key, s); err != nil {
			return in.skipped1(err)
		}
	}
	return in.add(s.id, s.sample, nil, data, FromBucket)
}

// matches checks that the blob under key holds the snapshot key names.
func matches(key string, s scanned) error {
	name, err := history.ParseKey(key)
	if err != nil {
		return skip(Invalid, "key %q: %v", key, err)
	}
	if name.Node != s.id.Node || name.Seq != s.id.Seq || name.Started.UnixNano() != s.id.Started || name.Taken.UnixNano() != s.taken {
		return skip(Invalid, "key %q holds node %d seq %d", key, s.id.Node, s.id.Seq)
	}
	return nil
}

// Wants says whether the snapshot named by a history key would be kept,
// so that a bucket reader skips reading the blobs it has (reported on the
// fast path, or read before) or could not use. Not wanted is not counted.
func (in *Ingester) Wants(name history.Name) bool {
	id := ID{Node: name.Node, Started: name.Started.UnixNano(), Seq: name.Seq}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.admitsLocked(id, name.Taken, in.cfg.Now()) == ""
}

// add keeps an admitted snapshot: s decoded (the fast path) or raw, its
// blob (copied when it becomes the node's latest).
func (in *Ingester) add(id ID, sm Sample, s *topologypb.TopologySnapshot, raw []byte, src Source) error {
	taken := sm.Taken
	in.mu.Lock()
	if r := in.admitsLocked(id, taken, in.cfg.Now()); r != "" {
		in.mu.Unlock()
		return in.skipped1(skip(r, "node %d seq %d taken %s", id.Node, id.Seq, taken.UTC().Format(time.RFC3339Nano)))
	}
	w := in.nodes[id.Node]
	if w == nil {
		w = &window{}
		in.nodes[id.Node] = w
	}
	if s == nil && (len(w.samples) == 0 || !before(sm, w.newest(), w.samples[len(w.samples)-1].Started, w.samples[len(w.samples)-1].Seq)) {
		raw = append(w.raw[:0], raw...) // the newest: keep its bytes, in the previous newest's buffer (the caller reuses raw)
	} else {
		raw = nil
	}
	w.add(sm, s, raw, in.cfg.Window)
	in.added++
	in.mu.Unlock()
	in.met.ingested.WithLabelValues(string(src)).Inc()
	return nil
}

// admitsLocked is why a snapshot would be skipped ("": it would not).
func (in *Ingester) admitsLocked(id ID, taken, now time.Time) Reason {
	switch {
	case taken.After(now.Add(in.cfg.MaxSkew)):
		return Future
	case taken.Before(now.Add(-in.cfg.MaxAge)):
		return Past
	}
	if w := in.nodes[id.Node]; w != nil {
		return w.admits(id, taken, in.cfg.Window)
	}
	return ""
}

// skipped1 counts a skip and returns its error.
func (in *Ingester) skipped1(err error) error {
	r := ReasonOf(err)
	in.mu.Lock()
	in.skipped[r]++
	in.mu.Unlock()
	in.met.skipped.WithLabelValues(string(r)).Inc()
	return err
}

// Stats are the ingester's counters since it started.
type Stats struct {
	Added   uint64            `json:"added"`
	Skipped map[Reason]uint64 `json:"skipped,omitempty"`
	Nodes   int               `json:"nodes"`
}

// Stats returns the ingester's counters.
func (in *Ingester) Stats() Stats {
	in.mu.Lock()
	defer in.mu.Unlock()
	st := Stats{Added: in.added, Nodes: len(in.nodes), Skipped: map[Reason]uint64{}}
	for r, n := range in.skipped {
		st.Skipped[r] = n
	}
	return st
}

// Samples returns a copy of node's window of samples, oldest first (nil
// for a node the ingester does not know).
func (in *Ingester) Samples(node uint64) []Sample {
	in.mu.Lock()
	defer in.mu.Unlock()
	if w := in.nodes[node]; w != nil {
		return append([]Sample(nil), w.samples...)
	}
	return nil
}

// View builds the cluster view at the clock's now and forgets the nodes
// silent for longer than Config.Forget.
func (in *Ingester) View() *ClusterView {
	start := time.Now() // the build's own duration, for the metric only
	now := in.cfg.Now()
	in.mu.Lock()
	in.forgetLocked(now)
	nodes := make([]nodeInput, 0, len(in.nodes))
	var undecodable []error
	for _, w := range in.nodes {
		latest, err := w.decoded()
		if err != nil {
			undecodable = append(undecodable, err)
		}
		if latest != nil {
			nodes = append(nodes, nodeInput{latest: latest, samples: append([]Sample(nil), w.samples...)})
		}
	}
	in.mu.Unlock()
	for _, err := range undecodable {
		_ = in.skipped1(err)
	}
	v := build(now, in.cfg, nodes)
	in.met.observeView(v, time.Since(start))
	return v
}

// forgetLocked drops the windows of nodes silent since before now-Forget.
func (in *Ingester) forgetLocked(now time.Time) {
	for id, w := range in.nodes {
		if now.Sub(w.newest()) > in.cfg.Forget {
			delete(in.nodes, id)
			in.met.forget(id)
		}
	}
}
