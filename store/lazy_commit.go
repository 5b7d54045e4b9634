package store

import "sync/atomic"

// initLazyCommit gives the store's replicas one lazy commit switch of
// their own (replica.Config.LazyCommit), on as the configuration says:
// stores built from one Config do not share it.
func (s *Store) initLazyCommit() {
	on := new(atomic.Bool)
	on.Store(s.cfg.Replica.LazyCommit != nil && s.cfg.Replica.LazyCommit.Load())
	s.cfg.Replica.LazyCommit = on
}

// SetLazyCommit turns lazy commit on or off for every replica of the
// store, from their next round (raft.lazy-commit). Off, a leader sends
// its followers each new commit index at once.
func (s *Store) SetLazyCommit(on bool) { s.cfg.Replica.LazyCommit.Store(on) }

// LazyCommit says whether the store's leaders commit item writes lazily.
func (s *Store) LazyCommit() bool { return s.cfg.Replica.LazyCommit.Load() }
