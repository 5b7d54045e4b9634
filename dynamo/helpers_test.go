package dynamo_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/partitadb/partita/dynamo"
)

// testClock is a settable clock.
type testClock struct{ nanos atomic.Int64 }

func (c *testClock) Now() time.Time { return time.Unix(0, c.nanos.Load()) }

// fixture is a Server over a real single node's backend, with a fixed
// clock and ids and a log of its own.
type fixture struct {
	t       testing.TB
	backend dynamo.Backend
	srv     *dynamo.Server
	clock   *testClock
	logs    *bytes.Buffer
}

func newFixture(t testing.TB) *fixture {
	return newFixtureWith(t, func(*dynamo.Config) {})
}

// newFixtureWith is newFixture with configure applied to the server's
// configuration.
func newFixtureWith(t testing.TB, configure func(*dynamo.Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, backend: startBackend(t), clock: &testClock{}, logs: &bytes.Buffer{}}
	f.clock.nanos.Store(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	var n atomic.Uint64
	cfg := dynamo.Config{
		Backend:   f.backend,
		Logger:    slog.New(slog.NewTextHandler(f.logs, nil)),
		Now:       f.clock.Now,
		NewID:     func() []byte { return []byte{byte(n.Add(1)), 1, 2, 3, 4, 5, 6, 7} },
		Region:    "us-east-1",
		AccountID: "000000000000",
	}
	configure(&cfg)
	srv, err := dynamo.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	return f
}

// startBackend runs a real single node, closed when t ends, and returns
// the backend below its DynamoDB endpoint.
func startBackend(t testing.TB) dynamo.Backend {
	t.Helper()
	return runNode(t, nil).Backend()
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// do sends op with body and decodes the answer.
func (f *fixture) do(op, body string) response {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	return f.send(req)
}

func (f *fixture) send(req *http.Request) response {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	r := response{status: rec.Code, header: rec.Header(), raw: string(raw)}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/x-amz-json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			f.t.Fatalf("%s: response is not JSON: %q", req.Header.Get("X-Amz-Target"), raw)
		}
	}
	return r
}

// ok sends op and fails the test unless it succeeds.
func (f *fixture) ok(op, body string) map[string]any {
	f.t.Helper()
	r := f.do(op, body)
	if r.status != http.StatusOK {
		f.t.Fatalf("%s %s: status %d: %s", op, body, r.status, r.raw)
	}
	return r.body
}

// fails sends op and checks the error type (the part after '#') and message.
func (f *fixture) fails(op, body, wantType, wantMsg string) response {
	f.t.Helper()
	r := f.do(op, body)
	if r.status == http.StatusOK {
		f.t.Fatalf("%s %s: succeeded, want %s: %s", op, body, wantType, r.raw)
	}
	typ, _ := r.body["__type"].(string)
	if got := typ[strings.IndexByte(typ, '#')+1:]; got != wantType {
		f.t.Fatalf("%s %s: __type %q, want %s (%s)", op, body, typ, wantType, r.raw)
	}
	if wantMsg != "" && errMessage(r.body) != wantMsg {
		f.t.Fatalf("%s %s:\nmessage %q\nwant    %q", op, body, errMessage(r.body), wantMsg)
	}
	return r
}

// errMessage returns an error body's message, under either spelling.
func errMessage(body map[string]any) string {
	if m, ok := body["message"].(string); ok {
		return m
	}
	m, _ := body["Message"].(string)
	return m
}

// createTable creates a table with a string hash key pk and, if rangeKey
// is not "", a number range key.
func (f *fixture) createTable(name, rangeKey string) {
	f.t.Helper()
	body := `{"TableName":"` + name + `","BillingMode":"PAY_PER_REQUEST",
		"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}`
	if rangeKey != "" {
		body += `,{"AttributeName":"` + rangeKey + `","AttributeType":"N"}`
	}
	body += `],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}`
	if rangeKey != "" {
		body += `,{"AttributeName":"` + rangeKey + `","KeyType":"RANGE"}`
	}
	body += `]}`
	f.ok("CreateTable", body)
}

// tableNames lists the tables, as ListTables answers.
func (f *fixture) tableNames() []any {
	f.t.Helper()
	names, ok := f.ok("ListTables", `{}`)["TableNames"].([]any)
	if !ok {
		f.t.Fatalf("ListTables without TableNames")
	}
	return names
}

// path digs into a decoded JSON value.
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// mustServer returns a Server over cfg or fails the test.
func mustServer(t *testing.T, cfg dynamo.Config) *dynamo.Server {
	t.Helper()
	srv, err := dynamo.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}
