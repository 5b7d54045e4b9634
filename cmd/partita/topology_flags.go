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
