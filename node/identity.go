package node

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/partitadb/partita/engine"
)

// identityKey holds this node's id in its own engine (partition 0 is no
// partition: its local keys belong to the node).
var identityKey = engine.LocalKey(0, "node-id")

// loadIdentity returns the node id stored in eng, or 0 for a new node.
func loadIdentity(eng *engine.Engine) (uint64, error) {
	raw, err := eng.Get(identityKey)
	if errors.Is(err, engine.ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(raw) != 8 {
		return 0, fmt.Errorf("node: read identity: %w", err)
	}
	return binary.BigEndian.Uint64(raw), nil
}

// saveIdentity stores the node id durably.
func saveIdentity(eng *engine.Engine, id uint64) error {
	b := eng.NewIndexedBatch()
	if err := b.Set(identityKey, binary.BigEndian.AppendUint64(nil, id)); err != nil {
		b.Close()
		return fmt.Errorf("node: write identity: %w", err)
	}
	return eng.Commit(b)
}
