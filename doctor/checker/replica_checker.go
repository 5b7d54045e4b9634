package checker

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/topology"
)

// checkDownReplicas replaces a voter whose node has been dead for
// DeadAfter, when the leader agrees (no contact for ContactTimeout), and
// a voter that is down on a live node, from its leader's view, for
// ReplicaDownAfter. One replica per plan; the others wait their turn.
//
// A replica out of its leader's contact on a live node whose path to the
// leader is broken (no replica between the two nodes in contact: a
// network partition between them, perhaps one-way) is no broken replica:
// replacing it would be a false action, undone once the path heals. Its
// leadership moves instead, to a voter that reaches every other.
func checkDownReplicas(pl *planner, p *Partition) (*Op, []string) {
	var down, cut []uint64
	var reasons, why, cutWhy []string
	for _, v := range p.Voters {
		if v == p.Leader {
			continue
		}
		r, w := pl.judgeReplica(p, v)
		why = append(why, w...)
		switch {
		case len(r) > 0 && pl.pathCut(p, v):
			cut = append(cut, v)
			cutWhy = append(cutWhy, r...)
		case len(r) > 0:
			down = append(down, v)
			reasons = append(reasons, r...)
		}
	}
	if len(down) == 0 && len(cut) > 0 {
		return pl.leaveCut(p, cut, cutWhy, why)
	}
	if len(down) == 0 {
		return nil, why
	}
	if len(p.Voters) > pl.factor(p) {
		reasons = append(reasons, fmt.Sprintf("%d voters of %d: the down replica goes without a replacement", len(p.Voters), pl.factor(p)))
		return &Op{Kind: RemoveReplica, From: down[0], Priority: PriorityRepair, Reasons: reasons}, why
	}
	to, err := pl.repairTarget(p, down[0])
	if err != nil {
		return nil, append(why, fmt.Sprintf("n%d needs replacing: %v%s", down[0], err, pl.noTargetWhy(p)))
	}
	if len(down) > 1 {
		reasons = append(reasons, fmt.Sprintf("also down: %v, replaced in later plans", down[1:]))
	}
	return &Op{Kind: ReplaceReplica, From: down[0], To: to, Priority: PriorityRepair, Reasons: reasons}, why
}

// pathCut says node's replica of p is out of its leader's contact because
// the two nodes do not reach each other at all: the node is alive (or
// dead by its heartbeats only: another leader hears from it), its node
// reports the replica (not missing or broken), and no replica between
// the two is in contact.
func (pl *planner) pathCut(p *Partition, node uint64) bool {
	r, _ := p.Replica(node)
	live := pl.nodes[node].Liveness == directory.Alive || pl.heardBy(node) != 0
	return live && r.DownSince.IsZero() && pl.cut(p.Leader, node)
}

// leaveCut moves p's leadership away from a leader that cannot reach the
// voters of cut, to one that reaches them all.
func (pl *planner) leaveCut(p *Partition, cut []uint64, reasons, why []string) (*Op, []string) {
	reasons = append(reasons, fmt.Sprintf("leader n%d reaches none of the replicas on %v: the network path is broken, not the replicas",
		p.Leader, cut))
	to := pl.pathLeader(p, cut)
	if to == 0 {
		return nil, append(why, strings.Join(reasons, "; ")+"; no voter reaches them all to lead instead")
	}
	reasons = append(reasons, fmt.Sprintf("n%d reaches every voter: it leads instead", to))
	return &Op{Kind: TransferLeader, From: p.Leader, To: to, Priority: PriorityRepair, Reasons: reasons}, why
}

// judgeReplica returns the reasons to replace node's replica of p, or the
// reasons it is not replaced yet.
func (pl *planner) judgeReplica(p *Partition, node uint64) (replace, wait []string) {
	n, known := pl.nodes[node]
	if !known {
		return []string{fmt.Sprintf("n%d is not in the directory", node)}, nil
	}
	r, _ := p.Replica(node)
	contact := pl.sinceContact(r)
	switch n.Liveness {
	case directory.Dead:
		dead := pl.cfg.Now.Sub(n.Since)
		switch {
		case dead < pl.cfg.DeadAfter:
			return nil, []string{fmt.Sprintf("n%d dead for %v: replaced after %v", node, dead, pl.cfg.DeadAfter)}
		case !n.Stopped.IsZero() && pl.cfg.Now.Sub(n.Stopped) < pl.cfg.RestartGrace:
			return nil, []string{fmt.Sprintf("n%d stopped cleanly %v ago: a restart, not a death; replaced after %v (restart-grace)",
				node, pl.cfg.Now.Sub(n.Stopped).Round(time.Second), pl.cfg.RestartGrace)}
		case pl.inContact(r):
			return nil, []string{fmt.Sprintf("n%d dead by heartbeat for %v, but leader n%d heard from it %v ago: not dead",
				node, dead, p.Leader, contact)}
		case pl.heardBy(node) != 0:
			// Another leader hears from it: p's leader is cut off from
			// it (and its heartbeats too, through the same kind of cut),
			// not the node dead. Its replica is judged as a live one's.
			return pl.judgeLiveReplica(p, node, r)
		}
		why, wait := pl.zoneOutage(node)
		if wait {
			return nil, []string{why}
		}
		replace = []string{fmt.Sprintf("n%d dead for %v (dead-after %v)", node, dead, pl.cfg.DeadAfter),
			fmt.Sprintf("leader n%d agrees: %s", p.Leader, describeContact(contact))}
		if why != "" {
			replace = append(replace, why)
		}
		return replace, nil
	case directory.Suspect:
		if !pl.inContact(r) || !r.DownSince.IsZero() {
			return nil, []string{fmt.Sprintf("n%d suspect for %v: waiting for it to recover or die", node, pl.cfg.Now.Sub(n.Since))}
		}
		return nil, nil
	}
	return pl.judgeLiveReplica(p, node, r)
}

// judgeLiveReplica judges a replica on an alive node by its leader's view.
func (pl *planner) judgeLiveReplica(p *Partition, node uint64, r Replica) (replace, wait []string) {
	var down time.Duration
	what := ""
	if !r.DownSince.IsZero() {
		down, what = pl.cfg.Now.Sub(r.DownSince), "down (missing, broken or not applying)"
	}
	if !pl.inContact(r) {
		if c := pl.sinceContact(r); c > down {
			down, what = c, "out of leader n"+fmt.Sprint(p.Leader)+"'s contact"
		}
	}
	switch {
	case what == "":
		return nil, nil
	case down < pl.cfg.ReplicaDownAfter:
		return nil, []string{fmt.Sprintf("replica on live n%d %s for %v: replaced after %v", node, what, down, pl.cfg.ReplicaDownAfter)}
	}
	return []string{fmt.Sprintf("replica on live n%d %s for %v (down-after %v)", node, what, down, pl.cfg.ReplicaDownAfter)}, nil
}

// sinceContact is how long ago the leader heard from r; a replica never
// heard from counts as out of contact for as long as can be.
func (pl *planner) sinceContact(r Replica) time.Duration {
	if r.LastContact.IsZero() {
		return time.Duration(1<<63 - 1)
	}
	return pl.cfg.Now.Sub(r.LastContact)
}

func describeContact(d time.Duration) string {
	if d == time.Duration(1<<63-1) {
		return "never in contact"
	}
	return fmt.Sprintf("no contact for %v", d)
}

// MetaVoters is the fewest voters the meta partition keeps, whatever
// the replication factor: its leader grows it to as many as soon as the
// nodes exist (member.growMeta), and the checkers remove none below it,
// which would only have it grown back.
const MetaVoters = 3

// isMeta says p is the meta partition.
func isMeta(p *Partition) bool {
	return p.ID == directory.MetaPartition && p.Table == topology.MetaTable
}

// factor is the number of voters p wants: the replication factor, and
// at least MetaVoters for the meta partition.
func (pl *planner) factor(p *Partition) int {
	if isMeta(p) {
		return max(pl.cfg.ReplicationFactor, MetaVoters)
	}
	return pl.cfg.ReplicationFactor
}

// checkReplicaCount compares raft's voters, not the directory's list,
// with the replication factor: too few gets a voter added on a node
// placement picks, too many loses the least useful one.
func checkReplicaCount(pl *planner, p *Partition) (*Op, []string) {
	n, rf := len(p.Voters), pl.factor(p)
	if n == rf {
		return nil, nil
	}
	state := "over"
	if n < rf {
		state = "under"
	}
	reasons := []string{fmt.Sprintf("%s-replicated: raft has %d voters %v, replication factor %d", state, n, p.Voters, rf)}
	if rf != pl.cfg.ReplicationFactor {
		reasons[0] += fmt.Sprintf(" (the cluster's is %d; the meta partition keeps %d at least)", pl.cfg.ReplicationFactor, MetaVoters)
	}
	if !sameSet(p.Replicas, p.Voters) {
		reasons = append(reasons, fmt.Sprintf("the directory lists %v", p.Replicas))
	}
	if n > rf {
		from := pl.extraVoter(p)
		if from == 0 {
			return nil, []string{reasons[0] + ", but only the leader could go"}
		}
		if pl.leaving(from) {
			reasons = append(reasons, fmt.Sprintf("n%d is decommissioning: its voter goes", from))
		}
		return &Op{Kind: RemoveReplica, From: from, Priority: PriorityReplicas, Reasons: reasons}, nil
	}
	if coming := pl.healthyLearners(p); n+len(coming) >= rf {
		return nil, []string{fmt.Sprintf("%s: waiting for learners %v", reasons[0], coming)}
	}
	if isMeta(p) {
		// The meta partition's leader grows it (member.growMeta): two
		// actors adding its voters raced.
		return nil, []string{fmt.Sprintf("%s: the meta partition's leader adds its voters", reasons[0])}
	}
	to, err := pl.repairTarget(p, 0)
	if err != nil {
		return nil, []string{fmt.Sprintf("%s: no node to add: %v%s", reasons[0], err, pl.noTargetWhy(p))}
	}
	return &Op{Kind: AddReplica, To: to, Priority: PriorityReplicas, Reasons: reasons}, nil
}

// healthyLearners are p's learners that may yet become voters.
func (pl *planner) healthyLearners(p *Partition) []uint64 {
	var out []uint64
	for _, l := range p.Learners {
		if pl.healthy(p, l) {
			out = append(out, l)
		}
	}
	return out
}

// extraVoter picks the voter an over-replicated p loses: one on a
// decommissioning node whatever else (the leader too: the removal hands
// its leadership over first), never another while there is one; else an
// unhealthy one first, then one sharing its zone, then the fullest node,
// then the highest id; never the leader.
func (pl *planner) extraVoter(p *Partition) uint64 {
	for _, v := range p.Voters {
		if pl.leaving(v) {
			return v
		}
	}
	zones := map[string]int{}
	for _, v := range p.Voters {
		zones[pl.nodes[v].Zone]++
	}
	counts := pl.counts
	score := func(v uint64) []int {
		return []int{btoi(!pl.healthy(p, v)), btoi(zones[pl.nodes[v].Zone] > 1), counts[v].Replicas, int(v)}
	}
	var best uint64
	for _, v := range p.Voters {
		if v == p.Leader {
			continue
		}
		if best == 0 || slices.Compare(score(v), score(best)) > 0 {
			best = v
		}
	}
	return best
}

// checkRecord finds the directory's list disagreeing with raft's voters
// when nothing else is to be done: the directory follows raft.
func checkRecord(pl *planner, p *Partition) (*Op, []string) {
	if sameSet(p.Replicas, p.Voters) || len(p.Outgoing) > 0 || len(p.Voters) != pl.factor(p) {
		return nil, nil
	}
	return &Op{Kind: SetReplicas, Priority: PriorityRecord,
		Reasons: []string{fmt.Sprintf("the directory lists %v, raft has voters %v", p.Replicas, p.Voters)}}, nil
}

func sameSet(a, b []uint64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
