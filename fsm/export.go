package fsm

import (
	"cmp"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// The export and import records of the meta partition (docs/exports.md):
// an export is created IN_PROGRESS, each of its partitions is recorded as
// written by the node that led it, and the meta partition's leader makes
// it COMPLETED once every partition is. An import is created IN_PROGRESS
// with its table; the meta leader records its progress and its end, which
// makes the table ACTIVE.

// applyPutExport creates an export record (put.create: it must not
// exist) or replaces one that exists, keeping its recorded parts.
func applyPutExport(b *engine.Batch, now int64, put *partitapb.PutExport) (*partitapb.Result, error) {
	e := put.GetExport()
	if e.GetArn() == "" {
		return reject(partitapb.Error_VALIDATION, "export: the ARN is required"), nil
	}
	old, err := directory.ReadExport(b, e.GetArn())
	if err != nil {
		return nil, err
	}
	if put.GetCreate() && put.GetUniqueClientToken() && e.GetClientToken() != "" {
		same, err := exportOfToken(b, now, e.GetClientToken())
		if same != nil || err != nil {
			return &partitapb.Result{Export: same}, err
		}
	}
	switch {
	case put.GetCreate() && old != nil:
		return reject(partitapb.Error_ALREADY_EXISTS, "export %s exists", e.GetArn()), nil
	case !put.GetCreate() && old == nil:
		return reject(partitapb.Error_EXPORT_NOT_FOUND, "Export not found: %s", e.GetArn()), nil
	case !put.GetCreate() && old.GetStatus() != directory.ExportInProgress:
		// An export ends once: a late failure of one node's part does
		// not undo the meta leader's completion (nor the reverse).
		return reject(partitapb.Error_VALIDATION, "export %s is %s", e.GetArn(), old.GetStatus()), nil
	}
	e = proto.Clone(e).(*partitapb.Export)
	if put.GetCreate() {
		e.StartUnixNanos, e.Parts = now, nil
		if e.GetExportUnixNanos() == 0 {
			e.ExportUnixNanos = now
		}
	} else {
		e.Parts = old.GetParts() // the parts are ExportPartDone's
	}
	return &partitapb.Result{Export: e}, writeRecord(b, directory.ExportKey(e.GetArn()), e, directory.EncodeExport)
}

// exportOfToken returns the export made with client token in the
// lifetime of a token before now (nil: none).
func exportOfToken(r engine.Reader, now int64, token string) (*partitapb.Export, error) {
	lo, hi := directory.ExportsSpan()
	it, err := r.NewIter(lo, hi)
	if err != nil {
		return nil, fmt.Errorf("fsm: scan exports: %w", err)
	}
	defer it.Close()
	since := now - int64(directory.ExportTokenLifetime)
	for ok := it.First(); ok; ok = it.Next() {
		e, err := directory.DecodeExport(it.Value())
		if err != nil {
			return nil, fmt.Errorf("fsm: %w", err)
		}
		if e.GetClientToken() == token && e.GetStartUnixNanos() >= since {
			return e, nil
		}
	}
	return nil, nil
}

// applyExportPartDone records a partition of an export in progress as
// written; a partition written twice (a new leader redid it) keeps its
// latest part.
func applyExportPartDone(b *engine.Batch, op *partitapb.ExportPartDone) (*partitapb.Result, error) {
	e, err := directory.ReadExport(b, op.GetArn())
	if err != nil {
		return nil, err
	}
	if e == nil {
		return reject(partitapb.Error_EXPORT_NOT_FOUND, "Export not found: %s", op.GetArn()), nil
	}
	if e.GetStatus() != directory.ExportInProgress {
		return reject(partitapb.Error_VALIDATION, "export %s is %s", op.GetArn(), e.GetStatus()), nil
	}
	part := op.GetPart()
	e.Parts = slices.DeleteFunc(e.Parts, func(p *partitapb.ExportPart) bool { return p.GetPartition() == part.GetPartition() })
	e.Parts = append(e.Parts, part)
	slices.SortFunc(e.Parts, func(x, y *partitapb.ExportPart) int {
		return cmp.Compare(x.GetPartition(), y.GetPartition())
	})
	return &partitapb.Result{Export: e}, writeRecord(b, directory.ExportKey(e.GetArn()), e, directory.EncodeExport)
}

// applyPutImport creates an import record (put.create: it must not
// exist) or replaces one. An import that ends (COMPLETED or FAILED) ends
// its table's import in the same batch: the table turns ACTIVE.
func applyPutImport(b *engine.Batch, now int64, put *partitapb.PutImport) (*partitapb.Result, error) {
	im := put.GetTableImport()
	if im.GetArn() == "" {
		return reject(partitapb.Error_VALIDATION, "import: the ARN is required"), nil
	}
	old, err := directory.ReadImport(b, im.GetArn())
	if err != nil {
		return nil, err
	}
	switch {
	case put.GetCreate() && old != nil:
		return reject(partitapb.Error_ALREADY_EXISTS, "import %s exists", im.GetArn()), nil
	case !put.GetCreate() && old == nil:
		return reject(partitapb.Error_IMPORT_NOT_FOUND, "Import not found: %s", im.GetArn()), nil
	case !put.GetCreate() && old.GetStatus() != directory.ExportInProgress:
		return reject(partitapb.Error_VALIDATION, "import %s is %s", im.GetArn(), old.GetStatus()), nil
	}
	im = proto.Clone(im).(*partitapb.Import)
	if put.GetCreate() {
		im.StartUnixNanos = now
	} else if im.GetStatus() != directory.ExportInProgress {
		im.EndUnixNanos = now
		if err := endTableImport(b, im); err != nil {
			return nil, err
		}
	}
	return &partitapb.Result{TableImport: im}, writeRecord(b, directory.ImportKey(im.GetArn()), im, directory.EncodeImport)
}

// endTableImport marks the table of im, if it is still the one im made,
// as no longer importing.
func endTableImport(b *engine.Batch, im *partitapb.Import) error {
	t, err := directory.ReadTable(b, im.GetTableName())
	if err != nil || t == nil || t.GetImportArn() != im.GetArn() {
		return err
	}
	t.ImportInProgress = false
	return writeTable(b, t)
}
