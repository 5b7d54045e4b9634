package directory

import (
	"encoding/binary"
	"fmt"

	"github.com/partitadb/partita/engine"
)

// kindIndexCursor is the record kind of the change log cursors of global
// secondary index maintenance (docs/indexes.md).
const kindIndexCursor = "ixcursor"

// IndexCursorKey is the key of the index cursor of base partition p: the
// last sequence of p's change log applied to its table's indexes.
func IndexCursorKey(p uint64) []byte {
	return engine.MetaKey(kindIndexCursor, string(binary.BigEndian.AppendUint64(nil, p)))
}

// DecodeIndexCursor decodes an index cursor record (nil: 0).
func DecodeIndexCursor(raw []byte) (uint64, error) {
	if raw == nil {
		return 0, nil
	}
	if len(raw) != 8 {
		return 0, fmt.Errorf("directory: index cursor record is corrupt (%d bytes)", len(raw))
	}
	return binary.BigEndian.Uint64(raw), nil
}

// IndexTableName is the directory name of the hidden table that holds the
// entries of index of table base. A NUL never appears in a name the API
// accepts, so no request can name it.
func IndexTableName(base, index string) string { return base + "\x00gsi\x00" + index }

// kindIndexBackfill is the record kind saying a base partition's items
// were all written to a new index.
const kindIndexBackfill = "ixbackfill"

// IndexBackfillKey is the key of the record saying base partition p was
// backfilled into the index whose hidden table is named table.
func IndexBackfillKey(p uint64, table string) []byte {
	return engine.MetaKey(kindIndexBackfill, string(binary.BigEndian.AppendUint64(nil, p))+table)
}
