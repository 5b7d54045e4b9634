package directory

import (
	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// kindClusterVersion is the record of the cluster version: one record,
// read at every refresh.
const kindClusterVersion = "cluster-version"

// ClusterVersionKey is the key of the cluster version record.
func ClusterVersionKey() []byte { return engine.MetaKey(kindClusterVersion, "") }

// EncodeClusterVersion encodes the cluster version record.
func EncodeClusterVersion(v *partitapb.ClusterVersion) ([]byte, error) {
	return encode("cluster version", v)
}

// DecodeClusterVersion decodes the cluster version record.
func DecodeClusterVersion(raw []byte) (*partitapb.ClusterVersion, error) {
	return decode(raw, &partitapb.ClusterVersion{}, "cluster version")
}

// ReadClusterVersion returns the cluster version record: an empty one
// (active 0, which runs at clusterversion.Base) when none was written.
func ReadClusterVersion(r engine.Reader) (*partitapb.ClusterVersion, error) {
	v, err := read(r, ClusterVersionKey(), DecodeClusterVersion)
	if v == nil && err == nil {
		v = &partitapb.ClusterVersion{}
	}
	return v, err
}

// ActiveVersion is the cluster version in force per s (Base without a
// record).
func (s *Snapshot) ActiveVersion() clusterversion.Version {
	if s == nil || s.ClusterVersion == nil {
		return clusterversion.Base
	}
	return clusterversion.Active(s.ClusterVersion.GetActive())
}
