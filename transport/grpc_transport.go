package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/partitadb/partita/transport/transportpb"
)

// ErrClosed is returned by a GRPC transport that was closed.
var ErrClosed = errors.New("transport: closed")

// maxRecvMsgBytes is the largest gRPC message a receiver accepts: a batch
// of raft messages (one MsgApp may be large) or a snapshot chunk.
const maxRecvMsgBytes = 64 << 20

// The flow-control windows of peer connections, fixed: a window set by
// hand turns off gRPC's bandwidth-delay estimator, whose pings (one per
// burst of data received, each answered) doubled the frames, and the
// socket writes, of a lightly loaded connection. Raft's own flow control
// (MaxInflight, MaxSizePerMsg) bounds what a peer has in flight; these
// windows only need to stay out of its way.
const (
	streamWindowBytes = 4 << 20
	connWindowBytes   = 16 << 20
)

// WindowDialOptions are the dial options that match ServerOptions' flow
// control: every client connection between nodes uses them.
func WindowDialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithInitialWindowSize(streamWindowBytes),
		grpc.WithInitialConnWindowSize(connWindowBytes),
	}
}

// GRPC is the network transport between nodes. Its sending side keeps one
// long-lived stream per destination node, fed by a bounded queue that one
// goroutine per node drains in batches; its receiving side is a gRPC
// service (Register or Serve) that hands batches to a Handler and
// snapshots to a SnapshotHandler. It is safe for concurrent use.
type GRPC struct {
	cfg     Config
	metrics *metrics
	limiter *tokenBucket // paces snapshots (rate 0: not at all)

	// soft ends when Close starts: no new work, dials and waits give up.
	// hard ends CloseGrace later (or once everything stopped): streams
	// still open are cancelled.
	soft, hard             context.Context
	softCancel, hardCancel context.CancelFunc

	mu       sync.Mutex
	closed   bool
	peers    map[uint64]*peer
	learned  map[uint64]learnedAddr // addresses peers' streams announced
	servers  []*grpc.Server         // made by Serve; stopped by Close
	senders  sync.WaitGroup         // peer goroutines and SendSnapshot calls
	incoming sync.WaitGroup         // RPCs being served
}

var (
	_ Transport      = (*GRPC)(nil)
	_ SnapshotSender = (*GRPC)(nil)
)

// NewGRPC returns a transport configured by cfg. Register or Serve makes
// it receive; Close stops it.
func NewGRPC(cfg Config) (*GRPC, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := newMetrics()
	if err := m.register(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("transport: registering metrics: %w", err)
	}
	t := &GRPC{cfg: cfg, metrics: m, peers: make(map[uint64]*peer), learned: make(map[uint64]learnedAddr)}
	t.limiter = newTokenBucket(cfg.SnapshotRate, cfg.SnapshotChunkBytes, time.Now) // rate 0: unlimited
	t.soft, t.softCancel = context.WithCancel(context.Background())
	t.hard, t.hardCancel = context.WithCancel(context.Background())
	return t, nil
}

// Send implements Transport: it queues msgs for node to and returns at
// once. Messages that do not fit in the node's queue are dropped.
func (t *GRPC) Send(to uint64, msgs []Message) {
	p := t.peer(to)
	if p == nil {
		t.metrics.dropped(dropClosed, len(msgs))
		return
	}
	for i, m := range msgs {
		select {
		case p.queue <- m:
		default:
			t.metrics.dropped(dropQueueFull, len(msgs)-i)
			return
		}
	}
}

// peer returns the sender to node id, starting it on first use; nil once
// the transport is closed.
func (t *GRPC) peer(id uint64) *peer {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	p, ok := t.peers[id]
	if !ok {
		p = newPeer(t, id)
		t.peers[id] = p
		t.senders.Add(1)
		go p.run()
	}
	return p
}

// ServerOptions are the options a grpc.Server given to Register needs:
// large messages, fixed flow-control windows, and the keepalive pings of
// senders.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxRecvMsgSize(maxRecvMsgBytes),
		grpc.InitialWindowSize(streamWindowBytes),
		grpc.InitialConnWindowSize(connWindowBytes),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
	}
}

// Register serves the transport's receiving side on s, handing messages
// to h, and snapshots too if h is a SnapshotHandler. Make s with
// ServerOptions. Close ends the streams being served, so that s's
// GracefulStop can return afterwards.
func (t *GRPC) Register(s *grpc.Server, h Handler) {
	transportpb.RegisterRaftServer(s, &raftService{t: t, h: h})
}

// Serve accepts peer connections on lis until Close, serving h as Register
// does, on a server made with ServerOptions and opts (TLS credentials, for
// example). It returns nil after Close (ErrClosed if Close came first), or
// why it stopped serving.
func (t *GRPC) Serve(lis net.Listener, h Handler, opts ...grpc.ServerOption) error {
	s := grpc.NewServer(append(ServerOptions(), opts...)...)
	t.Register(s, h)
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		lis.Close()
		return ErrClosed
	}
	t.servers = append(t.servers, s)
	t.mu.Unlock()
	if err := s.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// Close stops the transport: queued messages are dropped, streams to
// peers are closed (cancelled if they do not end within CloseGrace),
// snapshots in flight fail, streams being served end, and servers made by
// Serve stop. It waits for every goroutine it started.
func (t *GRPC) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	servers := t.servers
	t.mu.Unlock()

	t.softCancel()
	if !waitTimeout(&t.senders, t.cfg.CloseGrace) {
		t.hardCancel()
		t.senders.Wait()
	}
	t.hardCancel()
	t.incoming.Wait()
	for _, s := range servers {
		stopServer(s, t.cfg.CloseGrace)
	}
	return nil
}

// beginIncoming admits an RPC to be served, unless the transport is
// closed; the caller calls t.incoming.Done when it returns.
func (t *GRPC) beginIncoming() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.incoming.Add(1)
	return true
}

// beginSending admits an outgoing snapshot, as beginIncoming does.
func (t *GRPC) beginSending() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.senders.Add(1)
	return true
}

// learnedAddr is the address a node's stream announced, and what Resolve
// answered for that node at the time.
type learnedAddr struct {
	addr, resolved string
}

// learn records the address node id's stream announced. Resolve may not
// know it yet: a node restarted on a new port is listed at its old one
// until its record is rewritten through the meta partition, whose quorum
// may need that very node to answer.
func (t *GRPC) learn(id uint64, addr string) {
	if addr == "" || id == t.cfg.NodeID {
		return
	}
	resolved, _ := t.cfg.Resolve(id)
	t.mu.Lock()
	defer t.mu.Unlock()
	if addr == resolved {
		delete(t.learned, id)
		return
	}
	if t.learned[id].addr != addr {
		t.cfg.Logger.Info("peer announced an address the directory does not list yet", "peer", id, "addr", addr, "listed", resolved)
	}
	t.learned[id] = learnedAddr{addr: addr, resolved: resolved}
}

// resolve returns node id's address: the one its stream announced, until
// Resolve's answer changes (the directory caught up, or moved on), and
// Resolve's otherwise.
func (t *GRPC) resolve(id uint64) (string, error) {
	addr, err := t.cfg.Resolve(id)
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.learned[id]; ok {
		if l.resolved == addr {
			return l.addr, nil
		}
		delete(t.learned, id)
	}
	return addr, err
}

// dial connects to node id's current address and waits, up to
// DialTimeout, for the connection to be ready.
func (t *GRPC) dial(ctx context.Context, id uint64) (*grpc.ClientConn, error) {
	addr, err := t.resolve(id)
	if err != nil {
		return nil, fmt.Errorf("transport: resolving node %d: %w", id, err)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsgBytes)),
	}
	opts = append(opts, WindowDialOptions()...)
	if t.cfg.Keepalive > 0 {
		opts = append(opts, grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time: t.cfg.Keepalive, Timeout: t.cfg.Keepalive, PermitWithoutStream: true,
		}))
	}
	conn, err := grpc.NewClient("passthrough:///"+addr, append(opts, t.cfg.DialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("transport: node %d at %s: %w", id, addr, err)
	}
	if err := waitReady(ctx, conn, t.cfg.DialTimeout); err != nil {
		conn.Close()
		return nil, fmt.Errorf("transport: connecting to node %d at %s: %w", id, addr, err)
	}
	return conn, nil
}

// waitReady starts conn connecting and waits until it is ready; it fails
// as soon as a connection attempt fails, leaving retries to the caller.
func waitReady(ctx context.Context, conn *grpc.ClientConn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn.Connect()
	for {
		switch s := conn.GetState(); s {
		case connectivity.Ready:
			return nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			return fmt.Errorf("connection %s", s)
		default:
			if !conn.WaitForStateChange(ctx, s) {
				return ctx.Err()
			}
		}
	}
}

// waitTimeout waits for wg up to d and reports whether it finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// stopServer stops s gracefully, or abruptly after grace.
func stopServer(s *grpc.Server, grace time.Duration) {
	done := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.Stop()
		<-done
	}
}

// SetSnapshotRate changes the bytes per second of snapshot data this node
// sends from the next chunk on (0: Config.SnapshotRate; negative:
// unlimited).
func (t *GRPC) SetSnapshotRate(rate int64) {
	switch {
	case rate == 0:
		rate = t.cfg.SnapshotRate
	case rate < 0:
		rate = 0
	}
	t.limiter.setRate(rate)
}
