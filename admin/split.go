package admin

import (
	"fmt"
	"net/http"
	"strconv"
)

// PartitionRange is one partition of a table as a split left it.
type PartitionRange struct {
	ID uint64 `json:"id"`
	// HashStart and HashEnd bound the partition's hashes, [start, end),
	// in hex; an end of 0 is the end of the hash space.
	HashStart       string   `json:"hash_start"`
	HashEnd         string   `json:"hash_end"`
	RangeGeneration uint64   `json:"range_generation"`
	Replicas        []uint64 `json:"replicas"`
}

// SplitResult is the answer of a split: the table's partitions after it.
type SplitResult struct {
	Table      string           `json:"table"`
	Left       uint64           `json:"left"`
	Right      uint64           `json:"right"`
	Partitions []PartitionRange `json:"partitions"`
}

// handleSplit serves POST /cluster/partitions/{id}/split?table=T[&at=KEY].
func handleSplit(mux *http.ServeMux, c Cluster) {
	mux.HandleFunc("POST /cluster/partitions/{id}/split", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		table := r.URL.Query().Get("table")
		if err != nil || id == 0 || table == "" {
			reply(w, nil, fmt.Errorf("%w: want /cluster/partitions/{id}/split?table=T[&at=KEY], got partition %q, table %q",
				ErrBadRequest, r.PathValue("id"), table))
			return
		}
		res, err := c.SplitPartition(r.Context(), table, id, r.URL.Query().Get("at"))
		reply(w, res, err)
	})
}
