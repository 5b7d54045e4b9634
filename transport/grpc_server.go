package transport

import (
	"io"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/partitadb/partita/transport/transportpb"
)

// raftService is the receiving side of a GRPC transport.
type raftService struct {
	transportpb.UnimplementedRaftServer
	t *GRPC
	h Handler
}

var errShuttingDown = status.Error(codes.Unavailable, "transport: node shutting down")

// RaftMessages hands each batch of a peer's stream to the handler, until
// the peer ends the stream or the transport closes.
func (s *raftService) RaftMessages(stream transportpb.Raft_RaftMessagesServer) error {
	if !s.t.beginIncoming() {
		return errShuttingDown
	}
	defer s.t.incoming.Done()
	done := make(chan struct{})
	defer close(done)
	batches := receive(stream.Recv, done)
	for first := true; ; first = false {
		var r received[transportpb.RaftBatch]
		select {
		case r = <-batches:
		case <-s.t.soft.Done():
			return errShuttingDown
		}
		if r.err == io.EOF {
			return stream.SendAndClose(&transportpb.Empty{})
		}
		if r.err != nil {
			return r.err
		}
		if first {
			s.t.learn(r.msg.GetFrom(), r.msg.GetFromAddr())
		}
		if msgs := s.decode(r.msg); len(msgs) > 0 {
			s.h.HandleRaft(msgs)
		}
	}
}

// decode unmarshals a batch, skipping (and logging) malformed messages.
func (s *raftService) decode(b *transportpb.RaftBatch) []Message {
	msgs := make([]Message, 0, len(b.Messages))
	size := 0
	for _, rm := range b.Messages {
		size += len(rm.Raft)
		var m raftpb.Message
		if err := m.Unmarshal(rm.Raft); err != nil {
			s.t.cfg.Logger.Warn("dropping malformed raft message", "from", b.From, "partition", rm.Partition, "err", err)
			continue
		}
		msgs = append(msgs, Message{Partition: rm.Partition, Raft: m})
	}
	s.t.metrics.messagesReceived.Add(float64(len(msgs)))
	s.t.metrics.bytesReceived.Add(float64(size))
	return msgs
}

// received is the outcome of one Recv on a stream.
type received[T any] struct {
	msg *T
	err error
}

// receive calls recv in a goroutine and delivers its outcomes, so that a
// server handler can stop waiting when the transport closes. The
// goroutine ends after the first error, or once done is closed (the
// handler returned, which also ends recv's stream).
func receive[T any](recv func() (*T, error), done <-chan struct{}) <-chan received[T] {
	out := make(chan received[T])
	go func() {
		for {
			m, err := recv()
			select {
			case out <- received[T]{m, err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}
