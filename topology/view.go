package topology

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// ErrNoTable is returned for a view of a table the directory does not list.
var ErrNoTable = errors.New("topology: no table")

// Answers are the nodes' answers to ReplicaStatus: a node is in Replicas
// when it answered, in Errs when it did not (and why).
type Answers struct {
	Replicas map[uint64]LocalReplicas
	Errs     map[uint64]error
}

// NewAnswers returns empty Answers, to fill.
func NewAnswers() Answers {
	return Answers{Replicas: map[uint64]LocalReplicas{}, Errs: map[uint64]error{}}
}

// Reachable says node answered.
func (a Answers) Reachable(node uint64) bool {
	_, ok := a.Replicas[node]
	return ok
}

// replica returns node's replica of partition, if node answered with one.
func (a Answers) replica(node, partition uint64) (LocalReplica, bool) {
	l, ok := a.Replicas[node]
	if !ok {
		return LocalReplica{}, false
	}
	return l.Replica(partition)
}

// Nodes lists the snapshot's nodes, by id, with their liveness at now.
func Nodes(snap *directory.Snapshot, now time.Time) []NodeInfo {
	out := make([]NodeInfo, 0, len(snap.Nodes))
	for _, rec := range snap.Nodes {
		out = append(out, NodeInfo{
			ID: rec.GetId(), APIAddr: rec.GetApiAddr(), PeerAddr: rec.GetPeerAddr(), AdminAddr: rec.GetAdminAddr(),
			Zone: rec.GetZone(), Version: rec.GetVersion(), WriteFormat: writeFormat(rec),
			Joined: unixTime(rec.GetJoinedUnixNanos()), Heartbeat: unixTime(rec.GetHeartbeatUnixNanos()),
			Status: directory.NodeLiveness(rec, now), MetaVoter: slices.Contains(snap.MetaReplicas, rec.GetId()),
			Stopped:         unixTime(rec.GetStoppedUnixNanos()),
			Decommissioning: unixTime(rec.GetDecommissioningUnixNanos()), DecommissionBy: rec.GetDecommissionBy(),
			DecommissionReason: rec.GetDecommissionReason(),
			Draining:           unixTime(rec.GetDrainingUnixNanos()), DrainBy: rec.GetDrainBy(),
		})
	}
	slices.SortFunc(out, func(a, b NodeInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// writeFormat is rec's write format; a record without one is a node's
// from before effects, which proposes commands.
func writeFormat(rec *partitapb.Node) string {
	if f := rec.GetWriteFormat(); f != "" {
		return f
	}
	return "commands"
}

func unixTime(nanos int64) time.Time {
	if nanos == 0 {
		return time.Time{}
	}
	return time.Unix(0, nanos).UTC()
}

// Tables lists the snapshot's tables, by name.
func Tables(snap *directory.Snapshot) []TableInfo {
	out := make([]TableInfo, 0, len(snap.Tables))
	for _, t := range snap.Tables {
		out = append(out, TableInfo{Name: t.GetName(), ID: t.GetId(), Status: t.GetStatus(),
			Partitions: len(t.GetPartitions()), Created: unixTime(t.GetCreationUnixNanos())})
	}
	slices.SortFunc(out, func(a, b TableInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Partitions lists the partitions of table (every table's, after the meta
// partition, when table is empty; tables by name), each with raft's
// configuration, leader and replica status from answers. A table the
// snapshot does not list is ErrNoTable.
func Partitions(snap *directory.Snapshot, table string, answers Answers) ([]PartitionInfo, error) {
	if table != "" && snap.Table(table) == nil {
		return nil, fmt.Errorf("%w %q", ErrNoTable, table)
	}
	parts := directoryPartitions(snap, table)
	for i := range parts {
		fillPartition(&parts[i], answers)
	}
	return parts, nil
}

// directoryPartitions lists the partitions as the directory has them.
func directoryPartitions(snap *directory.Snapshot, table string) []PartitionInfo {
	var out []PartitionInfo
	if table == "" {
		out = append(out, PartitionInfo{ID: directory.MetaPartition, Table: MetaTable, Replicas: slices.Clone(snap.MetaReplicas)})
	}
	tables := slices.Clone(snap.Tables)
	slices.SortFunc(tables, func(a, b *partitapb.Table) int { return cmp.Compare(a.GetName(), b.GetName()) })
	for _, t := range tables {
		if table != "" && t.GetName() != table {
			continue
		}
		for _, p := range t.GetPartitions() {
			out = append(out, PartitionInfo{ID: p.GetId(), Table: t.GetName(), TableID: p.GetTableId(),
				HashStart: p.GetHashStart(), HashEnd: p.GetHashEnd(), Generation: p.GetGeneration(),
				Replicas: slices.Clone(p.GetReplicas())})
		}
	}
	return out
}

// fillPartition sets p's configuration, leader and replica status from
// the answers.
func fillPartition(p *PartitionInfo, a Answers) {
	if leader, conf, ok := configuration(p.ID, a); ok {
		p.Leader, p.Voters, p.Learners = leader, conf.Voters, conf.Learners
	}
	nodes := slices.Concat(p.Replicas, p.Voters, p.Learners)
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	var leaderApplied uint64
	if p.Leader != 0 {
		r, _ := a.replica(p.Leader, p.ID)
		leaderApplied = r.Applied
	}
	p.Status = make([]ReplicaInfo, 0, len(nodes))
	for _, node := range nodes {
		p.Status = append(p.Status, replicaInfo(*p, node, leaderApplied, a))
	}
}

// configuration picks the replica whose configuration the view shows:
// the leader's; without a leader, that of the replica with the most
// applied. leader is 0 without a leader. A replica that claims to lead
// at a term below the highest any replica of the partition answered
// with is deposed, whether or not its successor answered: a follower
// of the new term shows that an election passed it by. Taken for the
// leader, its configuration (older, if the new leader changed it since)
// passed a Doctor's operation planned on that older configuration as
// current.
func configuration(partition uint64, a Answers) (leader uint64, conf LocalReplica, ok bool) {
	nodes := sortedNodes(a)
	var top uint64 // the highest term answered
	for _, node := range nodes {
		if rep, has := a.replica(node, partition); has {
			top = max(top, rep.Term)
		}
	}
	for _, node := range nodes {
		rep, has := a.replica(node, partition)
		if has && rep.Leader && rep.Term < top {
			rep.Leader = false // deposed
		}
		switch {
		case !has:
		case rep.Leader && (!ok || !conf.Leader || rep.Term > conf.Term):
			leader, conf, ok = node, rep, true
		case !rep.Leader && (!ok || (!conf.Leader && rep.Applied > conf.Applied)):
			conf, ok = rep, true
		}
	}
	return leader, conf, ok
}

// sortedNodes lists the nodes that answered, so that ties break the same
// way on every build.
func sortedNodes(a Answers) []uint64 {
	out := make([]uint64, 0, len(a.Replicas))
	for node := range a.Replicas {
		out = append(out, node)
	}
	slices.Sort(out)
	return out
}

// replicaInfo is node's replica of p as the answers show it.
func replicaInfo(p PartitionInfo, node, leaderApplied uint64, a Answers) ReplicaInfo {
	ri := ReplicaInfo{Node: node}
	rep, has := a.replica(node, p.ID)
	switch {
	case !a.Reachable(node):
		ri.Role = RoleUnreachable
		if err := a.Errs[node]; err != nil {
			ri.Error = err.Error()
		}
	case !has:
		ri.Role = RoleMissing
	default:
		ri.Term, ri.Applied, ri.LogEntries = rep.Term, rep.Applied, rep.LogEntries
		switch {
		case node == p.Leader:
			ri.Role = RoleLeader
		case slices.Contains(p.Learners, node):
			ri.Role = RoleLearner
		default:
			ri.Role = RoleFollower
		}
		if p.Leader != 0 && leaderApplied > rep.Applied {
			ri.Lag = leaderApplied - rep.Applied
		}
	}
	return ri
}
