package node

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/cluster/clusterpb"
)

// Peers of a closed cluster without certificates: every node-to-node call
// (raft messages, snapshots, the Cluster service) carries a credential
// derived from the cluster key, which only members hold (a node receives
// it when it is admitted to join). A node refuses a call without it, but
// Join itself, which a joining node makes before it holds the key. With
// mutual TLS (--certs-dir), the handshake authenticates peers instead.
//
// AuthConfig.PeerAuth PeerAuthAccept is the switch of a rolling upgrade
// from a binary that sends no credential: the node sends its own but
// takes calls without one, counting them and warning once per peer host.

// The modes of AuthConfig.PeerAuth ("" is PeerAuthRequire).
const (
	// PeerAuthRequire refuses a peer call without the credential.
	PeerAuthRequire = "require"
	// PeerAuthAccept takes it, for the time of an upgrade.
	PeerAuthAccept = "accept"
)

// maxWarnedPeers bounds the peer hosts remembered as warned about.
const maxWarnedPeers = 1024

// peerAuthUpgrade is the state of PeerAuthAccept: the calls taken without
// a credential, and the hosts already logged.
type peerAuthUpgrade struct {
	calls  prometheus.Counter
	mu     sync.Mutex
	warned map[string]bool
}

func newPeerAuthUpgrade(reg prometheus.Registerer) *peerAuthUpgrade {
	u := &peerAuthUpgrade{warned: make(map[string]bool), calls: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "partita_node_peer_calls_without_credential_total",
		Help: "Peer calls taken without the cluster's credential (--peer-auth=accept, during an upgrade).",
	})}
	reg.MustRegister(u.calls)
	return u
}

// firstFrom counts a call from host and reports whether it is the first
// one from there.
func (u *peerAuthUpgrade) firstFrom(host string) bool {
	u.calls.Inc()
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.warned[host] || len(u.warned) >= maxWarnedPeers {
		return false
	}
	u.warned[host] = true
	return true
}

// peerMetadataKey names the credential in a call's gRPC metadata.
const peerMetadataKey = "partita-peer"

// peerSecret is the credential of the node's cluster key (nil: it has
// none yet).
type peerSecret struct{ s atomic.Pointer[string] }

// set derives the credential from k.
func (p *peerSecret) set(k *auth.ClusterKey) {
	mac := hmac.New(sha256.New, k.Bytes())
	mac.Write([]byte("partita peer credential v1"))
	s := hex.EncodeToString(mac.Sum(nil))
	p.s.Store(&s)
}

// peerCallsAuthenticated reports whether this node's peer calls carry
// and need the credential: a closed cluster without mutual TLS.
func (n *Node) peerCallsAuthenticated() bool {
	return n.cfg.Auth.Enabled && (n.sec == nil || n.sec.peerServer == nil)
}

// peerCredentials adds the credential to every call of the node's peer
// clients, from the moment the node holds the cluster key.
type peerCredentials struct{ p *peerSecret }

func (c peerCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	if s := c.p.s.Load(); s != nil {
		return map[string]string{peerMetadataKey: *s}, nil
	}
	return nil, nil
}

func (peerCredentials) RequireTransportSecurity() bool { return false }

// checkPeer refuses a call without this node's credential, unless it is a
// Join or the node holds no cluster key (it cannot tell; it logged so).
func (n *Node) checkPeer(ctx context.Context, method string) error {
	want := n.peerSecret.s.Load()
	if want == nil || method == clusterpb.Cluster_Join_FullMethodName {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	for _, got := range md.Get(peerMetadataKey) {
		if subtle.ConstantTimeCompare([]byte(got), []byte(*want)) == 1 {
			return nil
		}
	}
	if u := n.peerUpgrade; u != nil {
		host := "unknown"
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			host = p.Addr.String()
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
		}
		if u.firstFrom(host) {
			n.log.Warn("took a peer call without this cluster's credential (--peer-auth=accept): "+
				"upgrade the node at this host, then restart every node with --peer-auth=require",
				"peer_host", host, "method", method)
		}
		return nil
	}
	return status.Error(codes.Unauthenticated, "node: a peer call without this cluster's credential: only members may call, and a node becomes one by joining")
}

// peerAuthServerOptions check the credential of every call.
func (n *Node) peerAuthServerOptions() []grpc.ServerOption {
	if !n.peerCallsAuthenticated() {
		return nil
	}
	if n.cfg.Auth.PeerAuth == PeerAuthAccept {
		n.peerUpgrade = newPeerAuthUpgrade(n.reg)
		n.log.Warn("peer calls without this cluster's credential are taken (--peer-auth=accept): " +
			"for the time of an upgrade from a binary that sends none; each such peer host is logged once")
	}
	return checkingCalls(n.checkPeer)
}

// peerAuthDialOptions send the credential on every call.
func (n *Node) peerAuthDialOptions() []grpc.DialOption {
	if !n.peerCallsAuthenticated() || n.cfg.Auth.sendNoPeerCredential {
		return nil
	}
	return []grpc.DialOption{grpc.WithPerRPCCredentials(peerCredentials{&n.peerSecret})}
}
