package node

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"gocloud.dev/blob"

	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// The objects of an export, as DynamoDB lays them out (docs/exports.md):
//
//	<prefix>/AWSDynamoDB/<id>/_started               empty, written first
//	<prefix>/AWSDynamoDB/<id>/data/<name>.json.gz    one per partition:
//	                                                 {"Item":{...}} lines
//	<prefix>/AWSDynamoDB/<id>/manifest-files.json    one line per data file
//	<prefix>/AWSDynamoDB/<id>/manifest-files.md5     its MD5, hex
//	<prefix>/AWSDynamoDB/<id>/manifest-summary.json  the export, written last
//	<prefix>/AWSDynamoDB/<id>/manifest-summary.md5   its MD5, hex

// exportDir is the folder of e's objects, with a trailing slash.
func exportDir(e *partitapb.Export) string {
	dir := "AWSDynamoDB/" + e.GetId() + "/"
	if p := strings.TrimSuffix(e.GetS3Prefix(), "/"); p != "" {
		dir = p + "/" + dir
	}
	return dir
}

// dataFileKey is the key of the data file of partition p of e: a name
// that looks like DynamoDB's, the same each time p is written (a
// rewrite replaces it).
func dataFileKey(e *partitapb.Export, p uint64) string {
	var in [8]byte
	binary.BigEndian.PutUint64(in[:], p)
	h := sha256.Sum256(append([]byte(e.GetArn()), in[:]...))
	name := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:16]))
	return exportDir(e) + "data/" + name + ".json.gz"
}

// writePart writes partition p of e's table to its data file in bucket
// and returns the part to record.
func (x *exports) writePart(ctx context.Context, bucket *blob.Bucket, e *partitapb.Export, p uint64) (*partitapb.ExportPart, error) {
	ctx, cancel := context.WithCancel(ctx) // cancelled before Close: the write is dropped
	defer cancel()
	out := &partitapb.ExportPart{Partition: p, Object: dataFileKey(e, p)}
	w, err := bucket.NewWriter(ctx, out.GetObject(), &blob.WriterOptions{ContentType: "application/gzip"})
	if err != nil {
		return nil, err
	}
	sum := md5.New()
	// The fastest level: an export competes with foreground writes for
	// the CPU, and compresses well enough at it (DynamoDB JSON is
	// repetitive).
	zw, err := gzip.NewWriterLevel(io.MultiWriter(w, sum), gzip.BestSpeed)
	if err != nil {
		cancel()
		_ = w.Close()
		return nil, err
	}
	var asOf time.Time
	if e.GetPointInTime() {
		asOf = time.Unix(0, e.GetExportUnixNanos())
	}
	line := make([]byte, 0, 1024)
	pace := readPacer{now: x.n.now}
	applied, err := x.read(ctx, e.GetTable(), p, asOf, func(_ []byte, v item.Item) error {
		if err := pace.wait(ctx, x.readRate.Load(), int64(v.Size())); err != nil {
			return err
		}
		line = append(line[:0], `{"Item":`...)
		var err error
		if line, err = item.AppendItemJSON(line, v); err != nil {
			return err
		}
		line = append(line, "}\n"...)
		if _, err := zw.Write(line); err != nil {
			return err
		}
		out.Items++
		out.Bytes += int64(v.Size())
		return nil
	})
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		cancel()
		_ = w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", out.GetObject(), err)
	}
	digest := sum.Sum(nil)
	out.AppliedIndex, out.Md5, out.Etag = applied, base64.StdEncoding.EncodeToString(digest), hex.EncodeToString(digest)
	return out, nil
}

// manifestFile is a line of manifest-files.json.
type manifestFile struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// manifestSummary is manifest-summary.json.
type manifestSummary struct {
	Version            string  `json:"version"`
	ExportArn          string  `json:"exportArn"`
	StartTime          string  `json:"startTime"`
	EndTime            string  `json:"endTime"`
	TableArn           string  `json:"tableArn"`
	TableID            string  `json:"tableId"`
	ExportTime         string  `json:"exportTime"`
	S3Bucket           string  `json:"s3Bucket"`
	S3Prefix           *string `json:"s3Prefix"`
	S3SseAlgorithm     string  `json:"s3SseAlgorithm"`
	S3SseKmsKeyID      *string `json:"s3SseKmsKeyId"`
	ManifestFilesS3Key string  `json:"manifestFilesS3Key"`
	BilledSizeBytes    int64   `json:"billedSizeBytes"`
	ItemCount          int64   `json:"itemCount"`
	OutputFormat       string  `json:"outputFormat"`
	ExportType         string  `json:"exportType"`
}

// manifestTime is the time format of the manifests: UTC, milliseconds.
func manifestTime(nanos int64) string {
	return time.Unix(0, nanos).UTC().Format("2006-01-02T15:04:05.000Z")
}

// optional is s, or nil (JSON null) when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// writeManifests writes e's manifest files, each followed by its MD5;
// manifest-summary.json goes last: an export without it is not complete.
func writeManifests(ctx context.Context, bucket *blob.Bucket, e *partitapb.Export) error {
	var files bytes.Buffer
	enc := json.NewEncoder(&files)
	for _, p := range e.GetParts() {
		if err := enc.Encode(manifestFile{p.GetItems(), p.GetMd5(), p.GetEtag(), p.GetObject()}); err != nil {
			return err
		}
	}
	dir := exportDir(e)
	summary, err := json.Marshal(manifestSummary{
		Version: "2020-06-30", ExportArn: e.GetArn(), StartTime: manifestTime(e.GetStartUnixNanos()),
		EndTime: manifestTime(e.GetEndUnixNanos()), TableArn: e.GetTableArn(), TableID: dynamo.TableID(e.GetTable()),
		ExportTime: manifestTime(e.GetExportUnixNanos()), S3Bucket: e.GetS3Bucket(), S3Prefix: optional(e.GetS3Prefix()),
		S3SseAlgorithm: cmp.Or(e.GetS3SseAlgorithm(), "AES256"), S3SseKmsKeyID: optional(e.GetS3SseKmsKeyId()),
		ManifestFilesS3Key: dir + "manifest-files.json", BilledSizeBytes: e.GetBytes(), ItemCount: e.GetItems(),
		OutputFormat: e.GetExportFormat(), ExportType: e.GetExportType(),
	})
	if err != nil {
		return err
	}
	for _, obj := range []struct {
		name string
		data []byte
	}{{"manifest-files", files.Bytes()}, {"manifest-summary", summary}} {
		digest := md5.Sum(obj.data)
		if err := bucket.WriteAll(ctx, dir+obj.name+".json", obj.data, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
			return fmt.Errorf("node: export %s: write %s: %w", e.GetArn(), obj.name, err)
		}
		if err := bucket.WriteAll(ctx, dir+obj.name+".md5", []byte(hex.EncodeToString(digest[:])), nil); err != nil {
			return fmt.Errorf("node: export %s: write %s: %w", e.GetArn(), obj.name, err)
		}
	}
	return nil
}
