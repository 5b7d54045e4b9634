package admin

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/partitadb/partita/certs"
)

// Guard decides who may call the admin endpoint. The probes (GET /healthz,
// /readyz) are open to all; other reads are open to clients on loopback,
// but for those of /auth/ (users, keys, policies, groups, tokens: an
// admin's alone); everything else (every request that changes something: jobs, drain,
// decommission, the Doctor's gates and decisions, the log level, and any
// route added later whose method is not GET or HEAD) needs an
// authenticated admin: a client certificate the TLS layer verified
// against the cluster CA, or a valid bearer token.
//
//	Authorization: Bearer ptk_...
//
// A request without either is answered 401 with an ErrorInfo; each
// authenticated change is logged with who asked.
//
// A token of scope read (readOnly) may read every route, /auth/ included,
// and is answered 403 with an ErrorInfo on any other method.
type Guard struct {
	// Token names the admin of a valid bearer token ("token:ID") and says
	// whether it may only read, or reports it invalid (nil: tokens are
	// not accepted). It must not leak through its timing what a valid
	// token is (compare in constant time, or look up a digest).
	Token func(token string) (who string, readOnly, ok bool)
	// ClientCerts accepts a verified client certificate (the listener's
	// TLS configuration verifies it against the cluster CA) of the client
	// role: a node's certificate is not an admin's.
	ClientCerts bool
	// Logger receives the log of changes and refusals.
	Logger *slog.Logger
}

type callerKey struct{}

// Caller is the admin that authenticated the request of ctx
// ("cert:NAME" or "token"), or "" for an open read.
func Caller(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}

// wrap puts g in front of h.
func (g *Guard) wrap(h http.Handler) http.Handler {
	log := g.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		who, readOnly := g.authenticate(r)
		switch {
		case who != "" && readOnly && !read:
			log.Warn("refused a change of a read-only admin", "method", r.Method, "path", r.URL.Path, "admin", who, "remote", r.RemoteAddr)
			reply(w, nil, fmt.Errorf("%w: %s may only read (its token's scope is read): %s %s is a change; use a token of scope all",
				ErrForbidden, who, r.Method, r.URL.Path))
		case who != "":
			if !read || adminOnly(r.URL.Path) {
				log.Info("admin request", "method", r.Method, "path", r.URL.Path, "admin", who, "remote", r.RemoteAddr)
			}
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, who)))
		case read && (isPublic(r.URL.Path) || fromLoopback(r) && !adminOnly(r.URL.Path)):
			h.ServeHTTP(w, r)
		default:
			log.Warn("refused an unauthenticated admin request", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="partita-admin"`)
			reply(w, nil, ErrUnauthenticated)
		}
	})
}

// authenticate names the admin behind r: its verified client
// certificate, else its valid bearer token; "" if neither. readOnly: the
// token's scope is read.
func (g *Guard) authenticate(r *http.Request) (who string, readOnly bool) {
	if g.ClientCerts && r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.VerifiedChains[0]) > 0 {
		if leaf := r.TLS.VerifiedChains[0][0]; certs.HasRole(leaf, certs.RoleClient) {
			return "cert:" + leaf.Subject.CommonName, false
		}
	}
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if g.Token == nil || !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	if who, readOnly, valid := g.Token(strings.TrimSpace(tok)); valid {
		return who, readOnly
	}
	return "", false
}

// TokenFile adapts a check of tokens that names no one (a token file's) to
// Guard.Token: its admins are "token", of scope all.
func TokenFile(valid func(token string) bool) func(string) (string, bool, bool) {
	return func(tok string) (string, bool, bool) { return "token", false, valid(tok) }
}

// isPublic says anyone may read path: the probes, and the console's
// pages, which hold no data (they ask for it with the admin's token).
func isPublic(path string) bool {
	switch {
	case path == "/healthz", path == "/readyz", path == "/", path == "/console":
		return true
	case strings.HasPrefix(path, "/console/"):
		return !strings.HasPrefix(path, "/console/api/")
	}
	return false
}

// adminOnly reports whether even a read of path needs an admin: the
// users, keys, policies, groups and tokens of /auth/.
func adminOnly(path string) bool { return path == "/auth" || strings.HasPrefix(path, "/auth/") }

// fromLoopback reports whether r came from this machine.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
