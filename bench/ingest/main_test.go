package main

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"time"
)

// TestGenerateThenIngest runs both phases on a small file bucket: generate
// writes one blob per node and interval, and the ingester reads them back.
func TestGenerateThenIngest(t *testing.T) {
	dir := t.TempDir()
	c := config{bucket: "file://" + dir + "?metadata=skip", nodes: 5, intervals: 3, replicas: 4,
		interval: 5 * time.Second, writers: 2}
	ctx := context.Background()
	if err := generate(ctx, c); err != nil {
		t.Fatal(err)
	}
	blobs := 0
	if err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs++
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if want := c.nodes * c.intervals; blobs != want {
		t.Fatalf("generated %d blobs, want %d", blobs, want)
	}
	if err := ingestAll(ctx, c); err != nil {
		t.Fatal(err)
	}
}
