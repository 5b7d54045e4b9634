package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/partitadb/partita/doctor/checker"
)

// Summary is the layout at now: each node's liveness, voters and
// leaders; the partitions under-replicated, leaderless, with a down
// replica or not zone-spread; the operations; the violations' count.
func (s *Sim) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "t=+%v\n", s.Elapsed())
	voters, leaders := map[uint64]int{}, map[uint64]int{}
	under, leaderless := 0, 0
	rf := s.cfg.Checker(s.Now).ReplicationFactor
	for _, p := range s.Model.Partitions {
		serving := 0
		for _, v := range p.Voters {
			voters[v]++
			if s.Model.follows(p, v, s.Now) {
				serving++
			}
		}
		if serving < rf {
			under++
		}
		if p.Leader == 0 {
			leaderless++
		} else {
			leaders[p.Leader]++
		}
	}
	for _, n := range s.Model.Nodes {
		fmt.Fprintf(&b, "n%d zone=%s %s voters=%d leaders=%d\n", n.ID, n.Zone, n.Liveness, voters[n.ID], leaders[n.ID])
	}
	fmt.Fprintf(&b, "partitions=%d under-replicated=%d leaderless=%d unsettled=%d\n",
		len(s.Model.Partitions), under, leaderless, len(s.Unsettled()))
	fmt.Fprintf(&b, "ops started=%d finished=%d aborted=%d running=%d held=%d; proposed %s; removals proposed=%d\n",
		s.Started, s.Finished, s.Aborted, len(s.running), s.Held, s.proposed(), s.RemovalsProposed())
	fmt.Fprintf(&b, "violations=%d\n", len(s.Violations))
	return b.String()
}

// RemovalsProposed counts the proposals that take a replica off a node.
func (s *Sim) RemovalsProposed() int {
	n := 0
	for _, k := range []checker.Kind{checker.ReplaceReplica, checker.MoveReplica, checker.RemoveReplica, checker.RollBackLearner} {
		n += s.Proposed[k]
	}
	return n
}

func (s *Sim) proposed() string {
	if len(s.Proposed) == 0 {
		return "nothing"
	}
	var parts []string
	for k, n := range s.Proposed {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// Timeline returns the events recorded since the last call, one a line.
func (s *Sim) Timeline() string {
	var b strings.Builder
	for _, e := range s.Events[s.shown:] {
		fmt.Fprintf(&b, "+%v %s\n", e.At, e.What)
	}
	s.shown = len(s.Events)
	return b.String()
}
