package cluster

import (
	"context"

	"github.com/partitadb/partita/topology/topologypb"
)

// KeyHolder hands the cluster key (the key that seals access keys'
// secrets at rest) to the nodes that join: a Local that also implements
// it sends ClusterKey in every JoinResponse (see WithClusterKey); one that
// does not sends none.
type KeyHolder interface {
	ClusterKey() []byte
}

// WithClusterKey returns l, handing key to joining nodes: pass it to
// Register.
func WithClusterKey(l Local, key func() []byte) Local {
	return localWithKey{Local: l, key: key}
}

type localWithKey struct {
	Local
	key func() []byte
}

func (l localWithKey) ClusterKey() []byte { return l.key() }

// ReceiveTopology keeps serving the topology reports of a wrapped Local
// that takes them.
func (l localWithKey) ReceiveTopology(ctx context.Context, s *topologypb.TopologySnapshot) error {
	r, ok := l.Local.(TopologyReceiver)
	if !ok {
		return ErrNoTopologyReceiver
	}
	return r.ReceiveTopology(ctx, s)
}
