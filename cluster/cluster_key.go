package cluster

import (
	"context"

	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology/topologypb"
)

// KeyHolder hands the cluster key (the key that seals access keys'
// secrets at rest) to the nodes that join: a Local that also implements
// it sends ClusterKey in every JoinResponse (see WithClusterKey); one that
// does not sends none.
type KeyHolder interface {
	ClusterKey() []byte
}

// JoinAdmitter decides who may join: a Local that also implements it is
// asked before every Join, with the request's join token ("" without
// one); an error (wrapping ErrJoinRefused for a refusal) is the Join's.
type JoinAdmitter interface {
	AdmitJoin(ctx context.Context, n *partitapb.Node, token string) error
}

// WithClusterKey returns l, handing key to joining nodes: pass it to
// Register.
func WithClusterKey(l Local, key func() []byte) Local {
	return WithJoinPolicy(l, key, nil)
}

// WithJoinPolicy returns l, admitting joining nodes with admit (nil:
// every node) and handing them key.
func WithJoinPolicy(l Local, key func() []byte, admit func(context.Context, *partitapb.Node, string) error) Local {
	return localWithKey{Local: l, key: key, admit: admit}
}

type localWithKey struct {
	Local
	key   func() []byte
	admit func(context.Context, *partitapb.Node, string) error
}

func (l localWithKey) ClusterKey() []byte { return l.key() }

func (l localWithKey) AdmitJoin(ctx context.Context, n *partitapb.Node, token string) error {
	if l.admit == nil {
		return nil
	}
	return l.admit(ctx, n, token)
}

// ReceiveTopology keeps serving the topology reports of a wrapped Local
// that takes them.
func (l localWithKey) ReceiveTopology(ctx context.Context, s *topologypb.TopologySnapshot) error {
	r, ok := l.Local.(TopologyReceiver)
	if !ok {
		return ErrNoTopologyReceiver
	}
	return r.ReceiveTopology(ctx, s)
}
