package route

import (
	"context"
	"errors"
	"time"

	"github.com/partitadb/partita/directory"
)

// Config lists a Sender's dependencies and its one retry policy.
type Config struct {
	// Self is this node's id (0: the Sender runs outside any node, as the
	// test harness does, and reaches every node through Remote).
	Self uint64
	// Local is this node's store (nil: none; every request is remote).
	Local Local
	// Remote reaches the other nodes (nil: a single node; every request
	// goes to Local).
	Remote Remote
	// Directory holds the replicas of each partition and the leader hints
	// the Sender records (required).
	Directory *directory.Cache
	// Replicas lists the nodes to try for a partition with no usable hint
	// (default: Directory.Replicas).
	Replicas func(partition uint64) []uint64
	// Pick chooses which of n replicas to try first when nothing better
	// is known (default: the first, which campaigns at bootstrap).
	Pick func(n int) int
	// MaxHops bounds the hints and replicas one attempt follows.
	MaxHops int
	// HopTimeout bounds one call to another node, so that a node that
	// accepts connections but does not answer costs one hop (0: no bound).
	// A proposal cut short this way may still apply; retries carry the
	// same command id.
	HopTimeout time.Duration
	// Backoff is the first pause between attempts; it doubles up to
	// MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// RequestTimeout bounds a request whose context has no deadline,
	// retries included (0: no bound).
	RequestTimeout time.Duration
	// Wait pauses between attempts (default: Sleep); tests may step it.
	Wait func(ctx context.Context, d time.Duration) error
}

// DefaultConfig returns the policy of a node's Sender; Directory and
// Local or Remote remain to be set.
func DefaultConfig() Config {
	return Config{
		MaxHops:        3,
		HopTimeout:     3 * time.Second,
		Backoff:        2 * time.Millisecond,
		MaxBackoff:     100 * time.Millisecond,
		RequestTimeout: 10 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	if c.Replicas == nil && c.Directory != nil {
		c.Replicas = c.Directory.Replicas
	}
	if c.Pick == nil {
		c.Pick = func(int) int { return 0 }
	}
	if c.Wait == nil {
		c.Wait = Sleep
	}
	return c
}

// Validate reports a missing dependency or an impossible setting.
func (c Config) Validate() error {
	switch {
	case c.Directory == nil:
		return errors.New("route: Config.Directory is required")
	case c.Local == nil && c.Remote == nil:
		return errors.New("route: Config needs Local, Remote or both")
	case c.Local != nil && c.Self == 0:
		return errors.New("route: Config.Self is required with Local")
	case c.MaxHops < 1:
		return errors.New("route: MaxHops must be at least 1")
	case c.Backoff <= 0 || c.MaxBackoff < c.Backoff:
		return errors.New("route: want 0 < Backoff <= MaxBackoff")
	case c.HopTimeout < 0 || c.RequestTimeout < 0:
		return errors.New("route: timeouts must not be negative")
	}
	return nil
}
