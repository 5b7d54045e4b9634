package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/partitapb"
)

var _ admin.Backups = ctl{}

// errNoBackups: the node runs no backup job (--backup-interval 0), or
// does not serve the API yet.
var errNoBackups = errors.New("node: backups are off on this node (--backup-interval 0) or it is not serving yet")

// api returns the node's DynamoDB server and backups, once serving.
func (c ctl) api() (*dynamo.Server, *backups, error) {
	s := c.n.dynamo.Load()
	if s == nil || c.n.backups == nil {
		return nil, nil, errNoBackups
	}
	return s, c.n.backups, nil
}

// ctlError makes a refusal of the request a bad request for admin.
func ctlError(err error) error {
	if err != nil && dynamo.IsRequestError(err) {
		return fmt.Errorf("%w: %w", admin.ErrBadRequest, err)
	}
	return err
}

// CreateBackup implements admin.Backups.
func (c ctl) CreateBackup(ctx context.Context, table, name string) (admin.BackupInfo, error) {
	s, _, err := c.api()
	if err != nil {
		return admin.BackupInfo{}, err
	}
	bk, err := s.StartBackup(ctx, table, name)
	if err != nil {
		return admin.BackupInfo{}, ctlError(err)
	}
	return backupInfo(bk), nil
}

// ListBackups implements admin.Backups.
func (c ctl) ListBackups(ctx context.Context) ([]admin.BackupInfo, error) {
	_, b, err := c.api()
	if err != nil {
		return nil, err
	}
	all, err := b.Backups(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.BackupInfo, 0, len(all))
	for _, bk := range all {
		out = append(out, backupInfo(bk))
	}
	return out, nil
}

// DescribeBackup implements admin.Backups.
func (c ctl) DescribeBackup(ctx context.Context, arn string) (admin.BackupInfo, error) {
	_, b, err := c.api()
	if err != nil {
		return admin.BackupInfo{}, err
	}
	bk, err := b.Backup(ctx, arn)
	if err != nil {
		return admin.BackupInfo{}, err
	}
	return backupInfo(bk), nil
}

// RestoreBackup implements admin.Backups.
func (c ctl) RestoreBackup(ctx context.Context, arn, table string) (admin.RestoreInfo, error) {
	s, _, err := c.api()
	if err != nil {
		return admin.RestoreInfo{}, err
	}
	t, err := s.StartRestore(ctx, arn, table)
	if err != nil {
		return admin.RestoreInfo{}, ctlError(err)
	}
	return restoreInfo(t), nil
}

// RestorePointInTime implements admin.Backups.
func (c ctl) RestorePointInTime(ctx context.Context, source, table string, at time.Time) (admin.RestoreInfo, error) {
	s, _, err := c.api()
	if err != nil {
		return admin.RestoreInfo{}, err
	}
	t, err := s.StartRestorePointInTime(ctx, source, table, at)
	if err != nil {
		return admin.RestoreInfo{}, ctlError(err)
	}
	return restoreInfo(t), nil
}

// RestoreStatus implements admin.Backups.
func (c ctl) RestoreStatus(ctx context.Context, table string) (admin.RestoreInfo, error) {
	_, b, err := c.api()
	if err != nil {
		return admin.RestoreInfo{}, err
	}
	t, err := b.FreshTable(ctx, table)
	if err != nil {
		return admin.RestoreInfo{}, err
	}
	if t.GetRestore() == nil {
		return admin.RestoreInfo{}, fmt.Errorf("%w: table %s was not restored from a backup", admin.ErrBadRequest, table)
	}
	return restoreInfo(t), nil
}

func backupInfo(bk *partitapb.Backup) admin.BackupInfo {
	return admin.BackupInfo{Arn: bk.GetArn(), Name: bk.GetName(), Table: bk.GetTableName(), Status: bk.GetStatus(),
		Partitions: len(bk.GetPartitions()), Written: len(bk.GetParts()), Items: bk.GetItems(), Bytes: bk.GetBytes(),
		CreatedUnix: bk.GetCreatedUnixNanos() / 1e9}
}

func restoreInfo(t *partitapb.Table) admin.RestoreInfo {
	r := t.GetRestore()
	info := admin.RestoreInfo{Table: t.GetName(), Backup: r.GetSourceBackupArn(),
		InProgress: r.GetInProgress() || t.GetStatus() != directory.Active.String(), Items: r.GetItems()}
	if p := t.GetPointInTimeRestore(); p != nil {
		info.Source, info.AsOfUnixMilli = p.GetSourceTable(), p.GetAsOfUnixNanos()/1e6
	}
	return info
}
