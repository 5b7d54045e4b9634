package transport

import (
	"context"
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
// the peer ends the stream or the transport closes. The batches are
// received and handled on one goroutine (a hand-off between a receiving
// goroutine and the handler's was one more wake-up on every raft message's
// path); the handler's own goroutine only waits for it to end, or for the
// transport to close, which ends the stream and so the receiving.
func (s *raftService) RaftMessages(stream transportpb.Raft_RaftMessagesServer) error {
	if !s.t.beginIncoming() {
		return errShuttingDown
	}
	defer s.t.incoming.Done()
	ended := make(chan error, 1)
	go func() { ended <- s.handleBatches(stream) }()
	select {
	case err := <-ended:
		if err == io.EOF {
			return stream.SendAndClose(&transportpb.Empty{})
		}
		return err
	case <-s.t.soft.Done():
		return errShuttingDown
	}
}

// Introduce learns the caller's address and answers with this node's
// own and where it reaches the others (see GRPC.Introduce).
func (s *raftService) Introduce(_ context.Context, in *transportpb.Introduction) (*transportpb.Introduction, error) {
	if !s.t.beginIncoming() {
		return nil, errShuttingDown
	}
	defer s.t.incoming.Done()
	if in.GetFrom() == 0 || in.GetFromAddr() == "" {
		return nil, status.Error(codes.InvalidArgument, "transport: an introduction needs a node id and an address")
	}
	s.t.learn(in.GetFrom(), in.GetFromAddr())
	return &transportpb.Introduction{From: s.t.cfg.NodeID, FromAddr: s.t.cfg.Advertise,
		Addrs: s.t.elsewhere(in.GetAddrs(), in.GetFrom())}, nil
}

// handleBatches receives the stream's batches and hands them to the
// handler until Recv fails (io.EOF: the peer ended the stream) or the
// transport closes. A batch is handled only as an admitted incoming call,
// so none is handled once Close has waited for them.
func (s *raftService) handleBatches(stream transportpb.Raft_RaftMessagesServer) error {
	for first := true; ; first = false {
		b, err := stream.Recv()
		if err != nil {
			return err
		}
		if first {
			s.t.learn(b.GetFrom(), b.GetFromAddr())
		}
		msgs := s.decode(b)
		if len(msgs) == 0 {
			continue
		}
		if !s.t.beginIncoming() {
			return errShuttingDown
		}
		s.h.HandleRaft(msgs)
		s.t.incoming.Done()
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
