package node_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// startExports starts a node whose export job runs often, its buckets
// under url (a template with {bucket}).
func startExports(t *testing.T, url string) *node.Node {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.ExportBucketURL = url
	cfg.BackupInterval = 100 * time.Millisecond
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// splitInto splits table's partitions on n (in the middle of their
// ranges) until it has at least count.
func splitInto(t *testing.T, n *node.Node, table string, count int) {
	t.Helper()
	for {
		var parts []topology.PartitionInfo
		if code := adminDo(t, n, http.MethodGet, "/cluster/partitions?table="+table, &parts); code != http.StatusOK {
			t.Fatalf("partitions: %d", code)
		}
		if len(parts) >= count {
			return
		}
		var res admin.SplitResult
		p := fmt.Sprintf("/cluster/partitions/%d/split?table=%s", parts[0].ID, table)
		if code := adminDo(t, n, http.MethodPost, p, &res); code != http.StatusOK || res.Right == 0 {
			t.Fatalf("split of partition %d: %d %+v", parts[0].ID, code, res)
		}
	}
}

// putOrders writes orderItem(i) for i in [from, to), 25 at a time.
func putOrders(t *testing.T, c *dynamodb.Client, table string, from, to int) {
	t.Helper()
	for i := from; i < to; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < min(i+25, to); j++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: orderItem(j, "v1")}})
		}
		out, err := c.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil || len(out.UnprocessedItems) > 0 {
			t.Fatalf("BatchWriteItem: %v, %d unprocessed", err, len(out.UnprocessedItems))
		}
	}
}

// waitExport waits for an export to leave IN_PROGRESS and returns it.
func waitExport(t *testing.T, c *dynamodb.Client, arn *string) *types.ExportDescription {
	t.Helper()
	var d *types.ExportDescription
	eventually(t, "the export to end", func() bool {
		out, err := c.DescribeExport(context.Background(), &dynamodb.DescribeExportInput{ExportArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		d = out.ExportDescription
		return d.ExportStatus != types.ExportStatusInProgress
	})
	return d
}

// waitImport waits for an import to leave IN_PROGRESS and returns it.
func waitImport(t *testing.T, c *dynamodb.Client, arn *string) *types.ImportTableDescription {
	t.Helper()
	var d *types.ImportTableDescription
	eventually(t, "the import to end", func() bool {
		out, err := c.DescribeImport(context.Background(), &dynamodb.DescribeImportInput{ImportArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		d = out.ImportTableDescription
		return d.ImportStatus != types.ImportStatusInProgress
	})
	return d
}

// objectReader reads an object of a bucket by key.
type objectReader func(key string) []byte

// checkExportObjects checks the objects of a completed export d against
// the table's items want: the manifests, their checksums, and data files
// holding exactly want.
func checkExportObjects(t *testing.T, read objectReader, d *types.ExportDescription, partitions int, want itemMap) {
	t.Helper()
	summaryKey := aws.ToString(d.ExportManifest)
	dir := strings.TrimSuffix(summaryKey, "manifest-summary.json")
	under := "AWSDynamoDB/"
	if d.S3Prefix != nil {
		under = *d.S3Prefix + "/" + under
	}
	if !strings.HasPrefix(dir, under) {
		t.Fatalf("ExportManifest %q is not under %s", summaryKey, under)
	}
	if started := read(dir + "_started"); len(started) != 0 {
		t.Fatalf("_started holds %q", started)
	}
	var summary struct {
		Version, ExportArn, TableArn, S3Bucket, ManifestFilesS3Key, OutputFormat, ExportType, StartTime, EndTime, ExportTime string
		ItemCount, BilledSizeBytes                                                                                           int64
	}
	raw := read(summaryKey)
	checkMD5(t, read, dir+"manifest-summary.md5", raw)
	if err := json.Unmarshal(raw, &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Version != "2020-06-30" || summary.ExportArn != aws.ToString(d.ExportArn) || summary.ItemCount != int64(len(want)) ||
		summary.BilledSizeBytes != aws.ToInt64(d.BilledSizeBytes) || summary.OutputFormat != "DYNAMODB_JSON" ||
		summary.ExportType != "FULL_EXPORT" || summary.ManifestFilesS3Key != dir+"manifest-files.json" ||
		summary.S3Bucket != aws.ToString(d.S3Bucket) || summary.TableArn != aws.ToString(d.TableArn) {
		t.Fatalf("manifest-summary.json: %s", raw)
	}
	if _, err := time.Parse(time.RFC3339Nano, summary.EndTime); err != nil {
		t.Fatalf("endTime: %v", err)
	}
	files := read(dir + "manifest-files.json")
	checkMD5(t, read, dir+"manifest-files.md5", files)
	got, count := itemMap{}, 0
	sc := bufio.NewScanner(bytes.NewReader(files))
	for sc.Scan() {
		var f struct {
			ItemCount                        int64
			MD5Checksum, ETag, DataFileS3Key string
		}
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatal(err)
		}
		data := read(f.DataFileS3Key)
		sum := md5.Sum(data)
		if f.MD5Checksum != base64.StdEncoding.EncodeToString(sum[:]) || f.ETag != hex.EncodeToString(sum[:]) ||
			!strings.HasPrefix(f.DataFileS3Key, dir+"data/") || !strings.HasSuffix(f.DataFileS3Key, ".json.gz") {
			t.Fatalf("manifest-files.json line %s does not match its file", sc.Bytes())
		}
		items := dataFileItems(t, data)
		if int64(len(items)) != f.ItemCount {
			t.Fatalf("%s holds %d items, its manifest line says %d", f.DataFileS3Key, len(items), f.ItemCount)
		}
		for id, it := range items {
			got[id] = it
		}
		count++
	}
	if count != partitions {
		t.Fatalf("%d data files, want one per partition (%d)", count, partitions)
	}
	if diff := diffItems(got, want); diff != "" {
		t.Fatalf("the data files differ from the table: %s", diff)
	}
}

func checkMD5(t *testing.T, read objectReader, key string, data []byte) {
	t.Helper()
	sum := md5.Sum(data)
	if got := string(read(key)); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("%s holds %q, want the MD5 of its manifest", key, got)
	}
}

// dataFileItems decodes a gzipped data file of {"Item":{...}} lines into
// items of S, N and SS attributes.
func dataFileItems(t *testing.T, data []byte) itemMap {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	out := itemMap{}
	for _, line := range strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Item map[string]map[string]json.RawMessage
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		it := map[string]types.AttributeValue{}
		for name, av := range rec.Item {
			for typ, v := range av {
				switch typ {
				case "S", "N":
					var s string
					if err := json.Unmarshal(v, &s); err != nil {
						t.Fatal(err)
					}
					if typ == "S" {
						it[name] = &types.AttributeValueMemberS{Value: s}
					} else {
						it[name] = &types.AttributeValueMemberN{Value: s}
					}
				case "SS":
					var ss []string
					if err := json.Unmarshal(v, &ss); err != nil {
						t.Fatal(err)
					}
					it[name] = &types.AttributeValueMemberSS{Value: ss}
				default:
					t.Fatalf("line %q: unexpected type %s", line, typ)
				}
			}
		}
		out[itemID(it)] = it
	}
	return out
}

// importOrders starts an import of the objects under prefix of bucket
// into a new table like createOrders'.
func importOrders(c *dynamodb.Client, bucket, prefix, table string, compression types.InputCompressionType, token string) (*dynamodb.ImportTableOutput, error) {
	return c.ImportTable(context.Background(), &dynamodb.ImportTableInput{
		ClientToken:          aws.String(token),
		InputFormat:          types.InputFormatDynamodbJson,
		InputCompressionType: compression,
		S3BucketSource:       &types.S3BucketSource{S3Bucket: aws.String(bucket), S3KeyPrefix: aws.String(prefix)},
		TableCreationParameters: &types.TableCreationParameters{
			TableName: aws.String(table),
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
				{AttributeName: aws.String("cust"), AttributeType: types.ScalarAttributeTypeS},
			},
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName:  aws.String("byCust"),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("cust"), KeyType: types.KeyTypeHash}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			}},
			BillingMode: types.BillingModePayPerRequest,
		},
	})
}

// exportImportRoundTrip exports a table of several partitions, checks
// the bucket's objects through read, imports the export into a new table
// and compares it with the source.
func exportImportRoundTrip(t *testing.T, n *node.Node, bucket string, read objectReader) {
	c, ctx := client(n), context.Background()
	createOrders(t, c, "orders")
	splitInto(t, n, "orders", 4)
	putOrders(t, c, "orders", 0, 800)
	want := scanByID(t, c, "orders", "")
	tableArn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/orders")

	in := &dynamodb.ExportTableToPointInTimeInput{TableArn: tableArn, S3Bucket: aws.String(bucket),
		S3Prefix: aws.String("nightly"), ClientToken: aws.String("first"), ExportFormat: types.ExportFormatDynamodbJson}
	out, err := c.ExportTableToPointInTime(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	d := out.ExportDescription
	if !strings.HasPrefix(aws.ToString(d.ExportArn), aws.ToString(tableArn)+"/export/") || d.ExportStatus != types.ExportStatusInProgress ||
		aws.ToString(d.S3Bucket) != bucket || d.ExportType != types.ExportTypeFullExport || d.ExportTime == nil || d.StartTime == nil {
		t.Fatalf("ExportTableToPointInTime answered %+v", d)
	}
	// The same token: the same export; with other parameters: a conflict.
	again, err := c.ExportTableToPointInTime(ctx, in)
	if err != nil || aws.ToString(again.ExportDescription.ExportArn) != aws.ToString(d.ExportArn) {
		t.Fatalf("the same request again: %v, %+v", err, again)
	}
	_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: tableArn,
		S3Bucket: aws.String(bucket), S3Prefix: aws.String("other"), ClientToken: aws.String("first")})
	wantAPIError(t, err, "ExportConflictException", "")

	done := waitExport(t, c, d.ExportArn)
	if done.ExportStatus != types.ExportStatusCompleted || aws.ToInt64(done.ItemCount) != 800 ||
		aws.ToInt64(done.BilledSizeBytes) <= 0 || done.EndTime == nil || aws.ToString(done.ExportManifest) == "" {
		t.Fatalf("DescribeExport of a completed export: %+v", done)
	}
	checkExportObjects(t, read, done, 4, want)

	// Import the data files into a new table.
	dataPrefix := strings.TrimSuffix(aws.ToString(done.ExportManifest), "manifest-summary.json") + "data/"
	imp, err := importOrders(c, bucket, dataPrefix, "orders_imported", types.InputCompressionTypeGzip, "imp")
	if err != nil {
		t.Fatal(err)
	}
	id := imp.ImportTableDescription
	if id.ImportStatus != types.ImportStatusInProgress || !strings.Contains(aws.ToString(id.ImportArn), ":table/orders_imported/import/") {
		t.Fatalf("ImportTable answered %+v", id)
	}
	td, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders_imported")})
	if err != nil {
		t.Fatal(err)
	}
	imported := waitImport(t, c, id.ImportArn)
	// The table is CREATING until the import ends (which may already be).
	if td.Table.TableStatus != types.TableStatusCreating && td.Table.TableStatus != types.TableStatusActive {
		t.Fatalf("a table being imported is %s", td.Table.TableStatus)
	}
	if imported.ImportStatus != types.ImportStatusCompleted || imported.ImportedItemCount != 800 ||
		imported.ProcessedItemCount != 800 || imported.ErrorCount != 0 || imported.ProcessedSizeBytes == nil {
		t.Fatalf("DescribeImport of a completed import: %+v", imported)
	}
	eventually(t, "the imported table to be ACTIVE", func() bool {
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("orders_imported")})
		return err == nil && out.Table.TableStatus == types.TableStatusActive
	})
	if diff := diffItems(scanByID(t, c, "orders_imported", ""), want); diff != "" {
		t.Fatalf("the imported table differs from the exported one: %s", diff)
	}
	eventually(t, "the imported table's index to hold every item", func() bool {
		return diffItems(scanByID(t, c, "orders_imported", "byCust"), want) == ""
	})
}

// TestExportImportFileBuckets: an export of a table of four partitions
// to a file:// bucket has DynamoDB's layout and exactly the table's items;
// importing it gives the table back; the operations' errors.
func TestExportImportFileBuckets(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	n := startExports(t, "file://"+filepath.ToSlash(root)+"/{bucket}")
	exportImportRoundTrip(t, n, "exports-test", func(key string) []byte {
		data, err := os.ReadFile(filepath.Join(root, "exports-test", filepath.FromSlash(key)))
		if err != nil {
			t.Fatal(err)
		}
		return data
	})
	c := client(n)

	// A few lines that are not items of the table count as errors.
	lines := []string{
		`{"Item":{"pk":{"S":"x"},"sk":{"N":"1"},"cust":{"S":"c"}}}`,
		`not json`,
		`{"Item":{"pk":{"S":"x"}}}`,
		`{"Item":{"pk":{"N":"1"},"sk":{"N":"2"}}}`,
		`{"Item":{"pk":{"S":"y"},"sk":{"N":"2"},"note":{"S":"n"}}}`,
		``,
		`{"Item":{"pk":{"S":"z"},"sk":{"N":"3"}}}`,
	}
	if err := os.MkdirAll(filepath.Join(root, "handmade", "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "handmade", "in", "part.json"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	imp, err := importOrders(c, "handmade", "in/", "handmade", types.InputCompressionTypeNone, "hand")
	if err != nil {
		t.Fatal(err)
	}
	d := waitImport(t, c, imp.ImportTableDescription.ImportArn)
	if d.ImportStatus != types.ImportStatusCompleted || d.ProcessedItemCount != 6 || d.ImportedItemCount != 3 || d.ErrorCount != 3 {
		t.Fatalf("an import of 3 items and 3 bad lines: %+v", d)
	}
	if got := scanByID(t, c, "handmade", ""); len(got) != 3 || got["y/2"] == nil {
		t.Fatalf("the handmade table holds %v", got)
	}

	// An import into a table that exists; from a bucket that does not.
	_, err = importOrders(c, "handmade", "in/", "orders", types.InputCompressionTypeNone, "again")
	wantAPIError(t, err, "ResourceInUseException", "Table already exists: orders")
	_, err = importOrders(c, "handmade", "other/", "handmade", types.InputCompressionTypeNone, "hand")
	wantAPIError(t, err, "ImportConflictException", "")

	checkExportErrors(t, c)
	checkListing(t, c)
}

// checkExportErrors: the errors of the export and import operations.
func checkExportErrors(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	tableArn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/orders")
	_, err := c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/nope"), S3Bucket: aws.String("b1b")})
	wantAPIError(t, err, "TableNotFoundException", "Table not found: nope")
	_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: tableArn, S3Bucket: aws.String("b1b"), ExportTime: aws.Time(time.Now().Add(-time.Hour))})
	wantAPIError(t, err, "PointInTimeRecoveryUnavailableException", "Point in time recovery is not enabled for table 'orders'")
	_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: tableArn, S3Bucket: aws.String("b1b"), ExportTime: aws.Time(time.Now().Add(time.Hour))})
	wantAPIError(t, err, "InvalidExportTimeException", "Export time")
	_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: tableArn, S3Bucket: aws.String("../up")})
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value '../up' at 's3Bucket' failed to satisfy constraint")
	_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: tableArn, S3Bucket: aws.String("b1b"), ExportFormat: "CSV"})
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value 'CSV' at 'exportFormat'")
	_, err = c.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(aws.ToString(tableArn) + "/export/01234567890123-abcdefgh")})
	wantAPIError(t, err, "ExportNotFoundException", "Export not found")
	_, err = c.DescribeImport(ctx, &dynamodb.DescribeImportInput{ImportArn: aws.String(aws.ToString(tableArn) + "/import/01234567890123-abcdefgh")})
	wantAPIError(t, err, "ImportNotFoundException", "Import not found")
	_, err = c.ListExports(ctx, &dynamodb.ListExportsInput{MaxResults: aws.Int32(26)})
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value '26' at 'maxResults'")
	_, err = importOrders(c, "abc", "", "x", "BZIP", "t")
	wantAPIError(t, err, "ValidationException", "1 validation error detected: Value 'BZIP' at 'inputCompressionType'")
}

// checkListing: ListExports and ListImports filter by table and page.
func checkListing(t *testing.T, c *dynamodb.Client) {
	ctx := context.Background()
	tableArn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/handmade")
	if _, err := c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: tableArn, S3Bucket: aws.String("exports-test")}); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListExports(ctx, &dynamodb.ListExportsInput{})
	if err != nil || len(all.ExportSummaries) != 2 || all.NextToken != nil {
		t.Fatalf("ListExports: %v %+v", err, all)
	}
	var arns []string
	p := dynamodb.NewListExportsPaginator(c, &dynamodb.ListExportsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.ExportSummaries {
			arns = append(arns, aws.ToString(s.ExportArn))
		}
	}
	if len(arns) != 2 || !sort.StringsAreSorted([]string{path.Base(arns[0]), path.Base(arns[1])}) {
		t.Fatalf("ListExports one at a time: %v", arns)
	}
	one, err := c.ListExports(ctx, &dynamodb.ListExportsInput{TableArn: tableArn})
	if err != nil || len(one.ExportSummaries) != 1 || one.ExportSummaries[0].ExportType != types.ExportTypeFullExport {
		t.Fatalf("ListExports of one table: %v %+v", err, one)
	}
	imps, err := c.ListImports(ctx, &dynamodb.ListImportsInput{TableArn: tableArn})
	if err != nil || len(imps.ImportSummaryList) != 1 || imps.ImportSummaryList[0].ImportStatus != types.ImportStatusCompleted {
		t.Fatalf("ListImports of one table: %v %+v", err, imps)
	}
	imps, err = c.ListImports(ctx, &dynamodb.ListImportsInput{PageSize: aws.Int32(1)})
	if err != nil || len(imps.ImportSummaryList) != 1 || imps.NextToken == nil {
		t.Fatalf("ListImports, a page of 1: %v %+v", err, imps)
	}
}

// s3Endpoint is the S3-compatible server (moto_server) of
// PARTITA_TEST_S3_ENDPOINT, which .ci/run starts; the test is skipped
// without one.
func s3Endpoint(t *testing.T) string {
	t.Helper()
	endpoint := os.Getenv("PARTITA_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("PARTITA_TEST_S3_ENDPOINT is unset: no S3-compatible server (CI starts moto_server; locally run `moto_server -H 127.0.0.1 -p 5000` and set it to http://127.0.0.1:5000)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	return endpoint
}

// TestExportImportS3: the round trip of TestExportImportFileBuckets
// through S3 (moto), read back with the S3 client; an export to a bucket
// that does not exist fails with S3NoSuchBucket.
func TestExportImportS3(t *testing.T) {
	endpoint := s3Endpoint(t)
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	ctx := context.Background()
	bucket := fmt.Sprintf("exports-%d", time.Now().UnixNano())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket on %s: %v", endpoint, err)
	}
	n := startExports(t, "s3://{bucket}?endpoint="+endpoint+"&s3ForcePathStyle=true&region=us-east-1")
	exportImportRoundTrip(t, n, bucket, func(key string) []byte {
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		defer out.Body.Close()
		data, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return data
	})
	c := client(n)
	out, err := c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/orders"), S3Bucket: aws.String(bucket + "-missing")})
	if err != nil {
		t.Fatal(err)
	}
	d := waitExport(t, c, out.ExportDescription.ExportArn)
	if d.ExportStatus != types.ExportStatusFailed || aws.ToString(d.FailureCode) != "S3NoSuchBucket" || d.ItemCount != nil {
		t.Fatalf("an export to a missing bucket: %+v", d)
	}
}

// TestExportAcrossNodes: on three nodes sharing a file:// bucket root,
// each partition of an export is written by its leader and the export
// completed by the meta partition's leader; an import asked of one node
// is seen ending through another.
func TestExportAcrossNodes(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	member := func(join ...string) *node.Node {
		t.Helper()
		cfg := node.DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", join
		cfg.ReconcileInterval = 100 * time.Millisecond
		cfg.ExportBucketURL, cfg.BackupInterval = "file://"+filepath.ToSlash(root)+"/{bucket}", 100*time.Millisecond
		n, err := node.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n1 := member()
	n2, n3 := member(n1.PeerAddr()), member(n1.PeerAddr())
	for _, n := range []*node.Node{n3, n2, n1} {
		defer n.Close()
	}
	waitUntil(t, "meta on three voters", func() bool { return len(n1.MetaVoters()) == 3 })
	ctx := context.Background()
	createOrders(t, client(n2), "spread")
	putOrders(t, client(n1), "spread", 0, 300)
	want := scanByID(t, client(n1), "spread", "")
	var parts []topology.PartitionInfo
	if code := adminDo(t, n1, http.MethodGet, "/cluster/partitions?table=spread", &parts); code != http.StatusOK {
		t.Fatalf("partitions: %d", code)
	}
	// Six calls with one ClientToken at once, through the three nodes,
	// start one export: the meta partition checks the token as it
	// creates the export.
	outs := make([]*dynamodb.ExportTableToPointInTimeOutput, 6)
	errs := make([]error, len(outs))
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = client([]*node.Node{n1, n2, n3}[i%3]).ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
				TableArn: aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/spread"), S3Bucket: aws.String("shared"),
				ClientToken: aws.String("once")})
		}()
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("export call %d: %v", i, errs[i])
		}
		if a, b := aws.ToString(outs[i].ExportDescription.ExportArn), aws.ToString(outs[0].ExportDescription.ExportArn); a != b {
			t.Fatalf("calls with one ClientToken started exports %s and %s", a, b)
		}
	}
	if list, err := client(n2).ListExports(ctx, &dynamodb.ListExportsInput{}); err != nil || len(list.ExportSummaries) != 1 {
		t.Fatalf("exports after six calls with one token: %v %v, want one", list, err)
	}
	out := outs[0]
	d := waitExport(t, client(n1), out.ExportDescription.ExportArn)
	if d.ExportStatus != types.ExportStatusCompleted || aws.ToInt64(d.ItemCount) != 300 {
		t.Fatalf("the export across nodes: %+v", d)
	}
	checkExportObjects(t, func(key string) []byte {
		data, err := os.ReadFile(filepath.Join(root, "shared", filepath.FromSlash(key)))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}, d, len(parts), want)
	prefix := strings.TrimSuffix(aws.ToString(d.ExportManifest), "manifest-summary.json") + "data/"
	imp, err := importOrders(client(n2), "shared", prefix, "spread_copy", types.InputCompressionTypeGzip, "copy")
	if err != nil {
		t.Fatal(err)
	}
	if got := waitImport(t, client(n3), imp.ImportTableDescription.ImportArn); got.ImportStatus != types.ImportStatusCompleted || got.ImportedItemCount != 300 {
		t.Fatalf("the import across nodes: %+v", got)
	}
	if diff := diffItems(scanByID(t, client(n1), "spread_copy", ""), want); diff != "" {
		t.Fatalf("the imported table differs from the exported one: %s", diff)
	}
}

// TestExportAsOfPastTime: an ExportTime in the past, within the table's
// point-in-time recovery window, exports the table as it was then (read
// from the change log, as a restore to a point in time is); one before
// the window is refused.
func TestExportAsOfPastTime(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.AdminAddr = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	cfg.ExportBucketURL = "file://" + filepath.ToSlash(root) + "/{bucket}"
	cfg.BackupInterval, cfg.PITRSettle = 100*time.Millisecond, 200*time.Millisecond
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c, ctx := client(n), context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("past"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest}); err != nil {
		t.Fatal(err)
	}
	enablePITR(t, c, "past")
	time.Sleep(300 * time.Millisecond) // the settle
	put := func(i, v int) {
		t.Helper()
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("past"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "v": &types.AttributeValueMemberN{Value: fmt.Sprint(v)}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		put(i, 1)
	}
	time.Sleep(50 * time.Millisecond)
	at := time.Now()
	time.Sleep(50 * time.Millisecond)
	for i := range 10 {
		put(i, 2)
	}
	for i := 10; i < 15; i++ {
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("past"),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 20; i < 25; i++ {
		put(i, 2)
	}
	tableArn := aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/past")
	_, err = c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: tableArn, S3Bucket: aws.String("pastb"), ExportTime: aws.Time(at.Add(-time.Hour))})
	wantAPIError(t, err, "InvalidExportTimeException", "Export time")
	time.Sleep(1200 * time.Millisecond) // the latest restorable time trails by a second
	out, err := c.ExportTableToPointInTime(ctx, &dynamodb.ExportTableToPointInTimeInput{
		TableArn: tableArn, S3Bucket: aws.String("pastb"), ExportTime: aws.Time(at)})
	if err != nil {
		t.Fatal(err)
	}
	d := waitExport(t, c, out.ExportDescription.ExportArn)
	if d.ExportStatus != types.ExportStatusCompleted || aws.ToInt64(d.ItemCount) != 20 {
		t.Fatalf("export as of a past time: %+v", d)
	}
	got := map[string]string{}
	err = filepath.WalkDir(filepath.Join(root, "pastb"), func(path string, e os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".json.gz") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		dec := json.NewDecoder(zr)
		for dec.More() {
			var line struct {
				Item struct {
					Pk struct{ S string } `json:"pk"`
					V  struct{ N string } `json:"v"`
				}
			}
			if err := dec.Decode(&line); err != nil {
				return err
			}
			got[line.Item.Pk.S] = line.Item.V.N
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := range 20 {
		want[fmt.Sprint("k", i)] = "1"
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("exported as of %s: %v, want %v", at, got, want)
	}
}
