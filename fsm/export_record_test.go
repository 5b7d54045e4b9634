package fsm_test

import (
	"testing"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// TestExportRecords: an export is created once, its parts are recorded
// (a partition written again keeps its latest part), it ends once, and
// the end of an import ends its table's import in the same write.
func TestExportRecords(t *testing.T) {
	eng := openEngine(t)
	const arn = "arn:aws:dynamodb:us-east-1:000000000000:table/t/export/1-a"
	meta := func(cmd *partitapb.Command) *partitapb.Result {
		return apply(t, eng, directory.MetaPartition, cmd)
	}
	put := func(e *partitapb.Export, create bool) *partitapb.Result {
		return meta(&partitapb.Command{UnixNanos: 7, Op: &partitapb.Command_PutExport{PutExport: &partitapb.PutExport{Export: e, Create: create}}})
	}
	done := func(p, applied uint64) *partitapb.Result {
		return meta(&partitapb.Command{Op: &partitapb.Command_ExportPartDone{ExportPartDone: &partitapb.ExportPartDone{
			Arn: arn, Part: &partitapb.ExportPart{Partition: p, AppliedIndex: applied}}}})
	}
	e := &partitapb.Export{Arn: arn, Status: directory.ExportInProgress, Partitions: []uint64{3, 2}}
	if res := put(e, true); res.GetError() != nil || res.GetExport().GetStartUnixNanos() != 7 || res.GetExport().GetExportUnixNanos() != 7 {
		t.Fatalf("create: %v", res)
	}
	if res := put(e, true); res.GetError().GetCode() != partitapb.Error_ALREADY_EXISTS {
		t.Fatalf("a second create: %v", res)
	}
	done(3, 10)
	done(2, 5)
	res := done(3, 12)
	if parts := res.GetExport().GetParts(); len(parts) != 2 || parts[0].GetPartition() != 2 || parts[1].GetAppliedIndex() != 12 {
		t.Fatalf("parts: %v", parts)
	}
	e.Status = directory.ExportCompleted
	if res := put(e, false); res.GetError() != nil || len(res.GetExport().GetParts()) != 2 {
		t.Fatalf("complete: %v", res)
	}
	e.Status = directory.ExportFailed
	if res := put(e, false); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("fail a completed export: %v", res)
	}
	if res := done(2, 6); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("a part of a completed export: %v", res)
	}
	if got, err := directory.ReadExport(eng.Reader(), arn); err != nil || got.GetStatus() != directory.ExportCompleted {
		t.Fatalf("the record: %v %v", got, err)
	}

	const imp = "arn:aws:dynamodb:us-east-1:000000000000:table/copy/import/1-a"
	importing := &partitapb.Table{Id: 9, Name: "copy", Status: directory.Active.String(), ImportArn: imp, ImportInProgress: true,
		KeySchema: []*partitapb.KeyElement{{AttributeName: "pk", KeyType: "HASH"}}}
	if res := meta(&partitapb.Command{Op: &partitapb.Command_CreateTable{CreateTable: &partitapb.CreateTable{Table: importing, PartitionCount: 1}}}); res.GetError() != nil {
		t.Fatalf("create the imported table: %v", res)
	}
	putImport := func(im *partitapb.Import, create bool) *partitapb.Result {
		return meta(&partitapb.Command{UnixNanos: 8, Op: &partitapb.Command_PutImport{PutImport: &partitapb.PutImport{TableImport: im, Create: create}}})
	}
	im := &partitapb.Import{Arn: imp, Status: directory.ExportInProgress, TableName: "copy"}
	if res := putImport(im, true); res.GetError() != nil || res.GetTableImport().GetStartUnixNanos() != 8 {
		t.Fatalf("create the import: %v", res)
	}
	im.ProcessedItems = 5
	if res := putImport(im, false); res.GetError() != nil || res.GetTableImport().GetEndUnixNanos() != 0 {
		t.Fatalf("progress: %v", res)
	}
	if tb, err := directory.ReadTable(eng.Reader(), "copy"); err != nil || !tb.GetImportInProgress() {
		t.Fatalf("the table during its import: %v %v", tb, err)
	}
	im.Status = directory.ExportCompleted
	if res := putImport(im, false); res.GetError() != nil || res.GetTableImport().GetEndUnixNanos() != 8 {
		t.Fatalf("end: %v", res)
	}
	if tb, err := directory.ReadTable(eng.Reader(), "copy"); err != nil || tb.GetImportInProgress() || tb.GetImportArn() != imp {
		t.Fatalf("the table after its import: %v %v", tb, err)
	}
	if res := putImport(im, false); res.GetError().GetCode() != partitapb.Error_VALIDATION {
		t.Fatalf("an import ended twice: %v", res)
	}
}

// TestExportClientTokenOnce: with unique_client_token, a create whose
// client token made an export within the token's lifetime creates
// nothing and answers that export; past the lifetime it creates.
func TestExportClientTokenOnce(t *testing.T) {
	eng := openEngine(t)
	create := func(at int64, arn, token string) *partitapb.Result {
		return apply(t, eng, directory.MetaPartition, &partitapb.Command{UnixNanos: at, Op: &partitapb.Command_PutExport{PutExport: &partitapb.PutExport{
			Export: &partitapb.Export{Arn: arn, ClientToken: token, Status: directory.ExportInProgress}, Create: true, UniqueClientToken: true}}})
	}
	if res := create(1, "e1", "tok"); res.GetError() != nil || res.GetExport().GetArn() != "e1" {
		t.Fatalf("first: %v", res)
	}
	if res := create(2, "e2", "tok"); res.GetError() != nil || res.GetExport().GetArn() != "e1" {
		t.Fatalf("same token: %v, want e1", res)
	}
	if got, err := directory.ReadExport(eng.Reader(), "e2"); err != nil || got != nil {
		t.Fatalf("e2 was written: %v %v", got, err)
	}
	if res := create(3, "e3", "other"); res.GetExport().GetArn() != "e3" {
		t.Fatalf("another token: %v", res)
	}
	late := 1 + int64(directory.ExportTokenLifetime) + 1
	if res := create(late, "e4", "tok"); res.GetError() != nil || res.GetExport().GetArn() != "e4" {
		t.Fatalf("the token past its lifetime: %v, want e4", res)
	}
}
