package lease

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"time"

	"github.com/partitadb/partita/partitapb"
)

// Elector takes part in the election of the active Doctor for one node.
// Run drives it; IsActive, Epoch and Status may be called from any
// goroutine.
type Elector struct {
	cfg Config
	m   *metrics

	mu       sync.Mutex
	epoch    uint64    // the epoch held, 0 while standby
	deadline time.Time // active until, on the local monotonic clock
	seen     *partitapb.DoctorLease
}

// Status is what an Elector knows of the lease.
type Status struct {
	// Active is whether this node's Doctor is the active one.
	Active bool
	// Epoch is the epoch this node holds while Active.
	Epoch uint64
	// ActiveUntil is when this node stops counting itself active unless
	// it renews first (zero while standby).
	ActiveUntil time.Time
	// Lease is the lease record as the last request returned it (nil
	// before any answer).
	Lease *partitapb.DoctorLease
}

// New returns an Elector, standby until Run wins it the lease.
func New(cfg Config) (*Elector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Elector{cfg: cfg, m: m}, nil
}

// IsActive reports whether this node's Doctor is the active one now.
func (e *Elector) IsActive() bool { return e.Status().Active }

// Epoch returns the epoch this node holds while active, 0 otherwise. The
// Doctor stamps it on the directory commands it issues.
func (e *Elector) Epoch() uint64 { return e.Status().Epoch }

// Status returns what the Elector knows of the lease.
func (e *Elector) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Status{Lease: e.seen}
	if e.epoch != 0 && e.cfg.Now().Before(e.deadline) {
		s.Active, s.Epoch, s.ActiveUntil = true, e.epoch, e.deadline
	}
	return s
}

// Run asks for the lease every RenewInterval until ctx ends, and steps
// down when RenewDeadline passes without a renewal. It does not release
// the lease on return: call Release for a clean handover.
func (e *Elector) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.expire()
		if e.cfg.Eligible == nil || e.cfg.Eligible() {
			e.request(ctx)
		} else {
			e.yield(ctx)
		}
		t.Reset(e.wait())
	}
}

// wait is the time to the next request: RenewInterval, or less when the
// active deadline comes first (to step down on time).
func (e *Elector) wait() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.cfg.RenewInterval
	if e.epoch != 0 {
		d = min(d, e.deadline.Sub(e.cfg.Now()))
	}
	return max(d, time.Millisecond)
}

// request asks for (or renews) the lease once, bounded by the time left
// before this node must step down.
func (e *Elector) request(ctx context.Context) {
	e.mu.Lock()
	epoch := e.epoch
	e.mu.Unlock()
	start := e.cfg.Now()
	ctx, cancel := context.WithTimeout(ctx, e.cfg.RenewInterval)
	defer cancel()
	cmd := newCommand(start)
	cmd.Op = &partitapb.Command_AcquireDoctorLease{AcquireDoctorLease: &partitapb.AcquireDoctorLease{
		Node: e.cfg.Node, Epoch: epoch, DurationNanos: int64(e.cfg.Duration)}}
	res, err := e.cfg.Propose(ctx, cmd)
	if err != nil {
		e.cfg.Logger.Debug("doctor lease request failed", "epoch", epoch, "err", err)
		return
	}
	e.observe(res.GetDoctorLease())
	if res.GetError() != nil {
		e.stepDown("the lease is held by another node", epoch)
		return
	}
	if res.GetDoctorLease() == nil {
		// A retry answered by its at-most-once record: the first attempt
		// applied, its answer was lost, and the record keeps no lease. The
		// epoch granted is unknown here; the next request learns it, and
		// the renew deadline runs on meanwhile.
		e.cfg.Logger.Debug("doctor lease request answered without the lease", "epoch", epoch)
		return
	}
	e.hold(res.GetDoctorLease().GetEpoch(), start.Add(e.cfg.RenewDeadline))
}

// yield releases the lease this node holds, if any: it may not hold it.
func (e *Elector) yield(ctx context.Context) {
	e.mu.Lock()
	holding := e.epoch != 0
	e.mu.Unlock()
	if !holding {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.RenewInterval)
	defer cancel()
	if err := e.Release(ctx); err != nil && !errors.Is(err, ErrNotHeld) {
		e.cfg.Logger.Warn("releasing the doctor lease this node may not hold failed; it expires", "err", err)
	}
}

// newCommand returns a command made at now, with a fresh id.
func newCommand(now time.Time) *partitapb.Command {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &partitapb.Command{Id: id, UnixNanos: now.UnixNano()}
}

// hold records that this node holds epoch until deadline, announcing a
// new epoch (after the loss of a previous one, if any).
func (e *Elector) hold(epoch uint64, deadline time.Time) {
	e.mu.Lock()
	prev := e.epoch
	e.epoch, e.deadline = epoch, deadline
	e.mu.Unlock()
	if prev == epoch {
		return
	}
	if prev != 0 {
		e.announce(false, prev, "the lease was granted anew")
	}
	e.m.active.Set(1)
	e.m.epoch.Set(float64(epoch))
	e.announce(true, epoch, "acquired the doctor lease")
}

// expire steps down once the active deadline passed without a renewal.
func (e *Elector) expire() {
	e.mu.Lock()
	epoch, late := e.epoch, e.epoch != 0 && !e.cfg.Now().Before(e.deadline)
	e.mu.Unlock()
	if late {
		e.stepDown("no renewal within the renew deadline", epoch)
	}
}

// stepDown makes this node standby, if it was active at epoch.
func (e *Elector) stepDown(why string, epoch uint64) {
	e.mu.Lock()
	if epoch == 0 || e.epoch != epoch {
		e.mu.Unlock()
		return
	}
	e.epoch, e.deadline = 0, time.Time{}
	e.mu.Unlock()
	e.m.active.Set(0)
	e.announce(false, epoch, why)
}

func (e *Elector) observe(l *partitapb.DoctorLease) {
	if l == nil {
		return
	}
	e.mu.Lock()
	e.seen = l
	e.mu.Unlock()
	if l.GetHolder() != e.cfg.Node {
		e.m.epoch.Set(float64(l.GetEpoch()))
	}
}

func (e *Elector) announce(active bool, epoch uint64, why string) {
	if active {
		e.cfg.Logger.Info("doctor active", "node", e.cfg.Node, "epoch", epoch)
	} else {
		e.cfg.Logger.Warn("doctor standby", "node", e.cfg.Node, "epoch", epoch, "reason", why)
	}
	if e.cfg.OnChange != nil {
		e.cfg.OnChange(active, epoch)
	}
}

// ErrNotHeld is returned by Release when this node holds no lease.
var ErrNotHeld = errors.New("lease: this node holds no doctor lease")

// Release steps down and frees the lease this node holds, so that a
// standby takes over at once. Call it after Run returned.
func (e *Elector) Release(ctx context.Context) error {
	e.mu.Lock()
	epoch := e.epoch
	e.mu.Unlock()
	if epoch == 0 {
		return ErrNotHeld
	}
	e.stepDown("released", epoch)
	cmd := newCommand(e.cfg.Now())
	cmd.Op = &partitapb.Command_ReleaseDoctorLease{ReleaseDoctorLease: &partitapb.ReleaseDoctorLease{
		Node: e.cfg.Node, Epoch: epoch}}
	res, err := e.cfg.Propose(ctx, cmd)
	if err != nil {
		return err
	}
	e.observe(res.GetDoctorLease())
	if res.GetError() != nil {
		return res.GetError()
	}
	return nil
}
