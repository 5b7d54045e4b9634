package ingest

import (
	"errors"
	"io"
	"math"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/partitadb/partita/topology/topologypb"
)

// The bucket path does not decode every blob into a TopologySnapshot: of
// the many snapshots of a node it reads, the view needs only the newest
// in full. scan reads a blob's identity and its Sample straight from the
// wire, checking its framing and its strings as proto.Unmarshal would,
// without allocating; the newest blob's bytes are kept and decoded when a
// view needs them.

// scanned is what scan reads of a blob.
type scanned struct {
	version  topologypb.SchemaVersion
	id       ID
	taken    int64
	interval int64
	sample   Sample
}

// errString is a string field holding invalid UTF-8, which proto.Unmarshal
// rejects.
var errString = errors.New("invalid UTF-8 in a string field")

// errFieldNumber is a field number beyond protobuf's range.
var errFieldNumber = errors.New("invalid field number")

// scan reads data as a TopologySnapshot; its errors are *SkipError.
func scan(data []byte) (scanned, error) {
	var s scanned
	err := fields(data, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch {
		case typ == protowire.VarintType && num == 1:
			s.version = topologypb.SchemaVersion(int32(v))
		case typ == protowire.VarintType && num == 3:
			s.id.Seq = v
		case typ == protowire.VarintType && num == 4:
			s.taken = int64(v)
		case typ == protowire.VarintType && num == 5:
			s.interval = int64(v)
		case typ == protowire.BytesType && num == 2:
			return scanNode(b, &s)
		case typ == protowire.BytesType && num == 6:
			return scanHost(b, &s.sample)
		case typ == protowire.BytesType && num == 7:
			return scanReplica(b, &s.sample)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return s, skip(Truncated, "%d bytes", len(data))
		}
		return s, skip(Corrupt, "%v", err)
	}
	sm := &s.sample
	sm.Taken, sm.Started, sm.Seq = time.Unix(0, s.taken).UTC(), s.id.Started, s.id.Seq
	sm.Interval = time.Duration(s.interval)
	return s, checkFields(s.version, s.id.Node, s.taken)
}

func scanNode(b []byte, s *scanned) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch {
		case typ == protowire.VarintType && num == 1:
			s.id.Node = v
		case typ == protowire.VarintType && num == 7:
			s.id.Started = int64(v)
		case typ == protowire.BytesType && num >= 2 && num <= 6 && !utf8.Valid(b):
			return errString
		}
		return nil
	})
}

func scanHost(b []byte, sm *Sample) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
		switch {
		case typ == protowire.VarintType && num == 2:
			sm.DiskUsedBytes = v
		case typ == protowire.VarintType && num == 5:
			sm.FsyncP99 = time.Duration(v)
		case typ == protowire.Fixed64Type && num == 6:
			sm.CPUSeconds = math.Float64frombits(v)
		case typ == protowire.VarintType && num == 7:
			sm.RSSBytes = v
		}
		return nil
	})
}

// replicaFields are the fields of a replica a Sample sums; a field
// repeated on the wire keeps its last value, as proto.Unmarshal does.
type replicaFields struct {
	role          topologypb.Role
	logBytes      uint64
	pending       bool
	reads, writes float64
}

func scanReplica(b []byte, sm *Sample) error {
	var r replicaFields
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch {
		case typ == protowire.VarintType && num == 7:
			r.role = topologypb.Role(int32(v))
		case typ == protowire.VarintType && num == 13:
			r.logBytes = v
		case typ == protowire.VarintType && num == 14:
			r.pending = v != 0
		case typ == protowire.BytesType && num == 2 && !utf8.Valid(b):
			return errString
		case typ == protowire.BytesType && (num == 15 || num == 16): // packed node ids
			return packedVarints(b)
		case typ == protowire.BytesType && num == 17: // a follower's progress
			return fields(b, nil)
		case typ == protowire.BytesType && num == 18:
			return scanLoad(b, &r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sm.Replicas++
	sm.LogBytes += r.logBytes
	sm.ReadsPerSec += r.reads
	sm.WritesPerSec += r.writes
	if r.role == topologypb.Role_ROLE_LEADER {
		sm.Leaders++
	}
	if r.pending {
		sm.PendingSnaps++
	}
	return nil
}

func scanLoad(b []byte, r *replicaFields) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error {
		switch {
		case typ == protowire.Fixed64Type && num == 1:
			r.reads = math.Float64frombits(v)
		case typ == protowire.Fixed64Type && num == 2:
			r.writes = math.Float64frombits(v)
		case typ == protowire.BytesType && num == 7: // an errors map entry
			return fields(b, func(num protowire.Number, typ protowire.Type, _ uint64, b []byte) error {
				if typ == protowire.BytesType && num == 1 && !utf8.Valid(b) {
					return errString
				}
				return nil
			})
		}
		return nil
	})
}

func packedVarints(b []byte) error {
	for len(b) > 0 {
		_, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

// fields calls fn (nil: none) with each field of message b: its varint or
// fixed value in v, its bytes in b. Groups are checked and passed over.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v uint64, b []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if num > protowire.MaxValidNumber {
			return errFieldNumber
		}
		b = b[n:]
		var v uint64
		var field []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var v32 uint32
			v32, n = protowire.ConsumeFixed32(b)
			v = uint64(v32)
		case protowire.BytesType:
			field, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if fn != nil {
			if err := fn(num, typ, v, field); err != nil {
				return err
			}
		}
	}
	return nil
}
