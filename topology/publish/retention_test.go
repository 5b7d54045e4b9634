package publish_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/partitadb/partita/topology/history"
	"github.com/partitadb/partita/topology/publish"
)

// fill writes one small blob per node and hour in [from, to).
func fill(t *testing.T, b *blob.Bucket, from, to time.Time, nodes uint64) int {
	t.Helper()
	n := 0
	for h := from; h.Before(to); h = h.Add(time.Hour) {
		for node := uint64(1); node <= nodes; node++ {
			key := history.Name{Node: node, Taken: h.Add(time.Minute), Started: from, Seq: uint64(n)}.Key()
			if err := b.WriteAll(context.Background(), key, []byte("snapshot"), nil); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

func newRetention(t *testing.T, b publish.Bucket, now time.Time, edit func(*publish.RetentionConfig)) *publish.Retention {
	t.Helper()
	cfg := publish.DefaultRetentionConfig()
	cfg.Bucket, cfg.Keep, cfg.PageSize, cfg.Logger = b, 48*time.Hour, 3, slog.New(slog.DiscardHandler)
	cfg.Now = func() time.Time { return now }
	if edit != nil {
		edit(&cfg)
	}
	r, err := publish.NewRetention(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testRetention(t *testing.T, b *blob.Bucket, nodes uint64) {
	// Four days of history across a month's end, one blob per node and
	// hour; keep two days back from 02:30 on the 2nd.
	now := time.Date(2026, 12, 2, 2, 30, 0, 0, time.UTC)
	written := fill(t, b, now.Add(-96*time.Hour).Truncate(time.Hour), now, nodes)
	for _, k := range foreign {
		if err := b.WriteAll(context.Background(), k, []byte("not a snapshot"), nil); err != nil {
			t.Fatal(err)
		}
	}
	res, err := newRetention(t, b, now, nil).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cutoff := now.Add(-48 * time.Hour) // 2026-11-30 02:30: hours up to 01:00 go
	left := keys(t, b, history.Root)
	for _, k := range left {
		n, err := history.ParseKey(k)
		if err != nil {
			continue
		}
		if n.Taken.Truncate(time.Hour).Add(time.Hour).Compare(cutoff) <= 0 {
			t.Errorf("retention left %s, of an hour entirely before %v", k, cutoff)
		}
	}
	// Hours 2026-11-28 02:00 .. 2026-11-30 01:00 (48 hours) go.
	if want := int64(nodes * 48); res.Blobs != want || res.Bytes != want*int64(len("snapshot")) || res.More {
		t.Fatalf("retention deleted %+v, want %d blobs", res, want)
	}
	if len(left) != written-int(res.Blobs)+len(foreign) {
		t.Fatalf("%d keys left of %d written, %d deleted", len(left), written+len(foreign), res.Blobs)
	}
	for _, k := range foreign {
		if !slices.Contains(left, k) {
			t.Fatalf("retention deleted %s, outside the layout", k)
		}
	}
	// Idempotent: a second run deletes nothing.
	if res, err := newRetention(t, b, now, nil).Run(context.Background()); err != nil || res.Blobs != 0 {
		t.Fatalf("second run = %+v, %v", res, err)
	}
}

// foreign are keys under the root that the layout does not name.
var foreign = []string{history.Root + "README", history.Root + "notes/2020/x"}

func TestRetentionMemBucket(t *testing.T) { testRetention(t, openBucket(t, "mem://"), 2) }

func TestRetentionFileBucket(t *testing.T) {
	testRetention(t, openBucket(t, "file://"+t.TempDir()), 2)
}

func TestRetentionS3Bucket(t *testing.T) { testRetention(t, s3Bucket(t), 1) }

// A cycle stops at MaxDeletes and says there is more; the next carries on.
func TestRetentionBudget(t *testing.T) {
	b := openBucket(t, "mem://")
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	fill(t, b, now.Add(-10*time.Hour), now, 1)
	r := newRetention(t, b, now, func(c *publish.RetentionConfig) { c.Keep, c.MaxDeletes = 5*time.Hour, 4 })
	res, err := r.Run(context.Background())
	if err != nil || res.Blobs != 4 || !res.More {
		t.Fatalf("first cycle = %+v, %v; want 4 blobs and more", res, err)
	}
	if res, err = r.Run(context.Background()); err != nil || res.Blobs != 1 || res.More {
		t.Fatalf("second cycle = %+v, %v; want the fifth old hour", res, err)
	}
	if got := len(keys(t, b, "")); got != 5 {
		t.Fatalf("%d blobs left, want the 5 recent hours", got)
	}
}

// The Doctor's timeline entries, published beside the snapshots, age out
// with them.
func TestRetentionCoversTheTimeline(t *testing.T) {
	b := openBucket(t, "mem://")
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	old, recent := history.TimelineKey(now.Add(-30*time.Hour), 7, "succeeded"), history.TimelineKey(now.Add(-time.Hour), 8, "failed")
	for _, k := range []string{old, recent} {
		if err := b.WriteAll(ctx, k, []byte("entry"), nil); err != nil {
			t.Fatal(err)
		}
	}
	r := newRetention(t, b, now, func(c *publish.RetentionConfig) { c.Keep = 24 * time.Hour })
	if res, err := r.Run(ctx); err != nil || res.Blobs != 1 {
		t.Fatalf("retention = %+v, %v; want the old entry deleted", res, err)
	}
	if got := keys(t, b, history.TimelineRoot); len(got) != 1 || got[0] != recent {
		t.Fatalf("timeline left: %v, want [%s]", got, recent)
	}
}
