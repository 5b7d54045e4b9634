package checker

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// planner is one plan in the making: the view, and the operations
// proposed so far.
type planner struct {
	cfg   Config
	view  View
	nodes map[uint64]Node
	// sick are the confirmed sick nodes, with the reasons.
	sick    map[uint64]bool
	sickWhy map[uint64][]string
	// slow are the nodes that take no load: those whose fsyncs alone say
	// slow, confirmed or not (fsyncSlow), and those recovering.
	slow      map[uint64]bool
	fsyncSlow map[uint64]bool
	place     placementInput
	// counts are the nodes' shares once the plan's operations are done.
	counts map[uint64]Count

	ops map[uint64]Op // by partition
	// nodeOp is the plan's removal of a decommissioned node's record
	// (Kind RemoveNode), if any: one per plan.
	nodeOp  *Op
	whyNots []WhyNot
	// links: for each pair of nodes that lead and follow each other in
	// some partition, whether one such follower is in its leader's
	// contact (links.go).
	links map[[2]uint64]bool
	// lookFrom: nodes slow by their fsyncs that too few leaders can see
	// to confirm, with the leaders that can (sick_node.go).
	lookFrom map[uint64][]uint64
	// merging are the partitions a merge of the plan involves (both
	// halves): one merge each.
	merging map[uint64]bool
	// starts indexes the partitions by where their range starts (built
	// by rightOf when first needed).
	starts map[tableHash]int
	// zones is the health of the view's zones.
	zones []ZoneHealth
}

// A partitionChecker looks at one partition: it proposes an operation,
// or says why not (nil op, reasons; no reasons when all is well).
type partitionChecker struct {
	name  string
	check func(pl *planner, p *Partition) (*Op, []string)
}

// partitionCheckers run in this order on each partition; the first to
// propose a safe operation wins it.
var partitionCheckers = []partitionChecker{
	{"membership", checkMembership},
	{"replica", checkDownReplicas},
	{"replica-count", checkReplicaCount},
	{"decommission", checkDecommission},
	{"zone", checkZones},
	{"record", checkRecord},
	{"split", checkSplit},
	{"merge", checkMerge},
}

// Compute runs the checkers over v: repairs of single partitions first,
// then, over the whole cluster, leaders off sick nodes and balance. It
// proposes at most one operation per partition, never one that would
// cost a partition its quorum, and the same plan for the same view and
// config whatever the view's order.
func Compute(v View, cfg Config) (Plan, error) {
	if err := cfg.Validate(); err != nil {
		return Plan{}, err
	}
	pl := newPlanner(v, cfg)
	pl.judgeSickNodes()
	for i := range pl.view.Partitions {
		pl.checkPartition(&pl.view.Partitions[i])
	}
	pl.retireNodes()
	pl.evictSickLeaders()
	pl.evictDrainingLeaders()
	pl.addVantages()
	pl.moveSickReplicas()
	pl.balanceReplicas()
	pl.balanceLeaders()
	return pl.plan(), nil
}

func newPlanner(v View, cfg Config) *planner {
	pl := &planner{cfg: cfg, view: v.sorted(), nodes: map[uint64]Node{}, sick: map[uint64]bool{},
		slow: map[uint64]bool{}, fsyncSlow: map[uint64]bool{}, sickWhy: map[uint64][]string{}, ops: map[uint64]Op{}, lookFrom: map[uint64][]uint64{},
		merging: map[uint64]bool{}}
	for _, n := range pl.view.Nodes {
		pl.nodes[n.ID] = n
	}
	pl.place = newPlacementInput(pl.view, cfg)
	pl.counts = pl.view.Counts()
	pl.links = linksOf(pl.view, cfg)
	pl.zones = Zones(pl.view)
	return pl
}

// checkPartition runs the partition checkers on p until one proposes.
func (pl *planner) checkPartition(p *Partition) {
	if p.Leader == 0 {
		pl.whyNot(p.ID, 0, "view", "no leader reported: the replicas' state is unknown")
		return
	}
	before := len(pl.whyNots)
	for _, c := range partitionCheckers {
		if len(p.Outgoing) > 0 && c.name != "membership" {
			pl.whyNot(p.ID, 0, c.name, "a joint configuration admits no other change until it is left")
			break
		}
		op, why := c.check(pl, p)
		for _, w := range why {
			pl.whyNot(p.ID, 0, c.name, w)
		}
		if op == nil {
			continue
		}
		op.Checker = c.name
		if op.Priority < PrioritySick && pl.sick[p.Leader] {
			pl.whyNot(p.ID, 0, c.name, fmt.Sprintf("%s waits: leader n%d is sick, its leadership moves first", stamp(p, *op), p.Leader))
			continue
		}
		if pl.propose(p, *op) {
			return
		}
		pl.whyNot(p.ID, 0, c.name, fmt.Sprintf("%s held: it would cost the quorum (%s)", stamp(p, *op), pl.quorumState(p)))
	}
	if len(pl.whyNots) == before {
		pl.whyNot(p.ID, 0, "all", fmt.Sprintf("nothing to do: voters %v healthy, leader n%d", p.Voters, p.Leader))
	}
}

// quorumState tells how many voters of p are healthy, in both halves of
// a joint configuration.
func (pl *planner) quorumState(p *Partition) string {
	s := fmt.Sprintf("%d of %d voters healthy", pl.healthyCount(p, p.Voters, 0), len(p.Voters))
	if len(p.Outgoing) > 0 {
		s += fmt.Sprintf(", %d of %d outgoing", pl.healthyCount(p, p.Outgoing, 0), len(p.Outgoing))
	}
	return s
}

// stamp sets on op the partition as the plan saw it.
func stamp(p *Partition, op Op) Op {
	op.Partition, op.Table, op.Generation = p.ID, p.Table, p.Generation
	op.Voters, op.Learners = slices.Clone(p.Voters), slices.Clone(p.Learners)
	return op
}

// propose records op for p if p has none yet and op is safe.
func (pl *planner) propose(p *Partition, op Op) bool {
	if _, busy := pl.ops[p.ID]; busy || !pl.safe(p, op) {
		return false
	}
	pl.ops[p.ID] = stamp(p, op)
	pl.place.added(p.ID, op.To)
	pl.count(op)
	return true
}

func (pl *planner) whyNot(partition, node uint64, checker, reason string) {
	pl.whyNots = append(pl.whyNots, WhyNot{Partition: partition, Node: node, Checker: checker, Reason: reason})
}

// plan returns the operations by priority, then partition, and in
// dry-run the reasons of the partitions (and nodes) left without one.
func (pl *planner) plan() Plan {
	out := Plan{Zones: pl.zones}
	for id := range pl.sick {
		out.Sick = append(out.Sick, id)
	}
	slices.Sort(out.Sick)
	out.Slow = slices.Sorted(maps.Keys(pl.fsyncSlow))
	for _, op := range pl.ops {
		out.Ops = append(out.Ops, op)
	}
	if pl.nodeOp != nil {
		out.Ops = append(out.Ops, *pl.nodeOp)
	}
	slices.SortFunc(out.Ops, func(a, b Op) int {
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.Partition, b.Partition))
	})
	if !pl.cfg.DryRun {
		return out
	}
	for _, w := range pl.whyNots {
		if _, acted := pl.ops[w.Partition]; !acted || w.Partition == 0 {
			out.WhyNots = append(out.WhyNots, w)
		}
	}
	slices.SortStableFunc(out.WhyNots, func(a, b WhyNot) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Node, b.Node))
	})
	return out
}
