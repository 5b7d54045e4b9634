package node

import (
	"context"
	"errors"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/doctor/lease"
	"github.com/partitadb/partita/doctor/operator"
)

// The Doctor runs embedded in every node with Config.Doctor set; the
// nodes elect the active one through the Doctor lease in the directory
// (package doctor/lease). The node owns the elector's goroutine: it starts
// with the node and stops on Close, which releases the lease so that a
// standby takes over at once. Directory commands the active Doctor issues
// go through doctorCluster, which stamps them with its epoch: after a
// takeover the meta partition refuses them (fencing).

// doctorElector is the node's elector and its goroutine.
type doctorElector struct {
	e      *lease.Elector
	cancel context.CancelFunc
	done   chan struct{}
}

// doctorReleaseTimeout bounds the release of the lease on Close.
const doctorReleaseTimeout = 2 * time.Second

// startDoctor starts this node's elector, if the node runs a Doctor.
func (n *Node) startDoctor() error {
	if !n.cfg.Doctor {
		return nil
	}
	cfg := lease.DefaultConfig(n.id)
	if d := n.cfg.DoctorLease; d > 0 {
		cfg.Duration, cfg.RenewInterval, cfg.RenewDeadline = d, d/3, d*2/3
	}
	cfg.Propose, cfg.Logger, cfg.Registerer = n.proposeMeta, n.log, n.reg
	e, err := lease.New(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &doctorElector{e: e, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		e.Run(ctx)
	}()
	n.doctor.Store(d)
	return nil
}

// stopDoctor stops the elector, once, and with release frees the lease
// this node holds.
func (n *Node) stopDoctor(ctx context.Context, release bool) {
	d := n.doctor.Swap(nil)
	if d == nil {
		return
	}
	d.cancel()
	<-d.done
	if !release {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, doctorReleaseTimeout)
	defer cancel()
	if err := d.e.Release(ctx); err != nil && !errors.Is(err, lease.ErrNotHeld) {
		n.log.Warn("releasing the doctor lease failed; a standby takes over when it expires", "err", err)
	}
}

// Doctor returns the node's Doctor elector, or nil when the node runs no
// Doctor (or has stopped).
func (n *Node) Doctor() *lease.Elector {
	if d := n.doctor.Load(); d != nil {
		return d.e
	}
	return nil
}

// doctorCluster returns the Doctor's way to act on the cluster while this
// node's Doctor is active: its directory commands carry the epoch it holds
// now. ok is false while it is not active.
func (n *Node) doctorCluster() (c operator.Cluster, ok bool) {
	e := n.Doctor()
	if e == nil {
		return nil, false
	}
	epoch := e.Epoch()
	if epoch == 0 {
		return nil, false
	}
	return ctl{n: n, epoch: epoch}, true
}

// DoctorStatus is the Doctor lease from a fresh directory and this node's
// role in it.
func (c ctl) DoctorStatus(ctx context.Context) (admin.DoctorStatus, error) {
	st := admin.DoctorStatus{Node: c.n.id, Role: admin.DoctorDisabled}
	if e := c.n.Doctor(); e != nil {
		st.Role = admin.DoctorStandby
		if e.IsActive() {
			st.Role = admin.DoctorActive
		}
	}
	l := c.Directory(ctx).DoctorLease
	st.Holder, st.Epoch = l.GetHolder(), l.GetEpoch()
	if l.GetHolder() != 0 {
		st.Expires, st.Acquired = time.Unix(0, l.GetExpiryUnixNanos()), time.Unix(0, l.GetAcquiredUnixNanos())
	}
	return st, nil
}
