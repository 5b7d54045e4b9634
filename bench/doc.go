// Package bench is Partita's load generator: real AWS SDK for Go v2 clients
// driving a DynamoDB endpoint (Partita or any other), with latencies in HDR
// histograms. `partita bench` runs it.
//
// A run has an optional load phase (insert Records items) and a measured
// phase: Clients goroutines issue the workload's operations until Duration
// elapses or Operations are done, whichever is first.
package bench
