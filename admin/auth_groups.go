package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Groups of users, admin tokens and join tokens, kept in the directory:
//
//	GET    /auth/groups                           []Group
//	POST   /auth/groups/{name}                    Group: create it
//	DELETE /auth/groups/{name}                    Group: delete it
//	POST   /auth/groups/{name}/users/{user}       Group: add the user
//	DELETE /auth/groups/{name}/users/{user}       Group: remove the user
//	POST   /auth/groups/{name}/policies/{policy}  Group: attach the policy
//	DELETE /auth/groups/{name}/policies/{policy}  Group: detach it
//	GET    /auth/admin-tokens                     []AdminToken
//	POST   /auth/admin-tokens[?name=N&ttl=24h&scope=read]  NewAdminToken: the token, shown this once
//	DELETE /auth/admin-tokens/{id}                AdminToken: revoke it
//	GET    /auth/join-tokens                      []JoinToken
//	POST   /auth/join-tokens[?ttl=1h]             NewJoinToken: the token, shown this once
//	DELETE /auth/join-tokens/{id}                 JoinToken: revoke it

// Group is a group as ctl prints it.
type Group struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Users    []string  `json:"users"`
	Policies []string  `json:"policies"`
}

// AdminToken is an admin token as ctl lists it (never the token).
type AdminToken struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// Expires is when it stops being valid (zero: never); Expired says
	// it did, by the clock of the node that answered.
	Expires time.Time `json:"expires,omitzero"`
	Expired bool      `json:"expired,omitempty"`
	// Scope is ScopeAll or ScopeRead.
	Scope string `json:"scope"`
}

// The scopes of an admin token.
const (
	// ScopeAll may do every admin request.
	ScopeAll = "all"
	// ScopeRead may read (GET, HEAD) every admin route, and nothing else.
	ScopeRead = "read"
)

// AdminTokenSpec is what makes an admin token.
type AdminTokenSpec struct {
	Name string
	// TTL is how long it is valid (0: until revoked).
	TTL time.Duration
	// Scope is ScopeAll ("" too) or ScopeRead.
	Scope string
}

// NewAdminToken is an admin token just created: the one time it leaves
// the cluster.
type NewAdminToken struct {
	AdminToken
	Token string `json:"token"`
}

// JoinToken is a join token as ctl lists it (never the token).
type JoinToken struct {
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// UsedBy is the peer address of the node that joined with it.
	UsedBy string    `json:"used_by,omitempty"`
	Used   time.Time `json:"used,omitzero"`
}

// NewJoinToken is a join token just created, shown this once.
type NewJoinToken struct {
	JoinToken
	Token string `json:"token"`
}

// Groups is what the groups' routes need of a node.
type Groups interface {
	Groups(ctx context.Context) ([]Group, error)
	CreateGroup(ctx context.Context, name string) (Group, error)
	DeleteGroup(ctx context.Context, name string) (Group, error)
	SetGroupMember(ctx context.Context, group, user string, remove bool) (Group, error)
	AttachGroupPolicy(ctx context.Context, group, policy string, detach bool) (Group, error)
}

// Tokens is what the admin and join tokens' routes need of a node.
type Tokens interface {
	AdminTokens(ctx context.Context) ([]AdminToken, error)
	CreateAdminToken(ctx context.Context, spec AdminTokenSpec) (NewAdminToken, error)
	RevokeAdminToken(ctx context.Context, id string) (AdminToken, error)
	JoinTokens(ctx context.Context) ([]JoinToken, error)
	// CreateJoinToken makes a token valid for ttl.
	CreateJoinToken(ctx context.Context, ttl time.Duration) (NewJoinToken, error)
	RevokeJoinToken(ctx context.Context, id string) (JoinToken, error)
}

// DefaultJoinTokenTTL is how long a join token is valid without ?ttl=.
const DefaultJoinTokenTTL = time.Hour

// MaxJoinTokenTTL bounds ?ttl=.
const MaxJoinTokenTTL = 7 * 24 * time.Hour

// handleGroups adds the groups' routes to mux.
func handleGroups(mux *http.ServeMux, a Groups) {
	mux.HandleFunc("GET /auth/groups", func(w http.ResponseWriter, r *http.Request) {
		gs, err := a.Groups(r.Context())
		authReply(w, gs, err)
	})
	mux.HandleFunc("POST /auth/groups/{name}", func(w http.ResponseWriter, r *http.Request) {
		g, err := a.CreateGroup(r.Context(), r.PathValue("name"))
		authReply(w, g, err)
	})
	mux.HandleFunc("DELETE /auth/groups/{name}", func(w http.ResponseWriter, r *http.Request) {
		g, err := a.DeleteGroup(r.Context(), r.PathValue("name"))
		authReply(w, g, err)
	})
	for method, undo := range map[string]bool{http.MethodPost: false, http.MethodDelete: true} {
		mux.HandleFunc(method+" /auth/groups/{name}/users/{user}", func(w http.ResponseWriter, r *http.Request) {
			g, err := a.SetGroupMember(r.Context(), r.PathValue("name"), r.PathValue("user"), undo)
			authReply(w, g, err)
		})
		mux.HandleFunc(method+" /auth/groups/{name}/policies/{policy}", func(w http.ResponseWriter, r *http.Request) {
			g, err := a.AttachGroupPolicy(r.Context(), r.PathValue("name"), r.PathValue("policy"), undo)
			authReply(w, g, err)
		})
	}
}

// handleTokens adds the admin and join tokens' routes to mux.
func handleTokens(mux *http.ServeMux, a Tokens) {
	mux.HandleFunc("GET /auth/admin-tokens", func(w http.ResponseWriter, r *http.Request) {
		ts, err := a.AdminTokens(r.Context())
		authReply(w, ts, err)
	})
	mux.HandleFunc("POST /auth/admin-tokens", func(w http.ResponseWriter, r *http.Request) {
		spec, err := adminTokenSpec(r)
		if err != nil {
			authReply(w, nil, err)
			return
		}
		t, err := a.CreateAdminToken(r.Context(), spec)
		authReply(w, t, err)
	})
	mux.HandleFunc("DELETE /auth/admin-tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, err := a.RevokeAdminToken(r.Context(), r.PathValue("id"))
		authReply(w, t, err)
	})
	mux.HandleFunc("GET /auth/join-tokens", func(w http.ResponseWriter, r *http.Request) {
		ts, err := a.JoinTokens(r.Context())
		authReply(w, ts, err)
	})
	mux.HandleFunc("POST /auth/join-tokens", func(w http.ResponseWriter, r *http.Request) {
		ttl := DefaultJoinTokenTTL
		if s := r.URL.Query().Get("ttl"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 || d > MaxJoinTokenTTL {
				authReply(w, nil, fmt.Errorf("%w: ttl %q: want a duration above 0 and at most %v", ErrBadRequest, s, MaxJoinTokenTTL))
				return
			}
			ttl = d
		}
		t, err := a.CreateJoinToken(r.Context(), ttl)
		authReply(w, t, err)
	})
	mux.HandleFunc("DELETE /auth/join-tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		t, err := a.RevokeJoinToken(r.Context(), r.PathValue("id"))
		authReply(w, t, err)
	})
}

// adminTokenSpec reads the name, ttl and scope of POST /auth/admin-tokens.
func adminTokenSpec(r *http.Request) (AdminTokenSpec, error) {
	q := r.URL.Query()
	spec := AdminTokenSpec{Name: q.Get("name"), Scope: q.Get("scope")}
	if s := q.Get("ttl"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return spec, fmt.Errorf("%w: ttl %q: want a duration, such as 24h (0: until revoked)", ErrBadRequest, s)
		}
		spec.TTL = d
	}
	switch spec.Scope {
	case "":
		spec.Scope = ScopeAll
	case ScopeAll, ScopeRead:
	default:
		return spec, fmt.Errorf("%w: scope %q: want %s or %s", ErrBadRequest, spec.Scope, ScopeAll, ScopeRead)
	}
	return spec, nil
}
