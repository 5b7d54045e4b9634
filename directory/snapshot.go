package directory

import (
	"slices"

	"github.com/partitadb/partita/partitapb"
)

// Snapshot is the directory as read from a meta replica at one moment:
// every table (with its partitions), every node, the meta partition's
// voters, the Doctor lease and the Doctor's settings. A Snapshot is immutable once built: readers share it without
// locks and must not modify the records it holds.
type Snapshot struct {
	Tables []*partitapb.Table
	Nodes  []*partitapb.Node
	// MetaReplicas are the ids of the nodes holding a voter of the meta
	// partition.
	MetaReplicas []uint64
	// DoctorLease is the Doctor lease record (nil: never held).
	DoctorLease *partitapb.DoctorLease
	// DoctorSettings are the Doctor's gates and pause switch (nil: not
	// read; a directory where they were never set gives empty settings).
	// The Doctor's timeline is not here: it is too big to carry at every
	// refresh (directory.ScanDoctorOps, or a Walk of DoctorOpsSpan).
	DoctorSettings *partitapb.DoctorSettings
	// Settings are the run-time settings' overrides in force (nil: not
	// read; a directory where none was ever made gives version 0).
	Settings *partitapb.SettingsState
	// ClusterVersion is the cluster version record (nil: not read or
	// never written: the cluster runs at clusterversion.Base).
	ClusterVersion *partitapb.ClusterVersion
}

// Node returns the record of node id, or nil.
func (s *Snapshot) Node(id uint64) *partitapb.Node {
	if s == nil {
		return nil
	}
	for _, n := range s.Nodes {
		if n.GetId() == id {
			return n
		}
	}
	return nil
}

// Table returns the record of the table named name, or nil.
func (s *Snapshot) Table(name string) *partitapb.Table {
	if s == nil {
		return nil
	}
	for _, t := range s.Tables {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

// Partitions returns every table partition the snapshot lists (not the
// meta partition), in table order.
func (s *Snapshot) Partitions() []*partitapb.Partition {
	if s == nil {
		return nil
	}
	var out []*partitapb.Partition
	for _, t := range s.Tables {
		out = append(out, t.GetPartitions()...)
	}
	return out
}

// Replicas returns the voters of partition as the snapshot lists them (the
// meta partition's included).
func (s *Snapshot) Replicas(partition uint64) []uint64 {
	if s == nil {
		return nil
	}
	if partition == MetaPartition {
		return slices.Clone(s.MetaReplicas)
	}
	for _, t := range s.Tables {
		for _, p := range t.GetPartitions() {
			if p.GetId() == partition {
				return slices.Clone(p.GetReplicas())
			}
		}
	}
	return nil
}
