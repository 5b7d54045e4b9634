package transport

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
)

// Config configures a GRPC transport.
type Config struct {
	// NodeID is this node's id, sent with every stream so receivers can
	// tell peers apart in their logs.
	NodeID uint64
	// Resolve returns the peer address (host:port) of a node. It is called
	// on every (re)connection, so a node that moved is found again. An
	// address a node's own stream announced (see Advertise) overrides it
	// until Resolve's answer for that node changes.
	Resolve func(nodeID uint64) (addr string, err error)
	// Advertise is this node's peer address as others reach it, sent with
	// every stream; empty sends none.
	Advertise string
	// Unreachable, if set, is called from the peer's sending goroutine each
	// time a node cannot be reached or its stream breaks (the store reports
	// it to raft with ReportUnreachable). It must not block.
	Unreachable func(nodeID uint64)
	// Logger receives the transport's logs.
	Logger *slog.Logger
	// Registerer receives the transport's metrics; nil registers none.
	Registerer prometheus.Registerer

	// QueueSize bounds the messages waiting to be sent to one node; Send
	// drops what does not fit.
	QueueSize int
	// MaxBatchBytes bounds the marshalled size of one batch of messages
	// (a single larger message still goes alone).
	MaxBatchBytes int
	// DialTimeout bounds a connection attempt.
	DialTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait between reconnection
	// attempts to a node; it doubles after each failure.
	BackoffMin, BackoffMax time.Duration
	// Keepalive is the interval of HTTP/2 pings on idle connections, to
	// find dead peers; 0 disables them. Receivers must permit it (see
	// ServerOptions).
	Keepalive time.Duration
	// CloseGrace bounds how long Close waits for streams to end cleanly
	// before cancelling them.
	CloseGrace time.Duration
	// PeerIdle is how long the sender to a node waits with nothing to
	// send before it stops and frees its queue (a removed or replaced
	// node is never sent to again); the next message starts a new one.
	// 0: never.
	PeerIdle time.Duration

	// SnapshotChunkBytes is the target size of a snapshot chunk's pairs.
	SnapshotChunkBytes int
	// SnapshotRate limits the bytes per second of snapshot data this node
	// sends, over all its snapshots; 0 means unlimited.
	SnapshotRate int64

	// DialOptions are added to the transport's own (for example TLS
	// credentials, which replace the default insecure ones).
	DialOptions []grpc.DialOption
}

// DefaultConfig returns a transport with 4096-message queues, 1 MiB
// snapshot chunks and no snapshot rate limit. NodeID and Resolve remain
// to be set.
func DefaultConfig() Config {
	return Config{
		Logger:             slog.New(slog.DiscardHandler),
		QueueSize:          4096,
		MaxBatchBytes:      4 << 20,
		DialTimeout:        3 * time.Second,
		BackoffMin:         50 * time.Millisecond,
		BackoffMax:         3 * time.Second,
		Keepalive:          10 * time.Second,
		CloseGrace:         2 * time.Second,
		PeerIdle:           10 * time.Minute,
		SnapshotChunkBytes: 1 << 20,
	}
}

// Validate rejects missing dependencies and impossible settings.
func (c Config) Validate() error {
	switch {
	case c.NodeID == 0:
		return errors.New("transport: NodeID must be non-zero")
	case c.Resolve == nil:
		return errors.New("transport: Resolve is required")
	case c.Logger == nil:
		return errors.New("transport: Logger is required")
	case c.QueueSize < 1 || c.MaxBatchBytes < 1 || c.SnapshotChunkBytes < 1:
		return errors.New("transport: QueueSize, MaxBatchBytes and SnapshotChunkBytes must be positive")
	case c.DialTimeout <= 0 || c.BackoffMin <= 0 || c.CloseGrace <= 0:
		return errors.New("transport: DialTimeout, BackoffMin and CloseGrace must be positive")
	case c.BackoffMax < c.BackoffMin:
		return errors.New("transport: BackoffMax must be at least BackoffMin")
	case c.Keepalive < 0 || c.SnapshotRate < 0:
		return errors.New("transport: Keepalive and SnapshotRate must not be negative")
	}
	return nil
}
