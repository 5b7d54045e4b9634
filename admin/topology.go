package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/partitadb/partita/topology/ingest"
)

// The topology route behind `partita ctl topology`:
//
//	GET /cluster/topology   TopologyInfo, or 307 to the admin endpoint of the node receiving the reports
//
// Served when the Cluster given to ClusterHandler is also a
// TopologySource.

// TopologySource is a node's topology ingester, as the admin routes see
// it.
type TopologySource interface {
	// Topology returns the node's current cluster view, or a
	// *TopologyElsewhereError naming the node whose view is the cluster's.
	Topology(ctx context.Context) (TopologyInfo, error)
}

// TopologyInfo is a node's cluster view and where it comes from.
type TopologyInfo struct {
	// Node is the node that built the view; Receiver says it receives the
	// cluster's topology reports (the meta leader today).
	Node     uint64              `json:"node"`
	Receiver bool                `json:"receiver"`
	Stats    ingest.Stats        `json:"stats"`
	View     *ingest.ClusterView `json:"view"`
}

// TopologyElsewhereError says another node receives the topology reports.
type TopologyElsewhereError struct {
	Node      uint64
	AdminAddr string
}

func (e *TopologyElsewhereError) Error() string {
	return fmt.Sprintf("admin: node %d (admin %s) receives the topology reports", e.Node, e.AdminAddr)
}

// handleTopology adds the topology route to mux when c is a
// TopologySource.
func handleTopology(mux *http.ServeMux, c Cluster) {
	src, ok := c.(TopologySource)
	if !ok {
		return
	}
	mux.HandleFunc("GET /cluster/topology", func(w http.ResponseWriter, r *http.Request) {
		info, err := src.Topology(r.Context())
		replyOrRedirect(w, r, info, err)
	})
}

// elsewhere is an error that names the admin endpoint of the node that
// answers instead (*TopologyElsewhereError, *DoctorElsewhereError).
type elsewhere interface {
	error
	adminAddr() string
}

func (e *TopologyElsewhereError) adminAddr() string { return e.AdminAddr }

// replyOrRedirect replies v, or err; an error naming another node's admin
// endpoint redirects the caller there (307, the same method and path).
func replyOrRedirect(w http.ResponseWriter, r *http.Request, v any, err error) {
	var to elsewhere
	if errors.As(err, &to) {
		scheme := "http"
		if r.TLS != nil { // nodes of a cluster serve their admin endpoints alike
			scheme = "https"
		}
		http.Redirect(w, r, scheme+"://"+to.adminAddr()+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		return
	}
	reply(w, v, err)
}
