package transport

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/partitadb/partita/transport/transportpb"
)

// peer sends the messages queued for one node over a long-lived stream,
// reconnecting with backoff when it breaks. Only its goroutine (run)
// reads the queue.
type peer struct {
	t     *GRPC
	id    uint64
	queue chan Message
	// idle times a wait with nothing queued (Config.PeerIdle); retired
	// is set once the peer left the transport's map for idling.
	idle    *time.Timer
	retired bool
}

func newPeer(t *GRPC, id uint64) *peer {
	return &peer{t: t, id: id, queue: make(chan Message, t.cfg.QueueSize)}
}

// run connects and streams until the transport closes. A failed attempt
// drops what is queued (raft retransmits), reports the node unreachable
// and waits before the next one; the wait doubles up to BackoffMax and
// resets once a stream carried a batch.
func (p *peer) run() {
	defer p.t.senders.Done()
	backoff := p.t.cfg.BackoffMin
	for {
		first, ok := p.take()
		if !ok {
			break
		}
		delivered, err := p.stream(first)
		if p.t.soft.Err() != nil || p.retired {
			break
		}
		if delivered {
			backoff = p.t.cfg.BackoffMin
		}
		p.unreachable(err)
		if !p.sleep(backoff) {
			break
		}
		backoff = min(2*backoff, p.t.cfg.BackoffMax)
	}
	if p.idle != nil {
		p.idle.Stop()
	}
	p.t.metrics.dropped(dropClosed, p.drain())
}

// take waits for the next queued message; false once the transport
// closes, or once the peer retired after waiting Config.PeerIdle with
// nothing to send.
func (p *peer) take() (Message, bool) {
	select {
	case m := <-p.queue:
		return m, true
	default:
	}
	var idle <-chan time.Time
	if d := p.t.cfg.PeerIdle; d > 0 {
		if p.idle == nil {
			p.idle = time.NewTimer(d)
		} else {
			p.idle.Reset(d)
		}
		idle = p.idle.C
	}
	for {
		select {
		case m := <-p.queue:
			return m, true
		case <-p.t.soft.Done():
			return Message{}, false
		case <-idle:
			if p.t.retire(p) {
				p.retired = true
				return Message{}, false
			}
			p.idle.Reset(p.t.cfg.PeerIdle)
		}
	}
}

// stream opens a stream to the node and sends first and every message
// queued after it, until the stream breaks or the transport closes. It
// reports whether any batch went out, and why the stream ended.
func (p *peer) stream(first Message) (delivered bool, err error) {
	conn, err := p.t.dial(p.t.soft, p.id)
	if err != nil {
		p.t.metrics.dropped(dropUnreachable, 1)
		return false, err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(p.t.hard)
	defer cancel()
	s, err := transportpb.NewRaftClient(conn).RaftMessages(ctx)
	if err != nil {
		p.t.metrics.dropped(dropUnreachable, 1)
		return false, err
	}
	p.t.metrics.connects.Inc()
	p.t.cfg.Logger.Debug("raft stream open", "peer", p.id)
	pending := &first
	for {
		b, n, ok := p.batch(pending)
		pending = nil
		if !ok {
			_, err := s.CloseAndRecv() // ends cleanly, or when hard ends
			if err != nil && !errors.Is(err, io.EOF) {
				p.t.cfg.Logger.Debug("closing raft stream", "peer", p.id, "err", err)
			}
			return delivered, nil
		}
		if len(b.Messages) == 0 {
			continue
		}
		if err := s.Send(b); err != nil {
			p.t.metrics.dropped(dropStream, len(b.Messages))
			if errors.Is(err, io.EOF) {
				_, err = s.CloseAndRecv() // the receiver's reason
			}
			return delivered, err
		}
		delivered = true
		p.t.metrics.messagesSent.Add(float64(len(b.Messages)))
		p.t.metrics.bytesSent.Add(float64(n))
		p.t.metrics.batchesSent.Inc()
	}
}

// batch builds the next batch: pending (if any) or the next queued
// message, then whatever else is queued, up to MaxBatchBytes. It returns
// the batch, its size, and false once the transport closes.
func (p *peer) batch(pending *Message) (*transportpb.RaftBatch, int, bool) {
	if pending == nil {
		m, ok := p.take()
		if !ok {
			return nil, 0, false
		}
		pending = &m
	}
	b := &transportpb.RaftBatch{From: p.t.cfg.NodeID, FromAddr: p.t.cfg.Advertise}
	size := p.add(b, *pending)
	for size < p.t.cfg.MaxBatchBytes {
		select {
		case m := <-p.queue:
			size += p.add(b, m)
			continue
		default:
		}
		break
	}
	return b, size, true
}

// add marshals m into b and returns its size.
func (p *peer) add(b *transportpb.RaftBatch, m Message) int {
	raw, err := m.Raft.Marshal()
	if err != nil {
		p.t.cfg.Logger.Error("cannot marshal raft message", "peer", p.id, "partition", m.Partition, "err", err)
		p.t.metrics.dropped(dropEncode, 1)
		return 0
	}
	b.Messages = append(b.Messages, &transportpb.RaftMessage{Partition: m.Partition, Raft: raw})
	return len(raw) + 16
}

// unreachable drops the queue and reports the node unreachable after a
// failed connection or a broken stream.
func (p *peer) unreachable(err error) {
	dropped := p.drain()
	p.t.metrics.dropped(dropUnreachable, dropped)
	p.t.metrics.unreachable.Inc()
	p.t.cfg.Logger.Info("peer unreachable", "peer", p.id, "dropped", dropped, "err", err)
	if p.t.cfg.Unreachable != nil {
		p.t.cfg.Unreachable(p.id)
	}
}

// drain empties the queue and returns how many messages it held.
func (p *peer) drain() int {
	for n := 0; ; n++ {
		select {
		case <-p.queue:
		default:
			return n
		}
	}
}

// sleep waits d; false if the transport closes first.
func (p *peer) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.t.soft.Done():
		return false
	}
}
