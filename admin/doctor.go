package admin

import (
	"context"
	"net/http"
	"time"
)

// The Doctor's routes, served by every node (the Doctor runs embedded in
// each; one is active):
//
//	GET  /doctor/status    DoctorStatus: the Doctor lease and this node's role

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
}

// Doctor is what the Doctor's routes need of a node.
type Doctor interface {
	// DoctorStatus reads the lease from a fresh directory (a cached one
	// when it cannot be refreshed).
	DoctorStatus(ctx context.Context) (DoctorStatus, error)
}

// DoctorHandler returns the /doctor/ routes served by d.
func DoctorHandler(d Doctor) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /doctor/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := d.DoctorStatus(r.Context())
		reply(w, st, err)
	})
	return mux
}
