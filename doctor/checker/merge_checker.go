package checker

import (
	"fmt"
	"time"

	"github.com/partitadb/partita/directory"
)

// checkMerge proposes merging p with its right neighbour (the partition
// of its table whose range starts where p's ends) when both are small and
// cold: their items together under MergeBytes, their rates together below
// MergeLoad of the split thresholds now and each below it for
// MergeAfter, neither range changed within MergeCooldown (no merge right
// after a split), both on the same nodes with every voter healthy. A pair
// too big says nothing (the usual case); a pair that is small but not
// colocated, hot, not cold for long enough or just changed says why not.
// The meta partition never merges.
func checkMerge(pl *planner, p *Partition) (*Op, []string) {
	c := pl.cfg
	r := pl.rightOf(p)
	if c.MergeBytes == 0 || r == nil || p.ID == directory.MetaPartition || r.ID == directory.MetaPartition ||
		p.Bytes+r.Bytes >= c.MergeBytes {
		return nil, nil
	}
	pair := fmt.Sprintf("p%d and its right neighbour p%d hold %d bytes (merge under %d)", p.ID, r.ID, p.Bytes+r.Bytes, c.MergeBytes)
	if why := pl.mergeBlocked(p, r); why != "" {
		return nil, []string{pair + ", but " + why}
	}
	op := &Op{Kind: Merge, Priority: PriorityMerge, With: r.ID, Reasons: []string{pair, fmt.Sprintf(
		"cold for %v: %.0f writes/s, %.0f reads/s together (merge under %.0f, %.0f)", c.Now.Sub(coldest(p, r)).Round(time.Second),
		p.WritesPerSec+r.WritesPerSec, p.ReadsPerSec+r.ReadsPerSec, c.MergeLoad*c.splitWrites(p.Table), c.MergeLoad*c.SplitReads)}}
	pl.merging[p.ID], pl.merging[r.ID] = true, true
	return op, nil
}

// mergeBlocked says why the small pair p, r cannot merge now ("": it
// can).
func (pl *planner) mergeBlocked(p, r *Partition) string {
	c := pl.cfg
	w, rd := p.WritesPerSec+r.WritesPerSec, p.ReadsPerSec+r.ReadsPerSec
	switch {
	case !sameSet(p.Voters, r.Voters) || !sameSet(p.Replicas, r.Replicas):
		return fmt.Sprintf("they are not on the same nodes (voters %v and %v): no merge", p.Voters, r.Voters)
	case w >= c.MergeLoad*c.splitWrites(p.Table) || rd >= c.MergeLoad*c.SplitReads:
		return fmt.Sprintf("they are not cold: %.0f writes/s, %.0f reads/s together (merge under %.0f, %.0f)",
			w, rd, c.MergeLoad*c.splitWrites(p.Table), c.MergeLoad*c.SplitReads)
	case p.ColdSince.IsZero() || r.ColdSince.IsZero() || c.Now.Sub(coldest(p, r)) < c.MergeAfter:
		return fmt.Sprintf("they have been cold for %v only; merge once it lasts %v", cold(c.Now, p, r), c.MergeAfter)
	case c.Now.Sub(latest(p.RangeSince, r.RangeSince)) < c.MergeCooldown:
		return fmt.Sprintf("a range changed %v ago (a split or merge); no merge within %v of one",
			c.Now.Sub(latest(p.RangeSince, r.RangeSince)).Round(time.Second), c.MergeCooldown)
	case pl.merging[p.ID] || pl.merging[r.ID]:
		return "one of them merges with another partition in this plan"
	case !pl.settled(p) || !pl.settled(r):
		return "a merge waits until both have every voter healthy and no other operation"
	}
	return ""
}

// rightOf returns the partition of p's table whose range starts where
// p's ends (nil: none, or p ends the hash space).
func (pl *planner) rightOf(p *Partition) *Partition {
	if p.HashEnd == 0 {
		return nil
	}
	if pl.starts == nil {
		pl.starts = make(map[tableHash]int, len(pl.view.Partitions))
		for i, q := range pl.view.Partitions {
			pl.starts[tableHash{q.Table, q.HashStart}] = i
		}
	}
	i, ok := pl.starts[tableHash{p.Table, p.HashEnd}]
	if !ok {
		return nil
	}
	return &pl.view.Partitions[i]
}

// tableHash is where a partition's range starts.
type tableHash struct {
	table string
	hash  uint64
}

// coldest returns the later of p's and r's ColdSince: since when both
// have been cold.
func coldest(p, r *Partition) time.Time { return latest(p.ColdSince, r.ColdSince) }

func cold(now time.Time, p, r *Partition) time.Duration {
	if p.ColdSince.IsZero() || r.ColdSince.IsZero() {
		return 0
	}
	return now.Sub(coldest(p, r)).Round(time.Second)
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Cold says p's rates are below cfg's merge thresholds: the caller that
// builds views keeps since when (Partition.ColdSince).
func Cold(cfg Config, p Partition) bool {
	return p.WritesPerSec < cfg.MergeLoad*cfg.splitWrites(p.Table) && p.ReadsPerSec < cfg.MergeLoad*cfg.SplitReads
}
