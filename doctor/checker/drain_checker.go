package checker

import (
	"fmt"
	"time"
)

// evictDrainingLeaders moves every leadership off a draining node (an
// operator's drain, kept until the node restarts or is undrained): to the
// voter leaderTarget picks. A drain moves the node's leaderships at once;
// this keeps them away against elections and the balancer's past moves.
func (pl *planner) evictDrainingLeaders() {
	for i := range pl.view.Partitions {
		p := &pl.view.Partitions[i]
		n, ok := pl.nodes[p.Leader]
		if p.Leader == 0 || !ok || !n.IsDraining() {
			continue
		}
		drained := fmt.Sprintf("n%d was drained %v ago", n.ID, pl.cfg.Now.Sub(n.Draining).Round(time.Second))
		if n.DrainBy != "" {
			drained += " by " + n.DrainBy
		}
		to := pl.leaderTarget(p, pl.projected())
		if to == 0 {
			pl.whyNot(p.ID, 0, "drain", fmt.Sprintf("%s and leads p%d, but no voter can take over: none is healthy, "+
				"neither sick nor slow, recovering, decommissioning or draining", drained, p.ID))
			continue
		}
		op := Op{Kind: TransferLeader, From: p.Leader, To: to, Priority: PriorityDrain, Checker: "drain",
			Reasons: []string{drained + ": it takes no leadership until it restarts or is undrained"}}
		if !pl.propose(p, op) {
			pl.whyNot(p.ID, 0, "drain", fmt.Sprintf("%s and leads p%d; the partition has an operation already", drained, p.ID))
		}
	}
}
