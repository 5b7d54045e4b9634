package dynamo

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// ImportTable, DescribeImport and ListImports (docs/exports.md): a new
// table, CREATING until the node has written the items of every object
// under the source prefix (DYNAMODB_JSON lines, gzipped or not) into it.

type s3BucketSource struct {
	S3Bucket      *string `json:"S3Bucket"`
	S3BucketOwner *string `json:"S3BucketOwner,omitempty"`
	S3KeyPrefix   *string `json:"S3KeyPrefix,omitempty"`
}

// tableCreationParameters is ImportTable's TableCreationParameters.
type tableCreationParameters struct {
	TableName              *string                `json:"TableName"`
	AttributeDefinitions   []attributeDefinition  `json:"AttributeDefinitions"`
	KeySchema              []keySchemaElement     `json:"KeySchema"`
	BillingMode            *string                `json:"BillingMode,omitempty"`
	ProvisionedThroughput  *provisionedThroughput `json:"ProvisionedThroughput,omitempty"`
	GlobalSecondaryIndexes []globalIndexRequest   `json:"GlobalSecondaryIndexes,omitempty"`
	SSESpecification       any                    `json:"SSESpecification,omitempty"`
	OnDemandThroughput     any                    `json:"OnDemandThroughput,omitempty"`
}

type importTableRequest struct {
	ClientToken             *string                  `json:"ClientToken"`
	S3BucketSource          *s3BucketSource          `json:"S3BucketSource"`
	InputFormat             *string                  `json:"InputFormat"`
	InputFormatOptions      any                      `json:"InputFormatOptions"`
	InputCompressionType    *string                  `json:"InputCompressionType"`
	TableCreationParameters *tableCreationParameters `json:"TableCreationParameters"`
}

// importDescription is DynamoDB's ImportTableDescription.
type importDescription struct {
	ImportArn               string                   `json:"ImportArn"`
	ImportStatus            string                   `json:"ImportStatus"`
	TableArn                string                   `json:"TableArn"`
	TableId                 string                   `json:"TableId"`
	ClientToken             string                   `json:"ClientToken,omitempty"`
	S3BucketSource          s3BucketSource           `json:"S3BucketSource"`
	ErrorCount              int64                    `json:"ErrorCount"`
	InputFormat             string                   `json:"InputFormat"`
	InputCompressionType    string                   `json:"InputCompressionType"`
	TableCreationParameters *tableCreationParameters `json:"TableCreationParameters"`
	StartTime               float64                  `json:"StartTime"`
	EndTime                 *float64                 `json:"EndTime,omitempty"`
	ProcessedSizeBytes      int64                    `json:"ProcessedSizeBytes"`
	ProcessedItemCount      int64                    `json:"ProcessedItemCount"`
	ImportedItemCount       int64                    `json:"ImportedItemCount"`
	FailureCode             string                   `json:"FailureCode,omitempty"`
	FailureMessage          string                   `json:"FailureMessage,omitempty"`
}

type importDescriptionResponse struct {
	ImportTableDescription importDescription `json:"ImportTableDescription"`
}

// checkImportRequest checks the members of an ImportTable request.
func checkImportRequest(req *importTableRequest) error {
	var v violations
	v.clientToken(req.ClientToken)
	v.notNull(req.S3BucketSource != nil, "s3BucketSource")
	if src := req.S3BucketSource; src != nil {
		v.notNull(src.S3Bucket != nil, "s3BucketSource.s3Bucket")
		v.length(src.S3Bucket, "s3BucketSource.s3Bucket", 0, 255)
		if src.S3Bucket != nil && !s3BucketRE.MatchString(*src.S3Bucket) {
			v.add(src.S3Bucket, "s3BucketSource.s3Bucket", "Member must satisfy regular expression pattern: "+s3BucketPattern)
		}
		v.length(src.S3KeyPrefix, "s3BucketSource.s3KeyPrefix", 0, 1024)
	}
	v.notNull(req.InputFormat != nil, "inputFormat")
	v.enum(req.InputFormat, "inputFormat", "DYNAMODB_JSON", "ION", "CSV")
	v.enum(req.InputCompressionType, "inputCompressionType", "GZIP", "ZSTD", "NONE")
	v.notNull(req.TableCreationParameters != nil, "tableCreationParameters")
	if err := v.err(); err != nil {
		return err
	}
	switch {
	case *req.InputFormat != exportFormatDynamoJSON:
		return validationf("InputFormat %s is not supported: only DYNAMODB_JSON", *req.InputFormat)
	case str(req.InputCompressionType) == "ZSTD":
		return validationf("InputCompressionType ZSTD is not supported: only GZIP and NONE")
	case req.InputFormatOptions != nil:
		return validationf("InputFormatOptions are only valid with InputFormat CSV")
	}
	return nil
}

func (s *Server) handleImportTable(ctx context.Context, r *request) (any, error) {
	var req importTableRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := checkImportRequest(&req); err != nil {
		return nil, err
	}
	p := req.TableCreationParameters
	ct := &createTableRequest{TableName: p.TableName, AttributeDefinitions: p.AttributeDefinitions, KeySchema: p.KeySchema,
		BillingMode: p.BillingMode, ProvisionedThroughput: p.ProvisionedThroughput, GlobalSecondaryIndexes: p.GlobalSecondaryIndexes}
	if err := s.checkCreateTable(ct); err != nil {
		return nil, err
	}
	es, err := s.exports()
	if err != nil {
		return nil, err
	}
	im := s.newImportRecord(&req, s.newTableRecord(ct))
	if req.ClientToken != nil {
		if same, err := s.importOfToken(ctx, es, im); same != nil || err != nil {
			return importResponse(s, same), err
		}
	}
	name := im.GetTableName()
	im, err = es.CreateImport(ctx, im)
	if isDomainCode(err, partitapb.Error_TABLE_IN_USE) {
		return nil, newError(kindResourceInUse, "Table already exists: %s", name)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: import table: %w", err)
	}
	return importResponse(s, im), nil
}

// importResponse answers im (nil: nothing).
func importResponse(s *Server, im *partitapb.Import) any {
	if im == nil {
		return nil
	}
	return &importDescriptionResponse{ImportTableDescription: s.describeImport(im)}
}

// newImportRecord is the record of an import into the new table t, whose
// ARN is the table's followed by /import/, milliseconds and a suffix.
func (s *Server) newImportRecord(req *importTableRequest, t *partitapb.Table) *partitapb.Import {
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	id := fmt.Sprintf("%014d-%s", s.cfg.Now().UnixMilli(), hex.EncodeToString(suffix[:]))
	arn := s.tableARN(t.GetName()) + "/import/" + id
	t.ImportArn, t.ImportInProgress = arn, true
	return &partitapb.Import{
		Arn: arn, Status: directory.ExportInProgress, TableName: t.GetName(), TableArn: s.tableARN(t.GetName()),
		ClientToken: str(req.ClientToken), S3Bucket: *req.S3BucketSource.S3Bucket,
		S3KeyPrefix: str(req.S3BucketSource.S3KeyPrefix), S3BucketOwner: str(req.S3BucketSource.S3BucketOwner),
		InputFormat: *req.InputFormat, InputCompressionType: cmp.Or(str(req.InputCompressionType), "NONE"),
		Table: t,
	}
}

// importOfToken finds the import made with im's client token in the last
// 8 hours: the same request is answered with it, another one with an
// ImportConflictException.
func (s *Server) importOfToken(ctx context.Context, es Exports, im *partitapb.Import) (*partitapb.Import, error) {
	all, err := es.Imports(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: list imports: %w", err)
	}
	since := s.cfg.Now().Add(-exportTokenLifetime).UnixNano()
	for _, old := range all {
		if old.GetClientToken() != im.GetClientToken() || old.GetStartUnixNanos() < since {
			continue
		}
		if old.GetTableName() != im.GetTableName() || old.GetS3Bucket() != im.GetS3Bucket() ||
			old.GetS3KeyPrefix() != im.GetS3KeyPrefix() || old.GetInputFormat() != im.GetInputFormat() ||
			old.GetInputCompressionType() != im.GetInputCompressionType() {
			return nil, newError(kindImportConflict, "The ClientToken %s was used by import %s with other parameters",
				im.GetClientToken(), old.GetArn())
		}
		return old, nil
	}
	return nil, nil
}

func (s *Server) describeImport(im *partitapb.Import) importDescription {
	t := im.GetTable()
	ct := createRequestOf(t)
	params := &tableCreationParameters{TableName: refOf(t.GetName()), AttributeDefinitions: ct.AttributeDefinitions,
		KeySchema: ct.KeySchema, BillingMode: ct.BillingMode, ProvisionedThroughput: ct.ProvisionedThroughput,
		GlobalSecondaryIndexes: ct.GlobalSecondaryIndexes}
	src := s3BucketSource{S3Bucket: refOf(im.GetS3Bucket())}
	if im.GetS3KeyPrefix() != "" {
		src.S3KeyPrefix = refOf(im.GetS3KeyPrefix())
	}
	if im.GetS3BucketOwner() != "" {
		src.S3BucketOwner = refOf(im.GetS3BucketOwner())
	}
	return importDescription{
		ImportArn: im.GetArn(), ImportStatus: im.GetStatus(), TableArn: im.GetTableArn(), TableId: tableID(t),
		ClientToken: im.GetClientToken(), S3BucketSource: src, ErrorCount: im.GetErrors(),
		InputFormat: im.GetInputFormat(), InputCompressionType: im.GetInputCompressionType(),
		TableCreationParameters: params, StartTime: epochSeconds(im.GetStartUnixNanos()),
		EndTime: optionalTime(im.GetEndUnixNanos()), ProcessedSizeBytes: im.GetProcessedBytes(),
		ProcessedItemCount: im.GetProcessedItems(), ImportedItemCount: im.GetImportedItems(),
		FailureCode: im.GetFailureCode(), FailureMessage: im.GetFailureMessage(),
	}
}

type importArnRequest struct {
	ImportArn *string `json:"ImportArn"`
}

func (s *Server) handleDescribeImport(ctx context.Context, r *request) (any, error) {
	var req importArnRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.notNull(req.ImportArn != nil, "importArn")
	v.length(req.ImportArn, "importArn", 37, 1024)
	if err := v.err(); err != nil {
		return nil, err
	}
	es, err := s.exports()
	if err != nil {
		return nil, err
	}
	im, err := es.Import(ctx, *req.ImportArn)
	if isDomainCode(err, partitapb.Error_IMPORT_NOT_FOUND) {
		return nil, newError(kindImportNotFound, "Import not found: %s", *req.ImportArn)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: describe import: %w", err)
	}
	return importResponse(s, im), nil
}

type listImportsRequest struct {
	TableArn  *string `json:"TableArn"`
	PageSize  *int64  `json:"PageSize"`
	NextToken *string `json:"NextToken"`
}

type importSummary struct {
	ImportArn      string         `json:"ImportArn"`
	ImportStatus   string         `json:"ImportStatus"`
	TableArn       string         `json:"TableArn"`
	S3BucketSource s3BucketSource `json:"S3BucketSource"`
	InputFormat    string         `json:"InputFormat"`
	StartTime      float64        `json:"StartTime"`
	EndTime        *float64       `json:"EndTime,omitempty"`
}

type listImportsResponse struct {
	ImportSummaryList []importSummary `json:"ImportSummaryList"`
	NextToken         *string         `json:"NextToken,omitempty"`
}

func (s *Server) handleListImports(ctx context.Context, r *request) (any, error) {
	var req listImportsRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.length(req.TableArn, "tableArn", 1, 1024)
	v.pageSize(req.PageSize, "pageSize", maxListExports)
	if err := v.err(); err != nil {
		return nil, err
	}
	es, err := s.exports()
	if err != nil {
		return nil, err
	}
	all, err := es.Imports(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: list imports: %w", err)
	}
	slices.SortFunc(all, func(a, b *partitapb.Import) int {
		return cmp.Or(cmp.Compare(a.GetStartUnixNanos(), b.GetStartUnixNanos()), strings.Compare(a.GetArn(), b.GetArn()))
	})
	out := &listImportsResponse{ImportSummaryList: []importSummary{}}
	var arns []string
	for _, im := range all {
		if req.TableArn != nil && *req.TableArn != im.GetTableArn() {
			continue
		}
		d := s.describeImport(im)
		arns = append(arns, im.GetArn())
		out.ImportSummaryList = append(out.ImportSummaryList, importSummary{ImportArn: d.ImportArn, ImportStatus: d.ImportStatus,
			TableArn: d.TableArn, S3BucketSource: d.S3BucketSource, InputFormat: d.InputFormat, StartTime: d.StartTime, EndTime: d.EndTime})
	}
	out.ImportSummaryList, out.NextToken, err = pageOf(out.ImportSummaryList, arns, req.NextToken, req.PageSize, maxListExports)
	return out, err
}

// StartExport is ExportTableToPointInTime for an operator (partita ctl
// export create): table exported now to bucket, under prefix.
func (s *Server) StartExport(ctx context.Context, table, bucket, prefix string) (*partitapb.Export, error) {
	req := exportTableRequest{TableArn: refOf(s.tableARN(s.resolveTableName(table))), S3Bucket: &bucket}
	if prefix != "" {
		req.S3Prefix = &prefix
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	res, err := s.handleExportTableToPointInTime(ctx, &request{body: body})
	if err != nil {
		return nil, err
	}
	return s.cfg.Exports.Export(ctx, res.(*exportDescriptionResponse).ExportDescription.ExportArn)
}

// StartImportOfExport is ImportTable for an operator (partita ctl import
// create): the data files of the completed export arn imported into a new
// table with the exported table's key schema, billing and global indexes.
func (s *Server) StartImportOfExport(ctx context.Context, arn, table string) (*partitapb.Import, error) {
	es, err := s.exports()
	if err != nil {
		return nil, err
	}
	e, err := es.Export(ctx, arn)
	if isDomainCode(err, partitapb.Error_EXPORT_NOT_FOUND) {
		return nil, newError(kindExportNotFound, "Export not found: %s", arn)
	}
	if err != nil {
		return nil, err
	}
	if e.GetStatus() != directory.ExportCompleted {
		return nil, validationf("Export %s is %s, not COMPLETED", arn, e.GetStatus())
	}
	ct := createRequestOf(e.GetTable())
	ct.LocalSecondaryIndexes = nil // ImportTable makes none
	ct.AttributeDefinitions = usedDefinitions(ct)
	prefix := strings.TrimSuffix(e.GetManifest(), "manifest-summary.json") + "data/"
	req := importTableRequest{
		S3BucketSource: &s3BucketSource{S3Bucket: refOf(e.GetS3Bucket()), S3KeyPrefix: &prefix},
		InputFormat:    refOf(exportFormatDynamoJSON), InputCompressionType: refOf("GZIP"),
		TableCreationParameters: &tableCreationParameters{TableName: &table, AttributeDefinitions: ct.AttributeDefinitions,
			KeySchema: ct.KeySchema, BillingMode: ct.BillingMode, ProvisionedThroughput: ct.ProvisionedThroughput,
			GlobalSecondaryIndexes: ct.GlobalSecondaryIndexes},
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	res, err := s.handleImportTable(ctx, &request{body: body})
	if err != nil {
		return nil, err
	}
	return es.Import(ctx, res.(*importDescriptionResponse).ImportTableDescription.ImportArn)
}
