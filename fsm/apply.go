package fsm

import (
	"fmt"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// Apply applies cmd to the state in b (an indexed batch) of the partition
// whose range is d, and returns its Result. A returned error is a storage
// failure; rejections, a command outside d's range among them, are carried
// in Result.Error and leave b untouched.
func Apply(b *engine.Batch, d *partitapb.Descriptor, cmd *partitapb.Command) (*partitapb.Result, error) {
	a := NewApplier(b, d)
	res, err := a.Apply(cmd)
	if err != nil {
		return nil, err
	}
	return res, a.Flush()
}

// Applier applies a sequence of commands of one partition into one batch.
// The partition's statistics change with almost every write; the Applier
// keeps the changes in memory and writes their sum once, in Flush, instead
// of a read-modify-write of the record per command.
type Applier struct {
	b          *engine.Batch
	desc       *partitapb.Descriptor // the range commands are fenced to
	partition  uint64
	stats      Stats // changes not yet written
	statsDirty bool
	// statsBase is the stored statistics as of the batch's base plus what
	// Flush wrote (statsKnown: told by KnowState, or read or written).
	statsBase  Stats
	statsKnown bool
	// doctorOpsKept bounds the Doctor's timeline (DoctorOpsKept; tests
	// lower it).
	doctorOpsKept int
	// members is the partition's membership (SetMembers), which a split
	// checks.
	members      Members
	membersKnown bool
	// lai is the lease-applied index and refused the lease index of the
	// last Effects entry refused by the fence or for its dependency
	// (effects.go), read from the batch at the first Effects entry;
	// laiDirty says an entry changed them.
	lai, refused       uint64
	laiKnown, laiDirty bool
	// clog is the change log's state (changelog.go), read from the batch
	// at the first record or trim; clogDirty says an entry changed it.
	clog                 ChangeState
	clogKnown, clogDirty bool
	// floor is the change floor (change_floor.go), read from the batch
	// when first needed; floorChanged says an entry set it.
	floor                    ChangeFloor
	floorKnown, floorChanged bool
	// txnTouched: an entry wrote or deleted a transaction key.
	txnTouched bool
}

// NewApplier returns an Applier writing into b (an indexed batch) for the
// partition whose range is d. The Applier keeps d and does not modify it.
func NewApplier(b *engine.Batch, d *partitapb.Descriptor) *Applier {
	return &Applier{b: b, desc: d, partition: d.GetPartition(), doctorOpsKept: DoctorOpsKept}
}

// Flush writes what the applied commands left in memory. Call it before
// committing the batch.
func (a *Applier) Flush() error {
	if err := a.flushLeaseIndex(); err != nil {
		return err
	}
	if err := a.flushChangeState(); err != nil {
		return err
	}
	return a.flushStats()
}

// Apply applies cmd, as the package's Apply does, except that the
// statistics wait for Flush.
func (a *Applier) Apply(cmd *partitapb.Command) (*partitapb.Result, error) {
	if res := fence(a.desc, cmd); res != nil {
		return res, nil
	}
	b := a.b
	if res, err := fenceDoctor(b, cmd); res != nil || err != nil {
		return res, err
	}
	if isItemCommand(cmd) { // a logical write (legacy mode) meets intents too
		if res, err := checkIntent(b, a.desc, cmd); res != nil || err != nil {
			return res, err
		}
	}
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_PutItem, *partitapb.Command_UpdateItem, *partitapb.Command_DeleteItem:
		return applyItemWrite(a, cmd)
	case *partitapb.Command_DestroyRange:
		return applyDestroyRange(a, op.DestroyRange)
	case *partitapb.Command_SplitRange:
		return applySplit(a, op.SplitRange)
	case *partitapb.Command_FreezeRange:
		return applyFreeze(a, op.FreezeRange)
	case *partitapb.Command_UnfreezeRange:
		return applyUnfreeze(a, op.UnfreezeRange)
	case *partitapb.Command_MergeRange:
		return applyMerge(a, op.MergeRange)
	case *partitapb.Command_BeginMerge:
		return applyBeginMerge(b, cmd.GetUnixNanos(), op.BeginMerge)
	case *partitapb.Command_CommitMerge:
		return applyCommitMerge(b, op.CommitMerge)
	case *partitapb.Command_AbortMerge:
		return applyAbortMerge(b, op.AbortMerge)
	case *partitapb.Command_SplitPartition:
		return applySplitPartition(b, op.SplitPartition)
	case *partitapb.Command_AllocatePartition:
		return applyAllocatePartition(b)
	case *partitapb.Command_CreateTable:
		return applyCreateTable(b, cmd.GetUnixNanos(), op.CreateTable)
	case *partitapb.Command_DeleteTable:
		return applyDeleteTable(b, cmd.GetUnixNanos(), cmd.GetKeepDeletedStreams(), op.DeleteTable)
	case *partitapb.Command_UpdateTable:
		return applyUpdateTable(b, op.UpdateTable)
	case *partitapb.Command_SetTableStatus:
		return applySetTableStatus(b, op.SetTableStatus)
	case *partitapb.Command_PutNode:
		return applyPutNode(b, cmd.GetUnixNanos(), op.PutNode)
	case *partitapb.Command_RemoveNode:
		return applyRemoveNode(b, op.RemoveNode)
	case *partitapb.Command_SetNodeDecommissioning:
		return applySetNodeDecommissioning(b, cmd.GetUnixNanos(), op.SetNodeDecommissioning)
	case *partitapb.Command_SetNodeDraining:
		return applySetNodeDraining(b, cmd.GetUnixNanos(), op.SetNodeDraining)
	case *partitapb.Command_SetReplicas:
		return applySetReplicas(b, op.SetReplicas)
	case *partitapb.Command_AcquireDoctorLease:
		return applyAcquireDoctorLease(b, cmd.GetUnixNanos(), op.AcquireDoctorLease)
	case *partitapb.Command_ReleaseDoctorLease:
		return applyReleaseDoctorLease(b, op.ReleaseDoctorLease)
	case *partitapb.Command_PutDoctorOp:
		return applyPutDoctorOp(a, cmd, op.PutDoctorOp)
	case *partitapb.Command_DecideDoctorOp:
		return applyDecideDoctorOp(b, cmd.GetUnixNanos(), op.DecideDoctorOp)
	case *partitapb.Command_SetDoctorGate:
		return applySetDoctorGate(b, cmd.GetUnixNanos(), op.SetDoctorGate)
	case *partitapb.Command_SetDoctorPaused:
		return applySetDoctorPaused(b, cmd.GetUnixNanos(), op.SetDoctorPaused)
	case *partitapb.Command_SetReplicationFactor:
		return applySetReplicationFactor(b, cmd.GetUnixNanos(), op.SetReplicationFactor)
	case *partitapb.Command_ChangeSettings:
		return applyChangeSettings(b, cmd.GetUnixNanos(), op.ChangeSettings)
	case *partitapb.Command_SetClusterVersion:
		return applySetClusterVersion(b, cmd.GetUnixNanos(), op.SetClusterVersion)
	case *partitapb.Command_HoldClusterVersion:
		return applyHoldClusterVersion(b, op.HoldClusterVersion)
	case *partitapb.Command_IndexCursor:
		return applyIndexCursor(b, op.IndexCursor)
	case *partitapb.Command_IndexWrite:
		return applyIndexWrite(a, op.IndexWrite)
	case *partitapb.Command_IndexBackfill:
		return applyIndexBackfill(a, op.IndexBackfill)
	case *partitapb.Command_IndexSeal:
		return applyIndexSeal(a, op.IndexSeal)
	case *partitapb.Command_IndexOpen:
		return applyIndexOpen(a, op.IndexOpen)
	case *partitapb.Command_IndexSweep:
		return applyIndexSweep(a, op.IndexSweep)
	case *partitapb.Command_SetChangeFloor:
		return a.applySetChangeFloor(op.SetChangeFloor)
	case *partitapb.Command_RecountStats:
		return a.applyRecountStats(op.RecountStats)
	case *partitapb.Command_FenceDeletedTable:
		return a.applyFenceDeletedTable()
	case *partitapb.Command_PutBackup:
		return applyPutBackup(b, cmd.GetUnixNanos(), op.PutBackup)
	case *partitapb.Command_BackupPartDone:
		return applyBackupPartDone(b, op.BackupPartDone)
	case *partitapb.Command_DeleteBackup:
		return applyDeleteBackup(b, op.DeleteBackup)
	case *partitapb.Command_FinishRestore:
		return applyFinishRestore(b, op.FinishRestore)
	case *partitapb.Command_PutExport:
		return applyPutExport(b, cmd.GetUnixNanos(), op.PutExport)
	case *partitapb.Command_ExportPartDone:
		return applyExportPartDone(b, op.ExportPartDone)
	case *partitapb.Command_PutImport:
		return applyPutImport(b, cmd.GetUnixNanos(), op.PutImport)
	case *partitapb.Command_ClaimRequestToken:
		return applyClaimRequestToken(b, cmd.GetUnixNanos(), op.ClaimRequestToken)
	case *partitapb.Command_FinishRequestToken:
		return applyFinishRequestToken(b, op.FinishRequestToken)
	case *partitapb.Command_ExpireRequestTokens:
		return applyExpireRequestTokens(b, cmd.GetUnixNanos())
	default:
		return applyAuth(b, cmd)
	}
}

// applyAuth applies the commands of users, access keys and policies
// (auth.go, auth_policy.go).
func applyAuth(b *engine.Batch, cmd *partitapb.Command) (*partitapb.Result, error) {
	now := cmd.GetUnixNanos()
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_CreateUser:
		return applyCreateUser(b, now, op.CreateUser)
	case *partitapb.Command_DeleteUser:
		return applyDeleteUser(b, op.DeleteUser)
	case *partitapb.Command_CreateAccessKey:
		return applyCreateAccessKey(b, now, op.CreateAccessKey)
	case *partitapb.Command_SetAccessKeyDisabled:
		return applySetAccessKeyDisabled(b, now, op.SetAccessKeyDisabled)
	case *partitapb.Command_DeleteAccessKey:
		return applyDeleteAccessKey(b, op.DeleteAccessKey)
	case *partitapb.Command_PutPolicy:
		return applyPutPolicy(b, now, op.PutPolicy)
	case *partitapb.Command_DeletePolicy:
		return applyDeletePolicy(b, op.DeletePolicy)
	case *partitapb.Command_AttachPolicy:
		return applyAttachPolicy(b, op.AttachPolicy)
	default:
		return applyGroupOrToken(b, cmd)
	}
}

// applyGroupOrToken applies the commands of groups, admin tokens and join
// tokens (auth_group.go, auth_token.go).
func applyGroupOrToken(b *engine.Batch, cmd *partitapb.Command) (*partitapb.Result, error) {
	now := cmd.GetUnixNanos()
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_CreateGroup:
		return applyCreateGroup(b, now, op.CreateGroup)
	case *partitapb.Command_DeleteGroup:
		return applyDeleteGroup(b, op.DeleteGroup)
	case *partitapb.Command_SetGroupMember:
		return applySetGroupMember(b, op.SetGroupMember)
	case *partitapb.Command_AttachGroupPolicy:
		return applyAttachGroupPolicy(b, op.AttachGroupPolicy)
	case *partitapb.Command_CreateAdminToken:
		return applyCreateAdminToken(b, now, op.CreateAdminToken)
	case *partitapb.Command_DeleteAdminToken:
		return applyDeleteAdminToken(b, op.DeleteAdminToken)
	case *partitapb.Command_CreateJoinToken:
		return applyCreateJoinToken(b, now, op.CreateJoinToken)
	case *partitapb.Command_DeleteJoinToken:
		return applyDeleteJoinToken(b, op.DeleteJoinToken)
	case *partitapb.Command_UseJoinToken:
		return applyUseJoinToken(b, now, op.UseJoinToken)
	default:
		return nil, fmt.Errorf("fsm: unknown command %T", op)
	}
}

// reject returns a Result carrying a rejection.
func reject(code partitapb.Error_Code, format string, args ...any) *partitapb.Result {
	return &partitapb.Result{Error: partitapb.Errorf(code, format, args...)}
}
