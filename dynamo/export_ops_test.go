package dynamo

import "sort"

// OperationNames lists every operation the server dispatches, for tests
// that must cover them all.
func OperationNames() []string {
	names := make([]string, 0, len(operations))
	for op := range operations {
		names = append(names, op)
	}
	sort.Strings(names)
	return names
}

// IsStreamsOperation reports whether op is served under the DynamoDB
// Streams target prefix.
func IsStreamsOperation(op string) bool { return streamOperations[op] }
