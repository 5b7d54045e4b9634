package node

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/cluster"
)

// Every peer call names the cluster of the node that makes it, and a
// node refuses calls from another cluster's nodes, whatever the peer
// security (none, the cluster key's credential, mutual TLS with a CA two
// clusters may share). A node's peer address is a host and port, which
// another cluster's node may hold next (a port reused after a restart, a
// machine given to another cluster); a member still sending there must
// not reach it. Raft would step the stranger's messages: a heartbeat
// from another cluster's leader, promising a commit index beyond the
// local log, crashes the replica, and a stranger's address learned from
// its stream sends this cluster's traffic the other way.
//
// The cluster's id is derived from the cluster key, which the first node
// makes and every member holds (auth_cluster_key.go), so it needs no
// record of its own and is the same on every member. It is no secret,
// and reveals nothing of the key or of the peer credential. A node that
// has no key yet (a node joining) sends no id and checks none, and a call
// without one (a joining node, a binary older than the check) is taken:
// peer authentication, not this check, keeps strangers out.

// clusterMetadataKey names the caller's cluster id in a call's metadata.
const clusterMetadataKey = "partita-cluster"

// clusterIdentity is the node's cluster id, once it holds the cluster
// key, and the count of calls it refused for another cluster's id.
type clusterIdentity struct {
	id      atomic.Pointer[string]
	refused prometheus.Counter
	warned  atomic.Int64 // unix nanos of the last warning
}

func newClusterIdentity(reg prometheus.Registerer) *clusterIdentity {
	c := &clusterIdentity{refused: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "partita_node_peer_calls_other_cluster_total",
		Help: "Peer calls refused because the caller belongs to another cluster: a node of this cluster sends to an address another cluster's node holds now.",
	})}
	reg.MustRegister(c.refused)
	return c
}

// clusterID derives a cluster's id from its key.
func clusterID(k *auth.ClusterKey) string {
	mac := hmac.New(sha256.New, k.Bytes())
	mac.Write([]byte("partita cluster id v1"))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

func (c *clusterIdentity) set(k *auth.ClusterKey) {
	id := clusterID(k)
	c.id.Store(&id)
}

// get returns the cluster id ("" before the node holds the key).
func (c *clusterIdentity) get() string {
	if p := c.id.Load(); p != nil {
		return *p
	}
	return ""
}

// warnEvery spaces the warnings about refused calls: a stranger keeps
// sending several raft messages a second.
const warnEvery = time.Minute

// checkCluster refuses a call that names another cluster, or another
// node of this one (cluster.TargetNodeHeader).
func (n *Node) checkCluster(ctx context.Context, method string) error {
	if to := cluster.TargetNode(ctx); to != 0 && n.id != 0 && to != n.id {
		return status.Errorf(codes.FailedPrecondition, "node: a call for node %d reached node %d: the address the caller has for node %d is this node's now", to, n.id, to)
	}
	c := n.cluster
	own := c.get()
	if own == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	got := md.Get(clusterMetadataKey)
	if len(got) == 0 || got[0] == own {
		return nil
	}
	c.refused.Inc()
	now := time.Now().UnixNano()
	if last := c.warned.Load(); now-last >= int64(warnEvery) && c.warned.CompareAndSwap(last, now) {
		n.log.Warn("refusing peer calls from a node of another cluster: a node of that cluster still sends to an address this node holds now",
			"caller_cluster", got[0], "cluster", own, "method", method)
	}
	return status.Errorf(codes.FailedPrecondition, "node: this node belongs to cluster %s, not to the caller's cluster %s", own, got[0])
}

// clusterServerOptions check the caller's cluster on every peer call.
func (n *Node) clusterServerOptions() []grpc.ServerOption {
	return checkingCalls(n.checkCluster)
}

// checkingCalls runs check before every unary and streaming call, which
// it refuses with check's error.
func checkingCalls(check func(ctx context.Context, method string) error) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := check(ctx, info.FullMethod); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := check(ss.Context(), info.FullMethod); err != nil {
				return err
			}
			return h(srv, ss)
		}),
	}
}

// clusterCredentials add the node's cluster id to every peer call, from
// the moment it holds the cluster key.
type clusterCredentials struct{ c *clusterIdentity }

func (c clusterCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if id := c.c.get(); id != "" {
		return map[string]string{clusterMetadataKey: id}, nil
	}
	return nil, nil
}

func (clusterCredentials) RequireTransportSecurity() bool { return false }
