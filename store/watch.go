package store

import (
	"sync"
	"sync/atomic"
	"time"
)

// Watching a partition's state on this node.
//
// A reader of a replica's state machine that must learn of a change at
// once (the node's settings, kept in the meta partition) asks for the
// partition's applied signal: a channel closed by the first round that
// applies entries to the local replica, or installs a snapshot in it,
// after the call. The reader re-reads the state and asks again.

// appliedSignals hands out the applied signals of watched partitions.
// Rounds check watched (one atomic load) before taking the lock, so an
// unwatched store pays nothing.
type appliedSignals struct {
	watched atomic.Int32
	mu      sync.Mutex
	chans   map[uint64]chan struct{}
}

// AppliedSignal returns a channel closed after the local replica of
// partition next applies entries or installs a snapshot. The partition
// need not be hosted yet: the signal fires once it is and changes.
func (s *Store) AppliedSignal(partition uint64) <-chan struct{} {
	a := &s.signals
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.chans == nil {
		a.chans = make(map[uint64]chan struct{})
	}
	ch, ok := a.chans[partition]
	if !ok {
		ch = make(chan struct{})
		a.chans[partition] = ch
		a.watched.Add(1)
	}
	return ch
}

// signalApplied closes the applied signal of partition, if anyone waits
// on it.
func (a *appliedSignals) signal(partition uint64) {
	if a.watched.Load() == 0 {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if ch, ok := a.chans[partition]; ok {
		close(ch)
		delete(a.chans, partition)
		a.watched.Add(-1)
	}
}

// SetTickInterval changes the period of raft's logical clock from the
// next tick on (0: Config.TickInterval). Election and heartbeat timeouts
// are counted in ticks, so they scale with it.
func (s *Store) SetTickInterval(d time.Duration) {
	if d <= 0 {
		d = s.cfg.TickInterval
	}
	if time.Duration(s.tickInterval.Load()) == d {
		return
	}
	s.tickInterval.Store(int64(d))
	s.setLeaseDuration()
	select {
	case s.tickReset <- struct{}{}:
	default:
	}
}

// HoldTicks stops (true) or restarts the ticks of every replica of the
// store, without changing their period: a fault, for tests, that with
// its messages held makes the node a stopped process (SIGSTOP), whose
// leaders never learn that they lost their quorum.
func (s *Store) HoldTicks(on bool) { s.ticksHeld.Store(on) }

// TickInterval is the current period of raft's logical clock.
func (s *Store) TickInterval() time.Duration { return time.Duration(s.tickInterval.Load()) }

// Workers is the number of goroutines that drive the store's replicas.
func (s *Store) Workers() int { return s.cfg.Workers }

// RaftTicks are the replicas' election and heartbeat timeouts, in ticks.
func (s *Store) RaftTicks() (election, heartbeat int) {
	return s.cfg.Replica.ElectionTicks, s.cfg.Replica.HeartbeatTicks
}
