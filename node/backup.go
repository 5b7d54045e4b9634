package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"gocloud.dev/blob"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/router"
	"github.com/partitadb/partita/store"
	"github.com/partitadb/partita/topology/publish"
)

// BackupJob is the name of the job writing on-demand backups to the
// backup bucket and restored tables from it (docs/backups.md).
const BackupJob = "backups"

// backupCycleTimeout bounds one cycle of the backup job.
const backupCycleTimeout = 6 * time.Hour

// backups implements dynamo.Backups over the meta partition's backup
// records and the backup bucket; its job does the work.
type backups struct {
	n      *Node
	bucket *blob.Bucket
	// trigger asks the job for a cycle now (nil until it is registered).
	trigger func()
}

var _ dynamo.Backups = (*backups)(nil)

// backupBucketURL is the bucket backups go to: Config.BackupBucket, or a
// folder beside the node's data.
func (n *Node) backupBucketURL() (string, error) {
	if n.cfg.BackupBucket != "" {
		return n.cfg.BackupBucket, nil
	}
	abs, err := filepath.Abs(filepath.Join(n.cfg.DataDir, "backups"))
	if err != nil {
		return "", fmt.Errorf("node: backup bucket: %w", err)
	}
	return "file://" + filepath.ToSlash(abs), nil
}

// registerBackupJob opens the backup bucket and registers the job.
func (n *Node) registerBackupJob(ctx context.Context, m *daemon.Manager) error {
	if n.cfg.BackupInterval <= 0 {
		return nil
	}
	url, err := n.backupBucketURL()
	if err != nil {
		return err
	}
	bucket, err := publish.OpenBucket(ctx, url)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if n.cfg.PeerAddr != "" && n.cfg.BackupBucket == "" {
		n.log.Warn("backups go to a folder of this node's data directory (--backup-bucket): in a cluster, every node must share one bucket", "bucket", url)
	}
	n.backups = &backups{n: n, bucket: bucket, trigger: func() { _ = m.Trigger(BackupJob) }}
	return m.Register(daemon.JobSpec{
		Name:     BackupJob,
		Kind:     daemon.Periodic,
		Interval: n.cfg.BackupInterval,
		Jitter:   n.cfg.BackupInterval / 5,
		// A cycle may write a whole table (a restore starts over when
		// cut short), so it may run long.
		Timeout: max(100*n.cfg.BackupInterval, backupCycleTimeout),
		Run:     n.backups.run,
	})
}

// closeBackups closes the backup bucket, once the jobs stopped.
func (n *Node) closeBackups() error {
	if n.backups == nil {
		return nil
	}
	if err := n.backups.bucket.Close(); err != nil {
		return fmt.Errorf("node: close the backup bucket: %w", err)
	}
	return nil
}

// propose proposes a backup command to the meta partition.
func (b *backups) propose(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	return b.n.proposeRecord(ctx, cmd)
}

// proposeRecord proposes cmd, a command on a directory record (a backup,
// an export, an import), to the meta partition under a new id and this
// node's time, and returns its result, its error as an error too.
func (n *Node) proposeRecord(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	cmd.Id, cmd.UnixNanos = router.RandomID(), n.now().UnixNano()
	res, err := n.proposeMeta(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if e := res.GetError(); e != nil {
		return res, e
	}
	return res, nil
}

// CreateBackup implements dynamo.Backups.
func (b *backups) CreateBackup(ctx context.Context, bk *partitapb.Backup) (*partitapb.Backup, error) {
	if err := b.n.router.NeedVersion(clusterversion.Backups, "Backups"); err != nil {
		return nil, err
	}
	res, err := b.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutBackup{
		PutBackup: &partitapb.PutBackup{Backup: bk, Create: true}}})
	if err != nil {
		return nil, err
	}
	b.trigger()
	return res.GetBackup(), nil
}

// Backup implements dynamo.Backups.
func (b *backups) Backup(ctx context.Context, arn string) (*partitapb.Backup, error) {
	raw, err := b.n.sender.Get(ctx, directory.MetaPartition, directory.BackupKey(arn), true)
	if err != nil {
		return nil, fmt.Errorf("node: read backup %s: %w", arn, err)
	}
	if raw == nil {
		return nil, partitapb.Errorf(partitapb.Error_BACKUP_NOT_FOUND, "Backup not found for the given BackupARN.")
	}
	bk, err := directory.DecodeBackup(raw)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return bk, nil
}

// Backups implements dynamo.Backups.
func (b *backups) Backups(ctx context.Context) ([]*partitapb.Backup, error) {
	lo, hi := directory.BackupsSpan()
	var out []*partitapb.Backup
	for {
		res, err := b.n.sender.Walk(ctx, store.WalkRequest{Partition: directory.MetaPartition,
			Lo: lo, Hi: hi, Consistent: true, MaxItems: 256})
		if err != nil {
			return nil, fmt.Errorf("node: list backups: %w", err)
		}
		for _, raw := range res.Values {
			bk, err := directory.DecodeBackup(raw)
			if err != nil {
				return nil, fmt.Errorf("node: %w", err)
			}
			out = append(out, bk)
		}
		if !res.More || len(res.Keys) == 0 {
			return out, nil
		}
		lo = append(res.Keys[len(res.Keys)-1], 0)
	}
}

// DeleteBackup implements dynamo.Backups: the record goes first, then
// the backup's objects (an object left by a failure is unreachable).
func (b *backups) DeleteBackup(ctx context.Context, arn string) (*partitapb.Backup, error) {
	res, err := b.propose(ctx, &partitapb.Command{Op: &partitapb.Command_DeleteBackup{
		DeleteBackup: &partitapb.DeleteBackup{Arn: arn}}})
	if err != nil {
		return nil, err
	}
	bk := res.GetBackup()
	for _, key := range append(partKeys(bk), manifestKey(bk)) {
		if err := b.bucket.Delete(ctx, key); err != nil && !isBlobNotFound(err) {
			b.n.log.Warn("deleting a deleted backup's object failed", "backup", arn, "object", key, "err", err)
		}
	}
	return bk, nil
}

// Restore implements dynamo.Backups.
func (b *backups) Restore(ctx context.Context, t *partitapb.Table) (*partitapb.Table, error) {
	if err := b.n.router.NeedVersion(clusterversion.Backups, "Restores"); err != nil {
		return nil, err
	}
	if t.GetPointInTimeRestore() != nil {
		if err := b.NeedPointInTimeRecovery(); err != nil {
			return nil, err
		}
	}
	created, err := b.n.router.CreateTable(ctx, t)
	if err != nil {
		return nil, err
	}
	b.trigger()
	return created, nil
}

// FreshTable implements dynamo.Backups.
func (b *backups) FreshTable(ctx context.Context, name string) (*partitapb.Table, error) {
	return b.n.router.FreshTable(ctx, name)
}

// run is one cycle of the job: the partitions of CREATING backups this
// node leads are written; where the meta partition's leader is, finished
// backups are made AVAILABLE and restored tables are filled.
func (b *backups) run(ctx context.Context, _ *daemon.Cycle) error {
	all, err := b.Backups(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, bk := range all {
		if bk.GetStatus() == directory.BackupCreating {
			errs = append(errs, b.advance(ctx, bk))
		}
	}
	if b.leadsMeta() {
		errs = append(errs, b.restoreTables(ctx))
	}
	return errors.Join(errs...)
}

// leadsMeta reports whether this node leads the meta partition.
func (b *backups) leadsMeta() bool {
	r := b.n.store.Replica(directory.MetaPartition)
	return r != nil && r.Leader() == b.n.replicaID()
}

// leads reports whether this node leads partition p.
func (b *backups) leads(p uint64) bool {
	r := b.n.store.Replica(p)
	return r != nil && r.Leader() == b.n.replicaID()
}

// advance writes the partitions of bk this node leads that are not
// written yet, then, on the meta leader, completes bk once all are.
func (b *backups) advance(ctx context.Context, bk *partitapb.Backup) error {
	if b.leadsMeta() {
		if gone, err := b.tableGone(ctx, bk); err != nil || gone {
			return errors.Join(err, b.abandon(ctx, bk, gone))
		}
	}
	done := map[uint64]bool{}
	for _, p := range bk.GetParts() {
		done[p.GetPartition()] = true
	}
	for _, p := range bk.GetPartitions() {
		if done[p] || !b.leads(p) {
			continue
		}
		part, err := b.writePart(ctx, bk, p)
		if err != nil {
			return fmt.Errorf("node: backup %s, partition %d: %w", bk.GetArn(), p, err)
		}
		res, err := b.propose(ctx, &partitapb.Command{Op: &partitapb.Command_BackupPartDone{
			BackupPartDone: &partitapb.BackupPartDone{Arn: bk.GetArn(), Part: part}}})
		if err != nil {
			return fmt.Errorf("node: backup %s, partition %d: %w", bk.GetArn(), p, err)
		}
		bk = res.GetBackup()
		b.n.log.Info("wrote a partition to a backup", "backup", bk.GetArn(), "partition", p,
			"applied_index", part.GetAppliedIndex(), "items", part.GetItems(), "bytes", part.GetBytes())
	}
	if len(bk.GetParts()) < len(bk.GetPartitions()) || !b.leadsMeta() {
		return nil
	}
	return b.complete(ctx, bk)
}

// tableGone reports whether bk's table was deleted (or replaced by
// another of the same name), or a partition of it split or merged, before
// its partitions were all read: bk cannot be completed.
func (b *backups) tableGone(ctx context.Context, bk *partitapb.Backup) (bool, error) {
	t, err := b.n.router.FreshTable(ctx, bk.GetTableName())
	if partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	done := map[uint64]bool{}
	for _, p := range bk.GetParts() {
		done[p.GetPartition()] = true
	}
	return t.GetId() != bk.GetTableId() || !rangesKept(bk.GetTable(), done, t), nil
}

// rangesKept reports whether every partition of was (a table's record)
// not done still owns the range it owned then in now (no split or merge
// moved it).
func rangesKept(was *partitapb.Table, done map[uint64]bool, now *partitapb.Table) bool {
	owned := map[uint64][2]uint64{}
	for _, p := range now.GetPartitions() {
		owned[p.GetId()] = [2]uint64{p.GetHashStart(), p.GetHashEnd()}
	}
	for _, p := range was.GetPartitions() {
		if r, ok := owned[p.GetId()]; !done[p.GetId()] && (!ok || r != [2]uint64{p.GetHashStart(), p.GetHashEnd()}) {
			return false
		}
	}
	return true
}

// abandon deletes the record and objects of a backup that cannot be
// completed (when gone).
func (b *backups) abandon(ctx context.Context, bk *partitapb.Backup, gone bool) error {
	if !gone {
		return nil
	}
	b.n.log.Warn("the table of a backup in progress was deleted, or its partitions split or merged, before they were read: the backup is dropped; take a new one",
		"backup", bk.GetArn(), "table", bk.GetTableName())
	bk.Status = directory.BackupDeleted
	if _, err := b.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutBackup{
		PutBackup: &partitapb.PutBackup{Backup: bk}}}); err != nil {
		return err
	}
	_, err := b.DeleteBackup(ctx, bk.GetArn())
	return err
}

// complete writes bk's manifest and makes it AVAILABLE.
func (b *backups) complete(ctx context.Context, bk *partitapb.Backup) error {
	bk.Status, bk.CompletedUnixNanos = directory.BackupAvailable, b.n.now().UnixNano()
	bk.Items, bk.Bytes = 0, 0
	for _, p := range bk.GetParts() {
		bk.Items += p.GetItems()
		bk.Bytes += p.GetBytes()
	}
	if err := b.writeManifest(ctx, bk); err != nil {
		return err
	}
	if _, err := b.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutBackup{
		PutBackup: &partitapb.PutBackup{Backup: bk}}}); err != nil {
		return fmt.Errorf("node: complete backup %s: %w", bk.GetArn(), err)
	}
	b.n.log.Info("backup available", "backup", bk.GetArn(), "table", bk.GetTableName(),
		"items", bk.GetItems(), "bytes", bk.GetBytes())
	return nil
}
