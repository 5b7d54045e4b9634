package fsm

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The Doctor's records in the meta partition: its timeline of operations
// (one record per operation, directory.DoctorOpKey) and its settings
// (gates, pause: directory.DoctorSettingsKey). The Doctor writes the
// timeline with its epoch, so the fence refuses a deposed Doctor's
// writes; operators decide operations and set the switches without one.

// DoctorOpsKept bounds the Doctor's timeline: creating an operation record
// beyond it deletes the oldest terminal records until at most this many
// remain. Records not in a terminal state are never deleted, so the
// timeline exceeds the bound only by those.
const DoctorOpsKept = 1000

// applyPutDoctorOp creates (id 0) or replaces a Doctor operation record.
func applyPutDoctorOp(a *Applier, cmd *partitapb.Command, put *partitapb.PutDoctorOp) (*partitapb.Result, error) {
	op := put.GetOp()
	if res := validateDoctorOp(op); res != nil {
		return res, nil
	}
	op = proto.Clone(op).(*partitapb.DoctorOp)
	op.UpdatedUnixNanos = cmd.GetUnixNanos()
	if op.GetId() == 0 {
		return createDoctorOp(a, cmd, op)
	}
	return replaceDoctorOp(a.b, op)
}

// validateDoctorOp refuses an op the timeline cannot hold.
func validateDoctorOp(op *partitapb.DoctorOp) *partitapb.Result {
	switch {
	case op == nil:
		return reject(partitapb.Error_VALIDATION, "doctor op: the op is required")
	case op.GetKind() == "":
		return reject(partitapb.Error_VALIDATION, "doctor op: the kind is required")
	case op.GetState() == partitapb.DoctorOp_STATE_UNSET || !knownEnum(op.GetState()):
		return reject(partitapb.Error_VALIDATION, "doctor op: invalid state %s", op.GetState())
	case !knownEnum(op.GetGate()):
		return reject(partitapb.Error_VALIDATION, "doctor op: invalid gate %s", op.GetGate())
	}
	return nil
}

// knownEnum reports whether v is a value its enum declares.
func knownEnum(v interface {
	Descriptor() protoreflect.EnumDescriptor
	Number() protoreflect.EnumNumber
}) bool {
	return v.Descriptor().Values().ByNumber(v.Number()) != nil
}

// createDoctorOp gives op the next id, writes it and applies retention.
func createDoctorOp(a *Applier, cmd *partitapb.Command, op *partitapb.DoctorOp) (*partitapb.Result, error) {
	id, err := nextID(a.b, directory.DoctorOpCounter, 1)
	if err != nil {
		return nil, err
	}
	op.Id = id
	op.CreatedUnixNanos = cmd.GetUnixNanos()
	if op.GetEpoch() == 0 {
		op.Epoch = cmd.GetDoctorEpoch()
	}
	if err := writeDoctorOp(a.b, op); err != nil {
		return nil, err
	}
	if err := retainDoctorOps(a.b, id, a.doctorOpsKept); err != nil {
		return nil, err
	}
	return &partitapb.Result{DoctorOp: op}, nil
}

// replaceDoctorOp replaces the existing record of op.Id with op.
func replaceDoctorOp(b *engine.Batch, op *partitapb.DoctorOp) (*partitapb.Result, error) {
	cur, err := directory.ReadDoctorOp(b, op.GetId())
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return reject(partitapb.Error_VALIDATION, "doctor op %d not found", op.GetId()), nil
	}
	if res := refuseReplace(cur, op); res != nil {
		return res, nil
	}
	if directory.DoctorOpTerminal(cur.GetState()) {
		return &partitapb.Result{DoctorOp: cur}, nil // a retry of the put that finished it
	}
	op.CreatedUnixNanos = cur.GetCreatedUnixNanos()
	if op.GetDecidedBy() == "" {
		op.DecidedBy = cur.GetDecidedBy()
	}
	if op.GetEpoch() == 0 {
		op.Epoch = cur.GetEpoch()
	}
	if err := writeDoctorOp(b, op); err != nil {
		return nil, err
	}
	if directory.DoctorOpTerminal(op.GetState()) {
		if err := lowerDoctorFloor(b, op); err != nil {
			return nil, err
		}
	}
	return &partitapb.Result{DoctorOp: op}, nil
}

// refuseReplace returns the Result refusing to replace cur with op: cur
// is final (terminal, unless op puts the same state again: a retry), or
// op would undo an operator's approval.
func refuseReplace(cur, op *partitapb.DoctorOp) *partitapb.Result {
	var res *partitapb.Result
	switch {
	case directory.DoctorOpTerminal(cur.GetState()) && op.GetState() != cur.GetState():
		res = reject(partitapb.Error_VALIDATION, "doctor op %d is %s: a finished op cannot become %s",
			cur.GetId(), cur.GetState(), op.GetState())
	case cur.GetState() == partitapb.DoctorOp_APPROVED && op.GetState() == partitapb.DoctorOp_AWAITING_APPROVAL:
		res = reject(partitapb.Error_VALIDATION, "doctor op %d is APPROVED (by %q): it cannot await approval again",
			cur.GetId(), cur.GetDecidedBy())
	default:
		return nil
	}
	res.DoctorOp = cur
	return res
}

// applyDecideDoctorOp approves or rejects an op awaiting approval.
func applyDecideDoctorOp(b *engine.Batch, now int64, d *partitapb.DecideDoctorOp) (*partitapb.Result, error) {
	cur, err := directory.ReadDoctorOp(b, d.GetId())
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return reject(partitapb.Error_VALIDATION, "doctor op %d not found", d.GetId()), nil
	}
	if cur.GetState() != partitapb.DoctorOp_AWAITING_APPROVAL {
		res := reject(partitapb.Error_VALIDATION, "doctor op %d is %s, not AWAITING_APPROVAL", cur.GetId(), cur.GetState())
		res.DoctorOp = cur
		return res, nil
	}
	op := proto.Clone(cur).(*partitapb.DoctorOp)
	op.DecidedBy = d.GetBy()
	op.UpdatedUnixNanos = now
	if d.GetApprove() {
		op.State = partitapb.DoctorOp_APPROVED
	} else {
		op.State = partitapb.DoctorOp_REJECTED
		op.Outcome = d.GetReason()
		if err := lowerDoctorFloor(b, op); err != nil {
			return nil, err
		}
	}
	if err := writeDoctorOp(b, op); err != nil {
		return nil, err
	}
	return &partitapb.Result{DoctorOp: op}, nil
}

func writeDoctorOp(b *engine.Batch, op *partitapb.DoctorOp) error {
	raw, err := directory.EncodeDoctorOp(op)
	if err != nil {
		return err
	}
	if err := b.Set(directory.DoctorOpKey(op.GetId()), raw); err != nil {
		return fmt.Errorf("fsm: write doctor op %d: %w", op.GetId(), err)
	}
	return nil
}
