package dynamo

// DynamoDB's capacity unit sizes.
const (
	writeUnitBytes = 1024
	readUnitBytes  = 4096
)

// writeUnits is the write capacity a write of items of the given sizes
// (before and after) consumes: one unit per started KB of the larger,
// at least one.
func writeUnits(sizes ...int) float64 {
	largest := 0
	for _, s := range sizes {
		largest = max(largest, s)
	}
	return float64(max(1, ceilDiv(largest, writeUnitBytes)))
}

// readUnits is the read capacity a read of an item of size consumes: one
// unit per started 4 KB, at least one, halved for an eventually consistent
// read.
func readUnits(size int, consistent bool) float64 {
	u := float64(max(1, ceilDiv(size, readUnitBytes)))
	if !consistent {
		u /= 2
	}
	return u
}

// ceilDiv is a/b rounded up, for a >= 0 and b > 0.
func ceilDiv(a, b int) int { return (a + b - 1) / b }

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
