package main

import (
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/partitadb/partita/node"
)

// registerTopologyFlags adds the flags of the topology pipeline.
func registerTopologyFlags(f *pflag.FlagSet, cfg *node.Config, bucketHelp string) {
	f.DurationVar(&cfg.TopologyInterval, "topology-interval", cfg.TopologyInterval,
		"period of the node's topology snapshots (published to the bucket and reported to the Doctor)")
	f.StringVar(&cfg.TopologyBucket, "topology-bucket", cfg.TopologyBucket, bucketHelp)
	f.DurationVar(&cfg.TopologyRetention, "topology-retention", cfg.TopologyRetention,
		"how long the topology bucket keeps snapshots; older hours are deleted")
}

// registerBackupFlags adds the flags of on-demand backups.
func registerBackupFlags(f *pflag.FlagSet, cfg *node.Config, bucketHelp string) {
	f.StringVar(&cfg.BackupBucket, "backup-bucket", cfg.BackupBucket, bucketHelp)
	f.DurationVar(&cfg.BackupInterval, "backup-interval", cfg.BackupInterval,
		"period of the backup job, which writes new backups and fills restored tables (0: backups off)")
	f.StringVar(&cfg.ExportBucketURL, "export-bucket-url", cfg.ExportBucketURL,
		"bucket URL of ExportTableToPointInTime's and ImportTable's S3Bucket (docs/exports.md), {bucket} standing for its name: "+
			"s3://{bucket}?region=R (S3-compatible: &endpoint=http://host:port&s3ForcePathStyle=true), file:///dir/{bucket}; "+
			"empty: file://<data-dir>/exports/{bucket}")
	f.DurationVar(&cfg.PITRSettle, "pitr-settle", cfg.PITRSettle,
		"how long after point-in-time recovery is enabled a table's restorable window opens: the time every leader needs to take up its wider change log")
}

// devExportBuckets is `partita dev`'s default export bucket URL: a folder
// per bucket beside the data, which the nodes of a dev cluster share.
func devExportBuckets(dataDir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dataDir, "exports"))
	if err != nil {
		return "", err
	}
	return "file://" + filepath.ToSlash(abs) + "/" + node.BucketPlaceholder, nil
}

// backupBucketHelp describes --backup-bucket's URLs.
const backupBucketHelp = "blob bucket URL for on-demand backups (docs/backups.md): file:///dir, mem://, s3://bucket " +
	"(S3-compatible: ?endpoint=http://host:port&s3ForcePathStyle=true&region=R), gs://bucket, azblob://container"

// devBackupBucket is `partita dev`'s default backup bucket: a folder
// beside the data, which the nodes of a dev cluster share.
func devBackupBucket(dataDir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dataDir, "backups"))
	if err != nil {
		return "", err
	}
	return "file://" + filepath.ToSlash(abs), nil
}

// bucketFlagHelp describes --topology-bucket's URLs.
const bucketFlagHelp = "blob bucket URL for topology snapshots: file:///dir, mem://, s3://bucket (S3-compatible: " +
	"?endpoint=http://host:port&s3ForcePathStyle=true&region=R), gs://bucket, azblob://container"

// devTopologyBucket is `partita dev`'s default bucket: a folder beside the
// data.
func devTopologyBucket(dataDir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dataDir, "topology"))
	if err != nil {
		return "", err
	}
	return "file://" + filepath.ToSlash(abs), nil
}
