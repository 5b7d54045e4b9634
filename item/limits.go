package item

// DynamoDB's limits on items and keys, in bytes as Size counts them.
const (
	// MaxItemSize is the largest item DynamoDB stores: 400 KB, attribute
	// names included.
	MaxItemSize = 400 * 1024
	// MaxPartitionKeySize is the largest partition key value.
	MaxPartitionKeySize = 2048
	// MaxSortKeySize is the largest sort key value.
	MaxSortKeySize = 1024
	// MaxDepth is how deeply maps and lists may nest.
	MaxDepth = 32
	// MaxDigits is the number of significant digits a Number holds.
	MaxDigits = 38
	// maxExp and minExp bound Number.exp (value = 0.digits * 10^exp): the
	// magnitude runs from 1E-130 to 9.99...9E+125.
	maxExp = 126
	minExp = -129
)
