package cluster

import (
	"errors"
	"log/slog"
	"time"

	"google.golang.org/grpc"
)

// Config configures a Client.
type Config struct {
	// Resolve returns the peer address (host:port) of a node. It is
	// called on every call, so a node that moved is found again; it
	// should be cheap (a lookup in the cached directory).
	Resolve func(nodeID uint64) (addr string, err error)
	// DialOptions are added to the client's own (for example TLS
	// credentials, which replace the default insecure ones).
	DialOptions []grpc.DialOption
	// Logger receives the client's logs.
	Logger *slog.Logger
	// CallTimeout bounds a call whose context has no deadline.
	CallTimeout time.Duration
	// BackoffMax bounds the wait between reconnection attempts to an
	// address while it is unreachable (calls meanwhile fail fast with
	// ErrUnreachable).
	BackoffMax time.Duration
	// Keepalive is the interval of HTTP/2 pings on idle connections, to
	// find dead peers; 0 disables them. Servers must permit it
	// (transport.ServerOptions does).
	Keepalive time.Duration
	// JoinHops bounds the NotLeaderError hints Join follows.
	//
	// NewClient takes zero Logger, CallTimeout, BackoffMax and JoinHops
	// from DefaultConfig.
	JoinHops int
}

// DefaultConfig returns a client with 5s calls, reconnections at least
// once a second and 10s keepalive pings. Resolve remains to be set.
func DefaultConfig() Config {
	return Config{
		Logger:      slog.New(slog.DiscardHandler),
		CallTimeout: 5 * time.Second,
		BackoffMax:  time.Second,
		Keepalive:   10 * time.Second,
		JoinHops:    4,
	}
}

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = d.CallTimeout
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = d.BackoffMax
	}
	if c.JoinHops == 0 {
		c.JoinHops = d.JoinHops
	}
	return c
}

// Validate rejects missing dependencies and impossible settings.
func (c Config) Validate() error {
	switch {
	case c.Resolve == nil:
		return errors.New("cluster: Resolve is required")
	case c.Logger == nil:
		return errors.New("cluster: Logger is required")
	case c.CallTimeout <= 0 || c.BackoffMax <= 0:
		return errors.New("cluster: CallTimeout and BackoffMax must be positive")
	case c.Keepalive < 0 || c.JoinHops < 0:
		return errors.New("cluster: Keepalive and JoinHops must not be negative")
	}
	return nil
}
