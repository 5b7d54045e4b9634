package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTPLimits bound what a client can hold of an HTTP listener of the node:
// time and connections. A stalled or idle client is closed; beyond MaxConns
// the node closes its longest idle connection to admit the new one, so
// idle clients cannot starve working ones nor take the file descriptors
// that storage needs.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds the reading of a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, body included: a
	// client that stops sending is closed after it.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the end
	// of its response.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection waiting for its next
	// request.
	IdleTimeout time.Duration
	// MaxConns bounds the open connections; 0: no bound.
	MaxConns int
	// MaxHeaderBytes bounds a request's header (its lines and fields);
	// beyond it net/http answers 431 Request Header Fields Too Large and
	// closes the connection. 0 is net/http's default of 1 MiB, which
	// DefaultAPILimits and DefaultAdminLimits do not use.
	MaxHeaderBytes int
}

// DefaultMaxHeaderBytes is the bound on a request's header: 16 KiB holds
// a SigV4 Authorization, a session token and the SDKs' other headers many
// times over (DynamoDB documents no figure).
const DefaultMaxHeaderBytes = 16 << 10

// DefaultAPILimits are the DynamoDB API listener's limits: an idle
// connection is closed after a minute, as DynamoDB's endpoints do.
func DefaultAPILimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxConns:          4096,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}

// DefaultAdminLimits are the admin listener's limits: few connections
// (operators and scrapers), and a write timeout above the 30 s of a CPU
// profile.
func DefaultAdminLimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxConns:          64,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}

// orDefault is l, or def's limits when l is the zero value.
func orDefault(l HTTPLimits, def func() HTTPLimits) HTTPLimits {
	if l == (HTTPLimits{}) {
		return def()
	}
	return l
}

func (l HTTPLimits) validate(name string) error {
	if l.ReadHeaderTimeout < 0 || l.ReadTimeout < 0 || l.WriteTimeout < 0 || l.IdleTimeout < 0 || l.MaxConns < 0 || l.MaxHeaderBytes < 0 {
		return fmt.Errorf("node: %s limits must not be negative", name)
	}
	return nil
}

// server is one HTTP listener of the node and its serving goroutine.
type server struct {
	ln     *limitListener
	http   *http.Server
	served chan error
	scheme string // http or https
	// handlers counts the requests whose handler is running: shutdown
	// waits for them, as what they use (the store, the engine) stops
	// after it.
	handlers atomic.Int64
}

// handlerGrace is how long shutdown waits for the handlers still running
// once the drain ran out of time and the connections were closed (which
// cancels their requests' contexts).
const handlerGrace = 2 * time.Second

// listen starts serving h on addr within limits, over TLS with tlsCfg
// unless it is nil; name labels its logs and metrics ("api", "admin").
func listen(ctx context.Context, name, addr string, h http.Handler, limits HTTPLimits, log *slog.Logger, m *connMetrics, tlsCfg *tls.Config) (*server, error) {
	var lc net.ListenConfig
	inner, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("node: listen on %s: %w", addr, err)
	}
	ln := newLimitListener(inner, limits.MaxConns, m.evicted.WithLabelValues(name), m.refused.WithLabelValues(name))
	scheme := "http"
	if tlsCfg != nil {
		ln.tls, scheme = tlsCfg, "https"
	}
	s := &server{ln: ln, served: make(chan error, 1), scheme: scheme}
	s.http = &http.Server{
		TLSConfig:         tlsCfg,
		Handler:           s.counted(h),
		ReadHeaderTimeout: limits.ReadHeaderTimeout,
		ReadTimeout:       limits.ReadTimeout,
		WriteTimeout:      limits.WriteTimeout,
		IdleTimeout:       limits.IdleTimeout,
		MaxHeaderBytes:    limits.MaxHeaderBytes,
		ConnState:         ln.track(m.open.WithLabelValues(name, "idle"), m.open.WithLabelValues(name, "active")),
		// net/http's own complaints (accept errors, bad TLS handshakes,
		// handler panics) go to the node's log, in its format.
		ErrorLog: slog.NewLogLogger(log.With("listener", name).Handler(), slog.LevelWarn),
	}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

func (s *server) url() string { return s.scheme + "://" + s.ln.Addr().String() }

// counted is h counting its running handlers in s.handlers.
func (s *server) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.handlers.Add(1)
		defer s.handlers.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// errHandlersRunning: shutdown gave up waiting for request handlers,
// which may still use what the node stops after it.
var errHandlersRunning = errors.New("node: request handlers still running after the shutdown's grace")

// shutdown stops accepting, waits for in-flight requests until ctx ends,
// and for the serving goroutine. If ctx ends first, it closes every
// connection (which cancels the requests' contexts) and waits up to
// handlerGrace more for the handlers to return: errHandlersRunning if
// they do not.
func (s *server) shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.http.Close())
		for deadline := time.Now().Add(handlerGrace); s.handlers.Load() > 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				err = errors.Join(err, fmt.Errorf("%w: %d", errHandlersRunning, s.handlers.Load()))
				break
			}
		}
	}
	if serr := <-s.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// connMetrics count the connections of the node's HTTP listeners.
type connMetrics struct {
	open    *prometheus.GaugeVec
	evicted *prometheus.CounterVec
	refused *prometheus.CounterVec
}

func newConnMetrics(reg prometheus.Registerer) (*connMetrics, error) {
	l := []string{"listener"}
	m := &connMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "partita_http_connections",
			Help: "Open client connections, by listener (api, admin) and state (idle: between requests or none yet; active: in a request).",
		}, []string{"listener", "state"}),
		evicted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_http_connections_evicted_total",
			Help: "Idle client connections closed to admit a new one at the listener's connection limit.",
		}, l),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "partita_http_connections_refused_total",
			Help: "Connections closed at once: the listener was at its limit with no idle connection to close.",
		}, l),
	}
	for _, c := range []prometheus.Collector{m.open, m.evicted, m.refused} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("node: register connection metrics: %w", err)
		}
	}
	return m, nil
}

// limitListener keeps at most max connections open. At the limit, a new
// connection makes it close the connection idle the longest (a keep-alive
// connection between requests, or one that has not sent a request yet);
// when every connection is busy with a request, the new one is closed at
// once, which clients see as a reset and retry.
type limitListener struct {
	net.Listener
	max              int
	evicted, refused prometheus.Counter
	tls              *tls.Config // nil: plain; else each connection is a TLS server

	mu    sync.Mutex
	conns map[net.Conn]*connEntry
	live  int // entries not closing
}

// connEntry is what the listener knows of one open connection.
type connEntry struct {
	idle    bool      // between requests, or no request yet
	since   time.Time // when it became idle
	closing bool      // evicted; gone at its StateClosed
}

func newLimitListener(ln net.Listener, max int, evicted, refused prometheus.Counter) *limitListener {
	return &limitListener{Listener: ln, max: max, evicted: evicted, refused: refused, conns: make(map[net.Conn]*connEntry)}
}

// Accept returns the next connection, making room for it at the limit.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err == nil && l.tls != nil {
			c = tls.Server(c, l.tls) // the handshake runs on the connection's goroutine
		}
		if err != nil || l.admit(c) {
			return c, err
		}
		_ = c.Close()
		l.refused.Inc()
	}
}

// admit records c, closing the longest idle connection if c would exceed
// the limit; it reports false when there is none to close.
func (l *limitListener) admit(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.live >= l.max {
		victim := l.longestIdle()
		if victim == nil {
			return false
		}
		l.conns[victim].closing = true
		l.live--
		closeRaw(victim)
		l.evicted.Inc()
	}
	l.conns[c] = &connEntry{idle: true, since: time.Now()}
	l.live++
	return true
}

// closeRaw closes c without a TLS close_notify, which could wait on a
// client that does not read.
func closeRaw(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	_ = c.Close()
}

// longestIdle is the connection idle the longest, or nil. A linear scan:
// it runs only at the limit, and the limit is a few thousand.
func (l *limitListener) longestIdle() net.Conn {
	var (
		victim net.Conn
		oldest time.Time
	)
	for c, e := range l.conns {
		if e.idle && !e.closing && (victim == nil || e.since.Before(oldest)) {
			victim, oldest = c, e.since
		}
	}
	return victim
}

// track returns the http.Server ConnState hook that keeps the listener's
// view of each connection, and the gauges of idle and active ones.
func (l *limitListener) track(idle, active prometheus.Gauge) func(net.Conn, http.ConnState) {
	gauge := func(e *connEntry) prometheus.Gauge {
		if e.idle {
			return idle
		}
		return active
	}
	return func(c net.Conn, st http.ConnState) {
		l.mu.Lock()
		defer l.mu.Unlock()
		e, ok := l.conns[c]
		if !ok {
			return
		}
		switch st {
		case http.StateNew:
			idle.Inc()
		case http.StateActive, http.StateIdle:
			gauge(e).Dec()
			e.idle, e.since = st == http.StateIdle, time.Now()
			gauge(e).Inc()
		case http.StateClosed, http.StateHijacked:
			gauge(e).Dec()
			delete(l.conns, c)
			if !e.closing {
				l.live--
			}
		}
	}
}
