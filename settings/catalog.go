package settings

// Catalog is Partita's settings. Readers name the package or job that
// reads each; a Live setting's readers subscribe to it (Live.Watch) and
// apply a change without a restart.
func Catalog() []Setting {
	return []Setting{
		// Raft and the log.
		{Name: "raft.tick-interval", Kind: Duration, Default: "100ms", Min: "10ms", Max: "1s", Live: true,
			Readers: "store (the raft ticker)", Doc: "How often every replica's raft clock ticks; election and heartbeat timeouts are counted in ticks."},
		{Name: "raft.election-ticks", Kind: Int, Default: "10", Min: "3", Max: "100", Unit: "ticks",
			Readers: "replica (raft config)", Doc: "Ticks without a leader's heartbeat before a follower campaigns. Read when a replica starts."},
		{Name: "raft.heartbeat-ticks", Kind: Int, Default: "1", Min: "1", Max: "10", Unit: "ticks",
			Readers: "replica (raft config)", Doc: "Ticks between a leader's heartbeats. Read when a replica starts."},
		{Name: "raft.lease-reads", Kind: Bool, Default: "true", Live: true,
			Readers: "store (strongly consistent reads)", Doc: "Leaders serve strongly consistent reads from a leader lease, without a ReadIndex round trip, while it is valid; off, every such read takes the round trip."},
		{Name: "raft.lazy-commit", Kind: Bool, Default: "true", Live: true,
			Readers: "store (every replica's rounds)", Doc: "Leaders let followers learn that item writes committed from the next append or heartbeat, instead of sending each new commit index at once: a write costs each follower one round instead of two, and a follower applies the last item writes up to a heartbeat later. Off: every commit index is sent at once."},
		{Name: "raft.log-max-bytes", Kind: Bytes, Default: "16MiB", Min: "64KiB", Max: "1GiB", Live: true, PerTable: true,
			Readers: "replica (log trimming)", Doc: "A partition's raft log is trimmed to about this size, whatever its followers need; a follower that falls behind gets a snapshot."},
		{Name: "raft.log-max-entries", Kind: Int, Default: "10000", Min: "64", Max: "10000000", Unit: "entries", Live: true, PerTable: true,
			Readers: "replica (log trimming)", Doc: "A partition's raft log keeps at most this many entries."},
		{Name: "raft.snapshot-rate", Kind: Bytes, Default: "0", Min: "0", Max: "10GiB", Unit: "bytes/s", Live: true,
			Readers: "transport (snapshot sender)", Doc: "Snapshot data a node sends a second, to all its peers together. 0: unlimited."},
		{Name: "export.max-read-bytes-per-sec", Kind: Bytes, Default: "0", Min: "0", Max: "10GiB", Unit: "bytes/s", Live: true,
			Readers: "node (exports job)", Doc: "Item bytes an export reads a second, per partition being written, so that it does not crowd out foreground requests. 0: unlimited."},
		{Name: "store.workers", Kind: Int, Default: "1", Min: "1", Max: "64", Unit: "goroutines",
			Readers: "store", Doc: "Goroutines that drive a node's replicas. Read at start."},
		{Name: "storage.compaction-concurrency", Kind: Int, Default: "1", Min: "1", Max: "64", Unit: "compactions", Live: true,
			Readers: "engine (Pebble's compaction scheduler)", Doc: "Compactions Pebble runs at once; taken up at its next flush or compaction."},
		{Name: "storage.memtable-size", Kind: Bytes, Default: "16MiB", Min: "4MiB", Max: "1GiB",
			Readers: "engine (Pebble)", Doc: "The size of Pebble's memtables. Read when the engine opens."},
		// The change log.
		{Name: "changelog.retention", Kind: Duration, Default: "24h", Min: "1m", Max: "720h", Live: true, PerTable: true,
			Readers: "replica (change log trimming)", Doc: "How long a partition's change log keeps the records of its writes (the source of streams and global secondary indexes); older ones are trimmed as the partition's leader writes."},
		// Requests.
		{Name: "request.timeout", Kind: Duration, Default: "10s", Min: "100ms", Max: "5m", Live: true, PerTable: true,
			Readers: "router", Doc: "How long a DynamoDB request may wait for its partition before it fails with a retryable error."},
		{Name: "request.max-inflight", Kind: Int, Default: "0", Min: "0", Max: "1000000", Unit: "requests", Live: true,
			Readers: "dynamo (admission)", Doc: "DynamoDB requests a node serves at once; more are refused as throttled. 0: the node's --max-inflight-requests."},
		{Name: "request.control-plane-rate", Kind: Int, Default: "0", Min: "0", Max: "100000", Unit: "operations/s", Live: true,
			Readers: "dynamo (control-plane limiter)", Doc: "Table operations (CreateTable, UpdateTable, DeleteTable) a node admits a second, in bursts of twice as many; beyond, ThrottlingException. 0: the node's configuration."},
		// Control plane.
		{Name: "topology.interval", Kind: Duration, Default: "5s", Min: "500ms", Max: "5m", Live: true,
			Readers: "topology producer", Doc: "How often a node reports its topology and load."},
		{Name: "doctor.cycle", Kind: Duration, Default: "5s", Min: "500ms", Max: "5m", Live: true,
			Readers: "doctor", Doc: "How often the Doctor plans."},
		{Name: "doctor.dead-after", Kind: Duration, Default: "30s", Min: "5s", Max: "24h", Live: true,
			Readers: "doctor", Doc: "How long a node must be dead before the Doctor replaces its replicas."},
		{Name: "doctor.split-writes", Kind: Int, Default: "1000", Min: "1", Max: "10000000", Unit: "writes/s", Live: true, PerTable: true,
			Readers: "doctor (split checker)", Doc: "A partition written faster than this for doctor.split-after is split."},
		{Name: "doctor.split-after", Kind: Duration, Default: "10s", Min: "1s", Max: "24h", Live: true,
			Readers: "doctor (split checker)", Doc: "How long a partition must stay hot before the Doctor splits it."},
		// Observability.
		{Name: "log.level", Kind: Enum, Default: "info", Choices: []string{"debug", "info", "warn", "error"}, Live: true,
			Readers: "node (slog)", Doc: "The node's log level."},
		{Name: "trace.sample-rate", Kind: Float, Default: "0.1", Min: "0", Max: "1", Unit: "fraction of requests", Live: true,
			Readers: "telemetry (tracer)", Doc: "The fraction of requests traced (their spans recorded, kept by the console's ring and sent to the collector); a slow or failed request not sampled is still listed in the console, without its spans."},
		// Fault injection.
		{Name: "fault.fsync-delay", Kind: Duration, Default: "0s", Min: "0s", Max: "10s", Live: true, TestOnly: true,
			Readers: "engine (fsync)", Doc: "Added to every fsync of the node's engine: a slow disk, for the Doctor's sick-node tests and rollouts."},
	}
}
