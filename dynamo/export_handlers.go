package dynamo

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/partitapb"
)

// Table exports (docs/exports.md): ExportTableToPointInTime, DescribeExport
// and ListExports. The wire layer checks requests and shapes answers;
// Config.Exports keeps the records and moves the data.

// Exports is what the export and import operations need below the wire
// layer. The node implements it; its job writes each partition of an
// export in progress to the export's bucket, and the items of an import
// into its table. Methods are safe for concurrent use; domain errors are
// *partitapb.Error values.
type Exports interface {
	// CreateExport records e (IN_PROGRESS) and starts writing it.
	CreateExport(ctx context.Context, e *partitapb.Export) (*partitapb.Export, error)
	// Export returns the export with arn, or an EXPORT_NOT_FOUND error.
	Export(ctx context.Context, arn string) (*partitapb.Export, error)
	// Exports lists every export record.
	Exports(ctx context.Context) ([]*partitapb.Export, error)
	// CreateImport creates im's table (im.Table, importing) and records
	// im (IN_PROGRESS), and starts writing its items.
	CreateImport(ctx context.Context, im *partitapb.Import) (*partitapb.Import, error)
	// Import returns the import with arn, or an IMPORT_NOT_FOUND error.
	Import(ctx context.Context, arn string) (*partitapb.Import, error)
	// Imports lists every import record.
	Imports(ctx context.Context) ([]*partitapb.Import, error)
}

// The export and import errors, as DynamoDB sends them.
var (
	kindExportNotFound    = errKind{nsDynamo + "ExportNotFoundException", http.StatusBadRequest, "message"}
	kindExportConflict    = errKind{nsDynamo + "ExportConflictException", http.StatusBadRequest, "message"}
	kindInvalidExportTime = errKind{nsDynamo + "InvalidExportTimeException", http.StatusBadRequest, "message"}
	kindImportNotFound    = errKind{nsDynamo + "ImportNotFoundException", http.StatusBadRequest, "message"}
	kindImportConflict    = errKind{nsDynamo + "ImportConflictException", http.StatusBadRequest, "message"}

	s3BucketRE    = regexp.MustCompile(s3BucketPattern)
	clientTokenRE = regexp.MustCompile(clientTokenPattern)
)

const (
	// exportTokenLifetime is how long a ClientToken names its export.
	exportTokenLifetime = directory.ExportTokenLifetime
	// exportTimeSlack is how far from the request's time an ExportTime
	// may be and still mean "now" (clocks differ).
	exportTimeSlack        = time.Second
	maxListExports         = 25
	s3BucketPattern        = `^[a-z0-9A-Z]+[\.\-\w]*[a-z0-9A-Z]+$`
	clientTokenPattern     = `^[^\$]+$`
	exportFormatDynamoJSON = "DYNAMODB_JSON"
)

type exportTableRequest struct {
	TableArn                       *string  `json:"TableArn"`
	ExportTime                     *float64 `json:"ExportTime"`
	ClientToken                    *string  `json:"ClientToken"`
	S3Bucket                       *string  `json:"S3Bucket"`
	S3BucketOwner                  *string  `json:"S3BucketOwner"`
	S3Prefix                       *string  `json:"S3Prefix"`
	S3SseAlgorithm                 *string  `json:"S3SseAlgorithm"`
	S3SseKmsKeyId                  *string  `json:"S3SseKmsKeyId"`
	ExportFormat                   *string  `json:"ExportFormat"`
	ExportType                     *string  `json:"ExportType"`
	IncrementalExportSpecification any      `json:"IncrementalExportSpecification"`
}

// exportDescription is DynamoDB's ExportDescription.
type exportDescription struct {
	ExportArn       string   `json:"ExportArn"`
	ExportStatus    string   `json:"ExportStatus"`
	StartTime       float64  `json:"StartTime"`
	EndTime         *float64 `json:"EndTime,omitempty"`
	ExportManifest  string   `json:"ExportManifest,omitempty"`
	TableArn        string   `json:"TableArn"`
	TableId         string   `json:"TableId"`
	ExportTime      float64  `json:"ExportTime"`
	ClientToken     string   `json:"ClientToken,omitempty"`
	S3Bucket        string   `json:"S3Bucket"`
	S3BucketOwner   string   `json:"S3BucketOwner,omitempty"`
	S3Prefix        string   `json:"S3Prefix,omitempty"`
	S3SseAlgorithm  string   `json:"S3SseAlgorithm,omitempty"`
	S3SseKmsKeyId   string   `json:"S3SseKmsKeyId,omitempty"`
	FailureCode     string   `json:"FailureCode,omitempty"`
	FailureMessage  string   `json:"FailureMessage,omitempty"`
	ExportFormat    string   `json:"ExportFormat"`
	BilledSizeBytes *int64   `json:"BilledSizeBytes,omitempty"`
	ItemCount       *int64   `json:"ItemCount,omitempty"`
	ExportType      string   `json:"ExportType"`
}

type exportDescriptionResponse struct {
	ExportDescription exportDescription `json:"ExportDescription"`
}

// exports returns Config.Exports, or an error when the node has none.
func (s *Server) exports() (Exports, error) {
	if s.cfg.Exports == nil {
		return nil, validationf("Exports and imports are not available on this node")
	}
	return s.cfg.Exports, nil
}

// checkExportRequest checks the members of an export request.
func checkExportRequest(req *exportTableRequest) error {
	var v violations
	v.notNull(req.TableArn != nil, "tableArn")
	v.length(req.TableArn, "tableArn", 1, 1024)
	v.notNull(req.S3Bucket != nil, "s3Bucket")
	v.length(req.S3Bucket, "s3Bucket", 0, 255)
	if req.S3Bucket != nil && !s3BucketRE.MatchString(*req.S3Bucket) {
		v.add(req.S3Bucket, "s3Bucket", "Member must satisfy regular expression pattern: "+s3BucketPattern)
	}
	v.length(req.S3BucketOwner, "s3BucketOwner", 12, 12)
	v.length(req.S3Prefix, "s3Prefix", 0, 1024)
	v.enum(req.S3SseAlgorithm, "s3SseAlgorithm", "AES256", "KMS")
	v.length(req.S3SseKmsKeyId, "s3SseKmsKeyId", 1, 2048)
	v.enum(req.ExportFormat, "exportFormat", "DYNAMODB_JSON", "ION")
	v.enum(req.ExportType, "exportType", "FULL_EXPORT", "INCREMENTAL_EXPORT")
	v.clientToken(req.ClientToken)
	if err := v.err(); err != nil {
		return err
	}
	switch {
	case req.ExportFormat != nil && *req.ExportFormat != exportFormatDynamoJSON:
		return validationf("ExportFormat %s is not supported: only DYNAMODB_JSON", *req.ExportFormat)
	case req.ExportType != nil && *req.ExportType != "FULL_EXPORT":
		return validationf("ExportType %s is not supported: only FULL_EXPORT", *req.ExportType)
	case req.IncrementalExportSpecification != nil && (req.ExportType == nil || *req.ExportType == "FULL_EXPORT"):
		return validationf("IncrementalExportSpecification is only valid with ExportType INCREMENTAL_EXPORT")
	}
	return nil
}

// clientToken checks a ClientToken parameter (nil passes).
func (v *violations) clientToken(tok *string) {
	if tok != nil && !clientTokenRE.MatchString(*tok) {
		v.add(tok, "clientToken", "Member must satisfy regular expression pattern: "+clientTokenPattern)
	}
}

func (s *Server) handleExportTableToPointInTime(ctx context.Context, r *request) (any, error) {
	var req exportTableRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	if err := checkExportRequest(&req); err != nil {
		return nil, err
	}
	es, err := s.exports()
	if err != nil {
		return nil, err
	}
	name, ok := s.tableNameFromARN(*req.TableArn)
	if !ok {
		return nil, newError(kindTableNotFound, "Table not found: %s", *req.TableArn)
	}
	t, err := s.lookupTable(ctx, name, true)
	if isNotFound(err) {
		return nil, newError(kindTableNotFound, "Table not found: %s", name)
	}
	if err != nil {
		return nil, err
	}
	at, past, err := s.exportTime(req.ExportTime, t)
	if err != nil {
		return nil, err
	}
	e := s.newExportRecord(&req, t, at)
	e.PointInTime = past
	if req.ClientToken != nil {
		if same, err := s.exportOfToken(ctx, es, e); same != nil || err != nil {
			return exportResponse(s, same), err
		}
	}
	made, err := es.CreateExport(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("dynamo: create export: %w", err)
	}
	if made.GetArn() != e.GetArn() {
		// Another call with the token created its export first.
		if !sameExportRequest(made, e) {
			return nil, exportConflict(made, e)
		}
	}
	return exportResponse(s, made), nil
}

// exportResponse answers e (nil: nothing).
func exportResponse(s *Server, e *partitapb.Export) any {
	if e == nil {
		return nil
	}
	return &exportDescriptionResponse{ExportDescription: s.describeExport(e)}
}

// exportTime checks an ExportTime parameter and returns the time to
// export as of, and whether it is past: the request's time when absent
// or within a few seconds of it; a past time within t's point-in-time
// recovery window (the partitions are then read from the change log); a
// time in the future, or a past one without that window, is refused.
func (s *Server) exportTime(param *float64, t *partitapb.Table) (at time.Time, past bool, err error) {
	now := s.cfg.Now()
	if param == nil {
		return now, false, nil
	}
	at = time.UnixMilli(int64(*param * 1000))
	switch {
	case at.After(now.Add(exportTimeSlack)):
		return time.Time{}, false, newError(kindInvalidExportTime, "Export time %s is in the future", at.UTC().Format(time.RFC3339))
	case !at.Before(now.Add(-exportTimeSlack)):
		return now, false, nil
	}
	// A past time is read from the change log, as a restore to a point
	// in time is: the table must have point-in-time recovery, and the
	// time be in its window.
	if t.GetPointInTimeRecovery() == nil {
		return time.Time{}, false, newError(kindPITRUnavailable, "Point in time recovery is not enabled for table '%s'", t.GetName())
	}
	earliest, latest := s.restorableWindow(t, now)
	if at.Before(earliest) || at.After(latest) {
		return time.Time{}, false, newError(kindInvalidExportTime,
			"Export time %s is outside the point in time recovery window (%s to %s)", at.UTC().Format(time.RFC3339),
			earliest.UTC().Format(time.RFC3339Nano), latest.UTC().Format(time.RFC3339Nano))
	}
	return at, true, nil
}

// exportOfToken finds the export made with e's client token in the last
// 8 hours: the same request is answered with it, another one with an
// ExportConflictException.
func (s *Server) exportOfToken(ctx context.Context, es Exports, e *partitapb.Export) (*partitapb.Export, error) {
	all, err := es.Exports(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: list exports: %w", err)
	}
	since := s.cfg.Now().Add(-exportTokenLifetime).UnixNano()
	for _, old := range all {
		if old.GetClientToken() != e.GetClientToken() || old.GetStartUnixNanos() < since {
			continue
		}
		if !sameExportRequest(old, e) {
			return nil, exportConflict(old, e)
		}
		return old, nil
	}
	return nil, nil
}

// sameExportRequest says the export old was requested with the
// parameters of e.
func sameExportRequest(old, e *partitapb.Export) bool {
	return old.GetTableArn() == e.GetTableArn() && old.GetS3Bucket() == e.GetS3Bucket() && old.GetS3Prefix() == e.GetS3Prefix() &&
		old.GetS3BucketOwner() == e.GetS3BucketOwner() && old.GetS3SseAlgorithm() == e.GetS3SseAlgorithm() &&
		old.GetS3SseKmsKeyId() == e.GetS3SseKmsKeyId() && old.GetExportFormat() == e.GetExportFormat()
}

// exportConflict refuses e, whose client token made the export old with
// other parameters.
func exportConflict(old, e *partitapb.Export) error {
	return newError(kindExportConflict,
		"There was a conflict when writing to the specified S3 bucket: the ClientToken %s was used by export %s with other parameters",
		e.GetClientToken(), old.GetArn())
}

// newExportRecord is the record of a new export of t: its ARN, as
// DynamoDB makes them (table ARN, /export/, milliseconds and a random
// suffix), and the partitions to read.
func (s *Server) newExportRecord(req *exportTableRequest, t *partitapb.Table, at time.Time) *partitapb.Export {
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	id := fmt.Sprintf("%014d-%s", s.cfg.Now().UnixMilli(), hex.EncodeToString(suffix[:]))
	e := &partitapb.Export{
		Arn:             s.tableARN(t.GetName()) + "/export/" + id,
		Id:              id,
		TableName:       t.GetName(),
		TableArn:        s.tableARN(t.GetName()),
		TableId:         t.GetId(),
		Status:          directory.ExportInProgress,
		ExportUnixNanos: at.UnixNano(),
		ClientToken:     str(req.ClientToken),
		S3Bucket:        *req.S3Bucket,
		S3BucketOwner:   str(req.S3BucketOwner),
		S3Prefix:        str(req.S3Prefix),
		S3SseAlgorithm:  str(req.S3SseAlgorithm),
		S3SseKmsKeyId:   str(req.S3SseKmsKeyId),
		ExportFormat:    cmp.Or(str(req.ExportFormat), exportFormatDynamoJSON),
		ExportType:      cmp.Or(str(req.ExportType), "FULL_EXPORT"),
		Table:           t,
	}
	for _, p := range t.GetPartitions() {
		e.Partitions = append(e.Partitions, p.GetId())
	}
	return e
}

func (s *Server) describeExport(e *partitapb.Export) exportDescription {
	d := exportDescription{
		ExportArn: e.GetArn(), ExportStatus: e.GetStatus(), StartTime: epochSeconds(e.GetStartUnixNanos()),
		EndTime: optionalTime(e.GetEndUnixNanos()), ExportManifest: e.GetManifest(),
		TableArn: e.GetTableArn(), TableId: tableID(e.GetTable()), ExportTime: epochSeconds(e.GetExportUnixNanos()),
		ClientToken: e.GetClientToken(), S3Bucket: e.GetS3Bucket(), S3BucketOwner: e.GetS3BucketOwner(),
		S3Prefix: e.GetS3Prefix(), S3SseAlgorithm: e.GetS3SseAlgorithm(), S3SseKmsKeyId: e.GetS3SseKmsKeyId(),
		FailureCode: e.GetFailureCode(), FailureMessage: e.GetFailureMessage(),
		ExportFormat: e.GetExportFormat(), ExportType: e.GetExportType(),
	}
	if e.GetStatus() == directory.ExportCompleted {
		items, bytes := e.GetItems(), e.GetBytes()
		d.ItemCount, d.BilledSizeBytes = &items, &bytes
	}
	return d
}

type exportArnRequest struct {
	ExportArn *string `json:"ExportArn"`
}

func (s *Server) handleDescribeExport(ctx context.Context, r *request) (any, error) {
	var req exportArnRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.notNull(req.ExportArn != nil, "exportArn")
	v.length(req.ExportArn, "exportArn", 37, 1024)
	if err := v.err(); err != nil {
		return nil, err
	}
	es, err := s.exports()
	if err != nil {
		return nil, err
	}
	e, err := es.Export(ctx, *req.ExportArn)
	if isDomainCode(err, partitapb.Error_EXPORT_NOT_FOUND) {
		return nil, newError(kindExportNotFound, "Export not found: %s", *req.ExportArn)
	}
	if err != nil {
		return nil, fmt.Errorf("dynamo: describe export: %w", err)
	}
	return exportResponse(s, e), nil
}

type listExportsRequest struct {
	TableArn   *string `json:"TableArn"`
	MaxResults *int64  `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

type exportSummary struct {
	ExportArn    string `json:"ExportArn"`
	ExportStatus string `json:"ExportStatus"`
	ExportType   string `json:"ExportType"`
}

type listExportsResponse struct {
	ExportSummaries []exportSummary `json:"ExportSummaries"`
	NextToken       *string         `json:"NextToken,omitempty"`
}

func (s *Server) handleListExports(ctx context.Context, r *request) (any, error) {
	var req listExportsRequest
	if err := decode(r.body, &req); err != nil {
		return nil, err
	}
	var v violations
	v.length(req.TableArn, "tableArn", 1, 1024)
	v.pageSize(req.MaxResults, "maxResults", maxListExports)
	if err := v.err(); err != nil {
		return nil, err
	}
	es, err := s.exports()
	if err != nil {
		return nil, err
	}
	all, err := es.Exports(ctx)
	if err != nil {
		return nil, fmt.Errorf("dynamo: list exports: %w", err)
	}
	slices.SortFunc(all, func(a, b *partitapb.Export) int {
		return cmp.Or(cmp.Compare(a.GetStartUnixNanos(), b.GetStartUnixNanos()), strings.Compare(a.GetArn(), b.GetArn()))
	})
	out := &listExportsResponse{ExportSummaries: []exportSummary{}}
	arns := make([]string, 0, len(all))
	for _, e := range all {
		if req.TableArn == nil || *req.TableArn == e.GetTableArn() {
			arns = append(arns, e.GetArn())
			out.ExportSummaries = append(out.ExportSummaries, exportSummary{e.GetArn(), e.GetStatus(), e.GetExportType()})
		}
	}
	var err2 error
	out.ExportSummaries, out.NextToken, err2 = pageOf(out.ExportSummaries, arns, req.NextToken, req.MaxResults, maxListExports)
	return out, err2
}

// pageSize records a page size outside [1, most] (nil passes).
func (v *violations) pageSize(n *int64, path string, most int) {
	if n == nil {
		return
	}
	if *n < 1 {
		v.add(n, path, "Member must have value greater than or equal to 1")
	}
	if *n > int64(most) {
		v.add(n, path, fmt.Sprintf("Member must have value less than or equal to %d", most))
	}
}

// pageOf returns the page of all (whose ids are ids) after the one named
// by token, of at most size (nil: most) entries, and the token of the
// next page. A token naming nothing is a ValidationException.
func pageOf[T any](all []T, ids []string, token *string, size *int64, most int) ([]T, *string, error) {
	start := 0
	if token != nil {
		i := slices.Index(ids, *token)
		if i < 0 {
			return nil, nil, validationf("Invalid NextToken")
		}
		start = i + 1
	}
	n := most
	if size != nil {
		n = int(*size)
	}
	all, ids = all[start:], ids[start:]
	if len(all) <= n {
		return all, nil, nil
	}
	next := ids[n-1]
	return all[:n], &next, nil
}
