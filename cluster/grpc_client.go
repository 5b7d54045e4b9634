package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/replica"
	"github.com/partitadb/partita/transport"
)

// Client calls the Cluster service of other nodes. It keeps one
// connection per address, made on first use; a node is resolved to its
// address on every call, and a node whose address changed gets a new
// connection (the old one is closed once no node uses it). A connection
// whose node restarted reconnects by itself. It is safe for concurrent
// use.
type Client struct {
	cfg Config

	mu         sync.Mutex
	closed     bool
	conns      map[string]*grpc.ClientConn // by address
	addrs      map[uint64]string           // each node's last address
	streams    map[string]*proposeStream   // forwarded writes and reads, by address
	unaryOnly  map[string]time.Time        // addresses serving no ProposeStream, until
	unaryReads map[string]time.Time        // addresses whose ProposeStream serves no reads, until
	streamWG   sync.WaitGroup              // the streams' goroutines
}

// NewClient returns a client configured by cfg (zero fields take their
// DefaultConfig values); Close releases its connections.
func NewClient(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, conns: map[string]*grpc.ClientConn{}, addrs: map[uint64]string{},
		streams: map[string]*proposeStream{}, unaryOnly: map[string]time.Time{}, unaryReads: map[string]time.Time{}}, nil
}

// Close closes every connection; calls in flight fail and later calls
// return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	var errs []error
	for addr, ps := range c.streams {
		ps.cancel()
		delete(c.streams, addr)
	}
	for addr, conn := range c.conns {
		errs = append(errs, conn.Close())
		delete(c.conns, addr)
	}
	c.mu.Unlock()
	c.streamWG.Wait()
	return errors.Join(errs...)
}

// stub returns a stub for node's current address, and a description of
// where it goes for errors.
func (c *Client) stub(node uint64) (clusterpb.ClusterClient, string, error) {
	stub, _, where, err := c.stubAddr(node)
	return stub, where, err
}

// stubAddr is stub, with node's address.
func (c *Client) stubAddr(node uint64) (clusterpb.ClusterClient, string, string, error) {
	addr, err := c.cfg.Resolve(node)
	if err != nil {
		return nil, "", "", fmt.Errorf("cluster: resolving node %d: %w", node, err)
	}
	where := fmt.Sprintf("node %d at %s", node, addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	old, known := c.addrs[node]
	c.addrs[node] = addr
	if known && old != addr {
		c.cfg.Logger.Info("node moved", "node", node, "from", old, "to", addr)
		c.releaseLocked(old)
	}
	conn, err := c.connLocked(addr)
	if err != nil {
		return nil, "", "", fmt.Errorf("cluster: %s: %w", where, err)
	}
	return clusterpb.NewClusterClient(conn), addr, where, nil
}

// stubAt returns a stub for addr.
func (c *Client) stubAt(addr string) (clusterpb.ClusterClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conn, err := c.connLocked(addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: %s: %w", addr, err)
	}
	return clusterpb.NewClusterClient(conn), nil
}

// connLocked returns the connection to addr, making it if there is none
// or it was closed. Making one does not wait for it to connect.
func (c *Client) connLocked(addr string) (*grpc.ClientConn, error) {
	if c.closed {
		return nil, ErrClosed
	}
	if conn := c.conns[addr]; conn != nil && conn.GetState() != connectivity.Shutdown {
		return conn, nil
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, append(c.dialOptions(), c.cfg.DialOptions...)...)
	if err != nil {
		return nil, err
	}
	c.cfg.Logger.Debug("new connection", "addr", addr)
	c.conns[addr] = conn
	return conn, nil
}

// Retain forgets every node not in nodes: its address, and the
// connection and propose stream to that address unless a node kept has
// it too. A node calls it with the directory's nodes at every update, so
// that a removed node's connection does not stay open for ever; a node
// forgotten by mistake is dialled again at its next call.
func (c *Client) Retain(nodes []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for node, addr := range c.addrs {
		if !slices.Contains(nodes, node) {
			delete(c.addrs, node)
			c.cfg.Logger.Debug("node forgotten", "node", node, "addr", addr)
			c.releaseLocked(addr)
		}
	}
}

// Addresses returns the addresses the client holds connections to, sorted.
func (c *Client) Addresses() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.conns))
}

// releaseLocked closes the connection to addr unless a node still has
// that address.
func (c *Client) releaseLocked(addr string) {
	for _, a := range c.addrs {
		if a == addr {
			return
		}
	}
	delete(c.unaryOnly, addr)
	delete(c.unaryReads, addr)
	if ps := c.streams[addr]; ps != nil {
		ps.cancel()
		delete(c.streams, addr)
	}
	if conn := c.conns[addr]; conn != nil {
		conn.Close()
		delete(c.conns, addr)
	}
}

func (c *Client) dialOptions() []grpc.DialOption {
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgBytes)),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  50 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   c.cfg.BackoffMax,
			},
			MinConnectTimeout: c.cfg.CallTimeout,
		}),
	}
	opts = append(opts, transport.WindowDialOptions()...)
	if c.cfg.Keepalive > 0 {
		opts = append(opts, grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time: c.cfg.Keepalive, Timeout: c.cfg.Keepalive, PermitWithoutStream: true,
		}))
	}
	return opts
}

// withTimeout bounds ctx by CallTimeout unless it has a deadline; the
// call carries ctx's Doctor epoch, if any, and the id of the node it is
// meant for (0: the caller knows only an address).
func (c *Client) withTimeout(ctx context.Context, node uint64) (context.Context, context.CancelFunc) {
	ctx = outgoingTarget(outgoingEpoch(ctx), node)
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.CallTimeout)
}

// Propose replicates cmd on partition through node, which must lead it.
// A forwarded command may reach the log after a retry of it does: Propose
// clears cmd.FirstAttempt (see Command.first_attempt).
func (c *Client) Propose(ctx context.Context, node, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	if cmd.GetFirstAttempt() {
		// Written only when set: an earlier attempt of cmd may still be
		// encoding it on its way out (a stream's send queue).
		cmd.FirstAttempt = false
	}
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, addr, where, err := c.stubAddr(node)
	if err != nil {
		return nil, err
	}
	res, err := c.proposeViaStream(ctx, addr, where, partition, cmd)
	if !errors.Is(err, errStreamUnsupported) {
		return res, err
	}
	resp, err := stub.Propose(ctx, &clusterpb.ProposeRequest{Partition: partition, Command: cmd, Trace: traceParent(ctx)})
	if err != nil {
		return nil, callError(ctx, "Propose", where, err)
	}
	if err := decodeError(resp.Error); err != nil {
		return nil, err
	}
	return resp.Result, nil
}

// Get returns the value under key in node's replica of partition (nil,
// nil when absent), after a read barrier when consistent.
func (c *Client) Get(ctx context.Context, node, partition uint64, key []byte, consistent bool) ([]byte, error) {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, addr, where, err := c.stubAddr(node)
	if err != nil {
		return nil, err
	}
	req := &clusterpb.GetRequest{Partition: partition, Key: key, Consistent: consistent, Trace: traceParent(ctx)}
	resp, err := c.getViaStream(ctx, addr, where, req)
	if errors.Is(err, errStreamUnsupported) {
		if resp, err = stub.Get(ctx, req); err != nil {
			err = callError(ctx, "Get", where, err)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := decodeError(resp.Error); err != nil {
		return nil, err
	}
	if !resp.Found {
		return nil, nil
	}
	if resp.Value == nil {
		return []byte{}, nil
	}
	return resp.Value, nil
}

// Walk reads a run of node's replica of req.Partition.
func (c *Client) Walk(ctx context.Context, node uint64, req WalkRequest) (WalkResult, error) {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return WalkResult{}, err
	}
	wire := walkRequestToWire(req)
	wire.Trace = traceParent(ctx)
	resp, err := stub.Walk(ctx, wire)
	if err != nil {
		return WalkResult{}, callError(ctx, "Walk", where, err)
	}
	if err := decodeError(resp.Error); err != nil {
		return WalkResult{}, err
	}
	return WalkResult{Keys: resp.Keys, Values: resp.Values, More: resp.More}, nil
}

func walkRequestToWire(req WalkRequest) *clusterpb.WalkRequest {
	return &clusterpb.WalkRequest{
		Partition:  req.Partition,
		Lo:         req.Lo,
		Hi:         req.Hi,
		Reverse:    req.Reverse,
		Consistent: req.Consistent,
		MaxItems:   int64(req.MaxItems),
		MaxBytes:   int64(req.MaxBytes),
	}
}

// Directory returns the directory as node serves it.
func (c *Client) Directory(ctx context.Context, node uint64) (*directory.Snapshot, error) {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return nil, err
	}
	return readDirectory(ctx, stub, where)
}

// DirectoryAt returns the directory as the node at addr serves it (for a
// node that knows no ids yet).
func (c *Client) DirectoryAt(ctx context.Context, addr string) (*directory.Snapshot, error) {
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	stub, err := c.stubAt(addr)
	if err != nil {
		return nil, err
	}
	return readDirectory(ctx, stub, addr)
}

func readDirectory(ctx context.Context, stub clusterpb.ClusterClient, where string) (*directory.Snapshot, error) {
	resp, err := stub.Directory(ctx, &clusterpb.DirectoryRequest{})
	if err != nil {
		return nil, callError(ctx, "Directory", where, err)
	}
	if err := decodeError(resp.Error); err != nil {
		return nil, err
	}
	return &directory.Snapshot{Tables: resp.Tables, Nodes: resp.Nodes, MetaReplicas: resp.MetaReplicas,
		DoctorLease: resp.DoctorLease, DoctorSettings: resp.DoctorSettings, Settings: resp.Settings, ClusterVersion: resp.ClusterVersion}, nil
}

// CreateReplica makes node host an empty replica of partition.
func (c *Client) CreateReplica(ctx context.Context, node, partition uint64) error {
	ctx, cancel := c.withTimeout(ctx, node)
	defer cancel()
	stub, where, err := c.stub(node)
	if err != nil {
		return err
	}
	resp, err := stub.CreateReplica(ctx, &clusterpb.CreateReplicaRequest{Partition: partition})
	if err != nil {
		return callError(ctx, "CreateReplica", where, err)
	}
	return decodeError(resp.Error)
}

// Join adds or updates n in the directory through the node at addr and
// returns n's record (with its id). A node that does not lead the meta
// partition answers with a *replica.NotLeaderError, whose hint Join
// follows (up to JoinHops times), resolving the hinted node with Resolve
// or, failing that, in the directory of the node that gave the hint.
func (c *Client) Join(ctx context.Context, addr string, n *partitapb.Node) (*partitapb.Node, error) {
	rec, _, err := c.JoinWithKey(ctx, addr, n)
	return rec, err
}

// JoinWithKey is Join, and also returns the cluster key the member that
// added n handed over (nil if it holds none; see KeyHolder).
func (c *Client) JoinWithKey(ctx context.Context, addr string, n *partitapb.Node) (*partitapb.Node, []byte, error) {
	return c.JoinWithToken(ctx, addr, n, "")
}

// JoinWithToken is JoinWithKey presenting a join token, which a closed
// cluster whose peers have no certificates asks of a new node (an
// ErrJoinRefused error without a valid one).
func (c *Client) JoinWithToken(ctx context.Context, addr string, n *partitapb.Node, token string) (*partitapb.Node, []byte, error) {
	ctx, cancel := c.withTimeout(ctx, 0)
	defer cancel()
	for hop := 0; ; hop++ {
		resp, err := c.joinAt(ctx, addr, n, token)
		var nl *replica.NotLeaderError
		if err == nil {
			return resp.Node, resp.ClusterKey, nil
		}
		if !errors.As(err, &nl) || nl.Leader == 0 || hop >= c.cfg.JoinHops {
			return nil, nil, err
		}
		next, rerr := c.resolveHint(ctx, addr, nl.Leader)
		if rerr != nil || next == addr {
			return nil, nil, err
		}
		c.cfg.Logger.Debug("join: following leader hint", "from", addr, "leader", nl.Leader, "to", next)
		addr = next
	}
}

func (c *Client) joinAt(ctx context.Context, addr string, n *partitapb.Node, token string) (*clusterpb.JoinResponse, error) {
	stub, err := c.stubAt(addr)
	if err != nil {
		return nil, err
	}
	resp, err := stub.Join(ctx, &clusterpb.JoinRequest{Node: n, JoinToken: token})
	if err != nil {
		return nil, callError(ctx, "Join", addr, err)
	}
	if err := decodeError(resp.Error); err != nil {
		return nil, err
	}
	return resp, nil
}

// resolveHint returns the address of node, from Resolve or else from the
// directory of the node at from.
func (c *Client) resolveHint(ctx context.Context, from string, node uint64) (string, error) {
	if addr, err := c.cfg.Resolve(node); err == nil && addr != "" {
		return addr, nil
	}
	d, err := c.DirectoryAt(ctx, from)
	if err != nil {
		return "", err
	}
	for _, n := range d.Nodes {
		if n.GetId() == node && n.GetPeerAddr() != "" {
			return n.GetPeerAddr(), nil
		}
	}
	return "", fmt.Errorf("cluster: node %d is not in the directory of %s", node, from)
}
