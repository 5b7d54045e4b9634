package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// The cluster admin endpoints (see ctl_types.go) behind `partita ctl`. A
// cluster view is gathered by the node asked: the directory from its cache
// (refreshed first), the replicas' progress from every node's
// ReplicaStatus over the cluster service. Operations go to the nodes over
// the cluster service too: leadership transfers to the node that leads,
// membership changes to the partition's leader.

// Bounds of the cluster admin requests.
const (
	// ctlGatherTimeout bounds the wait for one node's answer to a view.
	ctlGatherTimeout = 2 * time.Second
	// ctlRefreshTimeout bounds the directory refresh before a view.
	ctlRefreshTimeout = 2 * time.Second
	// ctlDrainTimeout bounds one drain (every transfer of a node).
	ctlDrainTimeout = 30 * time.Second
	// ctlTransferTimeout bounds one leadership transfer.
	ctlTransferTimeout = 5 * time.Second
	// ctlReplaceTimeout bounds one membership change on a leader, the
	// new replica's catch-up included.
	ctlReplaceTimeout = time.Minute
)

// ctlHandler returns the /cluster/ admin routes, or nil outside a cluster.
func (n *Node) ctlHandler() http.Handler {
	if n.cfg.PeerAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cluster/nodes", n.ctlNodes)
	mux.HandleFunc("GET /cluster/tables", n.ctlTables)
	mux.HandleFunc("GET /cluster/partitions", n.ctlPartitions)
	mux.HandleFunc("POST /cluster/nodes/{id}/drain", n.ctlDrain)
	mux.HandleFunc("POST /cluster/nodes/{id}/decommission", n.ctlDecommission)
	return mux
}

// httpError is an error with the HTTP status it answers with.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func statusError(status int, format string, args ...any) error {
	return &httpError{status: status, err: fmt.Errorf(format, args...)}
}

// reply writes v as JSON, or err with its status (500 by default).
func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusOK
	if err != nil {
		status = http.StatusInternalServerError
		var he *httpError
		if errors.As(err, &he) {
			status = he.status
		}
		v = ErrorInfo{Error: err.Error()}
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// uintParam parses query parameter name (0 when absent).
func uintParam(r *http.Request, name string) (uint64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, statusError(http.StatusBadRequest, "bad %s %q", name, s)
	}
	return v, nil
}

// freshDirectory refreshes the directory cache, within a bound; on
// failure the cache serves as it is.
func (n *Node) freshDirectory(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, ctlRefreshTimeout)
	defer cancel()
	if err := n.refreshDirectory(ctx); err != nil {
		n.log.Debug("cluster view from a cached directory", "err", err)
	}
}

func (n *Node) ctlNodes(w http.ResponseWriter, r *http.Request) {
	n.freshDirectory(r.Context())
	reply(w, n.nodeInfos(), nil)
}

// nodeInfos lists the directory's nodes with their liveness.
func (n *Node) nodeInfos() []NodeInfo {
	now, meta := n.now(), n.dir.MetaReplicas()
	recs := n.dir.Nodes()
	out := make([]NodeInfo, 0, len(recs))
	for _, rec := range recs {
		out = append(out, NodeInfo{
			ID: rec.GetId(), APIAddr: rec.GetApiAddr(), PeerAddr: rec.GetPeerAddr(), AdminAddr: rec.GetAdminAddr(),
			Zone: rec.GetZone(), Version: rec.GetVersion(),
			Joined: unixTime(rec.GetJoinedUnixNanos()), Heartbeat: unixTime(rec.GetHeartbeatUnixNanos()),
			Status: directory.NodeLiveness(rec, now), MetaVoter: slices.Contains(meta, rec.GetId()),
		})
	}
	return out
}

func unixTime(nanos int64) time.Time {
	if nanos == 0 {
		return time.Time{}
	}
	return time.Unix(0, nanos).UTC()
}

func (n *Node) ctlTables(w http.ResponseWriter, r *http.Request) {
	n.freshDirectory(r.Context())
	tables := slices.Clone(n.dir.Snapshot().Tables)
	out := make([]TableInfo, 0, len(tables))
	for _, t := range tables {
		out = append(out, TableInfo{Name: t.GetName(), ID: t.GetId(), Status: t.GetStatus(),
			Partitions: len(t.GetPartitions()), Created: unixTime(t.GetCreationUnixNanos())})
	}
	slices.SortFunc(out, func(a, b TableInfo) int { return cmpString(a.Name, b.Name) })
	reply(w, out, nil)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (n *Node) ctlPartitions(w http.ResponseWriter, r *http.Request) {
	n.freshDirectory(r.Context())
	table := r.URL.Query().Get("table")
	found := table == ""
	for _, t := range slices.Clone(n.dir.Snapshot().Tables) {
		found = found || t.GetName() == table
	}
	if !found {
		reply(w, nil, statusError(http.StatusNotFound, "no table %q", table))
		return
	}
	reply(w, n.partitionInfos(table, n.gather(r.Context())), nil)
}

// gathered is every node's answer to the cluster service's ReplicaStatus.
type gathered struct {
	replicas map[uint64]map[uint64]LocalReplica // node -> partition -> replica
	errs     map[uint64]error                   // node -> why it did not answer
}

// reachable says node answered.
func (g gathered) reachable(node uint64) bool {
	_, ok := g.replicas[node]
	return ok
}

// gather asks every node of the directory for its replicas, concurrently,
// waiting at most ctlGatherTimeout for each.
func (n *Node) gather(ctx context.Context) gathered {
	g := gathered{replicas: map[uint64]map[uint64]LocalReplica{}, errs: map[uint64]error{}}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, rec := range n.dir.Nodes() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, ctlGatherTimeout)
			lr, err := n.local(rec.GetId()).ReplicaStatus(cctx)
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				g.errs[rec.GetId()] = err
				return
			}
			m := make(map[uint64]LocalReplica, len(lr.Replicas))
			for _, rep := range lr.Replicas {
				m[rep.Partition] = rep
			}
			g.replicas[rec.GetId()] = m
		}()
	}
	wg.Wait()
	return g
}

// directoryPartitions lists the meta partition (unless table is set) and
// the partitions of table (every table when empty).
func (n *Node) directoryPartitions(table string) []PartitionInfo {
	var out []PartitionInfo
	if table == "" {
		out = append(out, PartitionInfo{ID: directory.MetaPartition, Table: MetaTable, Replicas: n.dir.MetaReplicas()})
	}
	tables := slices.Clone(n.dir.Snapshot().Tables)
	slices.SortFunc(tables, func(a, b *partitapb.Table) int { return cmpString(a.GetName(), b.GetName()) })
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

// partitionInfos combines the directory's partitions with the replicas'
// answers.
func (n *Node) partitionInfos(table string, g gathered) []PartitionInfo {
	parts := n.directoryPartitions(table)
	for i := range parts {
		fillPartition(&parts[i], g)
	}
	return parts
}

// fillPartition sets p's configuration, leader and replica status from g.
func fillPartition(p *PartitionInfo, g gathered) {
	// The configuration is the leader's (the one of the highest term, if a
	// deposed leader has not heard of its successor yet); without a
	// leader, that of the replica with the most applied.
	var conf *LocalReplica
	for node, reps := range g.replicas {
		rep, ok := reps[p.ID]
		switch {
		case !ok:
		case rep.Leader && (conf == nil || !conf.Leader || rep.Term > conf.Term):
			p.Leader, conf = node, &rep
		case !rep.Leader && (conf == nil || (!conf.Leader && rep.Applied > conf.Applied)):
			conf = &rep
		}
	}
	if conf != nil {
		p.Voters, p.Learners = conf.Voters, conf.Learners
	}
	nodes := slices.Concat(p.Replicas, p.Voters, p.Learners)
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	var leaderApplied uint64
	if p.Leader != 0 {
		leaderApplied = g.replicas[p.Leader][p.ID].Applied
	}
	p.Status = make([]ReplicaInfo, 0, len(nodes))
	for _, node := range nodes {
		ri := ReplicaInfo{Node: node}
		reps, ok := g.replicas[node]
		rep, has := reps[p.ID]
		switch {
		case !ok:
			ri.Role = RoleUnreachable
			if err := g.errs[node]; err != nil {
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
		p.Status = append(p.Status, ri)
	}
}

func sortedIDs(ids []uint64) []uint64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pathNode parses the {id} of a /cluster/nodes/{id}/... route.
func pathNode(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, statusError(http.StatusBadRequest, "bad node id %q", r.PathValue("id"))
	}
	return id, nil
}
