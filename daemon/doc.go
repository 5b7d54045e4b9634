// Package daemon runs a node's background jobs: liveness heartbeats, raft
// log trimming, topology publishing, TTL sweeps, stats, the Doctor's cycle.
// Every such job is registered with one Manager, which schedules it, bounds
// and retries its cycles, survives its panics, measures it and lets an
// operator pause, resume or kick it.
//
// # Jobs
//
// A job is a named JobSpec with a Kind that says what starts its cycles:
//
//   - Periodic: every Interval plus a random jitter in [0, Jitter), counted
//     from the end of the previous cycle (RunAtStart runs one at Start).
//   - Continuous: one long cycle (a loop, a stream consumer), restarted
//     after Backoff.Initial when it returns and with backoff when it fails.
//   - Triggered: a cycle per Trigger call (coalesced) or per value received
//     on Events.
//
// Any job can be asked for a cycle now with RunNow. The job's runner
// goroutine runs its cycles one at a time, so a cycle never overlaps the
// previous one: a job is a singleton on its node.
//
// A cycle is Run(ctx, cycle). ctx ends when the manager stops, when the
// cycle outlives JobSpec.Timeout (ctx.Err() is then
// context.DeadlineExceeded and context.Cause(ctx) matches ErrCycleTimeout)
// and, for continuous jobs, when the job is paused. A cycle that returns an
// error, times out or panics has failed: it is logged, counted and retried
// after Backoff.Delay(n) for the n-th consecutive failure (exponential,
// capped at Backoff.Max), up to Backoff.MaxRetries times for periodic and
// triggered jobs. A panic never leaves the job's goroutine.
//
// The Cycle argument carries a Cache that lives across cycles, bounded in
// entries with LRU eviction, so a job can reuse what it computed last time:
//
//	key := "applied/" + partition
//	seen, _ := daemon.CacheGet[uint64](c.Cache, key)
//	... work from seen ...
//	c.Cache.Put(key, applied)
//
// # Producer and consumer
//
// A job with Workers and Handle also owns a bounded work queue: its cycles
// (or any caller, through Manager.Submit) enqueue items that Workers
// goroutines hand to Handle, each under the job's Timeout with panics
// recovered. When the queue is full Submit blocks, or fails with
// ErrQueueFull if RejectWhenFull is set. A Triggered job with Workers may
// leave Run nil to be a pure consumer.
//
// # Walkthrough
//
//	m, err := daemon.New(daemon.Config{
//		Logger:     logger,
//		Registerer: registry,            // never the global one
//		Tracer:     tp.Tracer("daemon"), // noop by default
//	})
//	if err != nil { ... }
//	err = m.Register(daemon.JobSpec{
//		Name:     "topology-publisher",
//		Kind:     daemon.Periodic,
//		Interval: 5 * time.Second,
//		Jitter:   time.Second,
//		Timeout:  10 * time.Second,
//		Run: func(ctx context.Context, c *daemon.Cycle) error {
//			return publish(ctx)
//		},
//	})
//	...
//	if err := m.Start(ctx); err != nil { ... }
//	http.Handle("/debug/", http.StripPrefix("/debug", m.AdminHandler()))
//	...
//	// Shutdown: cancel every job, wait up to ten seconds.
//	stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	if err := m.Stop(stopCtx); err != nil {
//		// *StopError: err.Jobs did not return in time.
//	}
//
// # Observing and controlling
//
// List, Info and Timeline (the last cycles of a job, with start, end,
// outcome, error and attempt) show what each job does; Pause, Resume,
// RunNow and Trigger steer it. AdminHandler serves the same as JSON. Each
// job has the partita_daemon_* metrics of metrics.go on Config.Registerer,
// a span per cycle on Config.Tracer, and slog records with a "job"
// attribute on Config.Logger.
//
// # Testing with a fake clock
//
// Every wait goes through Config.Clock and jitter comes from Config.Rand,
// so tests drive a manager with a FakeClock and a seeded rand:
//
//	clk := daemon.NewFakeClock(time.Unix(0, 0))
//	m, _ := daemon.New(daemon.Config{Clock: clk, Rand: rand.New(rand.NewPCG(1, 2))})
//	... register a periodic job of Interval time.Minute, Start ...
//	clk.BlockUntil(1)          // the job waits on its timer
//	clk.Advance(time.Minute)   // the timer fires; the cycle runs
//	clk.BlockUntil(1)          // the cycle is recorded; the next wait began
//
// Config.OnCycle is called after each cycle is recorded and before the job
// waits again, which lets a test wait for a cycle without polling.
package daemon
