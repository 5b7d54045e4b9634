package fsm

import (
	"bytes"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// FirstRangeGeneration is the generation of a range as the directory
// creates it (CreateTable, the meta partition's bootstrap). Only the
// commands that change a range's spans (split, merge) raise it.
const FirstRangeGeneration uint64 = 1

// fence returns a WRONG_RANGE rejection when cmd must not apply to the
// range d describes, and nil when it may. It reads nothing but its
// arguments, so every replica at the same log position decides alike.
func fence(d *partitapb.Descriptor, cmd *partitapb.Command) *partitapb.Result {
	if g := cmd.GetRangeGeneration(); g != 0 && g < d.GetGeneration() {
		return reject(partitapb.Error_WRONG_RANGE, "partition %d: routed by range generation %d, the range is at %d",
			d.GetPartition(), g, d.GetGeneration())
	}
	// A recount changes the statistics, which a merge copies from each
	// node's frozen right replica as it stands when the left applies the
	// merge: after the freeze they must not change.
	if FrozenRight(d) && (isItemCommand(cmd) || IsTxnCommand(cmd) || cmd.GetIndexWrite() != nil ||
		cmd.GetIndexBackfill() != nil || cmd.GetIndexSweep() != nil || cmd.GetRecountStats() != nil) {
		return reject(partitapb.Error_WRONG_RANGE, "partition %d: frozen for a merge into partition %d",
			d.GetPartition(), d.GetFrozen().GetLeft())
	}
	start, end, known := footprint(cmd)
	if !known {
		return nil // Apply reports the unknown op, or checks the range
	}
	if !covers(d.GetSpans(), start, end) {
		return reject(partitapb.Error_WRONG_RANGE, "partition %d: the command's keys are outside its range", d.GetPartition())
	}
	return nil
}

// footprint returns the key span cmd reads and writes: [key, key] for an
// item command (end nil), the split point for SplitRange, the table's hash
// range for DestroyRange, and the
// whole directory for a directory command (which reads and writes counter,
// table and node records alike). known is false for an unknown op and
// for a merge's range commands, which apply checks by partition.
func footprint(cmd *partitapb.Command) (start, end []byte, known bool) {
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_PutItem:
		return op.PutItem.GetKey(), nil, true
	case *partitapb.Command_UpdateItem:
		return op.UpdateItem.GetKey(), nil, true
	case *partitapb.Command_DeleteItem:
		return op.DeleteItem.GetKey(), nil, true
	case *partitapb.Command_TxnPrepare:
		return op.TxnPrepare.GetKey(), nil, true
	case *partitapb.Command_TxnResolve:
		return op.TxnResolve.GetKey(), nil, true
	case *partitapb.Command_TxnSetStatus:
		return op.TxnSetStatus.GetAnchorKey(), nil, true
	case *partitapb.Command_SetChangeFloor:
		return engine.PartitionKeyPrefix(nil, op.SetChangeFloor.GetTableId(), op.SetChangeFloor.GetHashStart()), nil, true
	case *partitapb.Command_FenceDeletedTable:
		return engine.PartitionKeyPrefix(nil, op.FenceDeletedTable.GetTableId(), op.FenceDeletedTable.GetHashStart()), nil, true
	case *partitapb.Command_RecountStats:
		return engine.PartitionKeyPrefix(nil, op.RecountStats.GetTableId(), op.RecountStats.GetHashStart()), nil, true
	case *partitapb.Command_DestroyRange:
		d := op.DestroyRange
		start, end := engine.HashSpan(d.GetTableId(), d.GetHashStart(), d.GetHashEnd())
		return start, end, true
	case *partitapb.Command_SplitRange:
		// The split point: the range must hold it (apply checks the rest).
		s := op.SplitRange
		return engine.PartitionKeyPrefix(nil, s.GetTableId(), s.GetSplitHash()), nil, true
	case *partitapb.Command_FreezeRange, *partitapb.Command_UnfreezeRange, *partitapb.Command_MergeRange:
		// Range commands name their partition; apply checks it and the
		// range's generation.
		return nil, nil, false
	case *partitapb.Command_CreateTable, *partitapb.Command_DeleteTable, *partitapb.Command_UpdateTable,
		*partitapb.Command_SetTableStatus, *partitapb.Command_PutNode, *partitapb.Command_RemoveNode,
		*partitapb.Command_SetNodeDecommissioning, *partitapb.Command_SetNodeDraining,
		*partitapb.Command_SetReplicas, *partitapb.Command_AcquireDoctorLease, *partitapb.Command_ReleaseDoctorLease,
		*partitapb.Command_PutDoctorOp, *partitapb.Command_DecideDoctorOp, *partitapb.Command_SetDoctorGate,
		*partitapb.Command_SetDoctorPaused, *partitapb.Command_SplitPartition, *partitapb.Command_AllocatePartition,
		*partitapb.Command_BeginMerge, *partitapb.Command_CommitMerge, *partitapb.Command_AbortMerge,
		*partitapb.Command_CreateUser, *partitapb.Command_DeleteUser, *partitapb.Command_CreateAccessKey,
		*partitapb.Command_SetAccessKeyDisabled, *partitapb.Command_DeleteAccessKey, *partitapb.Command_PutPolicy,
		*partitapb.Command_DeletePolicy, *partitapb.Command_AttachPolicy,
		*partitapb.Command_CreateGroup, *partitapb.Command_DeleteGroup, *partitapb.Command_SetGroupMember,
		*partitapb.Command_AttachGroupPolicy, *partitapb.Command_CreateAdminToken, *partitapb.Command_DeleteAdminToken,
		*partitapb.Command_CreateJoinToken, *partitapb.Command_DeleteJoinToken, *partitapb.Command_UseJoinToken,
		*partitapb.Command_ChangeSettings, *partitapb.Command_SetClusterVersion, *partitapb.Command_HoldClusterVersion,
		*partitapb.Command_IndexCursor, *partitapb.Command_PutBackup, *partitapb.Command_BackupPartDone,
		*partitapb.Command_DeleteBackup, *partitapb.Command_FinishRestore,
		*partitapb.Command_PutExport, *partitapb.Command_ExportPartDone, *partitapb.Command_PutImport,
		*partitapb.Command_ClaimRequestToken, *partitapb.Command_FinishRequestToken, *partitapb.Command_ExpireRequestTokens,
		*partitapb.Command_SetReplicationFactor:
		start, end := engine.MetaRange()
		return start, end, true
	}
	return nil, nil, false
}

// covers reports whether one of spans holds the key start (end nil) or
// the whole span [start, end). A span with an empty end reaches no key.
func covers(spans []*partitapb.Span, start, end []byte) bool {
	for _, s := range spans {
		if bytes.Compare(s.GetStart(), start) > 0 {
			continue
		}
		if end == nil && bytes.Compare(start, s.GetEnd()) < 0 {
			return true
		}
		if end != nil && bytes.Compare(start, end) <= 0 && bytes.Compare(end, s.GetEnd()) <= 0 {
			return true
		}
	}
	return false
}

// isItemCommand says cmd writes an item.
func isItemCommand(cmd *partitapb.Command) bool {
	switch cmd.GetOp().(type) {
	case *partitapb.Command_PutItem, *partitapb.Command_UpdateItem, *partitapb.Command_DeleteItem:
		return true
	}
	return false
}
