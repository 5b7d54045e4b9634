package dynamo

import "github.com/partitadb/partita/admission"

// writeUnits is the write capacity a write of items of the given sizes
// (before and after) consumes: admission's units of the larger.
func writeUnits(sizes ...int) float64 {
	largest := 0
	for _, s := range sizes {
		largest = max(largest, s)
	}
	return admission.WriteUnits(largest)
}

// readUnits is the read capacity a read of an item of size consumes.
func readUnits(size int, consistent bool) float64 { return admission.ReadUnits(size, consistent) }

// consumed returns the ConsumedCapacity to report under mode
// (ReturnConsumedCapacity), or nil when none is asked for.
func consumed(mode *string, table string, units float64) *consumedCapacity {
	switch str(mode) {
	case "TOTAL":
		return &consumedCapacity{TableName: table, CapacityUnits: units}
	case "INDEXES":
		return &consumedCapacity{TableName: table, CapacityUnits: units, Table: &capacityElement{CapacityUnits: units}}
	}
	return nil
}
