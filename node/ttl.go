package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
)

// TTLJob names the job deleting expired items (time to live).
const TTLJob = "ttl"

// ttlPastLimit: as DynamoDB, an expiry more than five years in the past
// is taken for a value that is not a time in seconds (milliseconds, say),
// and the item is kept.
const ttlPastLimit = 5 * 365 * 24 * time.Hour

// ttlSweeper deletes the expired items of the partitions this node leads,
// for the tables whose time to live is enabled. An item is expired when
// its TTL attribute is a Number of seconds since the epoch at or before
// now. Each deletion is a DeleteItem through raft, conditioned on the
// attribute still holding the value the sweeper read, so a write that
// extended the item's life in between wins; it is logged in the change
// log like any delete. At most MaxDeletes a cycle: the deletes take
// capacity from the partitions' own writes.
type ttlSweeper struct {
	n          *Node
	maxDeletes int
	deleted    *prometheus.CounterVec // table
	scanned    prometheus.Counter

	mu sync.Mutex // one cycle at a time over the fields below
	// resume is, per partition, the storage key after the last item a
	// cycle read before its budget ran out: the next cycle goes on from
	// there, so that a pass over a partition reads each item once rather
	// than the items before the expired ones once a cycle.
	resume map[uint64][]byte
	// first is the partition at which the last cycle ran out of budget:
	// the next begins there, so that every partition gets its turn.
	first uint64
}

func (n *Node) registerTTLJob(m *daemon.Manager) error {
	if n.cfg.TTLInterval <= 0 {
		return nil
	}
	s := &ttlSweeper{n: n, maxDeletes: n.cfg.TTLMaxDeletes, resume: map[uint64][]byte{},
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "partita_ttl_deleted_items_total",
			Help: "Expired items this node's TTL sweeper deleted, by table."}, []string{"table"}),
		scanned: prometheus.NewCounter(prometheus.CounterOpts{Name: "partita_ttl_scanned_items_total",
			Help: "Items this node's TTL sweeper read to find the expired ones."}),
	}
	if s.maxDeletes <= 0 {
		s.maxDeletes = 1000
	}
	if n.reg != nil {
		for _, c := range []prometheus.Collector{s.deleted, s.scanned} {
			if err := n.reg.Register(c); err != nil {
				return fmt.Errorf("node: ttl metrics: %w", err)
			}
		}
	}
	n.addTableSeries(s.deleted.MetricVec)
	return m.Register(daemon.JobSpec{
		Name:     TTLJob,
		Kind:     daemon.Periodic,
		Interval: n.cfg.TTLInterval,
		Jitter:   n.cfg.TTLInterval / 5,
		Timeout:  max(n.cfg.TTLInterval, time.Minute),
		Run:      func(ctx context.Context, _ *daemon.Cycle) error { return s.sweep(ctx) },
	})
}

// sweep runs one cycle over every table with TTL enabled, over the
// partitions this node leads, beginning with the one the last cycle
// stopped at.
func (s *ttlSweeper) sweep(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tables, err := s.n.router.Tables(ctx)
	if err != nil {
		return err
	}
	type led struct {
		t *partitapb.Table
		p *partitapb.Partition
	}
	var parts []led
	at := 0
	for _, t := range tables {
		if !t.GetTtlEnabled() || t.GetTtlAttribute() == "" || t.GetStatus() != directory.Active.String() {
			continue
		}
		for _, p := range t.GetPartitions() {
			if r := s.n.store.Replica(p.GetId()); r == nil || r.Leader() != s.n.id {
				continue
			}
			if p.GetId() == s.first {
				at = len(parts)
			}
			parts = append(parts, led{t, p})
		}
	}
	live := make(map[uint64]bool, len(parts))
	for _, lp := range parts {
		live[lp.p.GetId()] = true
	}
	for id := range s.resume {
		if !live[id] {
			delete(s.resume, id) // led elsewhere now, split or gone: begin afresh if it returns
		}
	}
	budget := s.maxDeletes
	var errs []error
	s.first = 0
	for i := range parts {
		lp := parts[(at+i)%len(parts)]
		if budget <= 0 {
			s.first = lp.p.GetId()
			break
		}
		n, err := s.sweepPartition(ctx, lp.t, lp.p, budget)
		budget -= n
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sweepPartition deletes up to budget expired items of t in p, read from
// this node's replica (its leader's), from where the last cycle stopped
// in p to its end, and returns how many it deleted.
func (s *ttlSweeper) sweepPartition(ctx context.Context, t *partitapb.Table, p *partitapb.Partition, budget int) (int, error) {
	now := s.n.now()
	nowN, oldest := secondsNumber(now), secondsNumber(now.Add(-ttlPastLimit))
	attr := t.GetTtlAttribute()
	lo, hi := engine.HashSpan(t.GetId(), p.GetHashStart(), p.GetHashEnd())
	if r := s.resume[p.GetId()]; bytes.Compare(r, lo) > 0 && bytes.Compare(r, hi) < 0 {
		lo = r
	}
	delete(s.resume, p.GetId())
	deleted := 0
	for {
		page, err := s.n.store.Walk(ctx, store.WalkRequest{Partition: p.GetId(), Lo: lo, Hi: hi, MaxItems: 256})
		if err != nil {
			return deleted, err
		}
		for i, raw := range page.Values {
			if engine.IsLocalEntry(raw) {
				continue // an index entry goes with its item
			}
			s.scanned.Inc()
			it, err := item.DecodeItem(raw)
			if err != nil {
				return deleted, fmt.Errorf("node: ttl: a stored item of partition %d is corrupt: %w", p.GetId(), err)
			}
			v, ok := it[attr]
			if !ok || v.Type != item.TypeN || v.N.Cmp(nowN) > 0 || v.N.Cmp(oldest) < 0 {
				continue
			}
			gone, err := s.expire(ctx, t, it, attr, v)
			if err != nil {
				s.resume[p.GetId()] = append([]byte(nil), page.Keys[i]...) // this item again, next cycle
				return deleted, err
			}
			if gone {
				deleted++
				s.deleted.WithLabelValues(t.GetName()).Inc()
			}
			if deleted >= budget {
				s.resume[p.GetId()] = append(append([]byte(nil), page.Keys[i]...), 0)
				return deleted, nil
			}
		}
		if !page.More || len(page.Keys) == 0 {
			return deleted, nil
		}
		lo = append(append([]byte(nil), page.Keys[len(page.Keys)-1]...), 0)
	}
}

// expire deletes it if its TTL attribute still holds v, and says whether
// it did.
func (s *ttlSweeper) expire(ctx context.Context, t *partitapb.Table, it item.Item, attr string, v item.Value) (bool, error) {
	key := item.Item{}
	for _, k := range t.GetKeySchema() {
		key[k.GetAttributeName()] = it[k.GetAttributeName()]
	}
	storageKey, err := s.n.router.StorageKey(t, key)
	if err != nil {
		return false, err
	}
	// The deletion is marked as the service's once every replica writes
	// the mark into its change log (older binaries would not).
	byService := s.n.dir.Snapshot().ActiveVersion() >= clusterversion.ServiceDeletes
	cmd := &partitapb.Command{Id: router.RandomID(), UnixNanos: s.n.now().UnixNano(),
		Op: &partitapb.Command_DeleteItem{DeleteItem: &partitapb.DeleteItem{Key: storageKey, ByService: byService,
			Condition: &partitapb.Expression{Text: "#ttl = :ttl", Names: map[string]string{"#ttl": attr},
				Values: item.EncodeItem(item.Item{":ttl": v})}}}}
	res, err := s.n.router.Write(ctx, t, key, cmd)
	if err != nil {
		return false, err
	}
	switch {
	case res.GetError() == nil:
		return true, nil
	case res.GetError().GetCode() == partitapb.Error_CONDITION_FAILED:
		return false, nil // rewritten since it was read: not expired any more, or gone
	}
	return false, res.GetError()
}

// secondsNumber is t in whole seconds since the epoch, as a Number.
func secondsNumber(t time.Time) item.Number {
	return item.MustNumber(strconv.FormatInt(t.Unix(), 10))
}
