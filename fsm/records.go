package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/partitadb/partita/engine"
)

// At-most-once records. A Command's record is kept under its id alone
// (commandIDPrefix) and never collected. An Effects entry's record is kept
// under its command's time and id (timedRecordPrefix), so the records of a
// retry window's past are one key range: an entry carrying collect_before
// deletes those timed before it with one range deletion and raises the
// partition's collection floor to it. A command timed below the floor
// whose record may have been collected cannot tell whether it applied: its
// retry is refused (RecordCollected). A command without a time (an
// internal one, an older proposer) keeps the untimed record.

func timedRecordPrefix(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"t")
}

// RecordPrefixes are the key prefixes of partition's at-most-once
// records: the timed ones (the command's time, 8 bytes, then its id) and
// the untimed ones (the id).
func RecordPrefixes(partition uint64) (timed, untimed []byte) {
	return timedRecordPrefix(partition), commandIDPrefix(partition)
}

func recordFloorKey(partition uint64) []byte {
	return engine.LocalKey(partition, engine.ReplicatedLocal+"w")
}

// CommandRecordKey is the key of the at-most-once record of command id,
// made at unixNanos (0: untimed), in partition.
func CommandRecordKey(partition uint64, id string, unixNanos int64) []byte {
	if unixNanos <= 0 {
		return engine.LocalKey(partition, engine.ReplicatedLocal+"i"+id)
	}
	k := binary.BigEndian.AppendUint64(timedRecordPrefix(partition), uint64(unixNanos))
	return append(k, id...)
}

// ReadRecordFloor returns partition's collection floor as of r: records
// of commands timed before it may be gone (0: none collected).
func ReadRecordFloor(r engine.Reader, partition uint64) (int64, error) {
	raw, err := engine.Get(r, recordFloorKey(partition))
	if errors.Is(err, engine.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fsm: read record floor: %w", err)
	}
	if len(raw) != 8 {
		return 0, fmt.Errorf("fsm: record floor of partition %d is corrupt", partition)
	}
	return int64(binary.BigEndian.Uint64(raw)), nil
}

// collectRecords deletes the timed records before t and raises the floor
// to t, unless the floor is already there.
func (a *Applier) collectRecords(t int64) error {
	floor, err := ReadRecordFloor(a.b, a.partition)
	if err != nil || t <= floor {
		return err
	}
	start := timedRecordPrefix(a.partition)
	end := binary.BigEndian.AppendUint64(timedRecordPrefix(a.partition), uint64(t))
	if err := a.b.DeleteRange(start, end); err != nil {
		return fmt.Errorf("fsm: collect records: %w", err)
	}
	if err := a.b.Set(recordFloorKey(a.partition), binary.BigEndian.AppendUint64(nil, uint64(t))); err != nil {
		return fmt.Errorf("fsm: collect records: %w", err)
	}
	return nil
}
