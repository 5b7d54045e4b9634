package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/partitadb/partita/doctor/operator"
	"github.com/partitadb/partita/member"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/route"
	"github.com/partitadb/partita/topology"
)

// The cluster routes behind `partita ctl`, served by any node of a
// cluster:
//
//	GET  /cluster/nodes                     []topology.NodeInfo
//	GET  /cluster/tables                    []topology.TableInfo
//	GET  /cluster/partitions[?table=T]      []topology.PartitionInfo
//	POST /cluster/nodes/{id}/drain          operator.DrainResult
//	POST /cluster/nodes/{id}/undrain        operator.DrainResult
//	POST /cluster/nodes/{id}/decommission[?reason=R]
//	                                        operator.DecommissionResult
//	GET  /cluster/nodes/{id}/decommission   operator.DecommissionResult
//	POST /cluster/nodes/{id}/recommission   operator.DecommissionResult
//	POST /cluster/partitions/{id}/split?table=T[&at=KEY]
//	                                        SplitResult (split.go)
//	GET  /cluster/topology                  TopologyInfo (topology.go)
//
// Errors come back as ErrorInfo with a 4xx or 5xx status. Nodes do not
// talk to each other here: that is the cluster service's job.

// Cluster is what the cluster routes need of a node. Its methods are
// called concurrently, one goroutine per request.
type Cluster interface {
	// Nodes, Tables and Partitions are views of a fresh directory (a
	// cached one when it cannot be refreshed). Partitions of a table the
	// directory does not list fail with topology.ErrNoTable.
	Nodes(ctx context.Context) []topology.NodeInfo
	Tables(ctx context.Context) []topology.TableInfo
	Partitions(ctx context.Context, table string) ([]topology.PartitionInfo, error)
	// Drain marks node as draining, for the admin by (from the cluster
	// version clusterversion.DrainMarks on: until the node restarts or is
	// undrained, the Doctor keeps leaderships off it), and runs the drain
	// operator, which moves its leaderships now; a node the directory does
	// not list is operator.ErrNoNode, for Undrain, Decommission and their
	// kin too.
	Drain(ctx context.Context, node uint64, by string) (operator.DrainResult, error)
	// Undrain clears node's drain mark; a VALIDATION rejection below the
	// cluster version clusterversion.DrainMarks.
	Undrain(ctx context.Context, node uint64, by string) (operator.DrainResult, error)
	// Decommission marks node for decommissioning, for the admin by and
	// with reason (marked already: it stays as it was), and returns its
	// state; below the cluster version clusterversion.DecommissionMarks it
	// runs the decommission operator instead, which moves the node's
	// replicas within the call.
	Decommission(ctx context.Context, node uint64, by, reason string) (operator.DecommissionResult, error)
	// DecommissionStatus is node's mark and the partitions it still
	// holds.
	DecommissionStatus(ctx context.Context, node uint64) (operator.DecommissionResult, error)
	// Recommission clears node's mark while its record exists; a
	// VALIDATION rejection below the cluster version
	// clusterversion.DecommissionMarks.
	Recommission(ctx context.Context, node uint64, by string) (operator.DecommissionResult, error)
	// SplitPartition splits a partition of table at the partition key at
	// ("": the middle of its hash range); route.ErrSplit when it cannot
	// be split so, a VALIDATION or WRONG_RANGE rejection when the
	// partition changed meanwhile (a membership change running, an
	// earlier split).
	SplitPartition(ctx context.Context, table string, partition uint64, at string) (SplitResult, error)
	// MergePartition merges a partition of table with its right
	// neighbour; member.ErrMerge when they cannot merge (not on the same
	// nodes, no neighbour, a merge in flight, a replica not frozen in
	// time).
	MergePartition(ctx context.Context, table string, partition uint64) (MergeResult, error)
	// SetChangeView sets what the change log of table keeps of each write
	// (view: NONE, KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES;
	// ErrBadRequest for another), the internal switch that streams and
	// global secondary indexes will set; member.ErrNoTable for a table
	// the directory does not list.
	SetChangeView(ctx context.Context, table, view string) (ChangeViewResult, error)
}

// ErrorInfo is the body of a failed admin request.
type ErrorInfo struct {
	Error string `json:"error"`
}

// ErrBadRequest marks a request the handler could not parse, or one a
// node refused as invalid (answered 400).
var ErrBadRequest = errors.New("admin: bad request")

// ErrUnauthenticated is a request that needs an authenticated admin and
// came without one (answered 401; see Guard).
var ErrUnauthenticated = errors.New("admin: authentication required: present a client certificate of the cluster CA or an admin token (Authorization: Bearer)")

// ErrForbidden is a request of an authenticated admin its scope does not
// allow: a change by a read-only token (answered 403; see Guard).
var ErrForbidden = errors.New("admin: forbidden")

// statusOf is the one table from the errors of the cluster routes to
// HTTP statuses.
func statusOf(err error) int {
	var pe *partitapb.Error
	switch {
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return http.StatusForbidden
	case errors.As(err, &pe) && (pe.GetCode() == partitapb.Error_VALIDATION || pe.GetCode() == partitapb.Error_WRONG_RANGE ||
		pe.GetCode() == partitapb.Error_CONDITION_FAILED),
		errors.Is(err, route.ErrSplit), errors.Is(err, member.ErrMerge):
		return http.StatusConflict // the record is not in a state the request applies to
	case errors.As(err, &pe) && (pe.GetCode() == partitapb.Error_BACKUP_NOT_FOUND || pe.GetCode() == partitapb.Error_TABLE_NOT_FOUND ||
		pe.GetCode() == partitapb.Error_EXPORT_NOT_FOUND || pe.GetCode() == partitapb.Error_IMPORT_NOT_FOUND):
		return http.StatusNotFound
	case errors.As(err, &pe) && (pe.GetCode() == partitapb.Error_BACKUP_IN_USE || pe.GetCode() == partitapb.Error_TABLE_IN_USE):
		return http.StatusConflict
	case errors.Is(err, topology.ErrNoTable), errors.Is(err, operator.ErrNoNode), errors.Is(err, member.ErrNoTable):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// ClusterHandler returns the /cluster/ routes served by c.
func ClusterHandler(c Cluster) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cluster/nodes", func(w http.ResponseWriter, r *http.Request) {
		reply(w, c.Nodes(r.Context()), nil)
	})
	mux.HandleFunc("GET /cluster/tables", func(w http.ResponseWriter, r *http.Request) {
		reply(w, c.Tables(r.Context()), nil)
	})
	mux.HandleFunc("GET /cluster/partitions", func(w http.ResponseWriter, r *http.Request) {
		parts, err := c.Partitions(r.Context(), r.URL.Query().Get("table"))
		reply(w, parts, err)
	})
	mux.HandleFunc("POST /cluster/nodes/{id}/drain", func(w http.ResponseWriter, r *http.Request) {
		onNode(w, r, func(ctx context.Context, id uint64) (operator.DrainResult, error) {
			return c.Drain(ctx, id, Caller(ctx))
		})
	})
	mux.HandleFunc("POST /cluster/nodes/{id}/undrain", func(w http.ResponseWriter, r *http.Request) {
		onNode(w, r, func(ctx context.Context, id uint64) (operator.DrainResult, error) {
			return c.Undrain(ctx, id, Caller(ctx))
		})
	})
	mux.HandleFunc("POST /cluster/nodes/{id}/decommission", func(w http.ResponseWriter, r *http.Request) {
		onNode(w, r, func(ctx context.Context, id uint64) (operator.DecommissionResult, error) {
			return c.Decommission(ctx, id, Caller(ctx), r.URL.Query().Get("reason"))
		})
	})
	mux.HandleFunc("GET /cluster/nodes/{id}/decommission", func(w http.ResponseWriter, r *http.Request) {
		onNode(w, r, c.DecommissionStatus)
	})
	mux.HandleFunc("POST /cluster/nodes/{id}/recommission", func(w http.ResponseWriter, r *http.Request) {
		onNode(w, r, func(ctx context.Context, id uint64) (operator.DecommissionResult, error) {
			return c.Recommission(ctx, id, Caller(ctx))
		})
	})
	handleSplit(mux, c)
	handleMerge(mux, c)
	handleChangeView(mux, c)
	handleBackups(mux, c)
	handleExports(mux, c)
	handleTopology(mux, c)
	return mux
}

// onNode runs op on the node of the route's {id}.
func onNode[T any](w http.ResponseWriter, r *http.Request, op func(context.Context, uint64) (T, error)) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		reply(w, nil, fmt.Errorf("%w: bad node id %q", ErrBadRequest, r.PathValue("id")))
		return
	}
	res, err := op(r.Context(), id)
	reply(w, res, err)
}

// reply writes v as JSON, or err with its status.
func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusOK
	if err != nil {
		status, v = statusOf(err), ErrorInfo{Error: err.Error()}
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
