package cluster

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/partitadb/partita/cluster/clusterpb"
	"github.com/partitadb/partita/partitapb"
)

// Forwarded writes and reads travel on one long-lived ProposeStream per
// peer address instead of a unary Propose or Get each: a unary call opens
// an HTTP/2 stream, sends and parses headers and trailers and runs the
// peer check on the receiving side, for every call; on the stream a call
// costs one message each way. Calls are told apart by a sequence number
// and answered in the order they complete. A peer that does not serve
// the stream (an older binary) is sent unary calls for unaryRetryAfter,
// and so is one whose stream serves no reads (unaryReads).

// unaryRetryAfter is how long a peer that answered Unimplemented to
// ProposeStream is sent unary Propose calls before the stream is tried
// again (it may have been upgraded).
const unaryRetryAfter = time.Minute

// sendQueue bounds the requests waiting for a stream's sender. A caller
// finding it full waits for room, or for its context.
const sendQueue = 1024

// errStreamUnsupported: the peer does not serve ProposeStream; the call
// never reached it.
var errStreamUnsupported = errors.New("cluster: the peer serves no ProposeStream")

// proposeReply is the answer to one call on a stream.
type proposeReply struct {
	res *partitapb.Result
	// got answers a read (its error in it).
	got *clusterpb.GetResponse
	err error
	// remote: err is the peer's answer, not the stream's failure; it
	// reaches the caller as it is, as a unary Propose's would.
	remote bool
}

// proposeStream is the stream of forwarded writes to one address. Its
// sender and receiver goroutines are owned by the Client, which ends
// them on Close or when the stream breaks.
type proposeStream struct {
	addr   string
	cancel context.CancelFunc
	queue  chan *clusterpb.ProposeStreamRequest
	done   chan struct{} // closed once the stream is broken or closed

	mu    sync.Mutex
	next  uint64
	calls map[uint64]chan proposeReply
	err   error // why the stream ended; set before done closes
}

// proposeViaStream sends cmd to addr's stream (opened if needed) and
// waits for its answer or for ctx. errStreamUnsupported: send it unary.
func (c *Client) proposeViaStream(ctx context.Context, addr, where string, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	r, err := c.callViaStream(ctx, addr, where, "Propose", &clusterpb.ProposeStreamRequest{Partition: partition, Command: cmd, Trace: traceParent(ctx)})
	if err != nil {
		return nil, err
	}
	return r.res, r.err
}

// getViaStream sends the read req to addr's stream and waits for its
// answer or for ctx. errStreamUnsupported: send it unary (the peer serves
// no stream, or an older one that serves no reads on it).
func (c *Client) getViaStream(ctx context.Context, addr, where string, req *clusterpb.GetRequest) (*clusterpb.GetResponse, error) {
	c.mu.Lock()
	until, ok := c.unaryReads[addr]
	if ok && !time.Now().Before(until) {
		delete(c.unaryReads, addr)
		ok = false
	}
	c.mu.Unlock()
	if ok {
		return nil, errStreamUnsupported
	}
	r, err := c.callViaStream(ctx, addr, where, "Get", &clusterpb.ProposeStreamRequest{Partition: req.GetPartition(), Get: req})
	if err != nil {
		return nil, err
	}
	if r.got == nil {
		// An older binary took the read for a command without one, and
		// refused it: nothing was read or written.
		c.mu.Lock()
		c.unaryReads[addr] = time.Now().Add(unaryRetryAfter)
		c.mu.Unlock()
		return nil, errStreamUnsupported
	}
	return r.got, nil
}

// callViaStream sends req to addr's stream (opened if needed), with the
// call's seq and its deadline, and waits for its reply or for ctx. The
// error is the stream's failure (as a call op to where would fail), or
// errStreamUnsupported; the peer's own answer is in the reply.
func (c *Client) callViaStream(ctx context.Context, addr, where, op string, req *clusterpb.ProposeStreamRequest) (proposeReply, error) {
	ps, err := c.proposeStreamTo(ctx, addr)
	if err != nil {
		if errors.Is(err, errStreamUnsupported) {
			return proposeReply{}, err
		}
		return proposeReply{}, callError(ctx, op, where, err)
	}
	seq, reply := ps.register()
	if reply == nil {
		return proposeReply{}, ps.failure(ctx, op, where)
	}
	req.Seq = seq
	if d, ok := ctx.Deadline(); ok {
		req.TimeoutNanos = max(int64(time.Until(d)), 1)
	}
	select {
	case ps.queue <- req:
	case <-ps.done:
	case <-ctx.Done():
		ps.forget(seq)
		return proposeReply{}, callError(ctx, op, where, ctx.Err())
	}
	select {
	case r := <-reply:
		if errors.Is(r.err, errStreamUnsupported) {
			return proposeReply{}, r.err
		}
		if r.err != nil && !r.remote {
			return proposeReply{}, callError(ctx, op, where, r.err)
		}
		return r, nil
	case <-ctx.Done():
		if ps.forget(seq) {
			// Tell the peer: it stops waiting for the call's outcome.
			// Best effort: a full queue means a stuck stream.
			select {
			case ps.queue <- &clusterpb.ProposeStreamRequest{Seq: seq, Cancel: true}:
			default:
			}
		}
		return proposeReply{}, callError(ctx, op, where, ctx.Err())
	}
}

// proposeStreamTo returns the open stream to addr, opening one if there
// is none or the last one broke; errStreamUnsupported for a peer known
// not to serve it. Opening waits for the connection, within ctx, and
// not under c.mu.
func (c *Client) proposeStreamTo(ctx context.Context, addr string) (*proposeStream, error) {
	c.mu.Lock()
	ps, err := c.openStreamLocked(addr)
	var conn *grpc.ClientConn
	if ps == nil && err == nil {
		conn, err = c.connLocked(addr)
	}
	c.mu.Unlock()
	if ps != nil || err != nil {
		return ps, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	stopOpening := context.AfterFunc(ctx, cancel)
	stream, err := clusterpb.NewClusterClient(conn).ProposeStream(sctx)
	if !stopOpening() {
		cancel()
		return nil, ctx.Err()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, err := c.openStreamLocked(addr); ps != nil || err != nil || c.closed {
		cancel() // another call opened one meanwhile, or the client closed
		if c.closed {
			err = ErrClosed
		}
		return ps, err
	}
	ps = &proposeStream{
		addr: addr, cancel: cancel,
		queue: make(chan *clusterpb.ProposeStreamRequest, sendQueue),
		done:  make(chan struct{}),
		calls: map[uint64]chan proposeReply{},
	}
	c.streams[addr] = ps
	c.streamWG.Add(2)
	go func() {
		defer c.streamWG.Done()
		ps.send(stream)
	}()
	go func() {
		defer c.streamWG.Done()
		err := ps.receive(stream)
		if status.Code(err) == codes.Unimplemented {
			c.mu.Lock()
			c.unaryOnly[addr] = time.Now().Add(unaryRetryAfter)
			c.mu.Unlock()
			err = errStreamUnsupported
		}
		ps.end(err)
	}()
	return ps, nil
}

// openStreamLocked returns addr's stream if it is open, or
// errStreamUnsupported; nil, nil: open one. The caller holds c.mu.
func (c *Client) openStreamLocked(addr string) (*proposeStream, error) {
	if until, ok := c.unaryOnly[addr]; ok {
		if time.Now().Before(until) {
			return nil, errStreamUnsupported
		}
		delete(c.unaryOnly, addr)
	}
	if ps := c.streams[addr]; ps != nil {
		select {
		case <-ps.done:
		default:
			return ps, nil
		}
	}
	return nil, nil
}

// register returns a new call's seq and the channel of its reply; a nil
// channel if the stream has ended.
func (ps *proposeStream) register() (uint64, chan proposeReply) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.calls == nil {
		return 0, nil
	}
	ps.next++
	ch := make(chan proposeReply, 1)
	ps.calls[ps.next] = ch
	return ps.next, ch
}

// forget drops the call seq; false if it was answered meanwhile.
func (ps *proposeStream) forget(seq uint64) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	_, ok := ps.calls[seq]
	delete(ps.calls, seq)
	return ok
}

// failure is the error of a call op made on an ended stream.
func (ps *proposeStream) failure(ctx context.Context, op, where string) error {
	<-ps.done
	if errors.Is(ps.err, errStreamUnsupported) {
		return ps.err
	}
	return callError(ctx, op, where, ps.err)
}

// send writes the queued requests to the stream until it ends.
func (ps *proposeStream) send(stream clusterpb.Cluster_ProposeStreamClient) {
	for {
		select {
		case <-ps.done:
			return
		case req := <-ps.queue:
			if err := stream.Send(req); err != nil {
				// The receiver learns why from Recv, and ends the stream.
				ps.cancel()
				return
			}
		}
	}
}

// receive hands each response to its call until the stream breaks, and
// returns why.
func (ps *proposeStream) receive(stream clusterpb.Cluster_ProposeStreamClient) error {
	for {
		resp, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = status.Error(codes.Unavailable, "the peer closed the stream")
			}
			return err
		}
		ps.mu.Lock()
		ch := ps.calls[resp.GetSeq()]
		delete(ps.calls, resp.GetSeq())
		ps.mu.Unlock()
		if ch == nil {
			continue // abandoned by its caller
		}
		if resp.GetGot() != nil {
			ch <- proposeReply{got: resp.GetGot()}
		} else if err := decodeError(resp.GetError()); err != nil {
			ch <- proposeReply{err: err, remote: true}
		} else {
			ch <- proposeReply{res: resp.GetResult()}
		}
	}
}

// end fails every call waiting on the stream with err and stops its
// goroutines.
func (ps *proposeStream) end(err error) {
	ps.cancel()
	ps.mu.Lock()
	calls := ps.calls
	ps.calls = nil
	ps.err = err
	ps.mu.Unlock()
	close(ps.done)
	for _, ch := range calls {
		ch <- proposeReply{err: err}
	}
}

// ProposeStream serves a peer's forwarded writes and reads: each request
// is proposed (or read) on its own goroutine, as a unary Propose (or Get)
// would be, and answered when done. A cancel request abandons its call.
func (s *service) ProposeStream(stream clusterpb.Cluster_ProposeStreamServer) error {
	ctx, cancelAll := context.WithCancel(stream.Context())
	var (
		wg      sync.WaitGroup
		sendMu  sync.Mutex
		mu      sync.Mutex
		cancels = map[uint64]context.CancelFunc{}
	)
	defer func() {
		cancelAll()
		wg.Wait() // no Send after the handler returns
	}()
	for {
		req, err := stream.Recv()
		if err != nil {
			return nil
		}
		if req.GetCancel() {
			mu.Lock()
			if cancel := cancels[req.GetSeq()]; cancel != nil {
				cancel()
			}
			mu.Unlock()
			continue
		}
		// One child of the stream's context per request, cancelled once
		// it is answered: a child left uncancelled stays in the stream's
		// context until the stream ends.
		var (
			cctx   context.Context
			cancel context.CancelFunc
		)
		if t := req.GetTimeoutNanos(); t > 0 {
			cctx, cancel = context.WithTimeout(ctx, time.Duration(t))
		} else {
			cctx, cancel = context.WithCancel(ctx)
		}
		mu.Lock()
		cancels[req.GetSeq()] = cancel
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := &clusterpb.ProposeStreamResponse{Seq: req.GetSeq()}
			if g := req.GetGet(); g != nil {
				resp.Got, _ = s.Get(cctx, g) // its error is in it
			} else if res, err := s.propose(withTraceParent(cctx, req.GetTrace()), req.GetPartition(), req.GetCommand()); err != nil {
				resp.Error = encodeError(err)
			} else {
				resp.Result = res
			}
			mu.Lock()
			delete(cancels, req.GetSeq())
			mu.Unlock()
			cancel()
			sendMu.Lock()
			defer sendMu.Unlock()
			// A failed Send means the stream broke: Recv says so.
			_ = stream.Send(resp)
		}()
	}
}
