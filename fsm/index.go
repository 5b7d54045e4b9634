package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// applyIndexCursor raises a base partition's index cursor; a cursor never
// moves back, so a stale maintainer's late write changes nothing.
func applyIndexCursor(b *engine.Batch, op *partitapb.IndexCursor) (*partitapb.Result, error) {
	if ix := op.GetBackfilledIndex(); ix != "" {
		if err := b.Set(directory.IndexBackfillKey(op.GetPartition(), ix), []byte{1}); err != nil {
			return nil, fmt.Errorf("fsm: write index backfill: %w", err)
		}
		return &partitapb.Result{}, nil
	}
	key := directory.IndexCursorKey(op.GetPartition())
	raw, err := engine.Get(b, key)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		return nil, fmt.Errorf("fsm: read index cursor: %w", err)
	}
	cur, err := directory.DecodeIndexCursor(raw)
	if err != nil {
		return nil, err
	}
	if op.GetSeq() <= cur {
		return &partitapb.Result{}, nil
	}
	if err := b.Set(key, binary.BigEndian.AppendUint64(nil, op.GetSeq())); err != nil {
		return nil, fmt.Errorf("fsm: write index cursor: %w", err)
	}
	return &partitapb.Result{}, nil
}
