package node

import (
	"context"
	"errors"
	"fmt"

	"gocloud.dev/gcerrors"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// restoreTables fills every table still being restored. It runs where
// the meta partition's leader is; a leader change mid-restore has the
// new leader write every item again (the same puts: nothing changes).
func (b *backups) restoreTables(ctx context.Context) error {
	tables, err := b.n.router.Tables(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range tables {
		if t.GetRestore().GetInProgress() && t.GetStatus() == directory.Active.String() {
			err := b.restoreTable(ctx, t)
			if err != nil && restoreImpossible(err) {
				err = b.giveUpRestore(ctx, t, err)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("node: restore table %s: %w", t.GetName(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// errBackupCorrupt marks a backup object that cannot be read: its restore
// cannot go on.
var errBackupCorrupt = errors.New("node: corrupt backup")

// restoreImpossible says a restore failed with err for good: its backup
// or source table is gone, a backup object is missing or corrupt, or the
// change log lacks an old image the restore needs. Anything else (a
// leader change, a bucket that does not answer) is retried next cycle.
func restoreImpossible(err error) bool {
	return partitapb.IsCode(err, partitapb.Error_BACKUP_NOT_FOUND) ||
		partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) ||
		gcerrors.Code(err) == gcerrors.NotFound ||
		errors.Is(err, errBackupCorrupt) || errors.Is(err, errNoOldImage)
}

// giveUpRestore ends the restore of t that failed with why: t is
// deleted (it never held all its items, and was never served), with a
// log line and a count.
func (b *backups) giveUpRestore(ctx context.Context, t *partitapb.Table, why error) error {
	kind := "backup"
	if t.GetPointInTimeRestore() != nil {
		kind = "point_in_time"
	}
	if _, err := b.n.router.DeleteTable(ctx, t.GetName()); err != nil && !partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return fmt.Errorf("node: delete a table whose restore failed (%w): %w", why, err)
	}
	b.n.restoresFailed.WithLabelValues(kind).Inc()
	b.n.log.Error("a restore cannot go on: its table is deleted", "table", t.GetName(), "kind", kind,
		"backup", t.GetRestore().GetSourceBackupArn(), "source", t.GetPointInTimeRestore().GetSourceTable(), "err", why)
	return nil
}

// restoreTable writes the items of t's source backup into t, then marks
// the restore finished.
func (b *backups) restoreTable(ctx context.Context, t *partitapb.Table) error {
	if t.GetPointInTimeRestore() != nil {
		return b.restorePointInTime(ctx, t)
	}
	bk, err := b.Backup(ctx, t.GetRestore().GetSourceBackupArn())
	if err != nil {
		return err
	}
	m, err := b.readManifest(ctx, bk)
	if err != nil {
		return err
	}
	b.n.log.Info("restoring a table from a backup", "table", t.GetName(), "backup", bk.GetArn(), "items", m.GetItems())
	var items int64
	for _, part := range m.GetParts() {
		n, err := b.restorePart(ctx, t, part.GetObject())
		if err != nil {
			return err
		}
		items += n
	}
	if _, err := b.propose(ctx, &partitapb.Command{Op: &partitapb.Command_FinishRestore{
		FinishRestore: &partitapb.FinishRestore{Table: t.GetName(), Items: items}}}); err != nil {
		return err
	}
	b.n.log.Info("restored a table from a backup", "table", t.GetName(), "backup", bk.GetArn(), "items", items)
	return nil
}

// restorePart writes the items of one part object into t, several at a
// time, and returns how many it wrote.
func (b *backups) restorePart(ctx context.Context, t *partitapb.Table, object string) (int64, error) {
	return b.n.writeItems(ctx, t, func(ctx context.Context, emit func(item.Item) error) error {
		return b.readPart(ctx, object, emit)
	})
}
