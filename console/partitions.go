package console

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"

	"github.com/partitadb/partita/topology"
	"github.com/partitadb/partita/topology/ingest"
)

// PartitionRow is a partition as the tables page lists it: the
// directory's and raft's view, and its load from the cluster view.
type PartitionRow struct {
	topology.PartitionInfo
	// Start and End are the hash range in hex (JSON numbers lose the
	// low bits of 64-bit hashes in a browser).
	Start string      `json:"start"`
	End   string      `json:"end"`
	Load  ingest.Load `json:"load"`
}

// HeatCell is a partition's place in the key space, as fractions of the
// hash space, and its requests (reads and writes) per second.
type HeatCell struct {
	From float64 `json:"f"`
	To   float64 `json:"t"`
	Rate float64 `json:"r"`
}

// PartitionPage is one page of a table's partitions, in key order, and
// the heat of all of them.
type PartitionPage struct {
	Table string         `json:"table"`
	Total int            `json:"total"`
	Page  int            `json:"page"`
	Size  int            `json:"size"`
	Rows  []PartitionRow `json:"rows"`
	Heat  []HeatCell     `json:"heat"`
	// LoadError says why the load figures are missing.
	LoadError string `json:"load_error,omitempty"`
}

// maxPageSize bounds a page of partitions.
const maxPageSize = 500

// partitions serves GET /console/api/partitions?table=T[&page=N][&size=M]
// and, for one partition of any table, ?id=P.
func (h *Handler) partitions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, size := 0, 50
	var err error
	if s := q.Get("page"); s != "" {
		if page, err = strconv.Atoi(s); err != nil || page < 0 {
			reply(w, nil, fmt.Errorf("page=%q is not a page number", s))
			return
		}
	}
	if s := q.Get("size"); s != "" {
		if size, err = strconv.Atoi(s); err != nil || size < 1 || size > maxPageSize {
			reply(w, nil, fmt.Errorf("size=%q: want 1 to %d", s, maxPageSize))
			return
		}
	}
	parts, err := h.cfg.Partitions(r.Context(), q.Get("table"))
	if err != nil {
		replyStatus(w, http.StatusNotFound, err)
		return
	}
	if s := q.Get("id"); s != "" {
		id, perr := strconv.ParseUint(s, 10, 64)
		if perr != nil {
			reply(w, nil, fmt.Errorf("id=%q is not a partition id", s))
			return
		}
		parts = slices.DeleteFunc(parts, func(p topology.PartitionInfo) bool { return p.ID != id })
	}
	slices.SortFunc(parts, func(a, b topology.PartitionInfo) int {
		return cmp.Or(cmp.Compare(a.HashStart, b.HashStart), cmp.Compare(a.ID, b.ID))
	})
	out := PartitionPage{Table: q.Get("table"), Total: len(parts), Size: size, Page: min(page, max(0, (len(parts)-1)/size))}
	loads, lerr := h.loads(r)
	if lerr != nil {
		out.LoadError = lerr.Error()
	}
	for _, p := range parts {
		l := loads[p.ID]
		end := float64(p.HashEnd) / math.Exp2(64)
		if p.HashEnd == 0 {
			end = 1
		}
		out.Heat = append(out.Heat, HeatCell{From: float64(p.HashStart) / math.Exp2(64), To: end, Rate: l.ReadsPerSec + l.WritesPerSec})
	}
	for _, p := range parts[min(len(parts), out.Page*size):min(len(parts), (out.Page+1)*size)] {
		out.Rows = append(out.Rows, PartitionRow{PartitionInfo: p, Start: fmt.Sprintf("%016x", p.HashStart),
			End: fmt.Sprintf("%016x", p.HashEnd), Load: loads[p.ID]})
	}
	reply(w, out, nil)
}

// loads reads each partition's load from the cluster view (asked of the
// node that receives the topology reports).
func (h *Handler) loads(r *http.Request) (map[uint64]ingest.Load, error) {
	var info struct {
		View *ingest.ClusterView `json:"view"`
	}
	if err := h.getSelf(r, "/cluster/topology", &info); err != nil {
		return nil, err
	}
	out := map[uint64]ingest.Load{}
	if info.View != nil {
		for _, pv := range info.View.Partitions {
			out[pv.ID] = pv.Load
		}
	}
	return out, nil
}
