package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/partitadb/partita/topology/history"
)

// BucketReader reads the snapshots of a bucket's history into an
// Ingester: a standby or restarted Doctor catches up on the recent past
// with it, and `partita doctor replay` rebuilds the past from it alone.
type BucketReader struct {
	// Bucket holds the history (see package history for its keys).
	Bucket *blob.Bucket
	// Ingester receives the snapshots.
	Ingester *Ingester
	// Readers bounds the blobs read at once (0: twice the CPUs).
	Readers int
	// MaxBlobBytes skips larger blobs as corrupt (0: 64 MiB).
	MaxBlobBytes int64
}

// LoadStats count what one Load did.
type LoadStats struct {
	Listed  int64 // keys under the listed hours
	Ignored int64 // keys outside (from, to], or not history keys
	Known   int64 // keys of snapshots the ingester has or would not keep: not read
	Read    int64 // blobs read
	Bytes   int64 // bytes read
	Added   int64 // snapshots the ingester kept
	Skipped int64 // blobs read and skipped (see Ingester.Stats for reasons)
	Errors  int64 // blobs that could not be read (gone, unreachable)
}

func (s *LoadStats) add(o *LoadStats) {
	s.Listed += o.Listed
	s.Ignored += o.Ignored
	s.Known += o.Known
	s.Read += o.Read
	s.Bytes += o.Bytes
	s.Added += o.Added
	s.Skipped += o.Skipped
	s.Errors += o.Errors
}

// Load reads every snapshot taken in (from, to] into the ingester,
// listing the hours the window covers. A blob that cannot be read or used
// is counted and passed over; Load fails only when listing fails or ctx
// ends.
func (r *BucketReader) Load(ctx context.Context, from, to time.Time) (LoadStats, error) {
	names := make(chan history.Name, 256)
	var st LoadStats
	listErr := make(chan error, 1)
	go func() {
		defer close(names)
		listErr <- r.list(ctx, from, to, &st, func(n history.Name) bool {
			select {
			case names <- n:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	read := r.read(ctx, names)
	st.add(&read)
	return st, errors.Join(<-listErr, ctx.Err())
}

// Names lists the history keys of snapshots taken in (from, to], in
// listing order (by hour, node, then time).
func (r *BucketReader) Names(ctx context.Context, from, to time.Time) ([]history.Name, error) {
	var out []history.Name
	var st LoadStats
	err := r.list(ctx, from, to, &st, func(n history.Name) bool { out = append(out, n); return true })
	return out, err
}

// LoadNames reads the named snapshots into the ingester.
func (r *BucketReader) LoadNames(ctx context.Context, names []history.Name) LoadStats {
	ch := make(chan history.Name)
	go func() {
		defer close(ch)
		for _, n := range names {
			select {
			case ch <- n:
			case <-ctx.Done():
				return
			}
		}
	}()
	return r.read(ctx, ch)
}

// list calls yield with each history name taken in (from, to], hour by
// hour and node by node, until yield returns false. Listing one node's
// directory at a time keeps listing linear on file:// buckets, whose
// driver walks the whole prefix for every page.
func (r *BucketReader) list(ctx context.Context, from, to time.Time, st *LoadStats, yield func(history.Name) bool) error {
	for hour := from.UTC().Truncate(time.Hour); !hour.After(to); hour = hour.Add(time.Hour) {
		nodes, err := r.nodeDirs(ctx, hour)
		if err != nil {
			return err
		}
		for _, prefix := range nodes {
			if err := r.listNode(ctx, prefix, from, to, st, yield); err != nil {
				return err
			}
		}
	}
	return nil
}

// nodeDirPage is the page size of the listing of an hour's node prefixes.
const nodeDirPage = 10000

// nodeDirs lists the node prefixes of an hour.
func (r *BucketReader) nodeDirs(ctx context.Context, hour time.Time) ([]string, error) {
	var out []string
	opts := &blob.ListOptions{Prefix: history.HourPrefix(hour), Delimiter: "/"}
	for token := blob.FirstPageToken; len(token) > 0; {
		objs, next, err := r.Bucket.ListPage(ctx, token, nodeDirPage, opts)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ingest: list %s: %w", opts.Prefix, err)
		}
		for _, o := range objs {
			if o.IsDir {
				out = append(out, o.Key)
			}
		}
		token = next
	}
	return out, nil
}

// listNode yields the names under one node's prefix of an hour.
func (r *BucketReader) listNode(ctx context.Context, prefix string, from, to time.Time, st *LoadStats, yield func(history.Name) bool) error {
	it := r.Bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ingest: list %s: %w", prefix, err)
		}
		st.Listed++
		n, err := history.ParseKey(obj.Key)
		if err != nil || !n.Taken.After(from) || n.Taken.After(to) {
			st.Ignored++
			continue
		}
		if !yield(n) {
			return ctx.Err()
		}
	}
}

// read feeds the named blobs to the ingester with up to Readers blobs in
// flight, each reader reusing one buffer.
func (r *BucketReader) read(ctx context.Context, names <-chan history.Name) LoadStats {
	workers := r.Readers
	if workers <= 0 {
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	var st atomicStats
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for n := range names {
				buf = r.readOne(ctx, n, buf, &st)
			}
		}()
	}
	wg.Wait()
	return st.load()
}

// readOne reads and ingests one blob into buf (grown as needed) and
// returns the buffer for the next.
func (r *BucketReader) readOne(ctx context.Context, n history.Name, buf []byte, st *atomicStats) []byte {
	if !r.Ingester.Wants(n) {
		st.known.Add(1)
		return buf
	}
	key := n.Key()
	data, err := r.fetch(ctx, key, buf)
	if err != nil {
		if ReasonOf(err) != "" {
			st.read.Add(1)
			st.skipped.Add(1)
			_ = r.Ingester.skipped1(err)
		} else {
			st.errors.Add(1)
		}
		return buf
	}
	st.read.Add(1)
	st.bytes.Add(int64(len(data)))
	if r.Ingester.AddBlob(key, data) != nil {
		st.skipped.Add(1)
	} else {
		st.added.Add(1)
	}
	return data[:0]
}

// fetch reads key's blob into buf.
func (r *BucketReader) fetch(ctx context.Context, key string, buf []byte) ([]byte, error) {
	limit := r.MaxBlobBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	rd, err := r.Bucket.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			return buf, fmt.Errorf("ingest: %s gone: %w", key, err)
		}
		return buf, fmt.Errorf("ingest: read %s: %w", key, err)
	}
	defer rd.Close()
	if size := rd.Size(); size > limit {
		return buf, skip(Corrupt, "%s: %d bytes, over %d", key, size, limit)
	} else if int64(cap(buf)) < size+1 {
		buf = make([]byte, 0, size+512)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) > limit {
			return buf, skip(Corrupt, "%s: over %d bytes", key, limit)
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, fmt.Errorf("ingest: read %s: %w", key, err)
		}
	}
}

// atomicStats are LoadStats counted by concurrent readers.
type atomicStats struct {
	known, read, bytes, added, skipped, errors atomic.Int64
}

func (a *atomicStats) load() LoadStats {
	return LoadStats{Known: a.known.Load(), Read: a.read.Load(), Bytes: a.bytes.Load(),
		Added: a.added.Load(), Skipped: a.skipped.Load(), Errors: a.errors.Load()}
}
