package directory

import (
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// kindBackup is the record kind of on-demand backups (docs/backups.md).
const kindBackup = "backup"

// Backup statuses, as DynamoDB spells them.
const (
	BackupCreating  = "CREATING"
	BackupAvailable = "AVAILABLE"
	BackupDeleted   = "DELETED"
)

// BackupKey is the key of the record of the backup with arn.
func BackupKey(arn string) []byte { return engine.MetaKey(kindBackup, arn) }

// BackupsSpan is the span of every backup record.
func BackupsSpan() (lo, hi []byte) { return engine.MetaSpan(kindBackup) }

// EncodeBackup encodes a backup record.
func EncodeBackup(b *partitapb.Backup) ([]byte, error) { return encode("backup", b) }

// DecodeBackup decodes a backup record.
func DecodeBackup(raw []byte) (*partitapb.Backup, error) {
	return decode(raw, &partitapb.Backup{}, "backup")
}

// ReadBackup returns the record of the backup with arn, or nil.
func ReadBackup(r engine.Reader, arn string) (*partitapb.Backup, error) {
	return read(r, BackupKey(arn), DecodeBackup)
}
