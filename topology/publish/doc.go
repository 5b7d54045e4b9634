// Package publish writes a node's topology snapshots to a blob bucket (the
// history the ingester and `partita doctor replay` read), reports them to
// the node standing in for the active Doctor (the fast path), and deletes
// the history older than the retention.
//
//	producer job ──Publish──▶ queue (bounded, drops oldest) ──Run──▶ bucket
//	             ──Offer────▶ latest snapshot ──────────────Run──▶ ReportTopology
//	retention job ─────────── list old hours, delete page by page ──▶ bucket
//
// Publish and Offer never block: they only hand a snapshot over under a
// short lock. The Publisher's Run loop (a continuous daemon job) writes
// the oldest queued snapshot, retrying with backoff while the bucket fails;
// when the queue is full, in snapshots or in bytes, the oldest unsent
// snapshots are dropped and counted, so a slow or failing bucket costs the
// node a bounded amount of memory and nothing on its data path.
//
// Buckets are opened from URLs by OpenBucket through gocloud.dev/blob:
// file://, mem://, s3:// (an S3-compatible endpoint through the URL's
// endpoint, s3ForcePathStyle and region parameters), gs:// and azblob://.
// The keys are those of package history. FaultyBucket wraps a bucket to
// stall or fail its writes, for tests of the node under a sick bucket.
package publish
