package directory

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// kindDoctor is the record kind of the Doctor's records.
const kindDoctor = "doctor"

// DoctorLeaseKey is the key of the Doctor lease record: which node's
// Doctor is active, at which epoch, until when.
func DoctorLeaseKey() []byte { return engine.MetaKey(kindDoctor, "lease") }

// EncodeDoctorLease encodes the Doctor lease record.
func EncodeDoctorLease(l *partitapb.DoctorLease) ([]byte, error) {
	raw, err := proto.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("directory: encode doctor lease: %w", err)
	}
	return raw, nil
}

// DecodeDoctorLease decodes the Doctor lease record.
func DecodeDoctorLease(raw []byte) (*partitapb.DoctorLease, error) {
	l := &partitapb.DoctorLease{}
	if err := proto.Unmarshal(raw, l); err != nil {
		return nil, fmt.Errorf("directory: doctor lease record is corrupt: %w", err)
	}
	return l, nil
}

// ReadDoctorLease returns the Doctor lease record, or nil when no Doctor
// ever held it.
func ReadDoctorLease(r engine.Reader) (*partitapb.DoctorLease, error) {
	raw, err := engine.Get(r, DoctorLeaseKey())
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("directory: read doctor lease: %w", err)
	}
	return DecodeDoctorLease(raw)
}

// LeaseHeld reports whether l has a holder whose lease has not expired at
// now (on the clock of the node asking).
func LeaseHeld(l *partitapb.DoctorLease, now time.Time) bool {
	return l.GetHolder() != 0 && now.UnixNano() < l.GetExpiryUnixNanos()
}
