package checker

import (
	"fmt"
	"time"

	"github.com/partitadb/partita/directory"
)

// minKeySamples is the least number of sampled writes the split point and
// the one-hot-key judgement rest on.
const minKeySamples = 16

// checkSplit proposes splitting a partition whose writes or reads have
// stayed above SplitWrites or SplitReads for SplitAfter, at the median of
// its recent writes' key hashes (the point that balances the sampled
// load; the middle of its range without samples). One partition key
// taking HotKeyShare or more of the sampled writes cannot be divided by
// any split: the plan says so and nothing is proposed. A split moves no
// data (both halves keep the replicas; balance spreads them later), so it
// waits only for every voter to be healthy. The meta partition never
// splits.
func checkSplit(pl *planner, p *Partition) (*Op, []string) {
	c := pl.cfg
	if p.ID == directory.MetaPartition || p.HotSince.IsZero() || !pl.hot(p) {
		return nil, nil
	}
	hot := c.Now.Sub(p.HotSince).Round(100 * time.Millisecond)
	why := fmt.Sprintf("hot for %v: %.0f writes/s (split past %.0f), %.0f reads/s (split past %.0f)",
		hot, p.WritesPerSec, c.splitWrites(p.Table), p.ReadsPerSec, c.SplitReads)
	switch {
	case hot < c.SplitAfter:
		return nil, []string{fmt.Sprintf("%s; split once it lasts %v", why, c.SplitAfter)}
	case p.KeySamples >= minKeySamples && p.TopKeyShare >= c.HotKeyShare:
		return nil, []string{fmt.Sprintf("%s, but one partition key takes %.0f%% of the %d sampled writes: "+
			"a single hot key cannot be split", why, 100*p.TopKeyShare, p.KeySamples)}
	case !pl.settled(p):
		return nil, []string{why + "; split once every voter is healthy and caught up"}
	}
	op := &Op{Kind: Split, Priority: PrioritySplit, Reasons: []string{why}}
	if p.KeySamples >= minKeySamples && inside(p, p.MedianKeyHash) {
		op.At = p.MedianKeyHash
		op.Reasons = append(op.Reasons, fmt.Sprintf("split at %#x, the median of %d sampled writes", op.At, p.KeySamples))
	} else {
		op.Reasons = append(op.Reasons, "split at the middle of its hash range")
	}
	return op, nil
}

// inside says h is strictly inside p's range: a split there leaves both
// halves non-empty.
func inside(p *Partition, h uint64) bool {
	return h > p.HashStart && (p.HashEnd == 0 || h < p.HashEnd)
}

// hot says p's rates are above a split threshold now.
func (pl *planner) hot(p *Partition) bool {
	c := pl.cfg
	w := c.splitWrites(p.Table)
	return (w > 0 && p.WritesPerSec >= w) || (c.SplitReads > 0 && p.ReadsPerSec >= c.SplitReads)
}

// Hot says p's rates are above one of cfg's split thresholds: the caller
// that builds views keeps since when (Partition.HotSince).
func Hot(cfg Config, p Partition) bool { return (&planner{cfg: cfg}).hot(&p) }
