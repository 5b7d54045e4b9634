package fsm

import (
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The cluster version record (directory.ClusterVersionKey): the Doctor
// finalises (SetClusterVersion), operators hold or release finalisation.

// applySetClusterVersion moves the active version from s.from to s.to:
// refused (CONDITION_FAILED, nothing written) unless from is in force, to
// is above it, and finalisation is not held. A record never written is
// version 0, which the cluster runs as clusterversion.Base: the first
// node of a new cluster sets its own version from 0.
func applySetClusterVersion(b *engine.Batch, now int64, s *partitapb.SetClusterVersion) (*partitapb.Result, error) {
	v, err := directory.ReadClusterVersion(b)
	if err != nil {
		return nil, err
	}
	switch {
	case v.GetActive() != s.GetFrom():
		return rejectVersion(v, "cluster version: %d is in force, not %d", v.GetActive(), s.GetFrom()), nil
	case s.GetTo() <= s.GetFrom():
		return rejectVersion(v, "cluster version: versions only rise (%d to %d)", s.GetFrom(), s.GetTo()), nil
	case v.GetHold() && s.GetFrom() != 0:
		return rejectVersion(v, "cluster version: finalisation is held by %s: %s", v.GetHoldBy(), v.GetHoldReason()), nil
	}
	v.Previous, v.Active, v.ChangedUnixNanos, v.ChangedBy = v.GetActive(), s.GetTo(), now, s.GetBy()
	if err := writeRecord(b, directory.ClusterVersionKey(), v, directory.EncodeClusterVersion); err != nil {
		return nil, err
	}
	return &partitapb.Result{ClusterVersion: v}, nil
}

// applyHoldClusterVersion sets or clears the hold on finalisation.
func applyHoldClusterVersion(b *engine.Batch, h *partitapb.HoldClusterVersion) (*partitapb.Result, error) {
	v, err := directory.ReadClusterVersion(b)
	if err != nil {
		return nil, err
	}
	v.Hold, v.HoldBy, v.HoldReason = h.GetHold(), h.GetBy(), h.GetReason()
	if !v.Hold {
		v.HoldBy, v.HoldReason = "", ""
	}
	if err := writeRecord(b, directory.ClusterVersionKey(), v, directory.EncodeClusterVersion); err != nil {
		return nil, err
	}
	return &partitapb.Result{ClusterVersion: v}, nil
}

// rejectVersion refuses a change, with the record as found.
func rejectVersion(v *partitapb.ClusterVersion, format string, args ...any) *partitapb.Result {
	res := reject(partitapb.Error_CONDITION_FAILED, format, args...)
	res.ClusterVersion = v
	return res
}
