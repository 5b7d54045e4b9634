package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/partitadb/partita/clusterversion"
	"github.com/partitadb/partita/daemon"
	"github.com/partitadb/partita/directory"
	"github.com/partitadb/partita/dynamo"
	"github.com/partitadb/partita/partitapb"
	"github.com/partitadb/partita/topology/publish"
)

// ExportJob is the name of the job writing table exports to their buckets
// and importing tables from them (docs/exports.md).
const ExportJob = "exports"

// BucketPlaceholder is the place of the bucket's name in
// Config.ExportBucketURL.
const BucketPlaceholder = "{bucket}"

// exports implements dynamo.Exports over the meta partition's export and
// import records; its job does the work.
type exports struct {
	n *Node
	// urlTemplate is the URL of an S3Bucket, BucketPlaceholder standing
	// for its name.
	urlTemplate string
	// read reads a partition for an export (readPartition: the present).
	read partitionReader
	// trigger asks the job for a cycle now.
	trigger func()
	// readRate is export.max-read-bytes-per-sec (0: unlimited).
	readRate atomic.Int64
}

var _ dynamo.Exports = (*exports)(nil)

// exportBucketTemplate is Config.ExportBucketURL, or a folder per bucket
// beside the node's data.
func (n *Node) exportBucketTemplate() (string, error) {
	if n.cfg.ExportBucketURL != "" {
		if !strings.Contains(n.cfg.ExportBucketURL, BucketPlaceholder) {
			return "", fmt.Errorf("node: the export bucket URL %q has no %s", n.cfg.ExportBucketURL, BucketPlaceholder)
		}
		return n.cfg.ExportBucketURL, nil
	}
	abs, err := filepath.Abs(filepath.Join(n.cfg.DataDir, "exports"))
	if err != nil {
		return "", fmt.Errorf("node: export buckets: %w", err)
	}
	return "file://" + filepath.ToSlash(abs) + "/" + BucketPlaceholder, nil
}

// registerExportJob registers the export job (it runs at the backup
// job's interval).
func (n *Node) registerExportJob(m *daemon.Manager) error {
	if n.cfg.BackupInterval <= 0 {
		return nil
	}
	tmpl, err := n.exportBucketTemplate()
	if err != nil {
		return err
	}
	if n.cfg.PeerAddr != "" && n.cfg.ExportBucketURL == "" {
		n.log.Warn("exports go to folders of this node's data directory (--export-bucket-url): in a cluster, every node must reach the same buckets", "buckets", tmpl)
	}
	n.exports = &exports{n: n, urlTemplate: tmpl, read: n.readPartition, trigger: func() { _ = m.Trigger(ExportJob) }}
	return m.Register(daemon.JobSpec{
		Name:     ExportJob,
		Kind:     daemon.Periodic,
		Interval: n.cfg.BackupInterval,
		Jitter:   n.cfg.BackupInterval / 5,
		Timeout:  max(100*n.cfg.BackupInterval, backupCycleTimeout),
		Run:      n.exports.run,
	})
}

// openBucket opens the bucket named name (an S3Bucket parameter).
func (x *exports) openBucket(ctx context.Context, name string) (*blob.Bucket, error) {
	return publish.OpenBucket(ctx, strings.ReplaceAll(x.urlTemplate, BucketPlaceholder, name))
}

// propose proposes an export or import command to the meta partition.
func (x *exports) propose(ctx context.Context, cmd *partitapb.Command) (*partitapb.Result, error) {
	return x.n.proposeRecord(ctx, cmd)
}

// CreateExport implements dynamo.Exports.
func (x *exports) CreateExport(ctx context.Context, e *partitapb.Export) (*partitapb.Export, error) {
	if err := x.n.router.NeedVersion(clusterversion.Exports, "Exports"); err != nil {
		return nil, err
	}
	// From cluster version 11 (request tokens) the meta partition checks
	// the client token as it creates the export: one decision, so that
	// two calls with one token at once start one export.
	res, err := x.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutExport{
		PutExport: &partitapb.PutExport{Export: e, Create: true, UniqueClientToken: x.n.router.TokensKept()}}})
	if err != nil {
		return nil, err
	}
	x.trigger()
	return res.GetExport(), nil
}

// Export implements dynamo.Exports.
func (x *exports) Export(ctx context.Context, arn string) (*partitapb.Export, error) {
	raw, err := x.n.sender.Get(ctx, directory.MetaPartition, directory.ExportKey(arn), true)
	if err != nil {
		return nil, fmt.Errorf("node: read export %s: %w", arn, err)
	}
	if raw == nil {
		return nil, partitapb.Errorf(partitapb.Error_EXPORT_NOT_FOUND, "Export not found: %s", arn)
	}
	e, err := directory.DecodeExport(raw)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return e, nil
}

// Exports implements dynamo.Exports.
func (x *exports) Exports(ctx context.Context) ([]*partitapb.Export, error) {
	lo, hi := directory.ExportsSpan()
	return walkMeta(ctx, x.n, lo, hi, directory.DecodeExport)
}

// run is one cycle of the job: the partitions of exports in progress
// this node leads are written; where the meta partition's leader is,
// finished exports are completed and imports are run.
func (x *exports) run(ctx context.Context, _ *daemon.Cycle) error {
	all, err := x.Exports(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range all {
		if e.GetStatus() == directory.ExportInProgress {
			errs = append(errs, x.advance(ctx, e))
		}
	}
	if x.leads(directory.MetaPartition) {
		errs = append(errs, x.runImports(ctx))
	}
	return errors.Join(errs...)
}

// leads reports whether this node leads partition p.
func (x *exports) leads(p uint64) bool {
	r := x.n.store.Replica(p)
	return r != nil && r.Leader() == x.n.replicaID()
}

// advance writes the partitions of e this node leads that are not
// written yet, then, on the meta leader, completes e once all are.
func (x *exports) advance(ctx context.Context, e *partitapb.Export) error {
	leadsMeta := x.leads(directory.MetaPartition)
	if leadsMeta {
		if why, err := x.exportBroken(ctx, e); err != nil || why != "" {
			return errors.Join(err, x.fail(ctx, e, "TableChanged", why))
		}
	}
	done := map[uint64]bool{}
	for _, p := range e.GetParts() {
		done[p.GetPartition()] = true
	}
	var bucket *blob.Bucket
	for _, p := range e.GetPartitions() {
		if done[p] || !x.leads(p) {
			continue
		}
		if bucket == nil {
			var err error
			if bucket, err = x.startBucket(ctx, e); err != nil {
				return x.bucketFailed(ctx, e, err)
			}
			defer bucket.Close()
		}
		part, err := x.writePart(ctx, bucket, e, p)
		if err != nil {
			return x.bucketFailed(ctx, e, fmt.Errorf("node: export %s, partition %d: %w", e.GetArn(), p, err))
		}
		res, err := x.propose(ctx, &partitapb.Command{Op: &partitapb.Command_ExportPartDone{
			ExportPartDone: &partitapb.ExportPartDone{Arn: e.GetArn(), Part: part}}})
		if err != nil {
			return fmt.Errorf("node: export %s, partition %d: %w", e.GetArn(), p, err)
		}
		e = res.GetExport()
		x.n.log.Info("wrote a partition to an export", "export", e.GetArn(), "partition", p,
			"applied_index", part.GetAppliedIndex(), "items", part.GetItems(), "bytes", part.GetBytes())
	}
	if len(e.GetParts()) < len(e.GetPartitions()) || !leadsMeta {
		return nil
	}
	return x.complete(ctx, e)
}

// startBucket opens e's bucket and writes its _started object there.
func (x *exports) startBucket(ctx context.Context, e *partitapb.Export) (*blob.Bucket, error) {
	bucket, err := x.openBucket(ctx, e.GetS3Bucket())
	if err != nil {
		return nil, err
	}
	if err := bucket.WriteAll(ctx, exportDir(e)+"_started", nil, nil); err != nil {
		bucket.Close()
		return nil, fmt.Errorf("node: export %s: write _started: %w", e.GetArn(), err)
	}
	return bucket, nil
}

// bucketFailed fails e when err says its bucket is missing or refuses
// the writes (retrying cannot help), and returns err.
func (x *exports) bucketFailed(ctx context.Context, e *partitapb.Export, err error) error {
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		return errors.Join(err, x.fail(ctx, e, "S3NoSuchBucket", "The specified bucket does not exist: "+e.GetS3Bucket()))
	case gcerrors.PermissionDenied:
		return errors.Join(err, x.fail(ctx, e, "S3AccessDenied", "Access denied to the bucket "+e.GetS3Bucket()))
	}
	return err
}

// exportBroken says why e cannot be completed: its table was deleted (or
// replaced by another of the same name), or a partition not yet written
// split or merged. "" when it can.
func (x *exports) exportBroken(ctx context.Context, e *partitapb.Export) (string, error) {
	t, err := x.n.router.FreshTable(ctx, e.GetTableName())
	if partitapb.IsCode(err, partitapb.Error_TABLE_NOT_FOUND) {
		return "The table was deleted during the export", nil
	}
	if err != nil {
		return "", err
	}
	done := map[uint64]bool{}
	for _, p := range e.GetParts() {
		done[p.GetPartition()] = true
	}
	switch {
	case t.GetId() != e.GetTableId():
		return "The table was deleted during the export", nil
	case !rangesKept(e.GetTable(), done, t):
		return "The table's partitions split or merged during the export: export it again", nil
	}
	return "", nil
}

// fail makes e FAILED with code and message.
func (x *exports) fail(ctx context.Context, e *partitapb.Export, code, message string) error {
	if message == "" {
		return nil
	}
	x.n.log.Warn("export failed", "export", e.GetArn(), "table", e.GetTableName(), "code", code, "message", message)
	e.Status, e.EndUnixNanos = directory.ExportFailed, x.n.now().UnixNano()
	e.FailureCode, e.FailureMessage = code, message
	_, err := x.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutExport{PutExport: &partitapb.PutExport{Export: e}}})
	return err
}

// complete writes e's manifests and makes it COMPLETED.
func (x *exports) complete(ctx context.Context, e *partitapb.Export) error {
	e.Status, e.EndUnixNanos = directory.ExportCompleted, x.n.now().UnixNano()
	e.Items, e.Bytes = 0, 0
	for _, p := range e.GetParts() {
		e.Items += p.GetItems()
		e.Bytes += p.GetBytes()
	}
	e.Manifest = exportDir(e) + "manifest-summary.json"
	bucket, err := x.openBucket(ctx, e.GetS3Bucket())
	if err != nil {
		return x.bucketFailed(ctx, e, err)
	}
	defer bucket.Close()
	if err := writeManifests(ctx, bucket, e); err != nil {
		return x.bucketFailed(ctx, e, err)
	}
	if _, err := x.propose(ctx, &partitapb.Command{Op: &partitapb.Command_PutExport{
		PutExport: &partitapb.PutExport{Export: e}}}); err != nil {
		return fmt.Errorf("node: complete export %s: %w", e.GetArn(), err)
	}
	x.n.log.Info("export completed", "export", e.GetArn(), "table", e.GetTableName(),
		"items", e.GetItems(), "bytes", e.GetBytes(), "took", time.Duration(e.GetEndUnixNanos()-e.GetStartUnixNanos()))
	return nil
}
