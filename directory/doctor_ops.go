package directory

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// kindDoctorOp is the record kind of the Doctor's timeline: one record
// per operation, named by its id in big-endian order, so that the records
// sort by id and a walk of DoctorOpsSpan reads the timeline oldest first.
const kindDoctorOp = "doctor-op"

// DoctorOpCounter is the name of the id counter of Doctor operations
// (CounterKey(DoctorOpCounter)): the last id given, ids start at 1.
const DoctorOpCounter = "doctor-op"

// ErrBadDoctorOpKey: a key that is not a Doctor operation record's.
var ErrBadDoctorOpKey = errors.New("directory: not a doctor op key")

// DoctorSettingsKey is the key of the Doctor's settings record: its gates
// and its pause switch.
func DoctorSettingsKey() []byte { return engine.MetaKey(kindDoctor, "settings") }

// DoctorTimelineKey is the key of the timeline's bookkeeping record
// (DoctorTimeline), which lets retention run without a scan of the whole
// timeline.
func DoctorTimelineKey() []byte { return engine.MetaKey(kindDoctor, "timeline") }

// DoctorOpKey is the key of the record of Doctor operation id.
func DoctorOpKey(id uint64) []byte {
	return engine.MetaKey(kindDoctorOp, string(binary.BigEndian.AppendUint64(nil, id)))
}

// DoctorOpsSpan is the span [lo, hi) of every Doctor operation record, in
// id order: the bounds of a Walk of the meta partition that reads the
// timeline.
func DoctorOpsSpan() (lo, hi []byte) { return engine.MetaSpan(kindDoctorOp) }

// DoctorOpID returns the id a Doctor operation record's key names.
func DoctorOpID(key []byte) (uint64, error) {
	prefix, _ := DoctorOpsSpan()
	if len(key) != len(prefix)+8 || !bytes.HasPrefix(key, prefix) {
		return 0, fmt.Errorf("%w: %q", ErrBadDoctorOpKey, key)
	}
	return binary.BigEndian.Uint64(key[len(prefix):]), nil
}

// EncodeDoctorSettings encodes the Doctor's settings record.
func EncodeDoctorSettings(s *partitapb.DoctorSettings) ([]byte, error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("directory: encode doctor settings: %w", err)
	}
	return raw, nil
}

// DecodeDoctorSettings decodes the Doctor's settings record.
func DecodeDoctorSettings(raw []byte) (*partitapb.DoctorSettings, error) {
	s := &partitapb.DoctorSettings{}
	if err := proto.Unmarshal(raw, s); err != nil {
		return nil, fmt.Errorf("directory: doctor settings record is corrupt: %w", err)
	}
	return s, nil
}

// ReadDoctorSettings returns the Doctor's settings record; empty settings
// (no gate overrides, not paused) when none was ever written.
func ReadDoctorSettings(r engine.Reader) (*partitapb.DoctorSettings, error) {
	raw, err := engine.Get(r, DoctorSettingsKey())
	if errors.Is(err, engine.ErrNotFound) {
		return &partitapb.DoctorSettings{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory: read doctor settings: %w", err)
	}
	return DecodeDoctorSettings(raw)
}

// EncodeDoctorOp encodes a Doctor operation record.
func EncodeDoctorOp(op *partitapb.DoctorOp) ([]byte, error) {
	raw, err := proto.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("directory: encode doctor op %d: %w", op.GetId(), err)
	}
	return raw, nil
}

// DecodeDoctorOp decodes a Doctor operation record (a value of a walk of
// DoctorOpsSpan).
func DecodeDoctorOp(raw []byte) (*partitapb.DoctorOp, error) {
	op := &partitapb.DoctorOp{}
	if err := proto.Unmarshal(raw, op); err != nil {
		return nil, fmt.Errorf("directory: doctor op record is corrupt: %w", err)
	}
	return op, nil
}

// ReadDoctorOp returns the record of Doctor operation id, or nil.
func ReadDoctorOp(r engine.Reader, id uint64) (*partitapb.DoctorOp, error) {
	raw, err := engine.Get(r, DoctorOpKey(id))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory: read doctor op %d: %w", id, err)
	}
	return DecodeDoctorOp(raw)
}

// ScanDoctorOps returns the Doctor operation records whose id is at least
// fromID, in id order, at most limit of them (limit <= 0: all).
func ScanDoctorOps(r engine.Reader, fromID uint64, limit int) ([]*partitapb.DoctorOp, error) {
	_, hi := DoctorOpsSpan()
	it, err := r.NewIter(DoctorOpKey(fromID), hi)
	if err != nil {
		return nil, fmt.Errorf("directory: scan doctor ops: %w", err)
	}
	defer it.Close()
	var out []*partitapb.DoctorOp
	for ok := it.First(); ok && (limit <= 0 || len(out) < limit); ok = it.Next() {
		op, err := DecodeDoctorOp(it.Value())
		if err != nil {
			return nil, fmt.Errorf("directory: doctor op key %q: %w", it.Key(), err)
		}
		out = append(out, op)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("directory: scan doctor ops: %w", err)
	}
	return out, nil
}

// DoctorTimeline is the bookkeeping of the Doctor's timeline that
// retention keeps up to date.
type DoctorTimeline struct {
	// Count is the number of operation records.
	Count uint64
	// Floor is an id below which no record is terminal: the records
	// below it are in flight or deleted, so the search for the oldest
	// terminal record starts there, past the deleted ones.
	Floor uint64
}

// EncodeDoctorTimeline encodes the timeline's bookkeeping record: Count
// and Floor, 8 bytes big-endian each.
func EncodeDoctorTimeline(t DoctorTimeline) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, t.Count), t.Floor)
}

// ReadDoctorTimeline returns the timeline's bookkeeping record (zero when
// no operation was ever recorded).
func ReadDoctorTimeline(r engine.Reader) (DoctorTimeline, error) {
	raw, err := engine.Get(r, DoctorTimelineKey())
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return DoctorTimeline{}, nil
	case err != nil:
		return DoctorTimeline{}, fmt.Errorf("directory: read doctor timeline: %w", err)
	case len(raw) != 16:
		return DoctorTimeline{}, fmt.Errorf("directory: doctor timeline record is corrupt (%d bytes)", len(raw))
	}
	return DoctorTimeline{Count: binary.BigEndian.Uint64(raw), Floor: binary.BigEndian.Uint64(raw[8:])}, nil
}

// DoctorOpTerminal reports whether state is final: SUCCEEDED, FAILED,
// REJECTED, STALE, ROLLED_BACK, or HELD (a hold records one cycle's
// decision; the operation, if it runs later, gets a record of its own).
// A terminal record changes no more and is the only kind retention
// deletes.
func DoctorOpTerminal(state partitapb.DoctorOp_State) bool {
	switch state {
	case partitapb.DoctorOp_SUCCEEDED, partitapb.DoctorOp_FAILED, partitapb.DoctorOp_REJECTED,
		partitapb.DoctorOp_STALE, partitapb.DoctorOp_ROLLED_BACK, partitapb.DoctorOp_HELD:
		return true
	}
	return false
}
