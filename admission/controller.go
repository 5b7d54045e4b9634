package admission

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/partitapb"
)

// Op is the kind of capacity a request consumes.
type Op uint8

// The two kinds of capacity.
const (
	Read Op = iota
	Write
)

func (o Op) String() string {
	if o == Write {
		return "write"
	}
	return "read"
}

// title is the op as DynamoDB's throttling reasons spell it.
func (o Op) title() string {
	if o == Write {
		return "Write"
	}
	return "Read"
}

// Limits are what the requests on one partition may consume, as the
// directory and this node's leadership say.
type Limits struct {
	Table   string
	TableID uint64
	// Provisioned says the table is in PROVISIONED mode; ReadUnits and
	// WriteUnits are then its provisioned units per second.
	Provisioned           bool
	ReadUnits, WriteUnits float64
	// Share is the part of the table's provisioned capacity this node
	// holds: the table's partitions led here over all its partitions.
	Share float64
	// Created is when the table was created: its pool holds what it left
	// unused since (up to the burst window), so a new table starts with
	// one second of capacity and a long idle one with the full window.
	Created time.Time
}

// Config configures a Controller.
type Config struct {
	// Limits returns the limits of a partition; false for a partition that
	// is not limited (the meta partition, or one the node does not know).
	Limits func(partition uint64) (Limits, bool)
	// PartitionReadUnits and PartitionWriteUnits are the per-partition
	// limits, units per second (0: none).
	PartitionReadUnits, PartitionWriteUnits float64
	// BurstSeconds is how much unused provisioned capacity a table's pool
	// keeps, in seconds of its rate.
	BurstSeconds float64
	// RefreshInterval is how long limits are cached: a changed table
	// (UpdateTable) or leadership takes effect within it.
	RefreshInterval time.Duration
	// Now is the clock (tests pass a fake one).
	Now func() time.Time
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// DefaultConfig has DynamoDB's per-partition limits and burst window.
func DefaultConfig() Config {
	return Config{
		PartitionReadUnits:  3000,
		PartitionWriteUnits: 1000,
		BurstSeconds:        300,
		RefreshInterval:     time.Second,
		Now:                 time.Now,
	}
}

// idleAfter is how long a partition's or pool's state is kept unused.
const idleAfter = 5 * time.Minute

// Controller holds a node's buckets. It is safe for concurrent use.
type Controller struct {
	cfg Config
	m   *metrics

	mu        sync.Mutex
	parts     map[uint64]*partition
	pools     map[uint64]*pool // by table id
	lastSweep time.Time
}

type partition struct {
	lim     Limits
	fetched time.Time
	used    time.Time
	buckets [2]*bucket // by Op; nil: no per-partition limit
}

type pool struct {
	used    time.Time
	buckets [2]*bucket // by Op
}

// New returns a controller.
func New(cfg Config) (*Controller, error) {
	if cfg.Limits == nil || cfg.Now == nil {
		return nil, errors.New("admission: Limits and Now are required")
	}
	if cfg.PartitionReadUnits < 0 || cfg.PartitionWriteUnits < 0 || cfg.BurstSeconds < 1 {
		return nil, fmt.Errorf("admission: limits must be non-negative and BurstSeconds at least 1 (got %v, %v, %v)",
			cfg.PartitionReadUnits, cfg.PartitionWriteUnits, cfg.BurstSeconds)
	}
	m := newMetrics()
	if err := m.register(cfg.Registerer); err != nil {
		return nil, err
	}
	return &Controller{cfg: cfg, m: m, parts: map[uint64]*partition{}, pools: map[uint64]*pool{}}, nil
}

// Ticket is an admitted request. Charge it with what the request
// consumed once that is known.
type Ticket struct {
	c       *Controller
	part    *partition
	pool    *pool
	op      Op
	table   string // the partition's table at admission: p.lim changes under c.mu
	paid    float64
	charged bool
}

// Admit asks to serve a request of kind op on partition. It returns a
// ticket (charged the minimum), or a THROTTLED *partitapb.Error naming
// the DynamoDB throttling reason and the table.
func (c *Controller) Admit(partition uint64, op Op) (*Ticket, error) {
	now := c.cfg.Now()
	c.mu.Lock()
	p := c.parts[partition]
	stale := p == nil || now.Sub(p.fetched) >= c.cfg.RefreshInterval
	c.mu.Unlock()
	// Limits read the directory and the replicas' leadership: not under
	// c.mu, which every request on the node takes.
	var lim Limits
	limited := true
	if stale {
		lim, limited = c.cfg.Limits(partition)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	switch {
	case !limited:
		delete(c.parts, partition)
		return &Ticket{}, nil
	case stale:
		p = c.refresh(partition, lim, now)
	default:
		p = c.parts[partition]
		if p == nil { // swept meanwhile
			return &Ticket{}, nil
		}
	}
	p.used = now
	pl := c.pool(p, now)
	if pl != nil && !pl.buckets[op].available(now) {
		return nil, c.throttled(p, op, "ProvisionedThroughputExceeded")
	}
	if b := p.buckets[op]; b != nil && !b.available(now) {
		return nil, c.throttled(p, op, "KeyRangeThroughputExceeded")
	}
	t := &Ticket{c: c, part: p, pool: pl, op: op, table: p.lim.Table, paid: minimum(op)}
	t.spend(t.paid)
	return t, nil
}

// minimum is what any request of kind op consumes: one write unit, or
// half a read unit (an eventually consistent read of a small item).
func minimum(op Op) float64 {
	if op == Write {
		return 1
	}
	return 0.5
}

// Charge records that the request consumed units in all; the ticket paid
// the minimum at admission. Only the first Charge counts.
func (t *Ticket) Charge(units float64) {
	if t == nil || t.c == nil || t.charged {
		return
	}
	t.charged = true
	t.c.mu.Lock()
	t.spend(units - t.paid)
	t.c.mu.Unlock()
	t.c.m.consumed.WithLabelValues(t.table, t.op.String()).Add(units)
}

// spend takes n units from the ticket's buckets; the caller holds c.mu.
func (t *Ticket) spend(n float64) {
	if b := t.part.buckets[t.op]; b != nil {
		b.take(n)
	}
	if t.pool != nil {
		t.pool.buckets[t.op].take(n)
	}
}

// refresh records partition's limits, creating its state if needed. The
// caller holds c.mu.
func (c *Controller) refresh(id uint64, lim Limits, now time.Time) *partition {
	p := c.parts[id]
	if p == nil {
		p = &partition{}
		for op, rate := range [2]float64{c.cfg.PartitionReadUnits, c.cfg.PartitionWriteUnits} {
			if rate > 0 {
				p.buckets[op] = newBucket(rate, rate, now)
			}
		}
		c.parts[id] = p
	}
	p.lim, p.fetched = lim, now
	return p
}

// pool returns the pool p's table draws on, created or resized to its
// current rate; nil for a table that is not provisioned. The caller
// holds c.mu.
func (c *Controller) pool(p *partition, now time.Time) *pool {
	if !p.lim.Provisioned {
		return nil
	}
	share := min(max(p.lim.Share, 0), 1)
	rates := [2]float64{p.lim.ReadUnits * share, p.lim.WriteUnits * share}
	pl := c.pools[p.lim.TableID]
	if pl == nil {
		pl = &pool{}
		saved := max(1, min(now.Sub(p.lim.Created).Seconds(), c.cfg.BurstSeconds))
		for op, rate := range rates {
			pl.buckets[op] = newBucket(rate, rate*c.cfg.BurstSeconds, now)
			pl.buckets[op].tokens = rate * saved
		}
		c.pools[p.lim.TableID] = pl
	}
	for op, rate := range rates {
		if b := pl.buckets[op]; b.rate != rate {
			b.reset(rate, rate*c.cfg.BurstSeconds, now)
		}
	}
	pl.used = now
	return pl
}

// throttled counts and builds the error of a throttled request.
func (c *Controller) throttled(p *partition, op Op, limit string) error {
	reason := "Table" + op.title() + limit
	c.m.throttled.WithLabelValues(p.lim.Table, op.String(), reason).Inc()
	return &partitapb.Error{Code: partitapb.Error_THROTTLED, Message: reason, Table: p.lim.Table}
}

// sweep forgets partitions and pools unused for idleAfter, or the burst
// window if longer: their buckets are full by then, as new ones for the
// same table would be. The caller holds c.mu.
func (c *Controller) sweep(now time.Time) {
	idle := max(idleAfter, time.Duration(c.cfg.BurstSeconds*float64(time.Second)))
	if now.Sub(c.lastSweep) < idle {
		return
	}
	c.lastSweep = now
	for id, p := range c.parts {
		if now.Sub(p.used) > idle {
			delete(c.parts, id)
		}
	}
	for id, pl := range c.pools {
		if now.Sub(pl.used) > idle {
			delete(c.pools, id)
		}
	}
}

// DynamoDB's capacity unit sizes.
const (
	writeUnitBytes = 1024
	readUnitBytes  = 4096
)

// WriteUnits is the write capacity a write of size bytes consumes: one
// unit per started KB, at least one.
func WriteUnits(size int) float64 {
	return float64(max(1, (size+writeUnitBytes-1)/writeUnitBytes))
}

// ReadUnits is the read capacity a read of size bytes consumes: one unit
// per started 4 KB, at least one, halved when eventually consistent.
func ReadUnits(size int, consistent bool) float64 {
	u := float64(max(1, (size+readUnitBytes-1)/readUnitBytes))
	if !consistent {
		u /= 2
	}
	return u
}
