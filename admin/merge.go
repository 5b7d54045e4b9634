package admin

import (
	"fmt"
	"net/http"
	"strconv"
)

// MergeResult is the answer of a merge: the table's partitions after it.
type MergeResult struct {
	Table string `json:"table"`
	// Left is the partition that absorbed its right neighbour, Right.
	Left       uint64           `json:"left"`
	Right      uint64           `json:"right"`
	Partitions []PartitionRange `json:"partitions"`
}

// handleMerge serves POST /cluster/partitions/{id}/merge?table=T.
func handleMerge(mux *http.ServeMux, c Cluster) {
	mux.HandleFunc("POST /cluster/partitions/{id}/merge", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		table := r.URL.Query().Get("table")
		if err != nil || id == 0 || table == "" {
			reply(w, nil, fmt.Errorf("%w: want /cluster/partitions/{id}/merge?table=T, got partition %q, table %q",
				ErrBadRequest, r.PathValue("id"), table))
			return
		}
		res, err := c.MergePartition(r.Context(), table, id)
		reply(w, res, err)
	})
}
