package member

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
)

// DefaultRecountInterval is how long a partition's leader waits between
// two recounts of its items while blind puts come in
// (node.Config.RecountInterval).
const DefaultRecountInterval = time.Minute

// recountSlowdown spaces the recounts of large partitions: after a
// count that took d, the partition's next waits at least recountSlowdown
// times d times the number of partitions this node leads, so that
// counting keeps at most about a tenth of a core busy on the node.
const recountSlowdown = 10

// recounts remembers, per partition, when this node last recounted it
// and how long that took.
type recounts struct {
	mu   sync.Mutex
	last map[uint64]recountMark
}

type recountMark struct {
	at   time.Time
	took time.Duration
}

// RecountStats settles the statistics of the table partitions this node
// leads that counted blind puts since their last recount (fsm.Stats.Blind):
// it counts each one's items in a committed state of its replica and
// proposes the correction (RecountStats), at most once per interval per
// partition, and less often for those whose count takes long. The
// statistics of a partition without blind puts are exact: it is never
// recounted.
func (m *Member) RecountStats(ctx context.Context, interval time.Duration) error {
	snap := m.dir.Snapshot()
	type ledPartition struct {
		t *partitapb.Table
		p *partitapb.Partition
		r *replica.Replica
	}
	var leading []ledPartition
	led := map[uint64]bool{}
	for _, t := range snap.Tables {
		for _, p := range t.GetPartitions() {
			if r := m.cfg.Store.Replica(p.GetId()); r != nil && r.Leader() == m.cfg.Self {
				leading = append(leading, ledPartition{t, p, r})
				led[p.GetId()] = true
			}
		}
	}
	m.recounts.forget(led)
	var errs []error
	for _, l := range leading {
		if ctx.Err() != nil {
			break
		}
		if !m.recounts.due(l.p.GetId(), m.cfg.Now(), interval, len(leading)) {
			continue
		}
		if err := m.recount(ctx, l.t, l.p, l.r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// due says partition's last recount here is far enough behind, this
// node leading led partitions.
func (c *recounts) due(partition uint64, now time.Time, interval time.Duration, led int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.last[partition]
	return !ok || now.Sub(l.at) >= max(interval, recountSlowdown*l.took*time.Duration(led))
}

// forget drops the marks of the partitions not in led.
func (c *recounts) forget(led map[uint64]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.last {
		if !led[p] {
			delete(c.last, p)
		}
	}
}

// recount counts the items of partition p of t, led by this node's
// replica r, and proposes the correction of its statistics, when they
// counted blind puts.
func (m *Member) recount(ctx context.Context, t *partitapb.Table, p *partitapb.Partition, r *replica.Replica) error {
	st, err := fsm.ReadStats(m.cfg.Engine.Reader(), p.GetId())
	if err != nil || st.Blind == 0 {
		return err
	}
	start := m.cfg.Now()
	applied, seen, found, err := r.CountItems()
	if err != nil {
		return err
	}
	m.recounts.mu.Lock()
	m.recounts.last[p.GetId()] = recountMark{at: start, took: m.cfg.Now().Sub(start)}
	m.recounts.mu.Unlock()
	if seen.Blind == 0 {
		return nil
	}
	cmd := &partitapb.Command{Id: m.cfg.NewID(), UnixNanos: m.cfg.Now().UnixNano(), RangeGeneration: p.GetRangeGeneration(),
		Op: &partitapb.Command_RecountStats{RecountStats: &partitapb.RecountStats{
			TableId: t.GetId(), HashStart: p.GetHashStart(), AppliedIndex: applied,
			SeenItems: seen.Items, SeenBytes: seen.Bytes, SeenBlind: seen.Blind,
			FoundItems: found.Items, FoundBytes: found.Bytes,
		}}}
	res, err := m.cfg.Sender.Propose(ctx, p.GetId(), cmd)
	if partitapb.IsWrongRange(res.GetError()) {
		return nil // frozen for a merge, or split meanwhile: a later cycle counts again
	}
	if err == nil && res.GetError() != nil && !directory.IsDeleted(t) {
		err = res.GetError()
	}
	if err != nil {
		return fmt.Errorf("member: recount partition %d: %w", p.GetId(), err)
	}
	m.cfg.Logger.Debug("recounted a partition's items", "table", t.GetName(), "partition", p.GetId(),
		"items", found.Items, "counted", seen.Items, "blind puts", seen.Blind)
	return nil
}
