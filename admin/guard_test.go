package admin_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/certs"
	"github.com/partitadb/partita/doctor/operator"
)

// guarded serves the admin endpoint, a decommission route included,
// behind g; decommissioned counts the decommissions that went through.
func guarded(t *testing.T, g *admin.Guard) (http.Handler, *slog.LevelVar, *int) {
	t.Helper()
	lv := &slog.LevelVar{}
	n := new(int)
	h, err := admin.NewHandler(admin.Config{Gatherer: prometheus.NewRegistry(), Ready: func() error { return nil },
		Level: lv, Cluster: admin.ClusterHandler(countingCluster{n: n}), Guard: g})
	if err != nil {
		t.Fatal(err)
	}
	return h, lv, n
}

// countingCluster is fakeCluster counting decommissions.
type countingCluster struct {
	fakeCluster
	n *int
}

func (c countingCluster) Decommission(ctx context.Context, node uint64, by, reason string) (operator.DecommissionResult, error) {
	*c.n++
	return c.fakeCluster.Decommission(ctx, node, by, reason)
}

func (c countingCluster) Recommission(ctx context.Context, node uint64, by string) (operator.DecommissionResult, error) {
	*c.n++
	return c.fakeCluster.Recommission(ctx, node, by)
}

// serve runs one request through h from remote and returns its status.
func serve(h http.Handler, method, path, remote, token string) int {
	r := httptest.NewRequest(method, path, strings.NewReader("debug"))
	r.RemoteAddr = remote
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestGuardWithTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), certs.TokensFile)
	tok, err := certs.AppendToken(path)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := certs.LoadTokens(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, lv, decommissioned := guarded(t, &admin.Guard{Token: admin.TokenFile(toks.Valid)})
	const local, remote = "127.0.0.1:5000", "10.1.2.3:5000"
	for _, c := range []struct {
		method, path, from, token string
		want                      int
	}{
		{"GET", "/healthz", remote, "", 200},
		{"GET", "/readyz", remote, "", 200},
		{"GET", "/metrics", local, "", 200},
		{"GET", "/cluster/nodes", local, "", 200},
		{"GET", "/metrics", remote, "", 401},
		{"GET", "/cluster/nodes", remote, "", 401},
		{"GET", "/cluster/nodes", remote, tok, 200},
		{"PUT", "/debug/log-level", local, "", 401},
		{"PUT", "/debug/log-level", local, tok + "0", 401},
		{"POST", "/cluster/nodes/3/decommission", local, "", 401},
		{"POST", "/cluster/nodes/3/decommission", remote, "", 401},
		{"POST", "/cluster/nodes/3/decommission", local, "ptk_wrong", 401},
		{"POST", "/cluster/nodes/3/recommission", local, "", 401},
		{"POST", "/cluster/nodes/3/recommission", remote, "ptk_wrong", 401},
		{"GET", "/cluster/nodes/3/decommission", local, "", 200}, // a read: open on loopback
		{"GET", "/cluster/nodes/3/decommission", remote, "", 401},
		{"POST", "/cluster/nodes/1/drain", local, "", 401},
		{"POST", "/doctor/replication?factor=1", local, "", 401},
		{"POST", "/nothing/here", local, "", 401}, // a route added later is guarded too
		{"GET", "/auth/users", local, "", 401},    // users, keys and tokens are an admin's to read
		{"GET", "/auth/admin-tokens", local, "", 401},
		{"GET", "/auth/users", local, tok, 404}, // admitted (this endpoint serves no /auth/)
	} {
		if got := serve(h, c.method, c.path, c.from, c.token); got != c.want {
			t.Errorf("%s %s from %s (token %v): %d, want %d", c.method, c.path, c.from, c.token != "", got, c.want)
		}
	}
	if *decommissioned != 0 || lv.Level() != slog.LevelInfo {
		t.Fatalf("refused requests acted: %d decommissions, level %v", *decommissioned, lv.Level())
	}
	if got := serve(h, "POST", "/cluster/nodes/3/decommission", remote, tok); got != 200 || *decommissioned != 1 {
		t.Fatalf("decommission with the token: %d, %d decommissions", got, *decommissioned)
	}
	if got := serve(h, "PUT", "/debug/log-level", remote, tok); got != 200 || lv.Level() != slog.LevelDebug {
		t.Fatalf("log level with the token: %d, %v", got, lv.Level())
	}
}

// TestGuardReadOnlyToken: a token of scope read reads every route (those
// of /auth/ too, from anywhere) and is refused every change with 403 and
// a message that says why.
func TestGuardReadOnlyToken(t *testing.T) {
	tokens := map[string]bool{"ptk_ro": true, "ptk_rw": false}
	h, lv, decommissioned := guarded(t, &admin.Guard{Token: func(tok string) (string, bool, bool) {
		ro, ok := tokens[tok]
		return "token:" + tok, ro, ok
	}})
	const remote = "10.1.2.3:5000"
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/metrics", "ptk_ro", 200},
		{"GET", "/cluster/nodes", "ptk_ro", 200},
		{"HEAD", "/cluster/nodes", "ptk_ro", 200},
		{"GET", "/auth/users", "ptk_ro", 404}, // admitted (this endpoint serves no /auth/)
		{"POST", "/cluster/nodes/1/decommission", "ptk_ro", 403},
		{"PUT", "/debug/log-level", "ptk_ro", 403},
		{"DELETE", "/auth/admin-tokens/x", "ptk_ro", 403},
		{"POST", "/nothing/here", "ptk_ro", 403},
		{"POST", "/cluster/nodes/1/decommission", "ptk_rw", 200},
	} {
		if got := serve(h, c.method, c.path, remote, c.token); got != c.want {
			t.Errorf("%s %s with %s: %d, want %d", c.method, c.path, c.token, got, c.want)
		}
	}
	if *decommissioned != 1 || lv.Level() != slog.LevelInfo {
		t.Fatalf("the read-only token acted: %d decommissions (want the other token's 1), level %v", *decommissioned, lv.Level())
	}
	r := httptest.NewRequest("POST", "/cluster/nodes/1/drain", nil)
	r.Header.Set("Authorization", "Bearer ptk_ro")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if want := "token:ptk_ro may only read (its token's scope is read): POST /cluster/nodes/1/drain is a change"; !strings.Contains(w.Body.String(), want) {
		t.Fatalf("403 body %s, want it to say %q", w.Body.String(), want)
	}
}

// TestGuardWithClientCertificates: over TLS, a client certificate of the
// cluster CA authenticates an admin; one of another CA does not even
// connect.
func TestGuardWithClientCertificates(t *testing.T) {
	ca, foreign := t.TempDir(), t.TempDir()
	for _, d := range []string{ca, foreign} {
		if err := certs.CreateCA(d, certs.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	srvDir, opsDir, strangerDir := t.TempDir(), t.TempDir(), t.TempDir()
	mustOK(t, certs.CreateNode(ca, srvDir, []string{"127.0.0.1"}, certs.Options{}))
	mustOK(t, certs.CreateClient(ca, opsDir, "ops", certs.Options{}))
	mustOK(t, certs.CreateClient(foreign, strangerDir, "ops", certs.Options{}))
	pair, err := certs.NewKeyPair(filepath.Join(srvDir, certs.NodeCertFile), filepath.Join(srvDir, certs.NodeKeyFile), nil)
	mustOK(t, err)
	pool, err := certs.LoadPool(filepath.Join(srvDir, certs.CAFile))
	mustOK(t, err)
	h, _, decommissioned := guarded(t, &admin.Guard{ClientCerts: true})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", certs.ServerTLS(pair, pool))
	mustOK(t, err)
	srv := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	defer srv.Close()
	url := "https://" + ln.Addr().String()

	client := func(dir string) *http.Client {
		cfg := &tls.Config{RootCAs: pool}
		if dir == srvDir { // a node's certificate
			c, err := tls.LoadX509KeyPair(filepath.Join(dir, certs.NodeCertFile), filepath.Join(dir, certs.NodeKeyFile))
			mustOK(t, err)
			cfg.Certificates = []tls.Certificate{c}
		} else if dir != "" {
			c, err := tls.LoadX509KeyPair(filepath.Join(dir, certs.ClientCertFile("ops")), filepath.Join(dir, certs.ClientKeyFile("ops")))
			mustOK(t, err)
			cfg.Certificates = []tls.Certificate{c}
		}
		tr := &http.Transport{TLSClientConfig: cfg}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr}
	}
	post := func(c *http.Client) (int, error) {
		resp, err := c.Post(url+"/cluster/nodes/1/decommission", "", nil)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := post(client("")); err != nil || code != 401 {
		t.Fatalf("decommission without a certificate: %d %v", code, err)
	}
	if code, err := post(client(srvDir)); err != nil || code != 401 {
		t.Fatalf("decommission with a node's certificate: %d %v", code, err)
	}
	// A client certificate of another CA is refused at the handshake, or
	// (a client that sends only certificates of the CAs the server
	// names) never sent: either way no admin.
	if code, err := post(client(strangerDir)); err == nil && code != 401 {
		t.Fatalf("decommission with a certificate of another CA: %d", code)
	}
	if *decommissioned != 0 {
		t.Fatal("a refused decommission ran")
	}
	if code, err := post(client(opsDir)); err != nil || code != 200 || *decommissioned != 1 {
		t.Fatalf("decommission with the ops certificate: %d %v (%d)", code, err, *decommissioned)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
