// Package bench is Partita's load generator: real AWS SDK for Go v2 clients
// driving DynamoDB endpoints (Partita or any other), with latencies in HDR
// histograms. `partita bench` runs it; bench/compare uses it to measure
// Partita beside a floor server and etcd.
//
// A run has an optional load phase (insert Records items) and a measured
// phase: Clients goroutines, spread round-robin over the endpoints, issue
// the workload's operations until Duration elapses or Operations are done,
// whichever is first.
//
// The workloads are YCSB's core ones plus four pure ones:
//
//	a    50% read, 50% update                 zipfian
//	b    95% read, 5% update                  zipfian
//	c    100% read                            zipfian
//	d    95% read, 5% insert                  latest
//	e    95% scan (Query 1..100), 5% insert   zipfian
//	f    50% read, 50% read-modify-write      zipfian
//	put  100% insert of new keys
//	get  100% read                            uniform
//	add  100% UpdateItem ADD 1 to a counter     uniform
//	cond 100% conditional update of the payload uniform
//
// With Records 1, add and cond put every client on one key: the
// contention that the write path's latches and pipelining serve.
// Reads are GetItem, updates UpdateItem (SET of the payload), inserts
// PutItem, scans Query on one partition key from a sort key on with a
// Limit, read-modify-writes GetItem then UpdateItem. Files by concept:
// config.go (Config), workload.go (mixes), keys.go (distributions and item
// layout), ops.go (the SDK calls), runner.go (load and measured phases),
// progress.go (live line), report.go (Report, text and JSON).
package bench
