package lease

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/partitapb"
)

// Config configures an Elector.
type Config struct {
	// Node is this node's id, the lease's holder while it is active.
	Node uint64
	// Duration is how long a grant or renewal holds the lease for.
	Duration time.Duration
	// RenewInterval is the period of the lease requests: renewals while
	// active, acquisitions while standby.
	RenewInterval time.Duration
	// RenewDeadline is how long after the start of its last successful
	// renewal the holder counts itself active. It must be shorter than
	// Duration, so that the holder steps down before its lease can expire
	// on another node's clock.
	RenewDeadline time.Duration
	// Propose proposes a command to the meta partition (through its
	// leader) and returns its result. The Elector sets the command's id
	// and time.
	Propose func(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error)
	// Now is the clock; its readings must carry Go's monotonic clock
	// (time.Now does) for RenewDeadline to be immune to clock jumps.
	Now func() time.Time
	// Eligible, if set, says whether this node may hold the lease now; a
	// node that may not asks for none and releases the one it holds (a
	// node being decommissioned leaves the Doctor to the nodes that stay:
	// once its record is gone, the others could not report to it).
	Eligible func() bool
	// OnChange, if set, is called from the Elector's goroutine each time it
	// becomes active (active, the new epoch) or stops being so (false, the
	// epoch it lost). It must not block for long.
	OnChange func(active bool, epoch uint64)
	// Logger receives the Elector's transitions.
	Logger *slog.Logger
	// Registerer, if set, gets the partita_doctor_active and
	// partita_doctor_epoch gauges.
	Registerer prometheus.Registerer
}

// DefaultDuration is the Doctor lease's default length: a standby takes
// over within a few seconds of the active Doctor's death.
const DefaultDuration = 6 * time.Second

// DefaultConfig returns a Config with the default timings for node; the
// caller sets Propose (and Registerer, OnChange).
func DefaultConfig(node uint64) Config {
	return Config{
		Node:          node,
		Duration:      DefaultDuration,
		RenewInterval: DefaultDuration / 3,
		RenewDeadline: DefaultDuration * 2 / 3,
		Now:           time.Now,
		Logger:        slog.New(slog.DiscardHandler),
	}
}

// Validate reports missing or contradictory settings.
func (c Config) Validate() error {
	switch {
	case c.Node == 0:
		return errors.New("lease: Node is required")
	case c.Propose == nil || c.Now == nil || c.Logger == nil:
		return errors.New("lease: Propose, Now and Logger are required")
	case c.RenewInterval <= 0 || c.RenewDeadline <= c.RenewInterval:
		return errors.New("lease: RenewInterval must be positive and shorter than RenewDeadline")
	case c.Duration <= c.RenewDeadline:
		return errors.New("lease: RenewDeadline must be shorter than Duration")
	}
	return nil
}
