package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/partitadb/partita/doctor"
)

// The Doctor's routes, served by every node (the Doctor runs embedded in
// each; one is active):
//
//	GET  /doctor/status    DoctorStatus: the Doctor lease and this node's role
//	GET  /doctor/plan      DoctorPlan of the active Doctor (307 to its node)
//	GET  /doctor/timeline  [partition= node= kind= state= since=DUR|TIME limit=]
//	POST /doctor/operations/{id}/approve|reject  [reason= by=]
//	GET  /doctor/gates     DoctorSettings: gate colours and the pause switch
//	POST /doctor/gates/{kind}?color=green|yellow|red|default  [reason= by=]
//	POST /doctor/pause | /doctor/resume  [reason= by=]
//	GET  /doctor/replication  Replication: the cluster's replication factor
//	POST /doctor/replication?factor=N  [reason= by=]

// Roles of a node's Doctor (DoctorStatus.Role).
const (
	// DoctorActive: this node holds the Doctor lease; its Doctor acts.
	DoctorActive = "active"
	// DoctorStandby: this node asks for the lease, and takes it over when
	// the active one's lapses.
	DoctorStandby = "standby"
	// DoctorDisabled: this node runs no Doctor (--doctor=false).
	DoctorDisabled = "disabled"
)

// DoctorStatus is the Doctor lease as the directory holds it, and the
// role of the node answering.
type DoctorStatus struct {
	// Node is the node answering, Role its Doctor's role.
	Node uint64 `json:"node"`
	Role string `json:"role"`
	// Holder is the node whose Doctor is active (0: the lease is free),
	// Epoch the lease's epoch (it rises at every takeover).
	Holder uint64 `json:"holder"`
	Epoch  uint64 `json:"epoch"`
	// Expires is when the lease ends unless renewed, on its holder's
	// clock; Acquired is when the holder was granted Epoch. Zero while the
	// lease is free.
	Expires  time.Time `json:"expires,omitzero"`
	Acquired time.Time `json:"acquired,omitzero"`
	// Replication is the cluster's replication factor, as the node
	// answering acts on it.
	Replication Replication `json:"replication"`
}

// Replication is the cluster's replication factor (the voters every
// partition wants, the replicas of a new table's partitions) as a node
// acts on it.
type Replication struct {
	// Factor is the factor the node's Doctor plans with and its
	// CreateTable places with; Source says where it comes from.
	Factor int    `json:"factor"`
	Source string `json:"source"`
	// Fallback: the cluster records no factor (a cluster an older binary
	// made, until the active Doctor records its node's
	// --replication-factor), and Factor is the node's own flag.
	Fallback bool `json:"fallback,omitempty"`
	// Recorded is the cluster's record (0: none); Previous (0: the first
	// record), ChangedBy, Reason and Changed describe its last change.
	Recorded  int       `json:"recorded"`
	Previous  int       `json:"previous,omitempty"`
	ChangedBy string    `json:"changed_by,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Changed   time.Time `json:"changed,omitzero"`
	// ClusterVersion is the version in force: the record exists from
	// version 20.
	ClusterVersion uint32 `json:"cluster_version"`
}

// Doctor is what the Doctor's routes need of a node.
type Doctor interface {
	// DoctorStatus reads the lease from a fresh directory (a cached one
	// when it cannot be refreshed).
	DoctorStatus(ctx context.Context) (DoctorStatus, error)
	// DoctorPlan is the active Doctor's last plan and the operations in
	// flight, or a *DoctorElsewhereError naming the active Doctor's node.
	DoctorPlan(ctx context.Context) (DoctorPlan, error)
	// DoctorTimeline reads the timeline from the directory.
	DoctorTimeline(ctx context.Context, q TimelineQuery) ([]TimelineEntry, error)
	// DoctorDecide approves or rejects an operation awaiting approval.
	DoctorDecide(ctx context.Context, id uint64, approve bool, by, reason string) error
	// DoctorSettings returns the gates (every kind, defaults included)
	// and the pause switch.
	DoctorSettings(ctx context.Context) (DoctorSettings, error)
	// DoctorSetGate sets kind's gate colour ("default" removes the
	// override).
	DoctorSetGate(ctx context.Context, kind, color, by, reason string) error
	// DoctorSetPaused pauses or resumes the Doctor.
	DoctorSetPaused(ctx context.Context, paused bool, by, reason string) error
	// DoctorReplication reads the cluster's replication factor from a
	// fresh directory.
	DoctorReplication(ctx context.Context) (Replication, error)
	// DoctorSetReplication sets the cluster's replication factor:
	// ErrBadRequest for a factor out of [1, 7] or on a single node, a
	// VALIDATION rejection below cluster version 20.
	DoctorSetReplication(ctx context.Context, factor int, by, reason string) (Replication, error)
}

// DoctorPlan is what `ctl doctor plan` shows.
type DoctorPlan struct {
	Node    uint64          `json:"node"`
	Plan    doctor.Plan     `json:"plan"`
	Running []TimelineEntry `json:"running"`
}

// DoctorElsewhereError says another node's Doctor is the active one.
type DoctorElsewhereError struct {
	Node      uint64
	AdminAddr string
}

func (e *DoctorElsewhereError) adminAddr() string { return e.AdminAddr }

func (e *DoctorElsewhereError) Error() string {
	return fmt.Sprintf("admin: node %d (admin %s) runs the active Doctor", e.Node, e.AdminAddr)
}

// TimelineQuery filters the timeline.
type TimelineQuery struct {
	Partition uint64
	Node      uint64 // From or To
	Kind      string
	State     string
	Since     time.Time
	Limit     int // newest first; 0: 100
}

// Matches says e passes q's filters (Limit aside).
func (q TimelineQuery) Matches(e doctor.Entry) bool {
	return (q.Partition == 0 || e.Op.Partition == q.Partition) &&
		(q.Node == 0 || e.Op.From == q.Node || e.Op.To == q.Node) &&
		(q.Kind == "" || string(e.Op.Kind) == q.Kind) &&
		(q.State == "" || string(e.State) == q.State) &&
		(q.Since.IsZero() || !e.Updated.Before(q.Since))
}

// TimelineEntry is a timeline entry as ctl prints it.
type TimelineEntry struct {
	ID         uint64              `json:"id"`
	Epoch      uint64              `json:"epoch"`
	Kind       string              `json:"kind"`
	Partition  uint64              `json:"partition"`
	Table      string              `json:"table,omitempty"`
	From       uint64              `json:"from,omitempty"`
	To         uint64              `json:"to,omitempty"`
	Generation uint64              `json:"generation"`
	Checker    string              `json:"checker"`
	Reasons    []string            `json:"reasons"`
	Inputs     string              `json:"inputs,omitempty"`
	Gate       string              `json:"gate"`
	State      string              `json:"state"`
	Validation string              `json:"validation,omitempty"`
	Steps      []doctor.StepRecord `json:"steps,omitempty"`
	Created    time.Time           `json:"created"`
	Updated    time.Time           `json:"updated"`
	Deadline   time.Time           `json:"deadline,omitzero"`
	DecidedBy  string              `json:"decided_by,omitempty"`
	Outcome    string              `json:"outcome,omitempty"`
	// Version is, for a change of the run-time settings (kind "config":
	// a set, rollback or rollout stage), the version of the overrides it
	// made.
	Version uint64 `json:"version,omitempty"`
}

// ConfigKind is the kind of the timeline entries that record changes of
// the run-time settings, beside the Doctor's own operations.
const ConfigKind = "config"

// ConfigTimeline is a change of the settings as a timeline entry.
func ConfigTimeline(c ConfigChange) TimelineEntry {
	reasons := make([]string, 0, len(c.Edits)+1)
	for _, e := range c.Edits {
		if e.Unset {
			reasons = append(reasons, fmt.Sprintf("unset %s at %s", e.Key, e.Scope))
		} else {
			reasons = append(reasons, fmt.Sprintf("set %s=%s at %s", e.Key, e.Value, e.Scope))
		}
	}
	if c.Reason != "" {
		reasons = append(reasons, c.Reason)
	}
	return TimelineEntry{Kind: ConfigKind, Checker: "operator", Reasons: reasons, Gate: "green", State: "succeeded",
		Created: c.Time, Updated: c.Time, DecidedBy: c.Author, Version: c.Version,
		Outcome: fmt.Sprintf("settings version %d", c.Version)}
}

// MatchesConfig says a settings change passes q's filters: changes name
// no partition or node.
func (q TimelineQuery) MatchesConfig(c ConfigChange) bool { return q.MatchesKind(ConfigTimeline(c)) }

// Timeline converts a Doctor's entry.
func Timeline(e doctor.Entry) TimelineEntry {
	return TimelineEntry{ID: e.ID, Epoch: e.Epoch, Kind: string(e.Op.Kind), Partition: e.Op.Partition, Table: e.Op.Table,
		From: e.Op.From, To: e.Op.To, Generation: e.Op.Generation, Checker: e.Op.Checker, Reasons: e.Op.Reasons,
		Inputs: e.Inputs, Gate: e.Gate.String(), State: string(e.State), Validation: e.Validation, Steps: e.Steps,
		Created: e.Created, Updated: e.Updated, Deadline: e.Deadline, DecidedBy: e.DecidedBy, Outcome: e.Outcome}
}

// DoctorSettings are the gates and the pause switch, and the cluster's
// replication factor beside them.
type DoctorSettings struct {
	Gates       map[string]string `json:"gates"`
	Overrides   map[string]string `json:"overrides"`
	Paused      bool              `json:"paused"`
	ChangedBy   string            `json:"changed_by,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	Replication Replication       `json:"replication"`
}

// DoctorHandler returns the /doctor/ routes served by d.
func DoctorHandler(d Doctor) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /doctor/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := d.DoctorStatus(r.Context())
		reply(w, st, err)
	})
	mux.HandleFunc("GET /doctor/plan", func(w http.ResponseWriter, r *http.Request) {
		p, err := d.DoctorPlan(r.Context())
		replyOrRedirect(w, r, p, err)
	})
	mux.HandleFunc("GET /doctor/timeline", func(w http.ResponseWriter, r *http.Request) {
		q, err := timelineQuery(r.URL.Query())
		if err != nil {
			reply(w, nil, err)
			return
		}
		es, err := d.DoctorTimeline(r.Context(), q)
		reply(w, es, err)
	})
	for _, verb := range []string{"approve", "reject"} {
		mux.HandleFunc("POST /doctor/operations/{id}/"+verb, func(w http.ResponseWriter, r *http.Request) {
			id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
			if err != nil || id == 0 {
				reply(w, nil, fmt.Errorf("%w: operation id %q", ErrBadRequest, r.PathValue("id")))
				return
			}
			q := r.URL.Query()
			err = d.DoctorDecide(r.Context(), id, verb == "approve", by(r), q.Get("reason"))
			reply(w, map[string]any{"id": id, "decision": verb}, err)
		})
	}
	mux.HandleFunc("GET /doctor/gates", func(w http.ResponseWriter, r *http.Request) {
		s, err := d.DoctorSettings(r.Context())
		reply(w, s, err)
	})
	mux.HandleFunc("POST /doctor/gates/{kind}", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		err := d.DoctorSetGate(r.Context(), r.PathValue("kind"), q.Get("color"), by(r), q.Get("reason"))
		reply(w, map[string]string{"kind": r.PathValue("kind"), "color": q.Get("color")}, err)
	})
	for _, verb := range []string{"pause", "resume"} {
		mux.HandleFunc("POST /doctor/"+verb, func(w http.ResponseWriter, r *http.Request) {
			err := d.DoctorSetPaused(r.Context(), verb == "pause", by(r), r.URL.Query().Get("reason"))
			reply(w, map[string]bool{"paused": verb == "pause"}, err)
		})
	}
	mux.HandleFunc("GET /doctor/replication", func(w http.ResponseWriter, r *http.Request) {
		rep, err := d.DoctorReplication(r.Context())
		reply(w, rep, err)
	})
	mux.HandleFunc("POST /doctor/replication", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		factor, err := strconv.Atoi(q.Get("factor"))
		if err != nil {
			reply(w, nil, fmt.Errorf("%w: factor=%q is not a number", ErrBadRequest, q.Get("factor")))
			return
		}
		rep, err := d.DoctorSetReplication(r.Context(), factor, by(r), q.Get("reason"))
		reply(w, rep, err)
	})
	return mux
}

// by names who asks: the by parameter, or the caller's address; with the
// authenticated admin (Caller) beside it when there is one.
func by(r *http.Request) string {
	b := r.URL.Query().Get("by")
	if b == "" {
		b = "admin@" + r.RemoteAddr
	}
	if c := Caller(r.Context()); c != "" {
		b += " (" + c + ")"
	}
	return b
}

// timelineQuery parses the timeline's filters.
func timelineQuery(v url.Values) (TimelineQuery, error) {
	var q TimelineQuery
	var err error
	num := func(name string) uint64 {
		s := v.Get(name)
		if s == "" || err != nil {
			return 0
		}
		n, perr := strconv.ParseUint(s, 10, 64)
		if perr != nil {
			err = fmt.Errorf("%w: %s=%q is not a number", ErrBadRequest, name, s)
		}
		return n
	}
	q.Partition, q.Node, q.Limit = num("partition"), num("node"), int(num("limit"))
	q.Kind, q.State = v.Get("kind"), v.Get("state")
	if s := v.Get("since"); s != "" && err == nil {
		if d, perr := time.ParseDuration(s); perr == nil {
			q.Since = time.Now().Add(-d)
		} else if t, perr := time.Parse(time.RFC3339, s); perr == nil {
			q.Since = t
		} else {
			err = fmt.Errorf("%w: since=%q is neither a duration nor an RFC 3339 time", ErrBadRequest, s)
		}
	}
	return q, err
}
