package admission

import (
	"time"

	"github.com/partitadb/partita/directory"
)

// billingPayPerRequest is the billing mode of on-demand tables; any other
// (PROVISIONED, or none in records written before billing modes) is
// provisioned, as DescribeTable reports it.
const billingPayPerRequest = "PAY_PER_REQUEST"

// LimitsFrom returns the limits of partition as snap records its table,
// with this node's share of the table's capacity: the partitions of the
// table that ledHere over all of them. False: partition belongs to no
// table of snap (the meta partition, or one the node has not learnt of).
func LimitsFrom(snap *directory.Snapshot, partition uint64, ledHere func(partition uint64) bool) (Limits, bool) {
	if snap == nil {
		return Limits{}, false
	}
	for _, t := range snap.Tables {
		parts := t.GetPartitions()
		found := false
		for _, p := range parts {
			if p.GetId() == partition {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		lim := Limits{Table: t.GetName(), TableID: t.GetId(), Created: time.Unix(0, t.GetCreationUnixNanos())}
		if t.GetBillingMode() == billingPayPerRequest {
			return lim, true
		}
		led := 0
		for _, p := range parts {
			if ledHere(p.GetId()) {
				led++
			}
		}
		lim.Provisioned = true
		lim.ReadUnits, lim.WriteUnits = float64(t.GetReadCapacityUnits()), float64(t.GetWriteCapacityUnits())
		// The partition asking is led here (or about to be): count it, so
		// a leadership just won is not a share of zero.
		lim.Share = float64(max(led, 1)) / float64(len(parts))
		return lim, true
	}
	return Limits{}, false
}
