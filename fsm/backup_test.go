package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// TestBackupRecords: a backup is created once, its parts are recorded
// (a partition written again keeps its latest part), it cannot be
// deleted while CREATING, and a deleted backup is gone.
func TestBackupRecords(t *testing.T) {
	eng := openEngine(t)
	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/backup/1-a"
	meta := func(cmd *partitapb.Command) *partitapb.Result {
		return apply(t, eng, directory.MetaPartition, cmd)
	}
	put := func(b *partitapb.Backup, create bool) *partitapb.Result {
		return meta(&partitapb.Command{UnixNanos: 7, Op: &partitapb.Command_PutBackup{PutBackup: &partitapb.PutBackup{Backup: b, Create: create}}})
	}
	done := func(p, applied uint64) *partitapb.Result {
		return meta(&partitapb.Command{Op: &partitapb.Command_BackupPartDone{BackupPartDone: &partitapb.BackupPartDone{
			Arn: arn, Part: &partitapb.BackupPart{Partition: p, AppliedIndex: applied}}}})
	}
	del := func() *partitapb.Result {
		return meta(&partitapb.Command{Op: &partitapb.Command_DeleteBackup{DeleteBackup: &partitapb.DeleteBackup{Arn: arn}}})
	}
	b := &partitapb.Backup{Arn: arn, Status: directory.BackupCreating, Partitions: []uint64{3, 2}}
	if res := put(b, true); res.GetError() != nil || res.GetBackup().GetCreatedUnixNanos() != 7 {
		t.Fatalf("create: %v", res)
	}
	if res := put(b, true); res.GetError().GetCode() != partitapb.Error_ALREADY_EXISTS {
		t.Fatalf("a second create: %v", res)
	}
	if res := del(); res.GetError().GetCode() != partitapb.Error_BACKUP_IN_USE {
		t.Fatalf("delete while CREATING: %v", res)
	}
	done(3, 10)
	done(2, 5)
	res := done(3, 12)
	if parts := res.GetBackup().GetParts(); len(parts) != 2 || parts[0].GetPartition() != 2 || parts[1].GetAppliedIndex() != 12 {
		t.Fatalf("parts: %v", parts)
	}
	b.Status = directory.BackupAvailable
	if res := put(b, false); res.GetBackup().GetStatus() != directory.BackupAvailable || len(res.GetBackup().GetParts()) != 2 {
		t.Fatalf("complete: %v", res)
	}
	if res := done(2, 6); res.GetError().GetCode() != partitapb.Error_BACKUP_IN_USE {
		t.Fatalf("a part after completion: %v", res)
	}
	restoring := &partitapb.Table{Name: "copy", Restore: &partitapb.BackupRestore{SourceBackupArn: arn, InProgress: true}}
	if res := meta(&partitapb.Command{Op: &partitapb.Command_CreateTable{CreateTable: &partitapb.CreateTable{Table: restoring, PartitionCount: 1}}}); res.GetError() != nil {
		t.Fatalf("create the restored table: %v", res)
	}
	if res := del(); res.GetError().GetCode() != partitapb.Error_BACKUP_IN_USE {
		t.Fatalf("delete while restoring: %v", res)
	}
	if res := meta(&partitapb.Command{Op: &partitapb.Command_FinishRestore{FinishRestore: &partitapb.FinishRestore{Table: "copy", Items: 3}}}); res.GetTable().GetRestore().GetInProgress() || res.GetTable().GetRestore().GetItems() != 3 {
		t.Fatalf("finish the restore: %v", res)
	}
	if res := del(); res.GetError() != nil || res.GetBackup().GetStatus() != directory.BackupDeleted {
		t.Fatalf("delete: %v", res)
	}
	if got, err := directory.ReadBackup(eng.Reader(), arn); err != nil || got != nil {
		t.Fatalf("after delete: %v %v", got, err)
	}
	if res := del(); res.GetError().GetCode() != partitapb.Error_BACKUP_NOT_FOUND {
		t.Fatalf("a second delete: %v", res)
	}
	if res := apply(t, eng, 42, &partitapb.Command{Op: &partitapb.Command_DeleteBackup{DeleteBackup: &partitapb.DeleteBackup{Arn: arn}}}); res.GetError() == nil {
		t.Fatalf("a backup command on a table's partition: %v", res)
	}
}
