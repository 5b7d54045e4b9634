package daemon

import (
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config lists the manager's dependencies. Zero fields take the defaults
// of DefaultConfig; a nil Rand is seeded from Clock.
type Config struct {
	// Clock drives schedules, backoff and timeouts. Default: RealClock().
	Clock Clock
	// Rand draws the jitter of periodic jobs. The manager serialises its
	// use; do not share it with other goroutines. Default: a PCG seeded
	// from Clock.Now().
	Rand *rand.Rand
	// Logger receives the jobs' logs, with a "job" attribute. Default: a
	// logger that discards everything.
	Logger *slog.Logger
	// Registerer receives the manager's metrics. Default: a private
	// registry, so the metrics are kept but not exported. Never the global
	// registry.
	Registerer prometheus.Registerer
	// Tracer starts one span per cycle. Default: a noop tracer.
	Tracer trace.Tracer
	// TimelineSize is how many recent cycles each job remembers. 0 keeps
	// the default of 64; negative keeps none.
	TimelineSize int
	// OnCycle, if set, is called by the job's goroutine after each cycle
	// is recorded (metrics, timeline, counters) and the job's status shows
	// its next wait (idle, backoff or paused, and NextRun), before the job
	// waits. It must not block for long.
	OnCycle func(CycleRecord)
}

// DefaultTimelineSize is the number of cycle records kept per job.
const DefaultTimelineSize = 64

// DefaultConfig returns a Config with every default filled in: the real
// clock, a PCG seeded from it, a discarding logger, a private registry, a
// noop tracer.
func DefaultConfig() Config {
	clk := RealClock()
	return Config{
		Clock:        clk,
		Rand:         seededRand(clk),
		Logger:       slog.New(slog.DiscardHandler),
		Registerer:   prometheus.NewRegistry(),
		Tracer:       noop.NewTracerProvider().Tracer("github.com/partitadb/partita/daemon"),
		TimelineSize: DefaultTimelineSize,
	}
}

// seededRand returns a PCG seeded from clk's current time.
func seededRand(clk Clock) *rand.Rand {
	seed := uint64(clk.Now().UnixNano())
	return rand.New(rand.NewPCG(seed, seed>>32|1))
}

// Validate checks a Config after defaults are applied.
func (c Config) Validate() error {
	if c.Clock == nil || c.Logger == nil || c.Registerer == nil || c.Tracer == nil || c.Rand == nil {
		return fmt.Errorf("%w: config: Clock, Rand, Logger, Registerer and Tracer are required", ErrInvalidSpec)
	}
	return nil
}

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Clock == nil {
		c.Clock = d.Clock
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.Registerer == nil {
		c.Registerer = d.Registerer
	}
	if c.Tracer == nil {
		c.Tracer = d.Tracer
	}
	switch {
	case c.TimelineSize == 0:
		c.TimelineSize = d.TimelineSize
	case c.TimelineSize < 0:
		c.TimelineSize = 0
	}
	if c.Rand == nil {
		c.Rand = seededRand(c.Clock)
	}
	return c
}
