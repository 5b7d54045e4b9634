package router

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
)

// Requests across a split. A replica refuses with WRONG_RANGE a write or
// a read routed by a layout older than its range (the partition split
// since the router read the table's record). The router then re-reads
// the record and sends the request, from where it stopped, to the
// partition that owns its keys now; the client never sees the refusal.
// Reads resume at a key: Query and Scan pages, LastEvaluatedKey and
// parallel Scan segments are positions in the key order, which a split
// does not change, so no item is skipped or seen twice.

// rerouter re-reads a table's layout after a refusal, backing off while
// the directory has not caught up with the range change, for up to
// maxRerouteWait in all.
type rerouter struct {
	r       *Router
	backoff time.Duration
	waited  time.Duration
}

// maxRerouteWait bounds the time one request waits for the directory to
// catch up with a range change (about a reconciler period when a split's
// coordinator died before recording it).
const maxRerouteWait = 10 * time.Second

func (r *Router) rerouter() *rerouter { return &rerouter{r: r, backoff: 2 * time.Millisecond} }

// reroute returns t re-read after partition p refused a request with
// refused, once owner (the partition that now owns the request's keys)
// differs from p; until then it waits and reads again.
func (rr *rerouter) reroute(ctx context.Context, t *partitapb.Table, p *partitapb.Partition, refused error,
	owner func(*partitapb.Table) *partitapb.Partition) (*partitapb.Table, error) {
	r := rr.r
	r.cfg.Logger.DebugContext(ctx, "request refused for its range; rerouting",
		"table", t.GetName(), "partition", p.GetId(), "reason", refused.Error())
	view := t.GetLocalIndex()
	t, err := r.refreshTable(ctx, t)
	if err != nil {
		return nil, err
	}
	if view > 0 {
		t = LocalIndexView(t, int(view-1))
	}
	if q := owner(t); q.GetId() != p.GetId() || q.GetRangeGeneration() != p.GetRangeGeneration() {
		return t, nil // routed afresh: try at once
	}
	// The directory has not caught up with the range change yet.
	if rr.waited >= maxRerouteWait {
		return nil, fmt.Errorf("router: partition %d: the directory did not catch up with its range in %v: %w",
			p.GetId(), maxRerouteWait, refused)
	}
	if err := route.Sleep(ctx, rr.backoff); err != nil {
		return nil, fmt.Errorf("router: partition %d: %w", p.GetId(), errors.Join(refused, err))
	}
	rr.waited += rr.backoff
	rr.backoff = min(2*rr.backoff, 100*time.Millisecond)
	return t, nil
}

// learnReplicas tells the sender's directory cache the replicas of t's
// partitions it does not know yet (the right half of a split the node's
// directory refresh has not seen).
func (r *Router) learnReplicas(t *partitapb.Table) {
	dir := r.cfg.Sender.Directory()
	if dir == nil {
		return
	}
	for _, p := range t.GetPartitions() {
		if len(dir.Replicas(p.GetId())) == 0 && len(p.GetReplicas()) > 0 {
			dir.SetReplicas(p.GetId(), p.GetReplicas())
		}
	}
}

// partitionAtKey returns the partition of t owning the item key k (or
// the bound of a key range) within t's key space.
func partitionAtKey(t *partitapb.Table, k []byte) *partitapb.Partition {
	var h uint64
	if len(k) >= 17 {
		h = binary.BigEndian.Uint64(k[9:17])
	}
	parts := t.GetPartitions()
	i := sort.Search(len(parts), func(i int) bool { return parts[i].GetHashStart() > h })
	return parts[max(i-1, 0)]
}
