// Package node wires one Partita node together: engine, store, router,
// the DynamoDB API server, the background jobs, tracing and the admin
// endpoint. cmd/partita runs it; end-to-end tests start it on 127.0.0.1:0
// exactly as the binary does.
//
// Start brings the pieces up in dependency order:
//
//	tracer provider -> engine -> store -> router -> jobs -> API -> admin
//
// and Close drains the API and admin endpoints, stops the jobs (before
// the store they read), the store and the engine, then flushes the traces.
//
// Background work that is periodic and node-wide runs as a daemon job
// (jobs.go: table-stats). Work that belongs to a raft processing round,
// such as trimming a replica's log behind its followers, stays inside the
// store, which does it as part of the round that made it possible.
package node
