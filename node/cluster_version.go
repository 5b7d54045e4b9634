package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/doctor"
	"github.com/partitadb/partita/doctor/upgrade"
	"github.com/partitadb/partita/partitapb"
)

// The cluster version (package clusterversion) on a node: the first node
// sets it to its binary's newest; a node joins only if its binary runs at
// the version in force; every node writes the formats the version allows
// (followClusterVersion); the node running the active Doctor finalises
// the next version once every node supports it and the Doctor's health
// has been green for the soak period (the cluster-version job).

// DefaultUpgradeSoak is how long the Doctor's health must stay green
// before a cluster version is finalised.
const DefaultUpgradeSoak = time.Minute

// ClusterVersionJob names the job that finalises cluster versions.
const ClusterVersionJob = "cluster-version"

// upgradeState is the finalisation job's memory: since when the active
// Doctor's health has been green, in which epoch.
type upgradeState struct {
	mu         sync.Mutex
	epoch      uint64
	greenSince time.Time
}

// versions is the range of cluster versions this node's binary runs at.
func (n *Node) versions() clusterversion.Range {
	r := clusterversion.Binary()
	if m := clusterversion.Version(n.cfg.MaxClusterVersion); m != 0 && m < r.Max {
		r.Max = max(m, r.Min)
	}
	return r
}

// startClusterVersion records the first node's newest version as the
// cluster's: a new cluster starts with every format its first binary
// knows.
func (n *Node) startClusterVersion(ctx context.Context) error {
	_, err := doctorRecords{n: n}.propose(ctx, &partitapb.Command{Op: &partitapb.Command_SetClusterVersion{
		SetClusterVersion: &partitapb.SetClusterVersion{From: 0, To: uint32(n.versions().Max), By: "bootstrap"}}})
	if err != nil {
		return fmt.Errorf("node: set the cluster version: %w", err)
	}
	return n.refreshDirectory(ctx)
}

// raiseSingleVersion moves a single node's cluster version to its
// binary's newest: no other binary can share its data while it runs (a
// data directory is opened by one process), so nothing needs to soak.
func (n *Node) raiseSingleVersion(ctx context.Context) error {
	cv, err := directory.ReadClusterVersion(n.eng.Reader())
	if err != nil {
		return err
	}
	newest := uint32(n.versions().Max)
	if cv.GetActive() >= newest {
		return nil
	}
	_, err = doctorRecords{n: n}.propose(ctx, &partitapb.Command{Op: &partitapb.Command_SetClusterVersion{
		SetClusterVersion: &partitapb.SetClusterVersion{From: cv.GetActive(), To: newest, By: "single node"}}})
	if err != nil {
		return fmt.Errorf("node: set the cluster version: %w", err)
	}
	return n.refreshDirectory(ctx)
}

// followClusterVersion applies the version in force, as the cached
// directory has it, to what this node writes; a binary that cannot run at
// it says so loudly.
func (n *Node) followClusterVersion() {
	if n.store == nil {
		return
	}
	active := n.dir.Snapshot().ActiveVersion()
	if n.router != nil {
		n.router.SetClusterVersion(active)
	}
	legacy := n.cfg.LegacyWrites || active < clusterversion.Effects
	if was := n.store.LegacyWrites(); was != legacy {
		n.store.SetLegacyWrites(legacy)
		n.log.Info("item writes now follow the cluster version", "cluster_version", active, "write_format", n.writeFormat())
	}
	// The next heartbeat tells the directory.
	if rec := n.member.Record(); rec != nil && rec.GetWriteFormat() != n.writeFormat() {
		rec = proto.Clone(rec).(*partitapb.Node)
		rec.WriteFormat = n.writeFormat()
		n.member.SetRecord(rec)
	}
	if err := n.versions().Check(active); err != nil {
		n.log.Error("this binary cannot run at the cluster's version: stop it and run one that can", "err", err)
	}
}

// checkStoredVersion refuses to start a binary that cannot run at the
// cluster version its data directory last saw (the meta partition's
// record, on a node holding a meta replica), before its replicas apply
// anything: a binary too old would meet entries in a format it cannot
// read, one too new would have dropped a format the cluster still
// writes. A node without a meta replica learns the version from the
// directory once it runs, and says so then (followClusterVersion); a
// joining node is refused by the member it asks (admitVersion).
func (n *Node) checkStoredVersion() error {
	cv, err := directory.ReadClusterVersion(n.eng.Reader())
	if err != nil {
		return fmt.Errorf("node: read the stored cluster version: %w", err)
	}
	if cv.GetActive() == 0 {
		return nil
	}
	if err := n.versions().Check(clusterversion.Active(cv.GetActive())); err != nil {
		return fmt.Errorf("node: this data directory belongs to a cluster this binary cannot run in: %w", err)
	}
	return nil
}

// StoredClusterVersion is the cluster version the node's own replica of
// the meta partition has applied (0 without one).
func (n *Node) StoredClusterVersion() (clusterversion.Version, error) {
	cv, err := directory.ReadClusterVersion(n.eng.Reader())
	return clusterversion.Version(cv.GetActive()), err
}

// admitVersion refuses a joining node whose binary cannot run at the
// version in force.
func (n *Node) admitVersion(ctx context.Context, rec *partitapb.Node) error {
	if n.member == nil {
		return nil
	}
	if err := n.member.RefreshConsistent(ctx); err != nil {
		return fmt.Errorf("node: read the cluster version: %w", err)
	}
	active := n.dir.Snapshot().ActiveVersion()
	if err := clusterversion.OfNode(rec.GetMinVersion(), rec.GetMaxVersion()).Check(active); err != nil {
		n.log.Warn("refused a node whose binary cannot run at the cluster version", "peer_addr", rec.GetPeerAddr(),
			"binary", rec.GetVersion(), "err", err)
		return fmt.Errorf("%w: %w", cluster.ErrJoinRefused, err)
	}
	return nil
}

// registerClusterVersionJob registers the finalisation job on a node
// that may run the Doctor.
func (n *Node) registerClusterVersionJob(m *daemon.Manager) error {
	if !n.cfg.Doctor || n.peerLn == nil {
		return nil
	}
	return m.Register(daemon.JobSpec{
		Name:     ClusterVersionJob,
		Kind:     daemon.Periodic,
		Interval: time.Second,
		Timeout:  20 * time.Second,
		Run:      func(ctx context.Context, _ *daemon.Cycle) error { return n.finaliseClusterVersion(ctx) },
	})
}

// finaliseClusterVersion moves the cluster version up by one when it is
// due, on the node whose Doctor is active (with its epoch: a deposed
// Doctor's finalisation is refused); from version 20 it also records the
// cluster's replication factor where none is (adoptReplicationFactor).
func (n *Node) finaliseClusterVersion(ctx context.Context) error {
	if n.activeDoctor() == nil {
		return nil // a standby reads nothing
	}
	st, epoch, err := n.upgradeStatus(ctx, nil)
	if err != nil || epoch == 0 {
		return err
	}
	if st.Due() {
		_, err = doctorRecords{n: n, epoch: epoch}.propose(ctx, &partitapb.Command{Op: &partitapb.Command_SetClusterVersion{
			SetClusterVersion: &partitapb.SetClusterVersion{From: uint32(st.Active), To: uint32(st.Target),
				By: fmt.Sprintf("doctor on node %d (epoch %d)", n.id, epoch)}}})
		if err != nil {
			return fmt.Errorf("node: finalise cluster version %d: %w", st.Target, err)
		}
		n.log.Info("finalised the cluster version", "from", st.Active, "to", st.Target)
		n.freshDirectory(ctx)
		n.followClusterVersion()
	}
	// From version 20 the replication factor is the cluster's record: a
	// cluster that has none gets this node's.
	return n.adoptReplicationFactor(ctx, epoch)
}

// upgradeStatus is the upgrade's status from a fresh directory, with the
// health of this node's Doctor and the epoch it is active in (0: not
// active here; health is then not judged). cv, when set, is the cluster
// version record as a command just wrote it (the directory read may not
// show it yet).
func (n *Node) upgradeStatus(ctx context.Context, cv *partitapb.ClusterVersion) (upgrade.Status, uint64, error) {
	d, epoch := n.activeDoctor(), uint64(0)
	if e := n.Doctor(); d != nil && e != nil {
		epoch = e.Epoch()
	}
	snap := ctl{n: n}.Directory(ctx)
	if cv != nil {
		cp := *snap
		cp.ClusterVersion = cv
		snap = &cp
	}
	now := n.now()
	soak := n.cfg.UpgradeSoak
	if soak <= 0 {
		soak = DefaultUpgradeSoak
	}
	health := "the Doctor is not active on this node"
	var greenFor time.Duration
	if d != nil && epoch != 0 {
		health = doctorHealth(d)
		n.upg.mu.Lock()
		if health != "" || n.upg.epoch != epoch || n.upg.greenSince.IsZero() {
			n.upg.greenSince = now
			if health != "" {
				n.upg.greenSince = time.Time{}
			}
		}
		n.upg.epoch = epoch
		if !n.upg.greenSince.IsZero() {
			greenFor = now.Sub(n.upg.greenSince)
		}
		n.upg.mu.Unlock()
	}
	return upgrade.Of(snap, now, health, greenFor, soak), epoch, nil
}

// doctorHealth is "" when d's last cycle found nothing to repair, no sick
// node and nothing running; otherwise what it found.
func doctorHealth(d *doctor.Doctor) string {
	p := d.LastPlan()
	switch {
	case p.Paused:
		return "the Doctor is paused"
	case p.Waiting != "":
		return p.Waiting
	case len(p.Ops) > 0:
		return fmt.Sprintf("%d operations planned", len(p.Ops))
	case len(p.Sick) > 0:
		return fmt.Sprintf("sick nodes %v", p.Sick)
	case len(d.Running()) > 0:
		return fmt.Sprintf("%d operations running", len(d.Running()))
	}
	return ""
}

// UpgradeStatus implements admin.Upgrades: on the active Doctor's node,
// or a redirect there.
func (c ctl) UpgradeStatus(ctx context.Context) (upgrade.Status, error) {
	st, epoch, err := c.n.upgradeStatus(ctx, nil)
	if err != nil || epoch != 0 {
		return st, err
	}
	var elsewhere *admin.DoctorElsewhereError
	if _, err := c.DoctorPlan(ctx); errors.As(err, &elsewhere) {
		return upgrade.Status{}, err
	}
	return st, nil
}

// UpgradeHold implements admin.Upgrades.
func (c ctl) UpgradeHold(ctx context.Context, hold bool, by, reason string) (upgrade.Status, error) {
	res, err := doctorRecords{n: c.n}.propose(ctx, &partitapb.Command{Op: &partitapb.Command_HoldClusterVersion{
		HoldClusterVersion: &partitapb.HoldClusterVersion{Hold: hold, By: by, Reason: reason}}})
	if err != nil {
		return upgrade.Status{}, err
	}
	st, _, err := c.n.upgradeStatus(ctx, res.GetClusterVersion())
	return st, err
}
