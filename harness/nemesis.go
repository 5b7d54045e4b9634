package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/partitadb/partita/transport"
)

// Fault is a kind of failure the nemesis injects, then repairs.
type Fault string

// The faults of a Nemesis.
const (
	// FaultLeaderCrash crashes the partition's leader, then restarts it.
	FaultLeaderCrash Fault = "leader-crash"
	// FaultNodeCrash crashes one node at random, then restarts it.
	FaultNodeCrash Fault = "node-crash"
	// FaultMinorityPartition cuts one node (the leader half the time) off
	// from the others, then heals.
	FaultMinorityPartition Fault = "minority-partition"
	// FaultLossyNetwork drops, duplicates, delays and reorders messages.
	FaultLossyNetwork Fault = "lossy-network"
	// FaultPause pauses one node (the leader half the time), then resumes
	// it.
	FaultPause Fault = "pause"
	// FaultLeaderTransfer moves leadership to another node.
	FaultLeaderTransfer Fault = "leader-transfer"
	// FaultCrashAll crashes every node, then restarts them all.
	FaultCrashAll Fault = "crash-all"
	// FaultFreeze stops the leader (a random node a third of the time) as
	// SIGSTOP would: messages held, ticks stopped; its lease must run out
	// before anyone else can be elected.
	FaultFreeze Fault = "freeze"
	// FaultClockJump moves the leader's lease clock: forward by one to
	// four election timeouts (its lease ends early), or back by at most
	// one tick (within the margin a lease keeps).
	FaultClockJump Fault = "clock-jump"
)

// AllFaults lists every fault.
var AllFaults = []Fault{
	FaultLeaderCrash, FaultNodeCrash, FaultMinorityPartition, FaultLossyNetwork,
	FaultPause, FaultLeaderTransfer, FaultCrashAll, FaultFreeze, FaultClockJump,
}

// Nemesis is a fault schedule: after a gap, inject a fault chosen at
// random, hold it, repair it; again until the context ends.
type Nemesis struct {
	// Partition is the partition whose leader leader-targeted faults hit;
	// with FaultSplit, the table whose partitions split (Bootstrap's table
	// of that id).
	Partition uint64
	// Faults to choose from. Default AllFaults. The first fault injected
	// is Faults[0], so that a run, however short, has the fault its
	// scenario is about; the others are drawn at random.
	Faults []Fault
	// Hold and Gap bound the time a fault lasts and the time between
	// faults: each is drawn in [x, 2x). Defaults 30 and 20 ticks.
	Hold, Gap time.Duration
	// Seed drives the choices.
	Seed uint64
}

// RunNemesis runs n until ctx ends, noting each fault in h (may be nil),
// and leaves every fault repaired.
func (c *Cluster) RunNemesis(ctx context.Context, n Nemesis, h *History) {
	if len(n.Faults) == 0 {
		n.Faults = AllFaults
	}
	if n.Hold == 0 {
		n.Hold = 30 * c.cfg.TickInterval
	}
	if n.Gap == 0 {
		n.Gap = 20 * c.cfg.TickInterval
	}
	rng := rand.New(rand.NewPCG(n.Seed, 0x6e656d))
	defer c.RestoreAll()
	for i := 0; sleep(ctx, jitter(rng, n.Gap)); i++ {
		f := n.Faults[0]
		if i > 0 {
			f = n.Faults[rng.IntN(len(n.Faults))]
		}
		start := nowOf(h)
		desc, repair := c.inject(f, n.Partition, rng)
		sleep(ctx, jitter(rng, n.Hold))
		repair()
		if slices.Contains(n.Faults, FaultSplit) {
			c.Reconcile(n.Partition)
		}
		if h != nil {
			h.Note(desc, start, h.Now())
		}
	}
}

// inject starts fault f and returns its description and its repair.
func (c *Cluster) inject(f Fault, partition uint64, rng *rand.Rand) (string, func()) {
	leader := c.LeaderNow(partition)
	pick := func(preferLeader bool) uint64 {
		if preferLeader && leader != 0 {
			return leader
		}
		return uint64(rng.IntN(len(c.nodes)) + 1)
	}
	switch f {
	case FaultLeaderCrash, FaultNodeCrash:
		id := pick(f == FaultLeaderCrash)
		c.Crash(id)
		return fmt.Sprintf("crash n%d", id), func() { c.Restart(id) }
	case FaultMinorityPartition:
		id := pick(rng.IntN(2) == 0)
		c.Partition(id)
		return fmt.Sprintf("isolate n%d", id), c.Heal
	case FaultLossyNetwork:
		fs := transport.Faults{DropRate: 0.2, DuplicateRate: 0.1, MaxDelay: 5 * c.cfg.TickInterval}
		c.SetFaults(fs)
		return "drop 20%, duplicate 10%, delay 5 ticks", func() { c.SetFaults(transport.Faults{}) }
	case FaultPause:
		id := pick(rng.IntN(2) == 0)
		c.Pause(id)
		return fmt.Sprintf("pause n%d", id), func() { c.Resume(id) }
	case FaultFreeze:
		id := pick(rng.IntN(3) != 0)
		c.Freeze(id)
		return fmt.Sprintf("freeze n%d", id), func() { c.Thaw(id) }
	case FaultClockJump:
		id := pick(true)
		d := -time.Duration(rng.Int64N(int64(c.cfg.TickInterval) + 1))
		if rng.IntN(2) == 0 {
			d = time.Duration(1+rng.IntN(4)) * c.electionTimeout()
		}
		c.JumpClock(id, d)
		return fmt.Sprintf("jump n%d's clock by %v", id, d), func() {}
	case FaultLeaderTransfer:
		to := uint64(rng.IntN(len(c.nodes)) + 1)
		if to == leader && len(c.nodes) > 1 { // a transfer to the leader moves nothing
			to = to%uint64(len(c.nodes)) + 1
		}
		ok := c.TransferLeader(partition, to)
		return fmt.Sprintf("transfer leader n%d -> n%d (%v)", leader, to, ok), func() {}
	case FaultMembership:
		return c.replaceVoter(partition, rng), func() {}
	case FaultSplit:
		return c.splitRandom(partition, rng), func() {}
	case FaultCrashAll:
		for _, id := range c.Nodes() {
			c.Crash(id)
		}
		return "crash all", func() {
			for _, id := range c.Nodes() {
				c.Restart(id)
			}
		}
	}
	panic(fmt.Sprintf("harness: unknown fault %q", f))
}

func jitter(rng *rand.Rand, d time.Duration) time.Duration {
	return d + time.Duration(rng.Int64N(int64(d)+1))
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func nowOf(h *History) int64 {
	if h == nil {
		return 0
	}
	return h.Now()
}
