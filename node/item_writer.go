package node

import (
	"context"
	"sync"
	"time"

	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// The writer of restores and imports: items written into a table through
// the normal write path, several at a time, pacing itself to the table's
// capacity.

// restoreWorkers bounds the item writes of a restore or import in flight
// at once.
const restoreWorkers = 16

// restoreThrottlePause is the first pause after a throttled write.
const restoreThrottlePause = 20 * time.Millisecond

// writeItems writes into t every item produce emits, restoreWorkers at a
// time, and returns how many it wrote. It stops at the first error (of a
// write, or produce's).
func (n *Node) writeItems(ctx context.Context, t *partitapb.Table,
	produce func(ctx context.Context, emit func(item.Item) error) error) (int64, error) {
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
				if err := n.putItem(ctx, t, v); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
	var count int64
	readErr := produce(ctx, func(v item.Item) error {
		select {
		case work <- v:
			count++
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		return count, err
	}
	return count, readErr
}

// putItem writes item v into t through the normal write path. A write
// refused for capacity (a provisioned table's) is retried after a pause,
// so that a restore paces itself to the table's capacity.
func (n *Node) putItem(ctx context.Context, t *partitapb.Table, v item.Item) error {
	key, err := n.router.StorageKey(t, v)
	if err != nil {
		return err
	}
	pause := restoreThrottlePause
	for {
		cmd := &partitapb.Command{Op: &partitapb.Command_PutItem{PutItem: &partitapb.PutItem{Key: key, Item: item.EncodeItem(v)}}}
		res, err := n.router.Write(ctx, t, v, cmd)
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
