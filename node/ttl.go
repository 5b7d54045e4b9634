package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
}

func (n *Node) registerTTLJob(m *daemon.Manager) error {
	if n.cfg.TTLInterval <= 0 {
		return nil
	}
	s := &ttlSweeper{n: n, maxDeletes: n.cfg.TTLMaxDeletes,
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
	return m.Register(daemon.JobSpec{
		Name:     TTLJob,
		Kind:     daemon.Periodic,
		Interval: n.cfg.TTLInterval,
		Jitter:   n.cfg.TTLInterval / 5,
		Timeout:  max(n.cfg.TTLInterval, time.Minute),
		Run:      func(ctx context.Context, _ *daemon.Cycle) error { return s.sweep(ctx) },
	})
}

// sweep runs one cycle over every table with TTL enabled.
func (s *ttlSweeper) sweep(ctx context.Context) error {
	tables, err := s.n.router.Tables(ctx)
	if err != nil {
		return err
	}
	budget := s.maxDeletes
	var errs []error
	for _, t := range tables {
		if !t.GetTtlEnabled() || t.GetTtlAttribute() == "" || t.GetStatus() != directory.Active.String() {
			continue
		}
		for _, p := range t.GetPartitions() {
			if budget <= 0 {
				return errors.Join(errs...)
			}
			r := s.n.store.Replica(p.GetId())
			if r == nil || r.Leader() != s.n.id {
				continue
			}
			n, err := s.sweepPartition(ctx, t, p, budget)
			budget -= n
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sweepPartition deletes up to budget expired items of t in p, read from
// this node's replica (its leader's), and returns how many it deleted.
func (s *ttlSweeper) sweepPartition(ctx context.Context, t *partitapb.Table, p *partitapb.Partition, budget int) (int, error) {
	now := s.n.now()
	nowN, oldest := secondsNumber(now), secondsNumber(now.Add(-ttlPastLimit))
	attr := t.GetTtlAttribute()
	lo, hi := engine.HashSpan(t.GetId(), p.GetHashStart(), p.GetHashEnd())
	deleted := 0
	for {
		page, err := s.n.store.Walk(ctx, store.WalkRequest{Partition: p.GetId(), Lo: lo, Hi: hi, MaxItems: 256})
		if err != nil {
			return deleted, err
		}
		for _, raw := range page.Values {
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
				return deleted, err
			}
			if gone {
				deleted++
				s.deleted.WithLabelValues(t.GetName()).Inc()
			}
			if deleted >= budget {
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
