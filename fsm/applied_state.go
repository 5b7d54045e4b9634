package fsm

// AppliedState is the part of a partition's replicated state that the
// apply of every write reads and rewrites: the lease state (the
// lease-applied index and the last refused lease index), the statistics,
// and the change log's state. An Applier reads each from its batch when
// first needed; a replica that keeps them in memory between its rounds
// hands them over instead (KnowState) and takes them back after Flush
// (State), so that a round of writes reads none of them from the engine.
// Each part is kept only once known; the zero AppliedState knows nothing.
type AppliedState struct {
	lai, refused uint64
	stats        Stats
	change       ChangeState
	leaseKnown   bool
	statsKnown   bool
	changeKnown  bool
}

// KnowState tells the Applier s, the state as of its batch's base (a
// replica's memory of its last committed round). Call it before the first
// command, and only when nothing has changed that state since s was taken
// from an Applier: not after a snapshot, nor after a command that writes
// it directly (a split, a merge).
func (a *Applier) KnowState(s AppliedState) {
	if s.leaseKnown {
		a.lai, a.refused, a.laiKnown = s.lai, s.refused, true
	}
	if s.statsKnown {
		a.statsBase, a.statsKnown = s.stats, true
	}
	if s.changeKnown {
		a.clog, a.clogKnown = s.change, true
	}
}

// State returns what the Applier knows of the state after the commands
// applied so far. Call it after Flush: it is the state the batch holds.
func (a *Applier) State() AppliedState {
	return AppliedState{
		lai: a.lai, refused: a.refused, leaseKnown: a.laiKnown && !a.laiDirty,
		stats: a.statsBase, statsKnown: a.statsKnown && !a.statsDirty,
		change: a.clog, changeKnown: a.clogKnown && !a.clogDirty,
	}
}
