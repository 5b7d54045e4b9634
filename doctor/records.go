package doctor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/partitadb/partita/doctor/checker"
	"github.com/partitadb/partita/doctor/gate"
)

// State is where an entry of the timeline stands.
type State string

// The states of a timeline entry. Held, Stale, Rejected, Succeeded,
// Failed and RolledBack are final for the decision they record; an
// operation awaiting approval becomes Approved (then Running) or
// Rejected by an operator.
const (
	Held             State = "held"
	AwaitingApproval State = "awaiting-approval"
	Approved         State = "approved"
	Running          State = "running"
	Succeeded        State = "succeeded"
	Failed           State = "failed"
	Rejected         State = "rejected"
	Stale            State = "stale"
	RolledBack       State = "rolled-back"
)

// Terminal says no later decision changes an entry in state s.
func (s State) Terminal() bool {
	switch s {
	case Succeeded, Failed, Rejected, Stale, RolledBack, Held:
		return true
	}
	return false
}

// Entry is one decision of the Doctor: an entry of its timeline.
type Entry struct {
	ID    uint64
	Epoch uint64 // of the Doctor that made it
	Op    checker.Op
	// Inputs is the part of the view the decision was made on.
	Inputs string
	Gate   gate.Color
	State  State
	// Validation is why validation held, refused or dropped the
	// operation ("" when it passed).
	Validation string
	Steps      []StepRecord
	Created    time.Time
	Updated    time.Time
	Deadline   time.Time
	// DecidedBy is who approved or rejected it; Outcome says how it
	// ended.
	DecidedBy string
	Outcome   string
}

// StepRecord is one step of an operation as it ran.
type StepRecord struct {
	Name       string
	Start, End time.Time
	Err        string
	Attempts   int
}

// Settings are the operator's switches of the Doctor.
type Settings struct {
	// Gates override the default colour of operation kinds.
	Gates  map[checker.Kind]gate.Color
	Paused bool
	// ChangedBy and Reason describe the last change of the gates or the
	// pause switch.
	ChangedBy, Reason string
	// Replication is the replication factor the checkers plan with
	// (Factor 0: Config.Checker's).
	Replication Replication
}

// Replication is the replication factor the Doctor plans with, and where
// it comes from.
type Replication struct {
	Factor int `json:"factor"`
	// Source says where Factor comes from, for the plan and the log: the
	// cluster's record, or what stands in for it.
	Source string `json:"source,omitempty"`
	// Fallback: the cluster records no factor (a cluster an older binary
	// made), and Factor is the Doctor's own node's.
	Fallback bool `json:"fallback,omitempty"`
}

// Color is the gate colour of kind under s.
func (s Settings) Color(kind checker.Kind) gate.Color {
	if c, ok := s.Gates[kind]; ok {
		return c
	}
	return gate.Default().Color(kind)
}

// Records keeps what the Doctor must not lose across failovers: its
// settings and its timeline. A node implements it over the directory
// (the meta partition); MemRecords keeps them in memory.
type Records interface {
	// Settings returns the current settings.
	Settings(ctx context.Context) (Settings, error)
	// Put writes e: a new entry (ID 0) gets the next id, written into e;
	// an existing one is replaced. Writes carry the Doctor's epoch and
	// fail once another Doctor took over.
	Put(ctx context.Context, e *Entry) error
	// Entries returns up to limit entries from id from on, by id.
	Entries(ctx context.Context, from uint64, limit int) ([]Entry, error)
}

// entriesPage is how many entries EachEntry reads at a time.
const entriesPage = 500

// EachEntry calls fn for every entry of r's timeline, oldest first, a
// page at a time.
func EachEntry(ctx context.Context, r Records, fn func(Entry)) error {
	return eachEntryFrom(ctx, r, 0, fn)
}

// eachEntryFrom is EachEntry from id from on.
func eachEntryFrom(ctx context.Context, r Records, from uint64, fn func(Entry)) error {
	for {
		es, err := r.Entries(ctx, from, entriesPage)
		if err != nil {
			return fmt.Errorf("doctor: reading the timeline: %w", err)
		}
		for _, e := range es {
			fn(e)
			from = e.ID + 1
		}
		if len(es) < entriesPage {
			return nil
		}
	}
}

// MemRecords is Records in memory, for tests and simulations: one
// process, no failover.
type MemRecords struct {
	mu       sync.Mutex
	settings Settings
	entries  []Entry
	next     uint64
	// Keep bounds the entries kept: the oldest terminal ones go first
	// (0: 1000).
	Keep int
}

// Settings implements Records.
func (m *MemRecords) Settings(context.Context) (Settings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.settings
	s.Gates = cloneGates(s.Gates)
	return s, nil
}

// SetSettings replaces the settings.
func (m *MemRecords) SetSettings(s Settings) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s.Gates = cloneGates(s.Gates)
	m.settings = s
}

func cloneGates(g map[checker.Kind]gate.Color) map[checker.Kind]gate.Color {
	out := make(map[checker.Kind]gate.Color, len(g))
	for k, c := range g {
		out[k] = c
	}
	return out
}

// Put implements Records.
func (m *MemRecords) Put(_ context.Context, e *Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := cloneEntry(*e)
	if e.ID == 0 {
		m.next++
		e.ID, c.ID = m.next, m.next
		m.entries = append(m.entries, c)
		m.trim()
		return nil
	}
	i := slices.IndexFunc(m.entries, func(x Entry) bool { return x.ID == e.ID })
	if i < 0 {
		return fmt.Errorf("doctor: entry %d not found", e.ID)
	}
	m.entries[i] = c
	return nil
}

func (m *MemRecords) trim() {
	keep := m.Keep
	if keep <= 0 {
		keep = 1000
	}
	for i := 0; len(m.entries) > keep && i < len(m.entries); {
		if m.entries[i].State.Terminal() {
			m.entries = slices.Delete(m.entries, i, i+1)
			continue
		}
		i++
	}
}

// Decide approves or rejects an entry awaiting approval, as an operator.
func (m *MemRecords) Decide(id uint64, approve bool, by, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.entries, func(x Entry) bool { return x.ID == id })
	if i < 0 {
		return fmt.Errorf("doctor: entry %d not found", id)
	}
	e := &m.entries[i]
	if e.State != AwaitingApproval {
		return fmt.Errorf("doctor: entry %d is %s, not awaiting approval", id, e.State)
	}
	e.State, e.DecidedBy = Approved, by
	if !approve {
		e.State, e.Outcome = Rejected, reason
	}
	return nil
}

// Entries implements Records.
func (m *MemRecords) Entries(_ context.Context, from uint64, limit int) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Entry
	for _, e := range m.entries {
		if e.ID >= from && (limit <= 0 || len(out) < limit) {
			out = append(out, cloneEntry(e))
		}
	}
	return out, nil
}

func cloneEntry(e Entry) Entry {
	e.Steps = slices.Clone(e.Steps)
	e.Op.Voters, e.Op.Learners, e.Op.Reasons = slices.Clone(e.Op.Voters), slices.Clone(e.Op.Learners), slices.Clone(e.Op.Reasons)
	return e
}
