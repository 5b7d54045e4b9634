package node

import (
	"context"
	"errors"
	"fmt"

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
			if err := b.restoreTable(ctx, t); err != nil {
				errs = append(errs, fmt.Errorf("node: restore table %s: %w", t.GetName(), err))
			}
		}
	}
	return errors.Join(errs...)
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
