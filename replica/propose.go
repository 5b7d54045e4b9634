package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/partitadb/partita/partitapb"
)

// Propose appends cmd to the partition's log if this replica leads it. The
// returned channel receives the Outcome once cmd applies here (or
// ErrAmbiguous if leadership is lost first). The caller then lets the store
// process the replica.
func (r *Replica) Propose(cmd *partitapb.Command) (<-chan Outcome, error) {
	if len(cmd.GetId()) == 0 {
		return nil, errors.New("replica: a command needs an id")
	}
	data, err := proto.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("replica: encode command: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLeader(); err != nil {
		return nil, err
	}
	ch := make(chan Outcome, 1)
	id := string(cmd.GetId())
	r.waiters[id] = append(r.waiters[id], ch)
	if err := r.raw.Propose(data); err != nil {
		r.dropWaiter(id, ch)
		return nil, r.proposeError(err)
	}
	return ch, nil
}

// ProposeConfChange proposes a membership change. It is done when the
// replica's ConfState shows it.
func (r *Replica) ProposeConfChange(cc raftpb.ConfChangeV2) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLeader(); err != nil {
		return err
	}
	if err := r.raw.ProposeConfChange(cc); err != nil {
		return r.proposeError(err)
	}
	return nil
}

// ConfState returns the replica's membership as of its applied index.
func (r *Replica) ConfState() raftpb.ConfState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.conf
}

// Listed reports whether the replica's applied configuration lists its
// node, as a voter or a learner: false once it applied its own removal
// (until it is added back), and false for a replica not initialised yet.
func (r *Replica) Listed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return inConfState(r.st.conf, r.cfg.ID)
}

func (r *Replica) checkLeader() error {
	if r.removed {
		return ErrRemoved
	}
	st := r.raw.BasicStatus()
	if st.RaftState != raft.StateLeader {
		return &NotLeaderError{Partition: r.cfg.Partition, Leader: st.Lead}
	}
	return nil
}

func (r *Replica) proposeError(err error) error {
	if errors.Is(err, raft.ErrProposalDropped) {
		return &NotLeaderError{Partition: r.cfg.Partition, Leader: r.raw.BasicStatus().Lead}
	}
	return fmt.Errorf("replica: partition %d: propose: %w", r.cfg.Partition, err)
}

func (r *Replica) dropWaiter(id string, ch chan Outcome) {
	ws := r.waiters[id]
	for i, w := range ws {
		if w == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(r.waiters, id)
	} else {
		r.waiters[id] = ws
	}
}

// Abandon forgets a proposal's channel (the caller stopped waiting).
func (r *Replica) Abandon(cmd *partitapb.Command, ch <-chan Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.waiters[string(cmd.GetId())] {
		if w == ch {
			r.dropWaiter(string(cmd.GetId()), w)
			return
		}
	}
}

// deliver answers the waiters of command id.
func (r *Replica) deliver(id string, o Outcome) {
	for _, ch := range r.waiters[id] {
		ch <- o
	}
	delete(r.waiters, id)
}

// failAll answers every waiter with err.
func (r *Replica) failAll(err error) {
	r.dropEvaluated()
	for id := range r.waiters {
		r.deliver(id, Outcome{Err: err})
	}
	for id, w := range r.reads {
		r.endRead(id, w, err)
	}
}

// readWaiter is a linearizable read waiting for its read index to apply,
// or a lease renewal (done nil: nobody waits). sentAt, term, epoch and
// voters are the lease its acknowledgement grants (lease.go).
type readWaiter struct {
	index  uint64 // 0 until raft answers
	done   chan error
	sentAt time.Time
	term   uint64
	epoch  uint64
	voters []uint64
}

// ReadIndex starts a linearizable read: the returned channel receives nil
// once this replica has applied everything committed when the read began,
// so a read of local state after that sees every acknowledged write.
func (r *Replica) ReadIndex() (<-chan error, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLeader(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	r.startRead(done)
	return done, nil
}

// startRead asks raft for a read index, noting the lease clock first: a
// quorum's acknowledgement of it grants a lease from then. It returns the
// request's id. The caller holds mu and has checked leadership.
func (r *Replica) startRead(done chan error) string {
	r.readSeq++
	id := string(binary.BigEndian.AppendUint64(nil, r.readSeq))
	w := &readWaiter{done: done, sentAt: r.cfg.LeaseClock(), term: r.raw.BasicStatus().Term, voters: r.leaseVoters()}
	if l := r.cfg.Leases; l != nil {
		w.epoch = l.epoch.Load()
	}
	r.reads[id] = w
	r.raw.ReadIndex([]byte(id))
	return id
}

// AbandonRead forgets a read's channel.
func (r *Replica) AbandonRead(ch <-chan error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, w := range r.reads {
		if w.done != nil && w.done == ch {
			delete(r.reads, id)
		}
	}
}

func (r *Replica) readReady(rs raft.ReadState) {
	if w, ok := r.reads[string(rs.RequestCtx)]; ok {
		w.index = rs.Index
		r.grantLease(w)
	}
}

// releaseReads answers the reads whose index has applied.
func (r *Replica) releaseReads() {
	for id, w := range r.reads {
		if w.index != 0 && w.index <= r.applied {
			r.endRead(id, w, nil)
		}
	}
}

// endRead answers a read (a renewal has nobody to answer) and forgets it.
func (r *Replica) endRead(id string, w *readWaiter, err error) {
	if w.done != nil {
		w.done <- err
	}
	if r.lease.renewing == id {
		r.lease.renewing = ""
	}
	delete(r.reads, id)
}
