package directory

import "github.com/partitadb/partita/partitapb"

// The cluster's replication factor (partitapb.Replication) is kept in the
// Doctor's settings record (DoctorSettingsKey): one value for the whole
// cluster, which the active Doctor's checkers and CreateTable's placement
// read on whichever node they run.

// MinReplicationFactor and MaxReplicationFactor bound the cluster's
// replication factor: one replica at least, and raft groups of at most
// seven voters (each voter more slows every commit and costs a copy of
// the data, and seven survive three failures).
const (
	MinReplicationFactor = 1
	MaxReplicationFactor = 7
)

// ValidReplicationFactor says f is within the bounds.
func ValidReplicationFactor(f uint32) bool {
	return f >= MinReplicationFactor && f <= MaxReplicationFactor
}

// Replication returns the cluster's replication factor record as s holds
// it (nil: none recorded, as in a cluster an older binary made, or
// settings not read).
func (s *Snapshot) Replication() *partitapb.Replication {
	if s == nil {
		return nil
	}
	return s.DoctorSettings.GetReplication()
}
