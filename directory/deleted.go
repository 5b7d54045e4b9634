package directory

import (
	"strconv"
	"strings"

	"github.com/partitadb/partita/partitapb"
)

// deletedSep separates a deleted table's name from its id in the hidden
// name of the record kept for its streams. A NUL never appears in a name
// the API accepts, so no request can name the record.
const deletedSep = "\x00deleted\x00"

// DeletedTableName is the directory name of the record kept, after
// DeleteTable, for the streams of the table name whose id was id
// (Table.deleted_unix_nanos set): two tables of one name deleted in turn
// keep two records.
func DeletedTableName(name string, id uint64) string {
	return name + deletedSep + strconv.FormatUint(id, 10)
}

// DeletedTableOf returns the API name of the deleted table a record kept
// for its streams is named for, and false for any other name.
func DeletedTableOf(hidden string) (string, bool) {
	name, _, ok := strings.Cut(hidden, deletedSep)
	return name, ok
}

// IsDeleted says t is the record of a deleted table kept for its streams:
// no table of the API, no item reads or writes, no index maintenance.
func IsDeleted(t *partitapb.Table) bool { return t.GetDeletedUnixNanos() != 0 }

// KeepsStreams says a DeleteTable that may keep streams
// (Command.keep_deleted_streams) keeps t's record: t has a stream,
// enabled or disabled and still listed. The record of a global index
// (which has no stream) is never kept.
func KeepsStreams(t *partitapb.Table) bool {
	return t.GetIndexBase() == "" && (t.GetStream() != nil || len(t.GetPastStreams()) > 0)
}
