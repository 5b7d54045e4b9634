// Package admission decides whether a partition's leader serves a request
// now or throttles it, as DynamoDB's storage nodes do: token buckets of
// capacity units, refilled at a rate, spent by what requests consume.
//
// Two buckets stand behind every request on a table partition:
//
//   - the partition's own, at the per-partition limit (DynamoDB's 3,000
//     read and 1,000 write units per second by default) with one second
//     of burst: one hot partition cannot take a node, whatever the table's
//     mode. Throttled with reason Table{Read,Write}KeyRangeThroughputExceeded.
//   - for PROVISIONED tables, the table's pool on this node: the table's
//     provisioned units times the share of its partitions this node leads,
//     holding up to BurstSeconds (300) of unused capacity. Every partition
//     of the table led here draws on the same pool, so a hot partition
//     uses what its idle siblings leave (adaptive capacity), and the
//     table as a whole stays at its provisioned rate. Throttled with
//     reason Table{Read,Write}ProvisionedThroughputExceeded.
//
// A request is admitted while its buckets hold tokens; it pays a minimum
// (one write unit, half a read unit) up front and the rest once its real
// size is known, which may leave a bucket in debt that later requests
// wait out. Each bucket starts with one second of its rate: a new table
// or a new leader has no unused capacity saved up yet.
//
// The controller runs on every node and counts only what that node
// serves: writes and strongly consistent reads on the partition's leader,
// eventually consistent reads wherever they are served. Capacity is not
// lent between nodes: a table whose partitions are led by several nodes
// lends unused capacity only among the partitions each node leads.
package admission
