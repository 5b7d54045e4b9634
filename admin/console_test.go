package admin_test

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/certs"
)

// TestGuardConsole: the console's pages load for anyone (they hold no
// data, and a browser fetches them without a token), its data under
// /console/api/ and every change need an admin as the other routes do,
// and / redirects to the console.
func TestGuardConsole(t *testing.T) {
	path := filepath.Join(t.TempDir(), certs.TokensFile)
	tok, err := certs.AppendToken(path)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := certs.LoadTokens(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	console := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	h, err := admin.NewHandler(admin.Config{Gatherer: prometheus.NewRegistry(), Ready: func() error { return nil },
		Level: &slog.LevelVar{}, Console: console, Guard: &admin.Guard{Token: admin.TokenFile(toks.Valid)}})
	if err != nil {
		t.Fatal(err)
	}
	const local, remote = "127.0.0.1:5000", "10.1.2.3:5000"
	for _, c := range []struct {
		method, path, from, token string
		want                      int
	}{
		{"GET", "/", remote, "", http.StatusFound},
		{"GET", "/console", remote, "", http.StatusFound},
		{"GET", "/console/", remote, "", 200},
		{"GET", "/console/app.js", remote, "", 200},
		{"GET", "/console/api/metrics", remote, "", 401},
		{"GET", "/console/api/traces/abc", remote, "", 401},
		{"GET", "/console/api/metrics", remote, tok, 200},
		{"GET", "/console/api/metrics", local, "", 200},
		{"POST", "/console/app.js", remote, "", 401},
		{"POST", "/console/app.js", local, "", 401},
	} {
		if got := serve(h, c.method, c.path, c.from, c.token); got != c.want {
			t.Errorf("%s %s from %s (token %v): %d, want %d", c.method, c.path, c.from, c.token != "", got, c.want)
		}
	}
}
