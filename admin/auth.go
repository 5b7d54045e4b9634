package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/partitadb/partita/partitapb"
)

// The users and access keys of the DynamoDB API, kept in the directory:
//
//	GET    /auth/users                    []User
//	POST   /auth/users/{name}             User: create it
//	DELETE /auth/users/{name}             User: delete it and its keys
//	GET    /auth/users/{name}/keys        []AccessKey of the user
//	POST   /auth/users/{name}/keys        NewAccessKey: its secret, shown this once
//	POST   /auth/keys/{id}/disable        AccessKey
//	POST   /auth/keys/{id}/enable         AccessKey
//	DELETE /auth/keys/{id}                AccessKey

// Statuses of an access key, as IAM names them.
const (
	KeyActive   = "Active"
	KeyInactive = "Inactive"
)

// User is a user as ctl prints it.
type User struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Keys     []string  `json:"access_key_ids"`
	Policies []string  `json:"policies"`
}

// AccessKey is an access key as ctl prints it (never its secret).
type AccessKey struct {
	ID      string    `json:"access_key_id"`
	User    string    `json:"user"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// NewAccessKey is a key just created, with its secret: the one time the
// secret leaves the cluster.
type NewAccessKey struct {
	AccessKey
	Secret string `json:"secret_access_key"`
}

// Auth is what the /auth/ routes need of a node.
type Auth interface {
	Users(ctx context.Context) ([]User, error)
	CreateUser(ctx context.Context, name string) (User, error)
	DeleteUser(ctx context.Context, name string) (User, error)
	// Keys lists the keys of user (ErrNotFound without such a user).
	Keys(ctx context.Context, user string) ([]AccessKey, error)
	CreateKey(ctx context.Context, user string) (NewAccessKey, error)
	SetKeyDisabled(ctx context.Context, id string, disabled bool) (AccessKey, error)
	DeleteKey(ctx context.Context, id string) (AccessKey, error)
}

// ErrNotFound marks a user, key or policy that does not exist (404).
var ErrNotFound = errors.New("admin: not found")

// authStatus is the one table from the errors of the /auth/ routes to
// HTTP statuses: the directory's refusals are the caller's to fix.
func authStatus(err error) int {
	var pe *partitapb.Error
	switch {
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case !errors.As(err, &pe):
		return http.StatusInternalServerError
	}
	switch pe.GetCode() {
	case partitapb.Error_NOT_FOUND:
		return http.StatusNotFound
	case partitapb.Error_ALREADY_EXISTS, partitapb.Error_LIMIT_EXCEEDED, partitapb.Error_IN_USE:
		return http.StatusConflict
	case partitapb.Error_VALIDATION:
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// authReply writes v as JSON, or err with its status.
func authReply(w http.ResponseWriter, v any, err error) {
	if err == nil {
		reply(w, v, nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(authStatus(err))
	_ = json.NewEncoder(w).Encode(ErrorInfo{Error: err.Error()})
}

// AuthHandler returns the /auth/ routes served by a.
func AuthHandler(a Auth) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth/users", func(w http.ResponseWriter, r *http.Request) {
		us, err := a.Users(r.Context())
		authReply(w, us, err)
	})
	mux.HandleFunc("POST /auth/users/{name}", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.CreateUser(r.Context(), r.PathValue("name"))
		authReply(w, u, err)
	})
	mux.HandleFunc("DELETE /auth/users/{name}", func(w http.ResponseWriter, r *http.Request) {
		u, err := a.DeleteUser(r.Context(), r.PathValue("name"))
		authReply(w, u, err)
	})
	mux.HandleFunc("GET /auth/users/{name}/keys", func(w http.ResponseWriter, r *http.Request) {
		ks, err := a.Keys(r.Context(), r.PathValue("name"))
		authReply(w, ks, err)
	})
	mux.HandleFunc("POST /auth/users/{name}/keys", func(w http.ResponseWriter, r *http.Request) {
		k, err := a.CreateKey(r.Context(), r.PathValue("name"))
		authReply(w, k, err)
	})
	for _, verb := range []string{"disable", "enable"} {
		mux.HandleFunc("POST /auth/keys/{id}/"+verb, func(w http.ResponseWriter, r *http.Request) {
			k, err := a.SetKeyDisabled(r.Context(), r.PathValue("id"), verb == "disable")
			authReply(w, k, err)
		})
	}
	mux.HandleFunc("DELETE /auth/keys/{id}", func(w http.ResponseWriter, r *http.Request) {
		k, err := a.DeleteKey(r.Context(), r.PathValue("id"))
		authReply(w, k, err)
	})
	return mux
}
