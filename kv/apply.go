package kv

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/partitadb/partita/partitapb"
)

// Apply applies cmd to partition's state in b (an indexed batch) and returns
// its Result. A returned error is a storage failure; rejections are carried
// in Result.Error and leave b untouched.
func Apply(b *pebble.Batch, partition uint64, cmd *partitapb.Command) (*partitapb.Result, error) {
	switch op := cmd.GetOp().(type) {
	case *partitapb.Command_PutItem:
		return applyPut(b, partition, op.PutItem)
	case *partitapb.Command_UpdateItem:
		return applyUpdate(b, partition, op.UpdateItem)
	case *partitapb.Command_DeleteItem:
		return applyDelete(b, partition, op.DeleteItem)
	case *partitapb.Command_DestroyRange:
		return applyDestroyRange(b, partition, op.DestroyRange)
	case *partitapb.Command_CreateTable:
		return applyCreateTable(b, cmd.GetUnixNanos(), op.CreateTable)
	case *partitapb.Command_DeleteTable:
		return applyDeleteTable(b, op.DeleteTable)
	case *partitapb.Command_UpdateTable:
		return applyUpdateTable(b, op.UpdateTable)
	case *partitapb.Command_SetTableStatus:
		return applySetTableStatus(b, op.SetTableStatus)
	case *partitapb.Command_PutNode:
		return applyPutNode(b, cmd.GetUnixNanos(), op.PutNode)
	case *partitapb.Command_RemoveNode:
		return applyRemoveNode(b, op.RemoveNode)
	case *partitapb.Command_SetReplicas:
		return applySetReplicas(b, op.SetReplicas)
	default:
		return nil, fmt.Errorf("kv: unknown command %T", op)
	}
}

// reject returns a Result carrying a rejection.
func reject(code partitapb.Error_Code, format string, args ...any) *partitapb.Result {
	return &partitapb.Result{Error: partitapb.Errorf(code, format, args...)}
}
