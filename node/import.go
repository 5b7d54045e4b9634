package node

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/item"
	"github.com/partitadb/partita/partitapb"
)

// ImportTable (docs/exports.md): the table is created at once, importing;
// the meta partition's leader reads every object under the source prefix
// and writes its items through the normal write path, then ends the
// import, which makes the table ACTIVE. A leader change mid-import has
// the new leader start over: the same puts, with the same result.

// maxImportLine bounds a line of an import's object (an item is at most
// 400 KB; its JSON may be larger).
const maxImportLine = 8 << 20

// CreateImport implements dynamo.Exports.
func (x *exports) CreateImport(ctx context.Context, im *partitapb.Import) (*partitapb.Import, error) {
	if err := x.n.router.NeedVersion(clusterversion.Exports, "Imports"); err != nil {
		return nil, err
	}
	t, err := x.n.router.CreateTable(ctx, im.GetTable())
	if err != nil {
		return nil, err
	}
	im.Table, im.TableId = t, t.GetId()
	res, err := x.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutImport{
		PutImport: &partitapb.PutImport{TableImport: im, Create: true}}})
	if err != nil {
		return nil, err
	}
	x.trigger()
	return res.GetTableImport(), nil
}

// Import implements dynamo.Exports.
func (x *exports) Import(ctx context.Context, arn string) (*partitapb.Import, error) {
	raw, err := x.n.sender.Get(ctx, directory.MetaPartition, directory.ImportKey(arn), true)
	if err != nil {
		return nil, fmt.Errorf("node: read import %s: %w", arn, err)
	}
	if raw == nil {
		return nil, partitapb.Errorf(partitapb.Error_IMPORT_NOT_FOUND, "Import not found: %s", arn)
	}
	im, err := directory.DecodeImport(raw)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return im, nil
}

// Imports implements dynamo.Exports.
func (x *exports) Imports(ctx context.Context) ([]*partitapb.Import, error) {
	lo, hi := directory.ImportsSpan()
	return walkMeta(ctx, x.n, lo, hi, directory.DecodeImport)
}

// runImports runs every import in progress whose table is ready.
func (x *exports) runImports(ctx context.Context) error {
	all, err := x.Imports(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, im := range all {
		if im.GetStatus() == directory.ExportInProgress {
			errs = append(errs, x.runImport(ctx, im))
		}
	}
	return errors.Join(errs...)
}

// runImport writes the items of im's objects into its table, recording
// its progress after each object, and ends it.
func (x *exports) runImport(ctx context.Context, im *partitapb.Import) error {
	t, err := x.n.router.FreshTable(ctx, im.GetTableName())
	switch {
	case partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) || (err == nil && t.GetImportArn() != im.GetArn()):
		return x.endImport(ctx, im, "TableNotFound", "The table was deleted during the import")
	case err != nil:
		return err
	case t.GetStatus() != directory.Active.String():
		return nil // its partitions are not up yet: next cycle
	}
	bucket, err := x.openSourceBucket(ctx, im.GetS3Bucket())
	if err != nil {
		return x.importBucketFailed(ctx, im, err)
	}
	defer bucket.Close()
	keys, err := importObjects(ctx, bucket, im.GetS3KeyPrefix())
	if err != nil {
		return x.importBucketFailed(ctx, im, err)
	}
	im.ProcessedItems, im.ImportedItems, im.Errors, im.ProcessedBytes = 0, 0, 0, 0
	for _, key := range keys {
		if err := x.importObject(ctx, bucket, t, im, key); err != nil {
			return x.importBucketFailed(ctx, im, err)
		}
		if _, err := x.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutImport{
			PutImport: &partitapb.PutImport{TableImport: im}}}); err != nil {
			return err
		}
	}
	return x.endImport(ctx, im, "", "")
}

// importObjects lists the objects under prefix an import reads: all but
// the metadata objects of an export (_started, manifests, checksums).
func importObjects(ctx context.Context, bucket *blob.Bucket, prefix string) ([]string, error) {
	var keys []string
	it := bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			return nil, err
		}
		base := path.Base(obj.Key)
		if obj.IsDir || base == "_started" || strings.HasPrefix(base, "manifest-") ||
			strings.HasSuffix(base, ".md5") || strings.HasSuffix(base, ".checksum") {
			continue
		}
		keys = append(keys, obj.Key)
	}
}

// importObject writes the items of one object into t, counting into im
// the lines read, the items written and the lines that are not items of
// t (errors, as DynamoDB counts them). An object that cannot be read
// (not gzip when it should be) counts as one error.
func (x *exports) importObject(ctx context.Context, bucket *blob.Bucket, t *partitapb.Table, im *partitapb.Import, key string) error {
	r, err := bucket.NewReader(ctx, key, nil)
	if err != nil {
		return err
	}
	defer r.Close()
	im.ProcessedBytes += r.Size()
	var src io.Reader = r
	if im.GetInputCompressionType() == "GZIP" {
		zr, err := gzip.NewReader(r)
		if err != nil {
			x.n.log.Warn("an object of an import is not gzip", "import", im.GetArn(), "object", key, "err", err)
			im.Errors++
			return nil
		}
		src = zr
	}
	written, err := x.n.writeItems(ctx, t, func(ctx context.Context, emit func(item.Item) error) error {
		sc := bufio.NewScanner(src)
		sc.Buffer(make([]byte, 64<<10), maxImportLine)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			im.ProcessedItems++
			v, err := importLine(x, t, line)
			if err != nil {
				im.Errors++
				x.n.log.Debug("a line of an import is not an item of its table", "import", im.GetArn(), "object", key, "err", err)
				continue
			}
			if err := emit(v); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			im.Errors++
			x.n.log.Warn("an object of an import cannot be read to its end", "import", im.GetArn(), "object", key, "err", err)
		}
		return nil
	})
	im.ImportedItems += written
	return err
}

// importLine decodes a DYNAMODB_JSON line, {"Item":{...}}, as an item of
// t: it must hold t's key attributes with their types.
func importLine(x *exports, t *partitapb.Table, line []byte) (item.Item, error) {
	var rec struct {
		Item json.RawMessage `json:"Item"`
	}
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, err
	}
	if rec.Item == nil {
		return nil, errors.New(`no "Item" member`)
	}
	var v item.Item
	if err := v.UnmarshalJSON(rec.Item); err != nil {
		return nil, err
	}
	if err := keyTypesMatch(t, v); err != nil {
		return nil, err
	}
	if _, err := x.n.router.StorageKey(t, v); err != nil {
		return nil, err
	}
	if v.Size() > item.MaxItemSize {
		return nil, errors.New("the item is larger than 400 KB")
	}
	return v, nil
}

// keyTypesMatch checks that v holds every key attribute of t (its own
// and its indexes') that it must, with the defined type.
func keyTypesMatch(t *partitapb.Table, v item.Item) error {
	types := map[string]string{}
	for _, d := range t.GetAttributeDefinitions() {
		types[d.GetAttributeName()] = d.GetAttributeType()
	}
	for _, k := range t.GetKeySchema() {
		a, ok := v[k.GetAttributeName()]
		if !ok {
			return fmt.Errorf("no key attribute %s", k.GetAttributeName())
		}
		if a.Type.String() != types[k.GetAttributeName()] {
			return fmt.Errorf("the key attribute %s is %s, not %s", k.GetAttributeName(), a.Type, types[k.GetAttributeName()])
		}
	}
	for name, typ := range types {
		if a, ok := v[name]; ok && a.Type.String() != typ {
			return fmt.Errorf("the index key attribute %s is %s, not %s", name, a.Type, typ)
		}
	}
	return nil
}

// importBucketFailed ends im FAILED when err says its bucket or an
// object is missing or unreadable, and returns err.
func (x *exports) importBucketFailed(ctx context.Context, im *partitapb.Import, err error) error {
	switch {
	case gcerrors.Code(err) == gcerrors.NotFound, errors.Is(err, fs.ErrNotExist):
		return errors.Join(err, x.endImport(ctx, im, "S3NoSuchBucket", "The specified bucket or object does not exist: "+im.GetS3Bucket()))
	case gcerrors.Code(err) == gcerrors.PermissionDenied:
		return errors.Join(err, x.endImport(ctx, im, "S3AccessDenied", "Access denied to the bucket "+im.GetS3Bucket()))
	}
	return err
}

// endImport ends im: COMPLETED without a code, else FAILED. Either way
// its table turns ACTIVE (the meta partition ends its import with it).
func (x *exports) endImport(ctx context.Context, im *partitapb.Import, code, message string) error {
	im.Status = directory.ExportCompleted
	if code != "" {
		im.Status, im.FailureCode, im.FailureMessage = directory.ExportFailed, code, message
		x.n.log.Warn("import failed", "import", im.GetArn(), "table", im.GetTableName(), "code", code, "message", message)
	}
	if _, err := x.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutImport{
		PutImport: &partitapb.PutImport{TableImport: im}}}); err != nil {
		return fmt.Errorf("node: end import %s: %w", im.GetArn(), err)
	}
	if code != "" {
		x.n.restoresFailed.WithLabelValues("import").Inc()
	}
	x.n.log.Info("import ended", "import", im.GetArn(), "table", im.GetTableName(), "status", im.GetStatus(),
		"processed", im.GetProcessedItems(), "imported", im.GetImportedItems(), "errors", im.GetErrors())
	return nil
}

// openSourceBucket opens the bucket an import reads, as openBucket does,
// except that a file:// bucket's folder is not created: a missing one is
// an error (fs.ErrNotExist), as a missing S3 bucket is.
func (x *exports) openSourceBucket(ctx context.Context, name string) (*blob.Bucket, error) {
	raw := strings.ReplaceAll(x.urlTemplate, BucketPlaceholder, name)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("node: bucket URL: %w", err)
	}
	if u.Scheme == "file" {
		if _, err := os.Stat(u.Path); err != nil {
			return nil, fmt.Errorf("node: bucket %s: %w", name, err)
		}
	}
	return x.openBucket(ctx, name)
}
