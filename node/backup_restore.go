package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// restoreWorkers bounds the item writes of a restore in flight at once.
const restoreWorkers = 16

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
	return b.writeItems(ctx, t, func(emit func(item.Item) error) error {
		return b.readPart(ctx, object, emit)
	})
}

// writeItems writes into t the items read calls its emit with, several
// at a time, and returns how many it wrote.
func (b *backups) writeItems(ctx context.Context, t *partitapb.Table, read func(emit func(item.Item) error) error) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan item.Item)
	errs := make(chan error, restoreWorkers)
	var wg sync.WaitGroup
	for range restoreWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range work {
				if err := b.putRestored(ctx, t, v); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
	var n int64
	readErr := read(func(v item.Item) error {
		select {
		case work <- v:
			n++
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		return n, err
	}
	return n, readErr
}

// putRestored writes item v into t through the normal write path. A
// write refused for capacity (a provisioned table's) is retried after a
// pause, so that a restore paces itself to the table's capacity.
func (b *backups) putRestored(ctx context.Context, t *partitapb.Table, v item.Item) error {
	key, err := b.n.router.StorageKey(t, v)
	if err != nil {
		return err
	}
	pause := restoreThrottlePause
	for {
		cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: key, Item: item.EncodeItem(v)}}}
		res, err := b.n.router.Write(ctx, t, v, cmd)
		if err == nil && res.GetError() != nil {
			err = res.GetError()
		}
		if !partitapb.IsCode(err, partitapb.Error_THROTTLED) {
			return err
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
		pause = min(2*pause, time.Second)
	}
}

// restoreThrottlePause is the first pause after a throttled restore write.
const restoreThrottlePause = 20 * time.Millisecond
