package directory

import (
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The record kinds of table exports and imports (docs/exports.md).
const (
	kindExport = "export"
	kindImport = "import"
)

// Export and import statuses, as DynamoDB spells them.
const (
	ExportInProgress = "IN_PROGRESS"
	ExportCompleted  = "COMPLETED"
	ExportFailed     = "FAILED"
)

// ExportTokenLifetime is how long an export's ClientToken names it, as
// in DynamoDB.
const ExportTokenLifetime = 8 * time.Hour

// ExportKey is the key of the record of the export with arn.
func ExportKey(arn string) []byte { return engine.MetaKey(kindExport, arn) }

// ExportsSpan is the span of every export record.
func ExportsSpan() (lo, hi []byte) { return engine.MetaSpan(kindExport) }

// EncodeExport encodes an export record.
func EncodeExport(e *partitapb.Export) ([]byte, error) { return encode("export", e) }

// DecodeExport decodes an export record.
func DecodeExport(raw []byte) (*partitapb.Export, error) {
	return decode(raw, &partitapb.Export{}, "export")
}

// ReadExport returns the record of the export with arn, or nil.
func ReadExport(r engine.Reader, arn string) (*partitapb.Export, error) {
	return read(r, ExportKey(arn), DecodeExport)
}

// ImportKey is the key of the record of the import with arn.
func ImportKey(arn string) []byte { return engine.MetaKey(kindImport, arn) }

// ImportsSpan is the span of every import record.
func ImportsSpan() (lo, hi []byte) { return engine.MetaSpan(kindImport) }

// EncodeImport encodes an import record.
func EncodeImport(i *partitapb.Import) ([]byte, error) { return encode("import", i) }

// DecodeImport decodes an import record.
func DecodeImport(raw []byte) (*partitapb.Import, error) {
	return decode(raw, &partitapb.Import{}, "import")
}

// ReadImport returns the record of the import with arn, or nil.
func ReadImport(r engine.Reader, arn string) (*partitapb.Import, error) {
	return read(r, ImportKey(arn), DecodeImport)
}
