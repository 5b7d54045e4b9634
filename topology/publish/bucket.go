package publish

import (
	"context"
	"fmt"
	"net/url"

	"gocloud.dev/blob"
	// The drivers of the bucket URLs a node accepts.
	_ "gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob"
)

// Bucket is what the publisher and the retention job need of a bucket.
// *blob.Bucket implements it; FaultyBucket wraps one. Implementations are
// safe for concurrent use.
type Bucket interface {
	// WriteAll writes p under key, replacing any blob there.
	WriteAll(ctx context.Context, key string, p []byte, opts *blob.WriterOptions) error
	// ListPage lists one page of the blobs (and, with a delimiter, the
	// directories) matching opts, from blob.FirstPageToken on; an empty
	// next token ends the listing.
	ListPage(ctx context.Context, token []byte, size int, opts *blob.ListOptions) ([]*blob.ListObject, []byte, error)
	// Delete removes the blob under key.
	Delete(ctx context.Context, key string) error
}

var _ Bucket = (*blob.Bucket)(nil)

// OpenBucket opens the bucket of a URL: file:///dir, mem://, s3://name
// (with ?endpoint=http://host:port&s3ForcePathStyle=true&region=R for an
// S3-compatible server), gs://name or azblob://name. A file:// bucket
// creates its directory and writes no metadata side files unless the URL
// says otherwise (create_dir, metadata).
func OpenBucket(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("publish: bucket URL %q: %w", rawURL, err)
	}
	if u.Scheme == "file" {
		q := u.Query()
		if !q.Has("create_dir") {
			q.Set("create_dir", "true")
		}
		if !q.Has("metadata") {
			q.Set("metadata", "skip")
		}
		u.RawQuery = q.Encode()
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("publish: open bucket %s: %w", redact(u), err)
	}
	return b, nil
}

// redact drops a URL's user information (credentials) for logs and errors.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
