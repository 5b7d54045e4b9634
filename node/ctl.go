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
	"github.com/partitadb/partita/topology"
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
	reply(w, topology.Nodes(n.dir.Snapshot(), n.now()), nil)
}

func (n *Node) ctlTables(w http.ResponseWriter, r *http.Request) {
	n.freshDirectory(r.Context())
	reply(w, topology.Tables(n.dir.Snapshot()), nil)
}

func (n *Node) ctlPartitions(w http.ResponseWriter, r *http.Request) {
	n.freshDirectory(r.Context())
	snap := n.dir.Snapshot()
	parts, err := topology.Partitions(snap, r.URL.Query().Get("table"), n.gather(r.Context(), snap))
	if errors.Is(err, topology.ErrNoTable) {
		err = &httpError{status: http.StatusNotFound, err: err}
	}
	reply(w, parts, err)
}

// gather asks every node of snap for its replicas, concurrently, waiting
// at most ctlGatherTimeout for each.
func (n *Node) gather(ctx context.Context, snap *directory.Snapshot) topology.Answers {
	a := topology.NewAnswers()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, rec := range snap.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, ctlGatherTimeout)
			lr, err := n.local(rec.GetId()).ReplicaStatus(cctx)
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				a.Errs[rec.GetId()] = err
				return
			}
			a.Replicas[rec.GetId()] = lr
		}()
	}
	wg.Wait()
	return a
}

// partitionInfos is the view of every partition from the cached directory.
func (n *Node) partitionInfos(ctx context.Context) ([]topology.PartitionInfo, topology.Answers) {
	snap := n.dir.Snapshot()
	a := n.gather(ctx, snap)
	parts, _ := topology.Partitions(snap, "", a)
	return parts, a
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
