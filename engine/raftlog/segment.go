package raftlog

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Segment files are named by their number, which grows by one with each
// new segment: 0000000000000042.log. A file named with tmpSuffix is a
// segment being rewritten by recovery; recovery removes leftovers.
const (
	segmentSuffix = ".log"
	tmpSuffix     = ".tmp"
	lockName      = "LOCK"
)

func segmentName(num uint64) string { return fmt.Sprintf("%016d%s", num, segmentSuffix) }

func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(digits) != 16 {
		return 0, false
	}
	num, err := strconv.ParseUint(digits, 10, 64)
	return num, err == nil && num > 0
}

// segment is one open segment file. Readers take a reference while they
// read outside the log's lock, so that GC may drop a segment whose last
// reader has yet to finish: the file is closed when the last reference
// goes.
type segment struct {
	num  uint64
	f    vfs.File
	size atomic.Int64 // bytes of whole records
	refs atomic.Int32 // one for the log, one per reader
}

func newSegment(num uint64, f vfs.File, size int64) *segment {
	s := &segment{num: num, f: f}
	s.size.Store(size)
	s.refs.Store(1)
	return s
}

func (s *segment) ref() { s.refs.Add(1) }

func (s *segment) unref() error {
	if s.refs.Add(-1) == 0 {
		return s.f.Close()
	}
	return nil
}
