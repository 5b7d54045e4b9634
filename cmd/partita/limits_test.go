package main

import (
	"bytes"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestConnBudget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		limit      uint64
		api, admin int
	}{
		{512, 224, 32},    // storage keeps half
		{1024, 448, 64},   // the admin endpoint at its bound
		{20000, 4096, 64}, // capped: idle connections cost memory
		{1 << 20, 4096, 64},
		{^uint64(0), 4096, 64}, // RLIM_INFINITY
		{4, 2, 1},              // absurd limits still give one of each
		{0, 1, 1},
	} {
		api, admin := connBudget(tc.limit)
		if api != tc.api || admin != tc.admin {
			t.Errorf("connBudget(%d) = %d, %d; want %d, %d", tc.limit, api, admin, tc.api, tc.admin)
		}
		if tc.limit >= 8 && uint64(api+admin) > tc.limit-min(storageFileReserve, tc.limit/2) {
			t.Errorf("connBudget(%d) = %d, %d leaves storage less than its reserve", tc.limit, api, admin)
		}
	}
}

// jsonLines decodes every line of out as a JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestRepeatedErrorsAreLimited(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	now := time.Unix(0, 0)
	log := slog.New(newRateLimitedHandler(slog.NewJSONHandler(&out, nil), func() time.Time { return now }))
	for range 1000 {
		log.Error("flush failed", "err", "too many open files")
	}
	log.Info("info lines are not limited")
	log.With("component", "x").Error("another message")
	now = now.Add(repeatWindow)
	log.Error("flush failed", "err", "too many open files")
	recs := jsonLines(t, out.String())
	if len(recs) != repeatBurst+3 {
		t.Fatalf("%d lines written, want %d:\n%s", len(recs), repeatBurst+3, out.String())
	}
	last := recs[len(recs)-1]
	if last["msg"] != "flush failed" || last["suppressed"] != float64(1000-repeatBurst) {
		t.Errorf("the line after the pause is %v, want the count of the %d suppressed", last, 1000-repeatBurst)
	}
}

// TestStandardLoggerGoesThroughSlog: what the log package prints (net/http
// without an ErrorLog, libraries) comes out in the chosen format.
func TestStandardLoggerGoesThroughSlog(t *testing.T) {
	prev, prevFlags := slog.Default(), log.Flags()
	t.Cleanup(func() { slog.SetDefault(prev); log.SetFlags(prevFlags) })
	var out bytes.Buffer
	f := logFlags{format: "json", level: "info"}
	l, _, err := f.logger(&out)
	if err != nil {
		t.Fatal(err)
	}
	routeStdLog(l)
	log.Printf("http: Accept error: %s; retrying in 5ms", "accept tcp: too many open files")
	recs := jsonLines(t, out.String())
	if len(recs) != 1 || !strings.Contains(recs[0]["msg"].(string), "too many open files") {
		t.Fatalf("log.Printf wrote %q", out.String())
	}
}

// TestGRPCDialFailuresAreDebug: gRPC's warning for each failed connection
// attempt, which a stopped peer repeats at every reconnection, is a debug
// line; gRPC's other warnings stay warnings.
func TestGRPCDialFailuresAreDebug(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	g := grpcLogger{slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	// The format of clientconn.go's warning, as channelz prefixes it.
	g.Warningf("[core] [Channel #4 SubChannel #5]grpc: addrConn.createTransport failed to connect to %s. Err: %v",
		`{Addr: "127.0.0.1:2911", ServerName: "127.0.0.1:2911", }`, "connection refused")
	g.Warning("Adjusting keepalive ping interval to minimum period of 1s")
	g.Warningln("grpc: Server.processRPC failed to write status: broken pipe")
	recs := jsonLines(t, out.String())
	want := []string{"DEBUG", "WARN", "WARN"}
	if len(recs) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(recs), len(want), out.String())
	}
	for i, r := range recs {
		if r["level"] != want[i] {
			t.Errorf("line %d (%v) at level %v, want %s", i, r["msg"], r["level"], want[i])
		}
	}
}
