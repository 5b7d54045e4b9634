package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/partitadb/partita/telemetry"
)

// NodeMetrics is a node's history as the console charts it.
type NodeMetrics struct {
	Node    uint64            `json:"node"`
	Version string            `json:"version,omitempty"`
	Started time.Time         `json:"started,omitzero"`
	Points  []telemetry.Point `json:"points"`
	// Error says why the node could not be asked (cluster-wide routes).
	Error string `json:"error,omitempty"`
}

// fanoutTimeout bounds the wait for one node's answer.
const fanoutTimeout = 3 * time.Second

// since parses the since parameter: a duration back from now (default:
// the whole history).
func since(r *http.Request) (time.Time, error) {
	s := r.URL.Query().Get("since")
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("since=%q is not a duration: %w", s, err)
	}
	return time.Now().Add(-d), nil
}

func (h *Handler) local(r *http.Request) (NodeMetrics, error) {
	from, err := since(r)
	if err != nil {
		return NodeMetrics{}, err
	}
	return NodeMetrics{Node: h.cfg.Self(), Version: h.cfg.Version, Started: h.cfg.Started, Points: h.cfg.History.Points(from)}, nil
}

func (h *Handler) metrics(w http.ResponseWriter, r *http.Request) {
	m, err := h.local(r)
	reply(w, m, err)
}

func (h *Handler) clusterMetrics(w http.ResponseWriter, r *http.Request) {
	self, err := h.local(r)
	if err != nil {
		reply(w, nil, err)
		return
	}
	out := fanout(h, r, "/console/api/metrics?"+r.URL.RawQuery, self, func(p Peer, err error) NodeMetrics {
		return NodeMetrics{Node: p.ID, Error: err.Error()}
	})
	slices.SortFunc(out, func(a, b NodeMetrics) int { return cmpUint(a.Node, b.Node) })
	reply(w, out, nil)
}

func (h *Handler) traces(w http.ResponseWriter, r *http.Request) {
	var self []telemetry.TraceSummary
	if h.cfg.Ring != nil {
		self = h.cfg.Ring.Traces()
		for i := range self {
			self[i].Node = h.cfg.Self()
		}
	}
	if r.URL.Query().Get("scope") == "node" {
		reply(w, self, nil)
		return
	}
	all := fanout(h, r, "/console/api/traces?scope=node", self, func(Peer, error) []telemetry.TraceSummary { return nil })
	out := slices.Concat(all...)
	slices.SortFunc(out, func(a, b telemetry.TraceSummary) int { return b.Start.Compare(a.Start) })
	reply(w, out, nil)
}

func (h *Handler) trace(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var self []telemetry.SpanRecord
	if h.cfg.Ring != nil {
		self = h.cfg.Ring.Trace(id)
		for i := range self {
			self[i].Node = h.cfg.Self()
		}
	}
	if r.URL.Query().Get("scope") == "node" {
		reply(w, self, nil)
		return
	}
	all := fanout(h, r, "/console/api/traces/"+url.PathEscape(id)+"?scope=node", self,
		func(Peer, error) []telemetry.SpanRecord { return nil })
	out := slices.Concat(all...)
	slices.SortStableFunc(out, func(a, b telemetry.SpanRecord) int { return a.Start.Compare(b.Start) })
	reply(w, out, nil)
}

// fanout asks every other node's admin endpoint for path (with r's
// Authorization header) and returns their answers beside self's; a node
// that fails gives failed(peer, err).
func fanout[T any](h *Handler, r *http.Request, path string, self T, failed func(Peer, error) T) []T {
	peers := h.cfg.Peers(r.Context())
	out := make([]T, len(peers)+1)
	out[0] = self
	var wg sync.WaitGroup
	for i, p := range peers {
		if p.ID == h.cfg.Self() {
			out[i+1] = self
			continue
		}
		wg.Go(func() {
			var v T
			if err := h.get(r, p, path, &v); err != nil {
				h.cfg.Logger.Warn("console: a node's admin endpoint did not answer", "node", p.ID, "path", path, "err", err)
				v = failed(p, err)
			}
			out[i+1] = v
		})
	}
	wg.Wait()
	// The node answers once: drop the copy a peer list naming it made.
	res := out[:1]
	for i, p := range peers {
		if p.ID != h.cfg.Self() {
			res = append(res, out[i+1])
		}
	}
	return res
}

// get decodes into v the answer of p's admin endpoint to path.
func (h *Handler) get(r *http.Request, p Peer, path string, v any) error {
	if p.AdminAddr == "" {
		return fmt.Errorf("node %d has no admin endpoint", p.ID)
	}
	scheme := "http"
	if r.TLS != nil { // the nodes of a cluster serve their admin endpoints alike
		scheme = "https"
	}
	return h.fetch(r, scheme+"://"+p.AdminAddr+path, v)
}

// getSelf serves path from this node's admin endpoint in process, as a
// request of r's caller (same address, TLS state and headers, so the same
// rights), following a redirect to another node over HTTP.
func (h *Handler) getSelf(r *http.Request, path string, v any) error {
	ap := h.admin.Load()
	if ap == nil {
		return errors.New("console: the admin endpoint is not set")
	}
	admin := *ap
	u, err := url.Parse(path)
	if err != nil {
		return err
	}
	req := r.Clone(r.Context())
	req.Method, req.URL, req.RequestURI, req.Body = http.MethodGet, u, u.RequestURI(), http.NoBody
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	admin.ServeHTTP(rec, req)
	switch {
	case rec.status == http.StatusTemporaryRedirect:
		return h.fetch(r, rec.header.Get("Location"), v)
	case rec.status != http.StatusOK:
		return &statusError{status: rec.status, body: strings.TrimSpace(rec.body.String())}
	}
	return json.Unmarshal(rec.body.Bytes(), v)
}

// recorder keeps the answer of an in-process request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (rc *recorder) Header() http.Header { return rc.header }

func (rc *recorder) WriteHeader(status int) {
	if !rc.wrote {
		rc.status, rc.wrote = status, true
	}
}

func (rc *recorder) Write(b []byte) (int, error) {
	rc.wrote = true
	return rc.body.Write(b)
}

// fetch GETs u with r's Authorization header, following one redirect to
// another node's admin endpoint (the header goes along), and decodes the
// JSON answer into v.
func (h *Handler) fetch(r *http.Request, u string, v any) error {
	ctx, cancel := context.WithTimeout(r.Context(), fanoutTimeout)
	defer cancel()
	client := *h.cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		if a := r.Header.Get("Authorization"); a != "" {
			req.Header.Set("Authorization", a)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode == http.StatusTemporaryRedirect && hop == 0:
			u = resp.Header.Get("Location")
			continue
		case resp.StatusCode != http.StatusOK:
			return &statusError{status: resp.StatusCode, body: strings.TrimSpace(string(body))}
		}
		return json.Unmarshal(body, v)
	}
}

// statusError is a node's answer other than 200, passed on as it came.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

// follow serves path of this node's own admin endpoint, the redirect to
// the node that answers it followed on the server side.
func (h *Handler) follow(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v json.RawMessage
		err := h.getSelf(r, path, &v)
		var se *statusError
		if errors.As(err, &se) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(se.status)
			_, _ = io.WriteString(w, se.body)
			return
		}
		reply(w, v, err)
	}
}

// reply writes v as JSON, or err as a 400 (a bad parameter) or a 502 (a
// node did not answer).
func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		status := http.StatusBadRequest
		var se *statusError
		if errors.As(err, &se) || errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusBadGateway
		}
		replyStatus(w, status, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}

// replyStatus writes err with status.
func replyStatus(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
