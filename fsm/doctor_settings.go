package fsm

import (
	"fmt"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The Doctor's settings (directory.DoctorSettingsKey): its gates and its
// pause switch, set by operators, and the cluster's replication factor,
// set at bootstrap, by operators, or by the active Doctor in a cluster
// that had none.

// applySetDoctorGate overrides the gate of one operation kind, or removes
// the override (GATE_UNSET).
func applySetDoctorGate(b *engine.Batch, now int64, g *partitapb.SetDoctorGate) (*partitapb.Result, error) {
	if g.GetKind() == "" {
		return reject(partitapb.Error_VALIDATION, "doctor gate: the operation kind is required"), nil
	}
	if !knownEnum(g.GetColor()) {
		return reject(partitapb.Error_VALIDATION, "doctor gate: invalid color %s", g.GetColor()), nil
	}
	s, err := directory.ReadDoctorSettings(b)
	if err != nil {
		return nil, err
	}
	if g.GetColor() == partitapb.GateColor_GATE_UNSET {
		delete(s.Gates, g.GetKind())
	} else {
		if s.Gates == nil {
			s.Gates = make(map[string]partitapb.GateColor)
		}
		s.Gates[g.GetKind()] = g.GetColor()
	}
	return writeDoctorSettings(b, s, g.GetBy(), g.GetReason(), now)
}

// applySetDoctorPaused pauses or resumes the Doctor.
func applySetDoctorPaused(b *engine.Batch, now int64, p *partitapb.SetDoctorPaused) (*partitapb.Result, error) {
	s, err := directory.ReadDoctorSettings(b)
	if err != nil {
		return nil, err
	}
	s.Paused = p.GetPaused()
	return writeDoctorSettings(b, s, p.GetBy(), p.GetReason(), now)
}

// writeDoctorSettings writes s as changed by whom, why and when.
func writeDoctorSettings(b *engine.Batch, s *partitapb.DoctorSettings, by, reason string, now int64) (*partitapb.Result, error) {
	s.ChangedBy, s.Reason, s.ChangedUnixNanos = by, reason, now
	raw, err := directory.EncodeDoctorSettings(s)
	if err != nil {
		return nil, err
	}
	if err := b.Set(directory.DoctorSettingsKey(), raw); err != nil {
		return nil, fmt.Errorf("fsm: write doctor settings: %w", err)
	}
	return &partitapb.Result{DoctorSettings: s}, nil
}

// applySetReplicationFactor sets the cluster's replication factor, in the
// settings record beside the gates, which it leaves as they are (and
// their account of their last change). The version check reads the
// cluster version record at the command's position in the log, so every
// replica decides alike.
func applySetReplicationFactor(b *engine.Batch, now int64, r *partitapb.SetReplicationFactor) (*partitapb.Result, error) {
	if !directory.ValidReplicationFactor(r.GetFactor()) {
		return reject(partitapb.Error_VALIDATION, "replication factor %d: it must be from %d to %d",
			r.GetFactor(), directory.MinReplicationFactor, directory.MaxReplicationFactor), nil
	}
	cv, err := directory.ReadClusterVersion(b)
	if err != nil {
		return nil, err
	}
	if active := clusterversion.Active(cv.GetActive()); active < clusterversion.ClusterReplication {
		return reject(partitapb.Error_VALIDATION, "replication factor: the cluster's record needs cluster version %d; the cluster runs at version %d",
			clusterversion.ClusterReplication, active), nil
	}
	s, err := directory.ReadDoctorSettings(b)
	if err != nil {
		return nil, err
	}
	prev := s.GetReplication()
	if r.GetIfAbsent() && prev != nil {
		res := reject(partitapb.Error_CONDITION_FAILED, "replication factor: the cluster's is %d already (set by %s)",
			prev.GetFactor(), prev.GetChangedBy())
		res.DoctorSettings = s
		return res, nil
	}
	s.Replication = &partitapb.Replication{Factor: r.GetFactor(), Previous: prev.GetFactor(),
		ChangedBy: r.GetBy(), Reason: r.GetReason(), ChangedUnixNanos: now}
	if err := writeRecord(b, directory.DoctorSettingsKey(), s, directory.EncodeDoctorSettings); err != nil {
		return nil, err
	}
	return &partitapb.Result{DoctorSettings: s}, nil
}
