package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/partitapb"
)

// The cluster's replication factor is one record of the directory
// (partitapb.Replication, in the Doctor's settings), from cluster version
// 20 (clusterversion.ClusterReplication). The active Doctor's checkers
// and CreateTable's placement read it, on whichever node they run, so a
// node started with another --replication-factor changes nothing. The
// flag is the factor a new cluster starts with: the first node records
// it at bootstrap.
//
// A cluster an older binary made has no record: each node then uses its
// own flag, as before (the Doctor says so in its plan and its log), until
// the active Doctor's node records its own flag, once, as soon as the
// cluster runs at version 20 (the cluster-version job, which finalises
// that version). Operators change it with `partita ctl doctor
// replication-factor N`.
//
// A single node without a peer address keeps one replica of each
// partition, whatever the record says.

// defaultReplicationFactor is the factor of a Config that sets none.
const defaultReplicationFactor = 3

// flagReplicationFactor is this node's --replication-factor.
func (n *Node) flagReplicationFactor() int {
	if rf := n.cfg.ReplicationFactor; rf > 0 {
		return rf
	}
	return defaultReplicationFactor
}

// replicationOf is the replication factor this node acts on, given the
// directory's Doctor settings s, and where it comes from.
func (n *Node) replicationOf(s *partitapb.DoctorSettings) doctor.Replication {
	if n.cfg.PeerAddr == "" {
		return doctor.Replication{Factor: 1, Source: "a single node (no peer address): one replica of each partition"}
	}
	if r := s.GetReplication(); r != nil {
		return doctor.Replication{Factor: int(r.GetFactor()), Source: "the cluster's record"}
	}
	return doctor.Replication{Factor: n.flagReplicationFactor(), Fallback: true,
		Source: fmt.Sprintf("node %d's --replication-factor: the cluster records none", n.id)}
}

// replicationView is the replication factor as ctl shows it, at the
// cluster version active.
func (n *Node) replicationView(s *partitapb.DoctorSettings, active clusterversion.Version) admin.Replication {
	eff := n.replicationOf(s)
	out := admin.Replication{Factor: eff.Factor, Source: eff.Source, Fallback: eff.Fallback, ClusterVersion: uint32(active)}
	if r := s.GetReplication(); r != nil {
		out.Recorded, out.Previous, out.ChangedBy, out.Reason = int(r.GetFactor()), int(r.GetPrevious()), r.GetChangedBy(), r.GetReason()
		if t := r.GetChangedUnixNanos(); t != 0 {
			out.Changed = time.Unix(0, t)
		}
	}
	return out
}

// recordReplicationFactor writes this node's flag as the cluster's
// replication factor where none is recorded, with the Doctor's epoch
// (0: not the Doctor's write). It writes nothing below cluster version
// 20. wrote says it wrote the record.
func (n *Node) recordReplicationFactor(ctx context.Context, epoch uint64, by, reason string) (wrote bool, err error) {
	_, err = doctorRecords{n: n, epoch: epoch}.propose(ctx, &partitapb.Command{Op: &partitapb.Command_SetReplicationFactor{
		SetReplicationFactor: &partitapb.SetReplicationFactor{Factor: uint32(n.flagReplicationFactor()), IfAbsent: true,
			By: by, Reason: reason}}})
	var pe *partitapb.Error
	if errors.As(err, &pe) && pe.GetCode() == partitapb.Error_CONDITION_FAILED {
		return false, nil // recorded meanwhile: the first record stays
	}
	if err != nil {
		return false, fmt.Errorf("node: record the replication factor: %w", err)
	}
	return true, nil
}

// startReplicationFactor records the first node's flag as the new
// cluster's replication factor, right after its cluster version.
func (n *Node) startReplicationFactor(ctx context.Context) error {
	if n.versions().Max < clusterversion.ClusterReplication {
		return nil // a binary claiming an older version writes what that version knew
	}
	if _, err := n.recordReplicationFactor(ctx, 0, "bootstrap", "the first node's --replication-factor"); err != nil {
		return err
	}
	return n.refreshDirectory(ctx)
}

// adoptReplicationFactor records, on the active Doctor's node (epoch),
// this node's flag as the cluster's replication factor when the cluster
// runs at version 20 or later and has none: a cluster an older binary
// made, once the version is finalised. From then on the record decides,
// whichever node's Doctor is active.
func (n *Node) adoptReplicationFactor(ctx context.Context, epoch uint64) error {
	snap := n.dir.Snapshot()
	if epoch == 0 || snap.DoctorSettings == nil || snap.Replication() != nil ||
		snap.ActiveVersion() < clusterversion.ClusterReplication {
		return nil
	}
	by := fmt.Sprintf("doctor on node %d (epoch %d)", n.id, epoch)
	wrote, err := n.recordReplicationFactor(ctx, epoch, by,
		"the cluster had no replication factor: the active Doctor's node's --replication-factor")
	if err != nil || !wrote {
		return err
	}
	n.log.Info("recorded this node's --replication-factor as the cluster's replication factor", "factor", n.flagReplicationFactor())
	n.freshDirectory(ctx)
	return nil
}

// noteReplicationFlag says once, at the first directory this node reads,
// that its --replication-factor is not the cluster's and so does nothing.
func (n *Node) noteReplicationFlag() {
	snap := n.dir.Snapshot()
	if n.cfg.PeerAddr == "" || snap.DoctorSettings == nil || !n.replFlagNoted.CompareAndSwap(false, true) {
		return
	}
	if r := snap.Replication(); r != nil && int(r.GetFactor()) != n.flagReplicationFactor() {
		n.log.Warn("--replication-factor is ignored: the cluster's replication factor is recorded in the directory (partita ctl doctor replication-factor)",
			"flag", n.flagReplicationFactor(), "cluster", r.GetFactor())
	}
}

// errBadReplication is a replication factor the cluster cannot take.
var errBadReplication = fmt.Errorf("%w: replication factor", admin.ErrBadRequest)

// DoctorReplication implements admin.Doctor from a fresh directory.
func (c ctl) DoctorReplication(ctx context.Context) (admin.Replication, error) {
	snap := c.Directory(ctx)
	return c.n.replicationView(snap.DoctorSettings, snap.ActiveVersion()), nil
}

// DoctorSetReplication implements admin.Doctor.
func (c ctl) DoctorSetReplication(ctx context.Context, factor int, by, reason string) (admin.Replication, error) {
	switch {
	case c.n.cfg.PeerAddr == "":
		return admin.Replication{}, fmt.Errorf("%w: a single node (no --peer-addr) keeps one replica of each partition", errBadReplication)
	case factor < directory.MinReplicationFactor || factor > directory.MaxReplicationFactor:
		return admin.Replication{}, fmt.Errorf("%w %d: it must be from %d to %d", errBadReplication, factor,
			directory.MinReplicationFactor, directory.MaxReplicationFactor)
	}
	snap := c.Directory(ctx)
	if v := snap.ActiveVersion(); v < clusterversion.ClusterReplication {
		return admin.Replication{}, partitapb.Errorf(partitapb.Error_VALIDATION,
			"the cluster's replication factor needs cluster version %d; the cluster runs at version %d until every node runs a binary that supports it (partita ctl upgrade status)",
			clusterversion.ClusterReplication, v)
	}
	res, err := doctorRecords{n: c.n}.propose(ctx, &partitapb.Command{Op: &partitapb.Command_SetReplicationFactor{
		SetReplicationFactor: &partitapb.SetReplicationFactor{Factor: uint32(factor), By: by, Reason: reason}}})
	if err != nil {
		return admin.Replication{}, err
	}
	c.n.log.Info("the cluster's replication factor changed", "factor", factor, "previous", res.GetDoctorSettings().GetReplication().GetPrevious(),
		"by", by, "reason", reason)
	c.n.freshDirectory(ctx)
	return c.n.replicationView(res.GetDoctorSettings(), snap.ActiveVersion()), nil
}
