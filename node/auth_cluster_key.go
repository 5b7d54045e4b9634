package node

import (
	"errors"
	"path/filepath"

	"github.com/partitadb/partita/auth"
)

// The cluster key (auth.ClusterKey) of a node: made by the first node,
// handed to joining nodes, kept in the data directory.

// clusterKeyPath is the cluster key's file in the data directory.
func (n *Node) clusterKeyPath() string { return filepath.Join(n.cfg.DataDir, auth.ClusterKeyFile) }

// loadClusterKey reads the cluster key from the data directory; nil
// without error when the node has none yet.
func (n *Node) loadClusterKey() error {
	k, err := auth.LoadClusterKeyFile(n.clusterKeyPath())
	if errors.Is(err, auth.ErrNoClusterKey) {
		return nil
	}
	if err != nil {
		return err
	}
	n.holdClusterKey(k)
	return nil
}

// holdClusterKey makes k the node's cluster key, and the source of its
// peer credential and of the cluster id its peer calls name.
func (n *Node) holdClusterKey(k *auth.ClusterKey) {
	n.auth.clusterKey = k
	n.peerSecret.set(k)
	n.cluster.set(k)
}

// setClusterKey stores raw as the node's cluster key (a joining node's,
// handed over by a member), or generates one when raw is nil.
func (n *Node) setClusterKey(raw []byte) error {
	var k *auth.ClusterKey
	var err error
	if raw == nil {
		k, err = auth.GenerateClusterKey()
	} else {
		k, err = auth.NewClusterKey(raw)
	}
	if err != nil {
		return err
	}
	if err := auth.WriteClusterKeyFile(n.clusterKeyPath(), k); err != nil {
		return err
	}
	n.holdClusterKey(k)
	return nil
}

// takeClusterKey keeps the cluster key a member handed over at join (nil
// from a member that holds none: this node then makes one of its own,
// which cannot open the keys other nodes sealed).
func (n *Node) takeClusterKey(raw []byte) error {
	if raw == nil || n.auth.clusterKey != nil {
		return nil
	}
	return n.setClusterKey(raw)
}

// clusterKeyBytes is the key handed to joining nodes (nil: none).
func (n *Node) clusterKeyBytes() []byte {
	if n.auth.clusterKey == nil {
		return nil
	}
	return n.auth.clusterKey.Bytes()
}

// ensureClusterKey gives a node that has none a new cluster key when it
// is the one to make it: the first node of a cluster, a single node, or
// (a cluster made before cluster keys existed) a node that joins no one.
// Another member without one logs how to give it the cluster's: it must
// not make its own, which no other node could open.
func (n *Node) ensureClusterKey(mayGenerate bool) error {
	if n.auth.clusterKey != nil {
		return nil
	}
	if err := n.loadClusterKey(); err != nil || n.auth.clusterKey != nil {
		return err
	}
	if !mayGenerate {
		n.log.Error("this node has no cluster key, so it can neither open nor create the directory's access keys, nor check its peers' credentials: copy "+
			auth.ClusterKeyFile+" from the data directory of the first node into this node's (mode 0600) and restart it",
			"file", n.clusterKeyPath())
		return nil
	}
	n.log.Info("generated the cluster key", "file", n.clusterKeyPath())
	return n.setClusterKey(nil)
}
