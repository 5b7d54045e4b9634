package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// adminJSON does a request against the admin server and decodes the JSON
// answer into a generic map.
func adminJSON(t *testing.T, srv *httptest.Server, method, path string, wantStatus int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, wantStatus, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s %s: body %s: %v", method, path, body, err)
	}
	return out
}

func TestAdminHandler(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "tick", Kind: Periodic, Interval: time.Minute, RunAtStart: true,
		Run: func(ctx context.Context, c *Cycle) error { return errors.New("disk full") }})
	h.register(JobSpec{Name: "sink", Kind: Triggered, Workers: 2,
		Handle: func(context.Context, any) error { return nil }})
	h.start()
	h.next()
	h.block(1)
	srv := httptest.NewServer(h.m.AdminHandler())
	defer srv.Close()

	list := adminJSON(t, srv, "GET", "/jobs", http.StatusOK)
	jobs := list["jobs"].([]any)
	if len(jobs) != 2 || jobs[0].(map[string]any)["name"] != "sink" {
		t.Fatalf("GET /jobs = %v", list)
	}
	sink := jobs[0].(map[string]any)
	if sink["queue"].(map[string]any)["workers"] != 2.0 || sink["kind"] != "triggered" {
		t.Fatalf("sink = %v", sink)
	}

	tick := adminJSON(t, srv, "GET", "/jobs/tick", http.StatusOK)
	if tick["state"] != "backoff" || tick["last_outcome"] != "failure" || tick["last_error"] != "disk full" ||
		tick["failures"] != 1.0 || tick["kind"] != "periodic" || tick["next_run"] == nil {
		t.Fatalf("GET /jobs/tick = %v", tick)
	}
	tl := tick["timeline"].([]any)
	if len(tl) != 1 || tl[0].(map[string]any)["outcome"] != "failure" || tl[0].(map[string]any)["attempt"] != 1.0 {
		t.Fatalf("timeline = %v", tl)
	}

	paused := adminJSON(t, srv, "POST", "/jobs/tick/pause", http.StatusOK)
	if paused["state"] != "paused" || paused["paused"] != true {
		t.Fatalf("POST pause = %v", paused)
	}
	adminJSON(t, srv, "POST", "/jobs/tick/run", http.StatusAccepted)
	if r := h.next(); r.Reason != ReasonRunNow {
		t.Fatalf("cycle after POST run = %+v", r)
	}
	resumed := adminJSON(t, srv, "POST", "/jobs/tick/resume/", http.StatusOK)
	if resumed["paused"] != false {
		t.Fatalf("POST resume = %v", resumed)
	}
}

func TestAdminErrors(t *testing.T) {
	h := newHarness(t)
	h.register(JobSpec{Name: "tick", Kind: Triggered, Run: ok})
	srv := httptest.NewServer(h.m.AdminHandler())
	defer srv.Close()
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/jobs/nope", http.StatusNotFound, "UnknownJob"},
		{"POST", "/jobs/nope/pause", http.StatusNotFound, "UnknownJob"},
		{"POST", "/jobs/tick/explode", http.StatusNotFound, "NotFound"},
		{"GET", "/elsewhere", http.StatusNotFound, "NotFound"},
		{"GET", "/jobs/tick/pause/again", http.StatusNotFound, "NotFound"},
		{"GET", "/jobs/tick/pause", http.StatusMethodNotAllowed, "MethodNotAllowed"},
		{"DELETE", "/jobs/tick", http.StatusMethodNotAllowed, "MethodNotAllowed"},
		{"POST", "/jobs", http.StatusMethodNotAllowed, "MethodNotAllowed"},
	} {
		body := adminJSON(t, srv, c.method, c.path, c.status)
		e, _ := body["error"].(map[string]any)
		if e["code"] != c.code || e["message"] == "" {
			t.Errorf("%s %s: error %v, want code %s", c.method, c.path, body, c.code)
		}
	}
}
