package ingest

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/topology/topologypb"
)

// Reason is why a snapshot was skipped.
type Reason string

// The reasons a snapshot is skipped.
const (
	// Corrupt: the bytes are not a TopologySnapshot.
	Corrupt Reason = "corrupt"
	// Truncated: the bytes end inside a field.
	Truncated Reason = "truncated"
	// UnknownVersion: the snapshot's version is newer than this reader's.
	UnknownVersion Reason = "unknown_version"
	// Invalid: no version, no node id, or a key that names another
	// snapshot than the blob holds.
	Invalid Reason = "invalid"
	// Duplicate: the same (node, process start, seq) arrived before.
	Duplicate Reason = "duplicate"
	// Future: taken beyond Config.MaxSkew after now.
	Future Reason = "future"
	// Past: taken more than Config.MaxAge before now, or before every
	// snapshot of the node's full window.
	Past Reason = "past"
)

// Reasons lists every Reason, in a stable order.
var Reasons = []Reason{Corrupt, Truncated, UnknownVersion, Invalid, Duplicate, Future, Past}

// ErrSkipped is wrapped by the errors of snapshots the ingester skips.
var ErrSkipped = errors.New("ingest: snapshot skipped")

// SkipError says why a snapshot was skipped.
type SkipError struct {
	Reason Reason
	Detail string
}

func (e *SkipError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("ingest: snapshot skipped: %s", e.Reason)
	}
	return fmt.Sprintf("ingest: snapshot skipped: %s: %s", e.Reason, e.Detail)
}

// Unwrap makes errors.Is(err, ErrSkipped) hold.
func (e *SkipError) Unwrap() error { return ErrSkipped }

func skip(r Reason, format string, args ...any) error {
	return &SkipError{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// ReasonOf returns the reason of a skip error ("" for any other error).
func ReasonOf(err error) Reason {
	var se *SkipError
	if errors.As(err, &se) {
		return se.Reason
	}
	return ""
}

// KnownVersion is the newest snapshot schema this reader understands.
const KnownVersion = topologypb.SchemaVersion_SCHEMA_VERSION_1

// Decode reads a snapshot blob and checks what the ingester relies on: a
// known version and a node id. It never panics; its errors are
// *SkipError.
func Decode(data []byte) (*topologypb.TopologySnapshot, error) {
	s := &topologypb.TopologySnapshot{}
	if err := proto.Unmarshal(data, s); err != nil {
		if truncated(data) {
			return nil, skip(Truncated, "%d bytes", len(data))
		}
		return nil, skip(Corrupt, "%v", err)
	}
	return s, Check(s)
}

// Check validates a decoded snapshot (as Decode does).
func Check(s *topologypb.TopologySnapshot) error {
	return checkFields(s.GetVersion(), s.GetNode().GetId(), s.GetUnixNanos())
}

func checkFields(version topologypb.SchemaVersion, node uint64, taken int64) error {
	switch {
	case version > KnownVersion:
		return skip(UnknownVersion, "version %d", version)
	case version == topologypb.SchemaVersion_SCHEMA_VERSION_UNSPECIFIED:
		return skip(Invalid, "no version")
	case node == 0:
		return skip(Invalid, "no node id")
	case taken <= 0:
		return skip(Invalid, "no time")
	}
	return nil
}

// truncated says data's top-level fields run past its end: the blob was
// cut, rather than garbled.
func truncated(data []byte) bool {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return errors.Is(protowire.ParseError(n), io.ErrUnexpectedEOF)
		}
		data = data[n:]
		n = protowire.ConsumeFieldValue(num, typ, data)
		if n < 0 {
			return errors.Is(protowire.ParseError(n), io.ErrUnexpectedEOF)
		}
		data = data[n:]
	}
	return false
}
