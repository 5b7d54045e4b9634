package node

import (
	"github.com/partitadb/partita/admission"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/store"
)

// CapacityConfig is a node's admission control (package admission).
type CapacityConfig struct {
	// Enforce throttles requests beyond their table's provisioned
	// capacity or their partition's limits. `partita dev` leaves it off,
	// as DynamoDB Local does; `partita start` turns it on.
	Enforce bool
	// PartitionReadUnits and PartitionWriteUnits are the per-partition
	// limits in units per second (0: none).
	PartitionReadUnits, PartitionWriteUnits float64
	// ControlPlaneRate and ControlPlaneBurst bound the table operations
	// per second and at once (0: no bound); enforced whatever Enforce.
	ControlPlaneRate  float64
	ControlPlaneBurst int
}

// DefaultCapacityConfig has DynamoDB's per-partition limits, not enforced.
func DefaultCapacityConfig() CapacityConfig {
	d := admission.DefaultConfig()
	return CapacityConfig{
		PartitionReadUnits:  d.PartitionReadUnits,
		PartitionWriteUnits: d.PartitionWriteUnits,
		ControlPlaneRate:    50,
		ControlPlaneBurst:   100,
	}
}

// storeConfig is the store's configuration, admission control included.
func (n *Node) storeConfig(id uint64) (store.Config, error) {
	scfg := store.DefaultConfig()
	scfg.NodeID, scfg.Engine, scfg.Logger, scfg.Registerer = id, n.eng, n.log, n.reg
	scfg.Tracer = n.tracer("store")
	scfg.Replica.LogBounds = &n.logBounds
	scfg.Replica.ChangeLogs = &n.changeLogs
	if v := n.cfg.startSetting("store.workers"); v.Int() > 0 {
		scfg.Workers = int(v.Int())
	}
	if v := n.cfg.startSetting("raft.election-ticks"); v.Int() > 0 {
		scfg.Replica.ElectionTicks = int(v.Int())
	}
	if v := n.cfg.startSetting("raft.heartbeat-ticks"); v.Int() > 0 {
		scfg.Replica.HeartbeatTicks = int(v.Int())
	}
	// Every node reads the directory from its own meta replica: the
	// meta partition's followers learn each commit at once.
	scfg.EagerCommit = []uint64{directory.MetaPartition}
	// A leadership handed over without a target (a leader removed or
	// draining, a Doctor's target-less transfer) goes to a node being
	// decommissioned or drained only when no other voter can take it.
	if dir := n.dir; dir != nil {
		scfg.AvoidLeading = func(node uint64) bool {
			rec := dir.Snapshot().Node(node)
			return rec != nil && directory.AvoidsLeading(rec)
		}
	}
	if n.cfg.Clock != nil {
		scfg.Replica.Now = n.cfg.Clock
	}
	// A member writes commands until the directory tells it the cluster
	// version (followClusterVersion): a node of an older binary may apply
	// them.
	scfg.LegacyWrites = n.cfg.LegacyWrites || n.cfg.PeerAddr != ""
	if !n.cfg.Capacity.Enforce {
		return scfg, nil
	}
	acfg := admission.DefaultConfig()
	acfg.PartitionReadUnits, acfg.PartitionWriteUnits = n.cfg.Capacity.PartitionReadUnits, n.cfg.Capacity.PartitionWriteUnits
	acfg.Registerer, acfg.Now = n.reg, n.now
	// Limits run only once requests arrive, after the store and the
	// directory cache are set.
	acfg.Limits = func(partition uint64) (admission.Limits, bool) {
		return admission.LimitsFrom(n.dir.Snapshot(), partition, func(p uint64) bool {
			r := n.store.Replica(p)
			return r != nil && r.Leader() == id
		})
	}
	ac, err := admission.New(acfg)
	if err != nil {
		return store.Config{}, err
	}
	scfg.Admission = ac
	n.addTableSeries(ac.TableSeries()...)
	return scfg, nil
}
