package fsm

import (
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The Doctor lease (directory.DoctorLeaseKey) makes one node's Doctor the
// active one. Time is the proposer's: the command's unix_nanos decides
// whether the lease expired, so every replica decides alike.

// applyAcquireDoctorLease grants, renews or refuses the lease to op.Node.
func applyAcquireDoctorLease(b *engine.Batch, now int64, op *partitapb.AcquireDoctorLease) (*partitapb.Result, error) {
	if op.GetNode() == 0 || op.GetDurationNanos() <= 0 {
		return reject(partitapb.Error_VALIDATION, "doctor lease: node and a positive duration are required"), nil
	}
	cur, err := directory.ReadDoctorLease(b)
	if err != nil {
		return nil, err
	}
	next, res := grantLease(cur, now, op)
	if res != nil {
		return res, nil
	}
	return writeLease(b, next)
}

// grantLease returns the lease after op at now, or the Result refusing it.
func grantLease(cur *partitapb.DoctorLease, now int64, op *partitapb.AcquireDoctorLease) (*partitapb.DoctorLease, *partitapb.Result) {
	expiry := now + op.GetDurationNanos()
	held := cur.GetHolder() != 0 && now < cur.GetExpiryUnixNanos()
	switch {
	case cur.GetHolder() == op.GetNode() && cur.GetEpoch() == op.GetEpoch():
		return &partitapb.DoctorLease{Holder: op.GetNode(), Epoch: cur.GetEpoch(), ExpiryUnixNanos: expiry,
			AcquiredUnixNanos: cur.GetAcquiredUnixNanos()}, nil
	case held && cur.GetHolder() != op.GetNode():
		res := reject(partitapb.Error_LEASE_HELD, "doctor lease: held by node %d at epoch %d", cur.GetHolder(), cur.GetEpoch())
		res.DoctorLease = cur
		return nil, res
	}
	// Free, expired, or held by an earlier incarnation of the caller: a
	// takeover, whatever epoch the caller names.
	return &partitapb.DoctorLease{Holder: op.GetNode(), Epoch: cur.GetEpoch() + 1, ExpiryUnixNanos: expiry,
		AcquiredUnixNanos: now}, nil
}

// applyReleaseDoctorLease frees the lease op.Node holds at op.Epoch,
// keeping the epoch.
func applyReleaseDoctorLease(b *engine.Batch, op *partitapb.ReleaseDoctorLease) (*partitapb.Result, error) {
	cur, err := directory.ReadDoctorLease(b)
	if err != nil {
		return nil, err
	}
	if cur.GetHolder() != op.GetNode() || cur.GetEpoch() != op.GetEpoch() || op.GetNode() == 0 {
		res := reject(partitapb.Error_STALE_EPOCH, "doctor lease: node %d does not hold epoch %d (holder %d, epoch %d)",
			op.GetNode(), op.GetEpoch(), cur.GetHolder(), cur.GetEpoch())
		res.DoctorLease = cur
		return res, nil
	}
	return writeLease(b, &partitapb.DoctorLease{Epoch: cur.GetEpoch()})
}

func writeLease(b *engine.Batch, l *partitapb.DoctorLease) (*partitapb.Result, error) {
	raw, err := directory.EncodeDoctorLease(l)
	if err != nil {
		return nil, err
	}
	if err := b.Set(directory.DoctorLeaseKey(), raw); err != nil {
		return nil, fmt.Errorf("fsm: write doctor lease: %w", err)
	}
	return &partitapb.Result{DoctorLease: l}, nil
}

// fenceDoctor returns a STALE_EPOCH rejection when cmd carries a Doctor
// epoch that is not the lease's current one: its Doctor was taken over
// (or never held the lease), and must not change the directory. A command
// without an epoch passes. It runs after fence, so cmd is a directory
// command on the meta partition (an epoch on any other command is refused
// as well: there is no lease to match).
func fenceDoctor(b *engine.Batch, cmd *partitapb.Command) (*partitapb.Result, error) {
	e := cmd.GetDoctorEpoch()
	if e == 0 {
		return nil, nil
	}
	cur, err := directory.ReadDoctorLease(b)
	if err != nil {
		return nil, err
	}
	if e == cur.GetEpoch() {
		return nil, nil
	}
	res := reject(partitapb.Error_STALE_EPOCH, "doctor epoch %d is not the current epoch %d of the doctor lease (holder %d)",
		e, cur.GetEpoch(), cur.GetHolder())
	res.DoctorLease = cur
	return res, nil
}
