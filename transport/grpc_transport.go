package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
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

	// nLearned is len(learned), read without mu: Resolve, on the path of
	// every forwarded request, takes no lock while nothing is learned.
	nLearned atomic.Int32
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

// retire removes idle peer p from the transport, unless something was
// queued for it meanwhile: the next Send to its node starts a new sender.
// A message queued on p by a Send that took it just before is lost, as
// when a queue is full (raft sends again).
func (t *GRPC) retire(p *peer) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.peers[p.id] != p || len(p.queue) > 0 {
		return false
	}
	delete(t.peers, p.id)
	t.cfg.Logger.Debug("raft sender idle: stopped", "peer", p.id)
	return true
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
	defer func() { t.nLearned.Store(int32(len(t.learned))) }()
	if addr == resolved {
		delete(t.learned, id)
		return
	}
	if t.learned[id].addr != addr {
		t.cfg.Logger.Info("peer announced an address the directory does not list yet", "peer", id, "addr", addr, "listed", resolved)
	}
	t.learned[id] = learnedAddr{addr: addr, resolved: resolved}
}

// Resolve returns node id's address: the one its stream announced, until
// Config.Resolve's answer changes (the directory caught up, or moved on),
// and Config.Resolve's otherwise. Other clients of the peers (the
// cluster service's) resolve through it too, so that they reach a node
// that moved as soon as the transport does.
func (t *GRPC) Resolve(id uint64) (string, error) {
	addr, err := t.cfg.Resolve(id)
	if t.nLearned.Load() == 0 {
		return addr, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.learned[id]; ok {
		if l.resolved == addr {
			return l.addr, nil
		}
		delete(t.learned, id)
		t.nLearned.Store(int32(len(t.learned)))
	}
	return addr, err
}

// dial connects to node id's current address and waits, up to
// DialTimeout, for the connection to be ready.
func (t *GRPC) dial(ctx context.Context, id uint64) (*grpc.ClientConn, error) {
	addr, err := t.Resolve(id)
	if err != nil {
		return nil, fmt.Errorf("transport: resolving node %d: %w", id, err)
	}
	conn, err := t.dialAddr(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("transport: node %d: %w", id, err)
	}
	return conn, nil
}

// dialAddr connects to addr and waits, up to DialTimeout, for the
// connection to be ready.
func (t *GRPC) dialAddr(ctx context.Context, addr string) (*grpc.ClientConn, error) {
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
		return nil, fmt.Errorf("at %s: %w", addr, err)
	}
	if err := waitReady(ctx, conn, t.cfg.DialTimeout); err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting at %s: %w", addr, err)
	}
	return conn, nil
}

// Introduce announces this node's address (Config.Advertise) to the node
// listening at addr, whose id the caller need not know, and learns that
// node's address from its answer (see Resolve). A node restarted on a new
// address reaches the others through the directory's addresses; but when
// they all moved, no listed address answers and no stream would ever
// start. Introducing itself to the addresses it was given to join makes
// the receivers answer it at the new one.
//
// known says where this node reaches the other nodes it knows of (its
// directory's addresses, or announced ones). The answer says where the
// receiver reaches those of them it reaches elsewhere, and the others
// that announced themselves to it; Introduce returns those addresses
// without learning them (they are the receiver's word, not their
// nodes'), for the caller to introduce itself there in turn.
func (t *GRPC) Introduce(ctx context.Context, addr string, known map[uint64]string) (elsewhere map[uint64]string, err error) {
	if t.cfg.Advertise == "" {
		return nil, errors.New("transport: no address to introduce (Config.Advertise is empty)")
	}
	if !t.beginSending() {
		return nil, ErrClosed
	}
	defer t.senders.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(t.soft, cancel)()
	conn, err := t.dialAddr(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("transport: introducing to %s: %w", addr, err)
	}
	defer conn.Close()
	in, err := transportpb.NewRaftClient(conn).Introduce(ctx,
		&transportpb.Introduction{From: t.cfg.NodeID, FromAddr: t.cfg.Advertise, Addrs: known})
	if err != nil {
		return nil, fmt.Errorf("transport: introducing to %s: %w", addr, err)
	}
	t.learn(in.GetFrom(), in.GetFromAddr())
	delete(in.Addrs, t.cfg.NodeID)
	delete(in.Addrs, in.GetFrom())
	return in.GetAddrs(), nil
}

// elsewhere returns where this node reaches the nodes of known that it
// reaches at another address, and the nodes outside known that announced
// themselves to it, none of them node except.
func (t *GRPC) elsewhere(known map[uint64]string, except uint64) map[uint64]string {
	out := map[uint64]string{}
	for id, addr := range known {
		if mine, err := t.Resolve(id); err == nil && mine != "" && mine != addr {
			out[id] = mine
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, l := range t.learned {
		if _, ok := known[id]; !ok {
			out[id] = l.addr
		}
	}
	delete(out, except)
	delete(out, t.cfg.NodeID)
	return out
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
