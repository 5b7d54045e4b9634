package fsm

import (
	"cmp"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The backup records of the meta partition (docs/backups.md): a backup is
// created CREATING, each of its partitions is recorded as written by the
// node that led it, and the meta partition's leader makes it AVAILABLE
// once every partition is.

// applyPutBackup creates a backup record (put.create: it must not exist)
// or replaces one that exists.
func applyPutBackup(b *engine.Batch, now int64, put *partitapb.PutBackup) (*partitapb.Result, error) {
	bk := put.GetBackup()
	if bk.GetArn() == "" {
		return reject(partitapb.Error_VALIDATION, "backup: the ARN is required"), nil
	}
	old, err := directory.ReadBackup(b, bk.GetArn())
	if err != nil {
		return nil, err
	}
	switch {
	case put.GetCreate() && old != nil:
		return reject(partitapb.Error_ALREADY_EXISTS, "backup %s exists", bk.GetArn()), nil
	case !put.GetCreate() && old == nil:
		return backupNotFound(bk.GetArn()), nil
	}
	bk = proto.Clone(bk).(*partitapb.Backup)
	if put.GetCreate() {
		bk.CreatedUnixNanos, bk.Parts = now, nil
	} else {
		bk.Parts = old.GetParts() // the parts are BackupPartDone's
	}
	return &partitapb.Result{Backup: bk}, writeRecord(b, directory.BackupKey(bk.GetArn()), bk, directory.EncodeBackup)
}

// applyBackupPartDone records a partition of a CREATING backup as
// written; a partition written twice (a new leader redid it) keeps its
// latest part.
func applyBackupPartDone(b *engine.Batch, op *partitapb.BackupPartDone) (*partitapb.Result, error) {
	bk, err := directory.ReadBackup(b, op.GetArn())
	if err != nil {
		return nil, err
	}
	if bk == nil {
		return backupNotFound(op.GetArn()), nil
	}
	if bk.GetStatus() != directory.BackupCreating {
		return reject(partitapb.Error_BACKUP_IN_USE, "backup %s is %s", op.GetArn(), bk.GetStatus()), nil
	}
	part := op.GetPart()
	bk.Parts = slices.DeleteFunc(bk.Parts, func(p *partitapb.BackupPart) bool { return p.GetPartition() == part.GetPartition() })
	bk.Parts = append(bk.Parts, part)
	slices.SortFunc(bk.Parts, func(x, y *partitapb.BackupPart) int {
		return cmp.Compare(x.GetPartition(), y.GetPartition())
	})
	return &partitapb.Result{Backup: bk}, writeRecord(b, directory.BackupKey(bk.GetArn()), bk, directory.EncodeBackup)
}

// applyDeleteBackup removes an AVAILABLE backup's record and answers it
// as DELETED; a backup still being created, or being restored to a
// table, cannot be deleted.
func applyDeleteBackup(b *engine.Batch, op *partitapb.DeleteBackup) (*partitapb.Result, error) {
	bk, err := directory.ReadBackup(b, op.GetArn())
	if err != nil {
		return nil, err
	}
	if bk == nil {
		return backupNotFound(op.GetArn()), nil
	}
	if bk.GetStatus() == directory.BackupCreating {
		return reject(partitapb.Error_BACKUP_IN_USE,
			"Backup is being created or deleted; wait for its status to be AVAILABLE: %s", op.GetArn()), nil
	}
	tables, err := directory.ReadTables(b)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if r := t.GetRestore(); r.GetInProgress() && r.GetSourceBackupArn() == bk.GetArn() {
			return reject(partitapb.Error_BACKUP_IN_USE,
				"Backup is being restored to table %s; wait for the restore to end: %s", t.GetName(), op.GetArn()), nil
		}
	}
	if err := b.Delete(directory.BackupKey(bk.GetArn())); err != nil {
		return nil, err
	}
	bk.Status = directory.BackupDeleted
	return &partitapb.Result{Backup: bk}, nil
}

// applyFinishRestore marks a restored table's items as all written.
func applyFinishRestore(b *engine.Batch, op *partitapb.FinishRestore) (*partitapb.Result, error) {
	t, err := directory.ReadTable(b, op.GetTable())
	if err != nil || t == nil {
		return notFound(op.GetTable(), err)
	}
	if t.GetRestore() == nil {
		return reject(partitapb.Error_VALIDATION, "table %s was not restored", op.GetTable()), nil
	}
	t.Restore.InProgress, t.Restore.Items = false, op.GetItems()
	if err := writeTable(b, t); err != nil {
		return nil, err
	}
	return &partitapb.Result{Table: t}, nil
}

func backupNotFound(string) *partitapb.Result {
	return reject(partitapb.Error_BACKUP_NOT_FOUND, "Backup not found for the given BackupARN.")
}
