package replica

import (
	"time"

	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/fsm"
	"github.com/partitadb/partita/partitapb"
)

// Ready is a processing round's work, from Collect to Finish.
type Ready struct {
	rd raft.Ready
	// factsChanged: the round may have changed the partition's facts (an
	// entry, a range change or a snapshot), which Finish drops from memory.
	factsChanged bool
	// MustSync says the round's writes must be fsynced before Finish:
	// new log entries, or a new term or vote. A hard state that only moves
	// the commit index need not be (raft recovers it from its peers).
	MustSync bool
	// Early are the messages that may leave before the round's batch is
	// durable: a leader's appends and heartbeats, vote requests. Raft
	// itself tells them apart from the responses that promise persisted
	// state (append and vote responses), which wait for Finish. Sending
	// them early lets the followers write to their disks while the leader
	// writes to its own.
	Early []raftpb.Message
	late  []raftpb.Message

	answers []answer          // outcomes of the commands applied into the batch
	state   *fsm.AppliedState // the applied state after the batch (nil: unknown)
	applied uint64            // the last index applied into the batch (0: none)
	term    uint64            // the term of the entry (or snapshot) at applied

	// Created are the right halves of splits applied in this round whose
	// replicas the batch created on this node: the store opens them once
	// the batch is committed. Campaign says this replica led its
	// partition when it applied them: the new replicas campaign at once.
	Created  []uint64
	Campaign bool
	// Merged are the right halves of merges this replica applied in this
	// round as their left half: the store destroys their replicas on this
	// node once the batch is committed (their items stay, now this
	// replica's).
	Merged []uint64
	// awaited: somebody here waits for an outcome among answers.
	awaited bool
	// settled: Settle answered the applied proposals already.
	settled bool
}

// Settleable says the round applied proposals that somebody here waits
// for, and may answer them before its batch is durable (Settle): it
// changed no range (a split's new replicas open, and a merge's absorbed
// ones go, only after the batch is durable). A round nobody waits for (a
// follower's, mostly) gains nothing from answering early, and would pay
// a second write to the WAL.
func (rd Ready) Settleable() bool {
	return rd.awaited && len(rd.Created) == 0 && len(rd.Merged) == 0
}

// Changed says the round changes the state machine: it applies entries
// or installs a snapshot.
func (rd Ready) Changed() bool { return rd.applied != 0 }

type answer struct {
	id  string
	o   Outcome
	lai uint64 // an Effects entry's lease index (0: a Command)
}

// Collect takes the replica's pending Ready, if any, and writes into b the
// log entries and hard state it must persist and the effects of the
// committed entries it applies. The caller holds the replica for the round
// (TryLock), commits b (durably when MustSync), sends Early at any time,
// then calls Finish. Between Collect and Finish the replica accepts
// proposals and messages: only the round's own state waits for the batch.
func (r *Replica) Collect(b *engine.Batch) (Ready, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.raw.HasReady() {
		return Ready{}, false, nil
	}
	rd := r.raw.Ready()
	defer r.st.endRound()
	mustSync := raft.MustSync(rd.HardState, r.st.hard, len(rd.Entries)) || !raft.IsEmptySnap(rd.Snapshot)
	if !raft.IsEmptySnap(rd.Snapshot) {
		r.state = nil     // the snapshot replaces the applied state
		r.records.reset() // and the records
		if err := r.installSnapshot(b, rd.Snapshot); err != nil {
			return Ready{}, false, err
		}
	}
	if err := r.st.append(b, rd.Entries); err != nil {
		return Ready{}, false, err
	}
	r.noteAppends(rd)
	if !raft.IsEmptyHardState(rd.HardState) {
		if err := r.st.setHardState(b, rd.HardState); err != nil {
			return Ready{}, false, err
		}
	}
	// Committed entries apply into the same batch: their effects become
	// visible, and their outcomes are answered, only once it is committed.
	// (Raft may hand out entries committed in this very Ready; the batch
	// persists them and their effects atomically.)
	out, err := r.apply(b, rd.CommittedEntries, !raft.IsEmptySnap(rd.Snapshot))
	if err != nil {
		return Ready{}, false, err
	}
	answers, applied, created := out.answers, out.last, out.created
	if err := r.maybeTruncate(b); err != nil {
		return Ready{}, false, err
	}
	term := out.lastTerm
	if applied == 0 && !raft.IsEmptySnap(rd.Snapshot) {
		applied, term = rd.Snapshot.Metadata.Index, rd.Snapshot.Metadata.Term
	}
	rdy := Ready{rd: rd, MustSync: mustSync, answers: answers, state: out.state, applied: applied, term: term, Created: created, Merged: out.merged,
		factsChanged: out.factsChanged || !raft.IsEmptySnap(rd.Snapshot), awaited: r.awaited(answers)}
	if len(created) > 0 || len(out.merged) > 0 {
		rdy.Campaign = r.raw.BasicStatus().RaftState == raft.StateLeader
		// The new group's state must be durable before it votes or acks.
		rdy.MustSync = true
	}
	r.noteTransfers(rd.Messages)
	caughtUp := r.caughtUpFollowers(rd.Messages, rd.CommittedEntries)
	for _, m := range rd.Messages {
		if caughtUp[m.To] && m.Type == raftpb.MsgApp && len(m.Entries) == 0 {
			continue // only a commit index (see caughtUpFollowers)
		}
		switch m.Type {
		case raftpb.MsgAppResp, raftpb.MsgVoteResp, raftpb.MsgPreVoteResp, raftpb.MsgSnap:
			rdy.late = append(rdy.late, m)
		default:
			rdy.Early = append(rdy.Early, m)
		}
	}
	// Until Finish, the engine lags what raft believes applied: no
	// snapshot may be cut from it.
	r.inflight = applied != 0 || !raft.IsEmptySnap(rd.Snapshot)
	return rdy, true, nil
}

// Finish completes a round once Collect's batch is committed: it hands the
// remaining messages to send (and, for each MsgSnap, the snapshot's data to
// stream with it; the receiver of a source closes it), answers the applied
// proposals and the reads, and advances raft. It reports whether the
// replica has more work.
func (r *Replica) Finish(rdy Ready, send func([]raftpb.Message), sendSnap func(raftpb.Message, *SnapshotSource)) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rd := rdy.rd
	msgs := rdy.late[:0:0]
	for _, m := range rdy.late {
		if m.Type != raftpb.MsgSnap {
			msgs = append(msgs, m)
			continue
		}
		if src := r.takeOutgoing(m); src != nil {
			sendSnap(m, src)
		} else {
			r.raw.ReportSnapshot(m.To, raft.SnapshotFailure)
		}
	}
	if len(msgs) > 0 {
		send(msgs)
	}
	r.settle(&rdy)
	if rd.SoftState != nil {
		r.softState(*rd.SoftState)
	}
	for _, rs := range rd.ReadStates {
		r.readReady(rs)
	}
	r.raw.Advance(rd)
	r.releaseReads()
	if r.removed {
		r.failAll(ErrRemoved)
	}
	return r.raw.HasReady(), nil
}

// awaited says somebody waits for one of answers. The caller holds mu.
func (r *Replica) awaited(answers []answer) bool {
	for _, a := range answers {
		if len(r.waiters[a.id]) > 0 {
			return true
		}
	}
	return false
}

// Settle answers the round's applied proposals once Collect's batch is
// committed, before it is durable: the store calls it between a commit
// without fsync and the fsync, for a round that is Settleable, on an
// engine whose raft logs share the WAL with the applied state.
//
// That is safe because an answered entry is committed: durable on a
// quorum, this replica's log included when it leads (a leader counts its
// own copy only once a round persisted it). The batch is one WAL record,
// so a crash before the fsync loses its appends and applies together, and
// the entries are applied again from the log. Their effects are visible
// from the commit on, so a read after the answer sees them. What does
// wait for the fsync is what promises persisted state: the append and
// vote responses, and raft's Advance (Finish).
func (r *Replica) Settle(rdy *Ready) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.settle(rdy)
}

// settle is Settle with mu held; it does nothing the second time.
func (r *Replica) settle(rdy *Ready) {
	if rdy.settled {
		return
	}
	rdy.settled = true
	r.inflight = false
	if rdy.applied != 0 {
		r.applied, r.appliedTerm = rdy.applied, rdy.term
	}
	if rdy.state != nil {
		r.state = rdy.state // the batch holding it is committed
	}
	if rdy.factsChanged {
		r.forgetFacts() // before the answers, which end the writes in flight
	}
	r.published = r.desc
	r.dropStale()
	end := r.cfg.Now()
	for _, a := range rdy.answers {
		a.o.ApplyEnd = end
		if a.lai != 0 {
			r.answerEffects(a)
			continue
		}
		r.deliver(a.id, a.o)
	}
}

// softState reacts to a change of leader: proposals made as leader may now
// never apply here, so their outcome is unknown.
func (r *Replica) softState(ss raft.SoftState) {
	if ss.Lead != r.lead {
		r.cfg.Logger.Debug("leader changed", "partition", r.cfg.Partition, "leader", ss.Lead)
		r.leaderChanges++
	}
	r.lead = ss.Lead
	switch {
	case ss.RaftState != raft.StateLeader:
		r.leadSince = time.Time{}
		r.failAll(ErrAmbiguous)
	case r.leadSince.IsZero():
		r.leadSince = r.cfg.Now()
	}
}

// applied is what a round's applies left: the outcomes to answer once
// the batch is committed, the last index applied (0: none), the
// partitions whose replicas the splits among the entries created here,
// and those whose replicas the merges among them absorbed.
type applied struct {
	answers  []answer
	last     uint64
	lastTerm uint64
	created  []uint64
	merged   []uint64
	// factsChanged: an entry changed the change floor or a transaction
	// key, or the range changed.
	factsChanged bool
	// state is the applied state after the entries, when the round may
	// keep it in memory (nil: it may not).
	state *fsm.AppliedState
}

// apply applies committed entries into b (after a snapshot this round
// installed into b, when snapshot is set) and records the applied index
// with them. b need not be synced for the applies' sake: entries are
// durable in the log, and a replica restarting behind re-applies them.
func (r *Replica) apply(b *engine.Batch, ents []raftpb.Entry, snapshot bool) (applied, error) {
	if len(ents) == 0 {
		return applied{}, nil
	}
	var out applied
	ka := fsm.NewApplier(b, r.desc)
	// The applied state kept in memory is the batch's base, as the floor
	// is, unless a snapshot this round replaced it. It is taken (a round
	// that fails leaves none) and kept again only when every entry is a
	// write's Effects, which change it through the Applier alone.
	keep := !snapshot && onlyEffects(ents)
	if s := r.state; s != nil && keep {
		ka.KnowState(*s)
	}
	r.state = nil
	if !snapshot {
		// The committed state is the batch's base (the previous round
		// finished), so the floor kept in memory is the batch's.
		f, err := r.changeFloor()
		if err != nil {
			return applied{}, err
		}
		ka.KnowChangeFloor(f)
	}
	for _, e := range ents {
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) == 0 {
				continue // a new leader's empty entry
			}
			start := r.cfg.Now()
			if fsm.IsEffects(e.Data) {
				id, res, lai, err := r.applyEffects(ka, b, e.Data, e.Term)
				if err != nil {
					return applied{}, err
				}
				out.answers = append(out.answers, answer{id, Outcome{Result: res, ApplyStart: start}, lai})
				continue
			}
			ka.SetMembers(r.members())
			id, res, err := r.applyCommand(ka, b, e.Data)
			if err != nil {
				return applied{}, err
			}
			r.desc = ka.Descriptor()
			if err := r.applyRangeChange(b, e.Index, res, &out); err != nil {
				return applied{}, err
			}
			out.answers = append(out.answers, answer{id: id, o: Outcome{Result: res, ApplyStart: start}})
		case raftpb.EntryConfChange, raftpb.EntryConfChangeV2:
			if err := r.applyConfChange(b, e); err != nil {
				return applied{}, err
			}
		}
	}
	if err := ka.Flush(); err != nil {
		return applied{}, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	if keep {
		s := ka.State()
		out.state = &s
	}
	_, floorChanged := ka.FloorChanged()
	out.factsChanged = floorChanged || ka.TxnTouched() || len(out.created) > 0 || len(out.merged) > 0
	out.last, out.lastTerm = ents[len(ents)-1].Index, ents[len(ents)-1].Term
	if err := writeApplied(b, r.cfg.Partition, out.last, out.lastTerm); err != nil {
		return applied{}, err
	}
	return out, nil
}

// applyRangeChange does the replica's part of an applied split (creating
// the right half here) or merge (destroying the right half here).
func (r *Replica) applyRangeChange(b *engine.Batch, index uint64, res *partitapb.Result, out *applied) error {
	if res.GetError() != nil {
		return nil
	}
	if s := res.GetSplit(); s != nil {
		if err := r.noteSplit(b, index); err != nil {
			return err
		}
		ok, err := r.applySplit(b, s)
		if err != nil {
			return err
		}
		if ok {
			out.created = append(out.created, s.GetRight().GetPartition())
		}
	}
	if m := res.GetMerge(); m.GetMerged() {
		if err := r.applyMerge(b, m.GetMerge()); err != nil {
			return err
		}
		out.merged = append(out.merged, m.GetMerge().GetRight())
		r.records.reset() // the right half's records are copied in
	}
	return nil
}

// applyCommand applies one command unless its id already applied, in which
// case the recorded result stands.
//
// The ids of a split partition's commands stay with its left half. A
// command id reaches the right half only after the left refused it with
// WRONG_RANGE at an index past the split (the lookup below precedes the
// fence): any earlier proposal of it either applied before the split, and
// the left answers from its record, or is refused by the fence too.
func (r *Replica) applyCommand(ka *fsm.Applier, b *engine.Batch, data []byte) (string, *partitapb.Result, error) {
	cmd := &partitapb.Command{}
	if err := proto.Unmarshal(data, cmd); err != nil {
		return "", nil, fmt.Errorf("replica: partition %d: corrupt command: %w", r.cfg.Partition, err)
	}
	idKey := commandKey(r.cfg.Partition, string(cmd.GetId()))
	if len(cmd.GetId()) > 0 {
		r.records.add(cmd.GetId(), 0)
	}
	// A first attempt has no earlier proposal of its id (see
	// Command.first_attempt): it skips the lookup, a read through every
	// level of the LSM that would find nothing.
	if !cmd.GetFirstAttempt() {
		prev, err := engine.Get(b, idKey)
		switch {
		case err == nil:
			res := &partitapb.Result{}
			if err := proto.Unmarshal(prev, res); err != nil {
				return "", nil, fmt.Errorf("replica: corrupt command record: %w", err)
			}
			return string(cmd.GetId()), res, nil
		case !errors.Is(err, engine.ErrNotFound):
			return "", nil, err
		}
	}
	res, err := ka.Apply(cmd)
	if err != nil {
		return "", nil, fmt.Errorf("replica: partition %d: %w", r.cfg.Partition, err)
	}
	// A command refused by the range fence wrote nothing and is not
	// recorded: its retry, routed afresh, may reach this partition again
	// with the same id and must then apply.
	if len(cmd.GetId()) > 0 && !partitapb.IsWrongRange(res.GetError()) {
		if err := recordCommand(b, idKey, res, cmd.GetRecordOld(), cmd.GetRecordNew(), cmd.GetRecordSizes() && res.GetError() == nil); err != nil {
			return "", nil, err
		}
	}
	return string(cmd.GetId()), res, nil
}

// recordCommand remembers that a command applied, with its result minus
// the item images and sizes it was not asked to keep (Command.record_old,
// record_new, record_sizes): a retried command learns whether it
// succeeded, and the images and sizes only when its request's answer
// reports them.
func recordCommand(b *engine.Batch, key []byte, res *partitapb.Result, keepOld, keepNew, keepSizes bool) error {
	rec := &partitapb.Result{Error: res.GetError(), Table: res.GetTable()}
	if keepOld {
		rec.OldItem, rec.HasOld = res.GetOldItem(), res.GetHasOld()
	}
	if keepNew {
		rec.NewItem, rec.HasNew = res.GetNewItem(), res.GetHasNew()
	}
	if keepSizes {
		rec.OldSize, rec.NewSize, rec.LocalCollectionBytes = res.OldSize, res.NewSize, res.GetLocalCollectionBytes()
	}
	raw, err := proto.Marshal(rec)
	if err != nil {
		return fmt.Errorf("replica: encode command record: %w", err)
	}
	return b.Set(key, raw)
}

func (r *Replica) applyConfChange(b *engine.Batch, e raftpb.Entry) error {
	var cc raftpb.ConfChangeI
	if e.Type == raftpb.EntryConfChange {
		var c raftpb.ConfChange
		if err := c.Unmarshal(e.Data); err != nil {
			return fmt.Errorf("replica: corrupt conf change: %w", err)
		}
		cc = c
	} else {
		var c raftpb.ConfChangeV2
		if err := c.Unmarshal(e.Data); err != nil {
			return fmt.Errorf("replica: corrupt conf change: %w", err)
		}
		cc = c
	}
	if f := r.desc.GetFrozen(); f != nil {
		// A range frozen for a merge keeps the voters the merge's
		// coordinator checked on every node: the change is rejected (raft
		// is not told of it), alike on every replica at this index.
		r.cfg.Logger.Warn("merge: a membership change of a frozen partition rejected", "partition", r.cfg.Partition,
			"left", f.GetLeft(), "right", f.GetRight())
		return nil
	}
	cs := r.raw.ApplyConfChange(cc)
	if !inConfState(*cs, r.cfg.ID) {
		r.removed = true
	}
	return r.st.setConfState(b, *cs)
}

// inConfState reports whether node is a voter or learner of cs, in
// either half of a joint configuration.
func inConfState(cs raftpb.ConfState, node uint64) bool {
	return contains(cs.Voters, node) || contains(cs.Learners, node) ||
		contains(cs.VotersOutgoing, node) || contains(cs.LearnersNext, node)
}

func contains(ids []uint64, id uint64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// onlyEffects reports whether every entry of ents is a write's Effects or
// a new leader's empty entry.
func onlyEffects(ents []raftpb.Entry) bool {
	for _, e := range ents {
		if e.Type != raftpb.EntryNormal || (len(e.Data) > 0 && !fsm.IsEffects(e.Data)) {
			return false
		}
	}
	return true
}

// caughtUpFollowers returns, on a leader with LazyCommit, the followers
// to which msgs hold an append that carries a new commit index alone:
// raft sends one to every follower once an entry commits. Such an append
// is not sent. The follower learns the index from the next append, which
// carries it too, or from the next heartbeat, which carries it up to what
// the follower holds (at most a heartbeat interval later, when the
// partition goes quiet); meanwhile it applies the entry a little later,
// which only its eventually consistent reads may see. Every raft message
// may be lost, so raft stays correct without it; and each one spared is,
// per write on a lightly loaded partition, a round (with an engine
// commit) on a follower and the answer the leader then handles.
//
// Only item writes commit lazily: committed, the entries this round
// applies, must all be Effects (or a new leader's empty entry). A split,
// a merge, a membership change or any other command is sent at once, so
// that what every replica's descriptor and change log segments say (what
// a node reads from its own replica) follows the leader within a round
// trip, as it did before. Learners are sent every commit index too: a
// learner is promoted once it has applied what its leader has (the
// Doctor's view of a learner that caught up), which a steady stream of
// writes would otherwise put off by one entry each time.
//
// An empty append to a follower that replicates (raft's StateReplicate)
// is such an update when the follower holds the leader's log up to the
// append's position, or when its entries up to there are in flight: raft
// sent them, and each carries a commit index of its own. One exception:
// the empty append raft sends a follower that answered a heartbeat while
// it lacked entries. That one probes whether the follower lost what was
// in flight (a rejection makes the leader resend), so it is sent.
func (r *Replica) caughtUpFollowers(msgs []raftpb.Message, committed []raftpb.Entry) map[uint64]bool {
	beats := r.beatAnswered
	r.beatAnswered = nil
	if !r.lazyCommit() || len(committed) == 0 || !onlyEffects(committed) {
		return nil
	}
	var idx map[uint64]uint64 // the empty appends' log positions, by follower
	for _, m := range msgs {
		if m.Type == raftpb.MsgApp && len(m.Entries) == 0 {
			if idx == nil {
				idx = map[uint64]uint64{}
			}
			idx[m.To] = m.Index
		}
	}
	if idx == nil {
		return nil
	}
	out := map[uint64]bool{}
	r.raw.WithProgress(func(id uint64, _ raft.ProgressType, pr tracker.Progress) {
		if i, ok := idx[id]; ok && !pr.IsLearner && pr.State == tracker.StateReplicate && (pr.Match >= i || !beats[id]) {
			out[id] = true
		}
	})
	return out
}
