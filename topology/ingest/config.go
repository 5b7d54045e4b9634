package ingest

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures an Ingester.
type Config struct {
	// Interval is the nodes' snapshot interval, used for a node whose
	// snapshots do not say theirs (TopologySnapshot.interval_nanos).
	Interval time.Duration
	// SuspectAfter is the number of a node's intervals without a newer
	// snapshot after which the node is suspect.
	SuspectAfter int
	// DeadAfter is the age of a node's newest snapshot after which the
	// node is dead. It must exceed SuspectAfter intervals.
	DeadAfter time.Duration
	// Forget is the age after which a node with no newer snapshot leaves
	// the view (and the ingester's memory). At least DeadAfter.
	Forget time.Duration
	// MaxSkew is how far in the future (by Now) a snapshot may be taken;
	// beyond, it is skipped as from the future.
	MaxSkew time.Duration
	// MaxAge is how far in the past a snapshot may be taken; beyond, it is
	// skipped as from the past.
	MaxAge time.Duration
	// Window is the number of samples kept per node for rates and trends.
	Window int
	// Now is the ingester's clock.
	Now func() time.Time
	// Registerer receives the ingester's metrics (nil: none).
	Registerer prometheus.Registerer
	// Logger receives the ingester's logs.
	Logger *slog.Logger
}

// DefaultInterval is the nodes' default --topology-interval.
const DefaultInterval = 5 * time.Second

// DefaultConfig returns the configuration of a node's ingester.
func DefaultConfig() Config {
	return Config{
		Interval:     DefaultInterval,
		SuspectAfter: 2,
		DeadAfter:    30 * time.Second,
		Forget:       time.Hour,
		MaxSkew:      2 * time.Second,
		MaxAge:       time.Hour,
		Window:       60,
		Now:          time.Now,
		Logger:       slog.New(slog.DiscardHandler),
	}
}

// Validate reports missing or contradictory settings.
func (c Config) Validate() error {
	switch {
	case c.Interval <= 0:
		return errors.New("ingest: Interval must be positive")
	case c.SuspectAfter <= 0:
		return errors.New("ingest: SuspectAfter must be positive")
	case c.DeadAfter <= time.Duration(c.SuspectAfter)*c.Interval:
		return errors.New("ingest: DeadAfter must exceed SuspectAfter intervals")
	case c.Forget < c.DeadAfter:
		return errors.New("ingest: Forget must be at least DeadAfter")
	case c.MaxSkew < 0 || c.MaxAge <= 0:
		return errors.New("ingest: MaxSkew must not be negative and MaxAge must be positive")
	case c.Window < 2:
		return errors.New("ingest: Window must hold at least 2 samples")
	case c.Now == nil || c.Logger == nil:
		return errors.New("ingest: Now and Logger are required")
	}
	return nil
}
