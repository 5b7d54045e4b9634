package node

import (
	"context"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/partitapb"
)

var _ admin.Exports = ctl{}

// exportAPI returns the node's DynamoDB server and exports, once serving.
func (c ctl) exportAPI() (*dynamo.Server, *exports, error) {
	s := c.n.dynamo.Load()
	if s == nil || c.n.exports == nil {
		return nil, nil, errNoBackups
	}
	return s, c.n.exports, nil
}

// CreateExport implements admin.Exports.
func (c ctl) CreateExport(ctx context.Context, table, bucket, prefix string) (admin.ExportInfo, error) {
	s, _, err := c.exportAPI()
	if err != nil {
		return admin.ExportInfo{}, err
	}
	e, err := s.StartExport(ctx, table, bucket, prefix)
	if err != nil {
		return admin.ExportInfo{}, ctlError(err)
	}
	return exportInfo(e), nil
}

// ListExports implements admin.Exports.
func (c ctl) ListExports(ctx context.Context) ([]admin.ExportInfo, error) {
	_, x, err := c.exportAPI()
	if err != nil {
		return nil, err
	}
	all, err := x.Exports(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.ExportInfo, 0, len(all))
	for _, e := range all {
		out = append(out, exportInfo(e))
	}
	return out, nil
}

// DescribeExport implements admin.Exports.
func (c ctl) DescribeExport(ctx context.Context, arn string) (admin.ExportInfo, error) {
	_, x, err := c.exportAPI()
	if err != nil {
		return admin.ExportInfo{}, err
	}
	e, err := x.Export(ctx, arn)
	if err != nil {
		return admin.ExportInfo{}, err
	}
	return exportInfo(e), nil
}

// ImportExport implements admin.Exports.
func (c ctl) ImportExport(ctx context.Context, arn, table string) (admin.ImportInfo, error) {
	s, _, err := c.exportAPI()
	if err != nil {
		return admin.ImportInfo{}, err
	}
	im, err := s.StartImportOfExport(ctx, arn, table)
	if err != nil {
		return admin.ImportInfo{}, ctlError(err)
	}
	return importInfo(im), nil
}

// ListImports implements admin.Exports.
func (c ctl) ListImports(ctx context.Context) ([]admin.ImportInfo, error) {
	_, x, err := c.exportAPI()
	if err != nil {
		return nil, err
	}
	all, err := x.Imports(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.ImportInfo, 0, len(all))
	for _, im := range all {
		out = append(out, importInfo(im))
	}
	return out, nil
}

// DescribeImport implements admin.Exports.
func (c ctl) DescribeImport(ctx context.Context, arn string) (admin.ImportInfo, error) {
	_, x, err := c.exportAPI()
	if err != nil {
		return admin.ImportInfo{}, err
	}
	im, err := x.Import(ctx, arn)
	if err != nil {
		return admin.ImportInfo{}, err
	}
	return importInfo(im), nil
}

func exportInfo(e *partitapb.Export) admin.ExportInfo {
	return admin.ExportInfo{Arn: e.GetArn(), Table: e.GetTableName(), Status: e.GetStatus(), Bucket: e.GetS3Bucket(),
		Prefix: e.GetS3Prefix(), Partitions: len(e.GetPartitions()), Written: len(e.GetParts()), Items: e.GetItems(),
		Bytes: e.GetBytes(), Manifest: e.GetManifest(), Failure: e.GetFailureMessage(),
		StartUnix: e.GetStartUnixNanos() / 1e9, EndUnix: e.GetEndUnixNanos() / 1e9}
}

func importInfo(im *partitapb.Import) admin.ImportInfo {
	return admin.ImportInfo{Arn: im.GetArn(), Table: im.GetTableName(), Status: im.GetStatus(), Bucket: im.GetS3Bucket(),
		Prefix: im.GetS3KeyPrefix(), Processed: im.GetProcessedItems(), Imported: im.GetImportedItems(), Errors: im.GetErrors(),
		Failure: im.GetFailureMessage(), StartUnix: im.GetStartUnixNanos() / 1e9, EndUnix: im.GetEndUnixNanos() / 1e9}
}
