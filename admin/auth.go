package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
//	GET    /auth/policies                 []Policy
//	PUT    /auth/policies/{name}          Policy: create or replace it (body: the JSON document)
//	DELETE /auth/policies/{name}          Policy (refused while attached)
//	POST   /auth/users/{name}/policies/{policy}    User: attach the policy
//	DELETE /auth/users/{name}/policies/{policy}    User: detach it
//	GET    /auth/simulate?user=&action=&resource=[&key=...][&attribute=...][&select=][&return-values=]
//	                                      SimulateResult: what the user's policies decide
//
// and the routes of groups and tokens (auth_groups.go). Every /auth/ route,
// reads included, needs an admin (Guard).

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

// Policy is a policy as ctl prints it.
type Policy struct {
	Name     string    `json:"name"`
	Document string    `json:"document"`
	Updated  time.Time `json:"updated"`
}

// SimulateRequest is a request to decide as the API would.
type SimulateRequest struct {
	User string
	// Action is "GetItem" or "dynamodb:GetItem"; Resource a table name,
	// an ARN or "*".
	Action, Resource string
	// LeadingKeys, Attributes, Select and ReturnValues are the values of
	// the condition keys dynamodb:LeadingKeys, ... (none: absent).
	LeadingKeys, Attributes, Select, ReturnValues []string
}

// SimulateResult is what the user's policies decide, and why.
type SimulateResult struct {
	User         string `json:"user"`
	Action       string `json:"action"`
	Resource     string `json:"resource"`
	Allowed      bool   `json:"allowed"`
	ExplicitDeny bool   `json:"explicit_deny"`
	// Policy and Statement decided (empty: denied by default); Group is
	// the group that gives the user Policy, when the user does not have
	// it itself.
	Policy      string `json:"policy,omitempty"`
	Statement   string `json:"statement,omitempty"`
	Group       string `json:"group,omitempty"`
	Explanation string `json:"explanation"`
	// Message is the AccessDeniedException's message a refused request
	// gets.
	Message string `json:"message,omitempty"`
}

// maxPolicyBody bounds a policy document sent to PUT /auth/policies.
const maxPolicyBody = 64 << 10

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
	Policies(ctx context.Context) ([]Policy, error)
	// PutPolicy creates or replaces a policy; a document that does not
	// parse is ErrBadRequest.
	PutPolicy(ctx context.Context, name string, doc []byte) (Policy, error)
	DeletePolicy(ctx context.Context, name string) (Policy, error)
	AttachPolicy(ctx context.Context, user, policy string, detach bool) (User, error)
	Simulate(ctx context.Context, q SimulateRequest) (SimulateResult, error)
	Groups // auth_groups.go
	Tokens
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
	handlePolicies(mux, a)
	handleGroups(mux, a)
	handleTokens(mux, a)
	return mux
}

// handlePolicies adds the policies' routes to mux.
func handlePolicies(mux *http.ServeMux, a Auth) {
	mux.HandleFunc("GET /auth/policies", func(w http.ResponseWriter, r *http.Request) {
		ps, err := a.Policies(r.Context())
		authReply(w, ps, err)
	})
	mux.HandleFunc("PUT /auth/policies/{name}", func(w http.ResponseWriter, r *http.Request) {
		doc, err := io.ReadAll(io.LimitReader(r.Body, maxPolicyBody+1))
		switch {
		case err != nil:
			err = fmt.Errorf("%w: %w", ErrBadRequest, err)
		case len(doc) > maxPolicyBody:
			err = fmt.Errorf("%w: a policy document is at most %d bytes", ErrBadRequest, maxPolicyBody)
		}
		if err != nil {
			authReply(w, nil, err)
			return
		}
		p, err := a.PutPolicy(r.Context(), r.PathValue("name"), doc)
		authReply(w, p, err)
	})
	mux.HandleFunc("DELETE /auth/policies/{name}", func(w http.ResponseWriter, r *http.Request) {
		p, err := a.DeletePolicy(r.Context(), r.PathValue("name"))
		authReply(w, p, err)
	})
	for method, detach := range map[string]bool{http.MethodPost: false, http.MethodDelete: true} {
		mux.HandleFunc(method+" /auth/users/{name}/policies/{policy}", func(w http.ResponseWriter, r *http.Request) {
			u, err := a.AttachPolicy(r.Context(), r.PathValue("name"), r.PathValue("policy"), detach)
			authReply(w, u, err)
		})
	}
	mux.HandleFunc("GET /auth/simulate", func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q := SimulateRequest{User: v.Get("user"), Action: v.Get("action"), Resource: v.Get("resource"),
			LeadingKeys: v["key"], Attributes: v["attribute"], Select: v["select"], ReturnValues: v["return-values"]}
		if q.User == "" || q.Action == "" || q.Resource == "" {
			authReply(w, nil, fmt.Errorf("%w: user, action and resource are required", ErrBadRequest))
			return
		}
		res, err := a.Simulate(r.Context(), q)
		authReply(w, res, err)
	})
}
