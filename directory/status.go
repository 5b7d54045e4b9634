package directory

// TableStatus is a table's lifecycle state, as DynamoDB's TableStatus
// spells it; the table record's status field holds one.
type TableStatus string

// The table statuses a Partita table goes through.
const (
	Creating TableStatus = "CREATING"
	Active   TableStatus = "ACTIVE"
	Updating TableStatus = "UPDATING"
	Deleting TableStatus = "DELETING"
)

// String returns the status as it is stored and sent.
func (s TableStatus) String() string { return string(s) }
