package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/partitadb/partita/transport/transportpb"
)

// ErrSnapshotRejected wraps the error of a receiver that failed to handle
// a snapshot; the receiver's message follows.
var ErrSnapshotRejected = errors.New("transport: snapshot rejected")

// kvOverhead approximates the framing of a pair in a chunk.
const kvOverhead = 8

// SendSnapshot implements SnapshotSender over a connection of its own (so
// the transfer does not hold up raft messages): a header chunk, then
// chunks of about SnapshotChunkBytes of pairs, paced by SnapshotRate. It
// returns once the receiver acknowledged, with the receiver's error
// wrapped in ErrSnapshotRejected, or with the first error sending.
func (t *GRPC) SendSnapshot(ctx context.Context, to uint64, s Snapshot) (err error) {
	if !t.beginSending() {
		return ErrClosed
	}
	defer t.senders.Done()
	defer func() { t.metrics.snapshotsSent.WithLabelValues(outcome(err)).Inc() }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(t.soft, cancel)()

	conn, err := t.dial(ctx, to)
	if err != nil {
		return err
	}
	defer conn.Close()
	stream, err := transportpb.NewRaftClient(conn).Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("transport: snapshot to node %d: %w", to, err)
	}
	if err := t.sendChunks(ctx, stream, s); err != nil && !errors.Is(err, io.EOF) {
		return t.snapshotError(to, s.Partition, err)
	}
	// Also after io.EOF: the receiver stopped reading, its ack says why.
	ack, err := stream.CloseAndRecv()
	if err != nil {
		return t.snapshotError(to, s.Partition, err)
	}
	if ack.Error != "" {
		return fmt.Errorf("%w by node %d: partition %d: %s", ErrSnapshotRejected, to, s.Partition, ack.Error)
	}
	return nil
}

func (t *GRPC) snapshotError(to, partition uint64, err error) error {
	if t.soft.Err() != nil {
		err = ErrClosed
	}
	return fmt.Errorf("transport: snapshot of partition %d to node %d: %w", partition, to, err)
}

// sendChunks streams s's header and pairs; it fails with s.Data's error if
// reading the snapshot fails.
func (t *GRPC) sendChunks(ctx context.Context, stream transportpb.Raft_SnapshotClient, s Snapshot) error {
	raw, err := s.Raft.Marshal()
	if err != nil {
		return err
	}
	header := &transportpb.SnapshotHeader{From: t.cfg.NodeID, Partition: s.Partition, Raft: raw}
	if err := t.sendChunk(ctx, stream, &transportpb.SnapshotChunk{Header: header}, 0); err != nil {
		return err
	}
	chunk, size := &transportpb.SnapshotChunk{}, 0
	for {
		kv, ok := s.Data.Next()
		if !ok {
			break
		}
		// Next may reuse its slices: the chunk keeps copies.
		chunk.Pairs = append(chunk.Pairs, &transportpb.KV{Key: bytes.Clone(kv.Key), Value: bytes.Clone(kv.Value)})
		size += len(kv.Key) + len(kv.Value) + kvOverhead
		if size >= t.cfg.SnapshotChunkBytes {
			if err := t.sendChunk(ctx, stream, chunk, size); err != nil {
				return err
			}
			chunk, size = &transportpb.SnapshotChunk{}, 0
		}
	}
	if err := s.Data.Err(); err != nil {
		return fmt.Errorf("reading snapshot: %w", err)
	}
	if len(chunk.Pairs) > 0 {
		return t.sendChunk(ctx, stream, chunk, size)
	}
	return nil
}

// sendChunk waits for the rate limit to allow size bytes, then sends c.
func (t *GRPC) sendChunk(ctx context.Context, stream transportpb.Raft_SnapshotClient, c *transportpb.SnapshotChunk, size int) error {
	if size > 0 {
		waited, err := t.limiter.wait(ctx, size)
		t.metrics.snapshotThrottled.Add(waited.Seconds())
		if err != nil {
			return err
		}
	}
	if err := stream.Send(c); err != nil {
		return err
	}
	t.metrics.snapshotChunksSent.Inc()
	var n int
	for _, kv := range c.Pairs {
		n += len(kv.Key) + len(kv.Value)
	}
	t.metrics.snapshotBytesSent.Add(float64(n))
	return nil
}

// Snapshot receives a snapshot stream and hands it to the handler, which
// reads the pairs as they arrive; the ack carries the handler's outcome.
func (s *raftService) Snapshot(stream transportpb.Raft_SnapshotServer) (err error) {
	sh, ok := s.h.(SnapshotHandler)
	if !ok {
		return status.Error(codes.Unimplemented, "transport: this node does not take snapshots")
	}
	if !s.t.beginIncoming() {
		return errShuttingDown
	}
	defer s.t.incoming.Done()
	done := make(chan struct{})
	defer close(done)
	r := &chunkReader{t: s.t, chunks: receive(stream.Recv, done)}
	snap, err := r.header()
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	herr := sh.HandleSnapshot(snap)
	if herr == nil && r.err != nil {
		herr = r.err // the handler ignored a broken stream
	}
	s.t.metrics.snapshotsReceived.WithLabelValues(outcome(herr)).Inc()
	if herr != nil {
		s.t.cfg.Logger.Warn("snapshot failed", "partition", snap.Partition, "from", r.from, "err", herr)
		switch {
		case errors.Is(r.err, ErrClosed):
			return errShuttingDown
		case r.err != nil && !errors.Is(r.err, errBadChunk):
			return r.err // the stream broke: nobody to ack
		}
		return stream.SendAndClose(&transportpb.SnapshotAck{Error: herr.Error()})
	}
	return stream.SendAndClose(&transportpb.SnapshotAck{})
}

var errBadChunk = errors.New("transport: malformed snapshot chunk")

// chunkReader is the SnapshotReader of a snapshot stream: it yields the
// pairs of each chunk as it arrives.
type chunkReader struct {
	t      *GRPC
	chunks <-chan received[transportpb.SnapshotChunk]
	from   uint64
	pairs  []*transportpb.KV
	err    error
	eof    bool
}

// header reads the stream's first chunk.
func (r *chunkReader) header() (Snapshot, error) {
	c, err := r.recv()
	if err != nil {
		return Snapshot{}, err
	}
	h := c.GetHeader()
	if h == nil || len(c.Pairs) > 0 {
		return Snapshot{}, fmt.Errorf("%w: the first chunk must be a header alone", errBadChunk)
	}
	var m raftpb.Message
	if err := m.Unmarshal(h.Raft); err != nil {
		return Snapshot{}, fmt.Errorf("%w: %w", errBadChunk, err)
	}
	r.from = h.From
	return Snapshot{Partition: h.Partition, Raft: m, Data: r}, nil
}

func (r *chunkReader) recv() (*transportpb.SnapshotChunk, error) {
	select {
	case c := <-r.chunks:
		return c.msg, c.err
	case <-r.t.soft.Done():
		return nil, ErrClosed
	}
}

// Next implements SnapshotReader.
func (r *chunkReader) Next() (KV, bool) {
	for len(r.pairs) == 0 {
		if r.err != nil || r.eof {
			return KV{}, false
		}
		c, err := r.recv()
		switch {
		case err == io.EOF:
			r.eof = true
		case err != nil:
			r.err = err
		case c.Header != nil:
			r.err = fmt.Errorf("%w: a second header", errBadChunk)
		default:
			r.pairs = c.Pairs
			var n int
			for _, kv := range c.Pairs {
				n += len(kv.Key) + len(kv.Value)
			}
			r.t.metrics.snapshotBytesReceived.Add(float64(n))
		}
	}
	kv := r.pairs[0]
	r.pairs = r.pairs[1:]
	return KV{Key: kv.Key, Value: kv.Value}, true
}

// Err implements SnapshotReader.
func (r *chunkReader) Err() error { return r.err }
