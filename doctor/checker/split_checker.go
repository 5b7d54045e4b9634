package checker

import (
	"fmt"

	"github.com/partitadb/partita/directory"
)

// checkSplit proposes splitting a partition that has grown past
// SplitBytes, or whose writes or reads have stayed above SplitWrites or
// SplitReads for SplitAfter. A split moves no data: both halves keep the
// replicas (balance then spreads them), so it waits only for the
// partition to be settled, every voter healthy and caught up. The meta
// partition never splits.
func checkSplit(pl *planner, p *Partition) (*Op, []string) {
	if p.ID == directory.MetaPartition {
		return nil, nil
	}
	var why string
	switch c := pl.cfg; {
	case c.SplitBytes > 0 && p.SizeBytes >= c.SplitBytes:
		why = fmt.Sprintf("%d bytes, split past %d", p.SizeBytes, c.SplitBytes)
	case !p.HotSince.IsZero() && pl.hot(p):
		hot := c.Now.Sub(p.HotSince)
		rates := fmt.Sprintf("%.0f writes/s (split past %.0f), %.0f reads/s (split past %.0f)",
			p.WritesPerSec, c.SplitWrites, p.ReadsPerSec, c.SplitReads)
		if hot < c.SplitAfter {
			return nil, []string{fmt.Sprintf("hot for %v: %s; split once it lasts %v", hot.Round(100_000_000), rates, c.SplitAfter)}
		}
		why = fmt.Sprintf("hot for %v: %s", hot.Round(100_000_000), rates)
	default:
		return nil, nil
	}
	if !pl.settled(p) {
		return nil, []string{why + "; split once every voter is healthy and caught up"}
	}
	return &Op{Kind: Split, Priority: PrioritySplit, Reasons: []string{why, "split at the middle of its hash range"}}, nil
}

// hot says p's rates are above a split threshold now.
func (pl *planner) hot(p *Partition) bool {
	c := pl.cfg
	return (c.SplitWrites > 0 && p.WritesPerSec >= c.SplitWrites) || (c.SplitReads > 0 && p.ReadsPerSec >= c.SplitReads)
}

// Hot says p's rates are above one of cfg's split thresholds: the caller
// that builds views keeps since when (Partition.HotSince).
func Hot(cfg Config, p Partition) bool { return (&planner{cfg: cfg}).hot(&p) }
