package admin_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/partitadb/partita/admin"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "partita_test_things_total", Help: "x"})
	reg.MustRegister(c)
	c.Add(3)
	var ready error = errors.New("draining")
	lv := &slog.LevelVar{}
	h, err := admin.NewHandler(admin.Config{Gatherer: reg, Ready: func() error { return ready }, Level: lv})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	if code, body := get(t, srv.URL+"/metrics"); code != 200 || !strings.Contains(body, "partita_test_things_total 3") {
		t.Fatalf("/metrics: %d %q", code, body)
	}
	if code, _ := get(t, srv.URL+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := get(t, srv.URL+"/readyz"); code != 503 || !strings.Contains(body, "draining") {
		t.Fatalf("/readyz while draining: %d %q", code, body)
	}
	ready = nil
	if code, _ := get(t, srv.URL+"/readyz"); code != 200 {
		t.Fatalf("/readyz: %d", code)
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/debug/log-level", strings.NewReader("debug"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("set level: %v %v", err, resp.StatusCode)
	}
	resp.Body.Close()
	if lv.Level() != slog.LevelDebug {
		t.Fatalf("level is %v after PUT debug", lv.Level())
	}
	req, _ = http.NewRequest(http.MethodPut, srv.URL+"/debug/log-level", strings.NewReader("loud"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // an unclosed body keeps the connection's goroutines alive
	if resp.StatusCode != 400 {
		t.Fatalf("bad level accepted: %d", resp.StatusCode)
	}
	if code, _ := get(t, srv.URL+"/debug/pprof/"); code != 404 {
		t.Fatalf("pprof served without the flag: %d", code)
	}
}

func TestPprofBehindFlag(t *testing.T) {
	h, err := admin.NewHandler(admin.Config{Gatherer: prometheus.NewRegistry(), Ready: func() error { return nil }, Level: &slog.LevelVar{}, Pprof: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if code, body := get(t, srv.URL+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof: %d", code)
	}
}

func TestClusterMount(t *testing.T) {
	cfg := admin.Config{Gatherer: prometheus.NewRegistry(), Ready: func() error { return nil }, Level: &slog.LevelVar{}}
	h, err := admin.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	if code, _ := get(t, srv.URL+"/cluster/nodes"); code != http.StatusNotFound {
		t.Fatalf("/cluster/nodes without a cluster: %d", code)
	}
	srv.Close()
	cfg.Cluster = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) })
	if h, err = admin.NewHandler(cfg); err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(h)
	defer srv.Close()
	if code, body := get(t, srv.URL+"/cluster/nodes"); code != 200 || body != "/cluster/nodes" {
		t.Fatalf("/cluster/nodes: %d %q", code, body)
	}
}
