package raftlog

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2/vfs"
)

const (
	// DefaultSegmentBytes is the segment size when Options.SegmentBytes is 0.
	DefaultSegmentBytes = 64 << 20
	// MaxSegmentBytes bounds Options.SegmentBytes, so that an entry's offset
	// in its segment fits the 32 bits the index keeps for it, even after the
	// current segment overshoots by a batch and by the entries GC rewrites.
	MaxSegmentBytes = 1 << 30
)

// Options configure a Log. Every field is read once, by Open.
type Options struct {
	// FS holds the segment files. Required. Tests pass vfs.NewMem() or
	// vfs.NewCrashableMem(); a node passes vfs.Default.
	FS vfs.FS
	// Dir is the directory of the segment files, created if missing. The
	// log owns it: it removes files of its own naming it does not need.
	Dir string
	// SegmentBytes is the size past which the current segment is closed and
	// a new one started (0: DefaultSegmentBytes). It also paces GC, which
	// runs at every rotation and may copy up to twice the bytes of the
	// segment just closed (about twice SegmentBytes) forward each time.
	SegmentBytes int64
	// Logger receives rotations, GC and recovery events (nil: discard).
	Logger *slog.Logger
}

// Validate rejects options Open cannot work with.
func (o Options) Validate() error {
	switch {
	case o.FS == nil:
		return errors.New("raftlog: Options.FS is required")
	case o.Dir == "":
		return errors.New("raftlog: Options.Dir is required")
	case o.SegmentBytes < 0 || o.SegmentBytes > MaxSegmentBytes:
		return fmt.Errorf("raftlog: Options.SegmentBytes %d outside [0, %d]", o.SegmentBytes, MaxSegmentBytes)
	}
	return nil
}

// withDefaults fills in the zero fields that have a default.
func (o Options) withDefaults() Options {
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
