package publish

import (
	"context"
	"errors"
	"sync"

	"gocloud.dev/blob"
)

// ErrInjected is the error a FaultyBucket's failing writes return.
var ErrInjected = errors.New("publish: injected bucket fault")

// FaultyBucket wraps a real bucket to stall or fail its writes: what a
// node sees of an unreachable or overloaded object store. Listing and
// deleting pass through. It is safe for concurrent use.
type FaultyBucket struct {
	inner Bucket

	mu     sync.Mutex
	stall  chan struct{} // non-nil: writes wait until it is closed
	fail   bool
	writes int // writes attempted
}

var _ Bucket = (*FaultyBucket)(nil)

// NewFaultyBucket returns a healthy wrapper of inner.
func NewFaultyBucket(inner Bucket) *FaultyBucket { return &FaultyBucket{inner: inner} }

// Stall makes writes block until Heal (or their context ends).
func (f *FaultyBucket) Stall() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stall == nil {
		f.stall = make(chan struct{})
	}
}

// Fail makes writes fail with ErrInjected until Heal.
func (f *FaultyBucket) Fail() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = true
}

// Heal ends stalls and failures; stalled writes proceed.
func (f *FaultyBucket) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stall != nil {
		close(f.stall)
		f.stall = nil
	}
	f.fail = false
}

// Writes returns the number of writes attempted so far.
func (f *FaultyBucket) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// WriteAll writes through to the inner bucket unless stalled or failing.
func (f *FaultyBucket) WriteAll(ctx context.Context, key string, p []byte, opts *blob.WriterOptions) error {
	f.mu.Lock()
	f.writes++
	stall, fail := f.stall, f.fail
	f.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail {
		return ErrInjected
	}
	return f.inner.WriteAll(ctx, key, p, opts)
}

// ListPage lists through the inner bucket.
func (f *FaultyBucket) ListPage(ctx context.Context, token []byte, size int, opts *blob.ListOptions) ([]*blob.ListObject, []byte, error) {
	return f.inner.ListPage(ctx, token, size, opts)
}

// Delete deletes through the inner bucket.
func (f *FaultyBucket) Delete(ctx context.Context, key string) error {
	return f.inner.Delete(ctx, key)
}
