package node_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/node"
)

// adminBody sends method path with the bearer token tok and returns the
// status and body of the answer.
func adminBody(t *testing.T, n *node.Node, tok, method, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, n.AdminURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAdminTokenScopeAndExpiry makes directory admin tokens through the
// admin endpoint of one node and uses them on another: a read-only one
// reads every route and is refused every change (403, saying why); one
// with a ttl works until it expires, then is refused (401) on every node
// and listed as expired.
func TestAdminTokenScopeAndExpiry(t *testing.T) {
	t.Parallel()
	n1 := startAuthMember(t, t.TempDir())
	n2 := startAuthMember(t, t.TempDir(), n1)

	var ro, short admin.NewAdminToken
	if st := adminCall(t, n1, http.MethodPost, "/auth/admin-tokens?name=auditor&scope=read&ttl=24h", &ro); st != http.StatusOK {
		t.Fatalf("create a read-only token: %d", st)
	}
	if ro.Scope != admin.ScopeRead || ro.Expired || time.Until(ro.Expires) < 23*time.Hour || time.Until(ro.Expires) > 25*time.Hour {
		t.Fatalf("read-only token: %+v", ro.AdminToken)
	}
	waitUntil(t, "the read-only token reads /auth/users on node 2", func() bool {
		st, _ := adminBody(t, n2, ro.Token, http.MethodGet, "/auth/users")
		return st == http.StatusOK
	})
	for _, path := range []string{"/auth/admin-tokens", "/cluster/nodes", "/metrics"} {
		if st, body := adminBody(t, n2, ro.Token, http.MethodGet, path); st != http.StatusOK {
			t.Fatalf("read-only GET %s: %d %s", path, st, body)
		}
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/auth/users/mallory"},
		{http.MethodPost, "/auth/admin-tokens"},
		{http.MethodDelete, "/auth/admin-tokens/" + ro.ID},
		{http.MethodPut, "/debug/log-level"},
	} {
		st, body := adminBody(t, n2, ro.Token, c.method, c.path)
		if st != http.StatusForbidden || !strings.Contains(body, "token:"+ro.ID+" may only read (its token's scope is read)") {
			t.Fatalf("read-only %s %s: %d %s; want 403 saying the token may only read", c.method, c.path, st, body)
		}
	}
	if st := adminCall(t, n1, http.MethodGet, "/auth/users/mallory/keys", nil); st != http.StatusNotFound {
		t.Fatalf("the refused user create went through: GET its keys %d", st)
	}

	if st := adminCall(t, n1, http.MethodPost, "/auth/admin-tokens?ttl=3s", &short); st != http.StatusOK {
		t.Fatalf("create a 3 s token: %d", st)
	}
	if short.Scope != admin.ScopeAll || short.Expires.IsZero() {
		t.Fatalf("3 s token: %+v", short.AdminToken)
	}
	waitUntil(t, "the 3 s token works on node 2", func() bool {
		st, _ := adminBody(t, n2, short.Token, http.MethodPost, "/auth/users/sam")
		return st == http.StatusOK
	})
	time.Sleep(time.Until(short.Expires))
	for _, n := range []*node.Node{n1, n2} {
		if st, body := adminBody(t, n, short.Token, http.MethodGet, "/auth/users"); st != http.StatusUnauthorized {
			t.Fatalf("an expired token: %d %s, want 401", st, body)
		}
	}
	var list []admin.AdminToken
	if st := adminCall(t, n2, http.MethodGet, "/auth/admin-tokens", &list); st != http.StatusOK {
		t.Fatalf("list: %d", st)
	}
	expired := map[string]bool{}
	for _, tok := range list {
		expired[tok.ID] = tok.Expired
	}
	if !expired[short.ID] || expired[ro.ID] {
		t.Fatalf("listed as expired: %v; want %s alone", expired, short.ID)
	}

	for _, q := range []string{"scope=write", "ttl=-1h", "ttl=soon"} {
		if st := adminCall(t, n1, http.MethodPost, "/auth/admin-tokens?"+q, nil); st != http.StatusBadRequest {
			t.Fatalf("create with %s: %d, want 400", q, st)
		}
	}
}
