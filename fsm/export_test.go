package fsm

import (
	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// ApplyKeeping is Apply with the Doctor's timeline bounded by kept
// instead of DoctorOpsKept, so that a test shows retention at work
// without creating a thousand records.
func ApplyKeeping(b *engine.Batch, d *partitapb.Descriptor, cmd *partitapb.Command, kept int) (*partitapb.Result, error) {
	a := NewApplier(b, d)
	a.doctorOpsKept = kept
	res, err := a.Apply(cmd)
	if err != nil {
		return nil, err
	}
	return res, a.Flush()
}

// WriteStatsForTest writes s as partition's statistics record.
func WriteStatsForTest(b *engine.Batch, partition uint64, s Stats) error {
	return writeStats(b, partition, s)
}
