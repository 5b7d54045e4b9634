package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/grpclog"
)

// routeProcessLogs sends what the standard library's logger and gRPC's
// print to log, so that every line of a server process is in the format
// --log-format chose. It changes process-wide state: only a server
// command's run calls it, once.
func routeProcessLogs(log *slog.Logger) {
	routeStdLog(log)
	grpclog.SetLoggerV2(grpcLogger{log.With("component", "grpc")})
}

// routeStdLog makes the log package write through log's handler.
func routeStdLog(log *slog.Logger) { slog.SetDefault(log) }

// grpcLogger is gRPC's LoggerV2 over slog. gRPC's info lines are debug
// here: it reports every connection attempt at that level. So is its
// warning that a connection attempt failed: a stopped peer would repeat it
// at every reconnection, while the raft transport already says which node
// is unreachable and why ("peer unreachable"), and the Doctor judges nodes
// by their heartbeats.
type grpcLogger struct{ log *slog.Logger }

// grpcDialFailure is the start of gRPC's warning for a failed connection
// attempt (clientconn.go, addrConn.createTransport).
const grpcDialFailure = "addrConn.createTransport failed to connect"

// warn logs one of gRPC's warnings.
func (g grpcLogger) warn(msg string) {
	if strings.Contains(msg, grpcDialFailure) {
		g.log.Debug(msg)
		return
	}
	g.log.Warn(msg)
}

func (g grpcLogger) Info(args ...any)                  { g.log.Debug(fmt.Sprint(args...)) }
func (g grpcLogger) Infoln(args ...any)                { g.log.Debug(fmt.Sprint(args...)) }
func (g grpcLogger) Infof(format string, args ...any)  { g.log.Debug(fmt.Sprintf(format, args...)) }
func (g grpcLogger) Warning(args ...any)               { g.warn(fmt.Sprint(args...)) }
func (g grpcLogger) Warningln(args ...any)             { g.warn(fmt.Sprint(args...)) }
func (g grpcLogger) Warningf(format string, a ...any)  { g.warn(fmt.Sprintf(format, a...)) }
func (g grpcLogger) Error(args ...any)                 { g.log.Error(fmt.Sprint(args...)) }
func (g grpcLogger) Errorln(args ...any)               { g.log.Error(fmt.Sprint(args...)) }
func (g grpcLogger) Errorf(format string, args ...any) { g.log.Error(fmt.Sprintf(format, args...)) }
func (g grpcLogger) Fatal(args ...any)                 { g.fatal(fmt.Sprint(args...)) }
func (g grpcLogger) Fatalln(args ...any)               { g.fatal(fmt.Sprint(args...)) }
func (g grpcLogger) Fatalf(format string, args ...any) { g.fatal(fmt.Sprintf(format, args...)) }

// V reports whether gRPC's verbose logs (level above 0) are wanted: only
// when the logger takes debug lines.
func (g grpcLogger) V(l int) bool {
	return l <= 0 || g.log.Enabled(context.Background(), slog.LevelDebug)
}

func (g grpcLogger) fatal(msg string) {
	g.log.Error(msg, "fatal", true)
	os.Exit(1)
}

// Repeated warnings and errors are limited: at most repeatBurst lines of
// one message per repeatWindow; the next line let through after a pause
// says how many were suppressed. A failing disk or a descriptor shortage
// otherwise writes the same line thousands of times a second.
const (
	repeatBurst  = 10
	repeatWindow = 10 * time.Second
	// repeatKeys bounds the messages tracked; past it the tracking restarts.
	repeatKeys = 1024
)

// repeatLimiter is the state a rateLimitedHandler and the handlers derived
// from it share.
type repeatLimiter struct {
	now func() time.Time
	mu  sync.Mutex
	by  map[string]*repeatCount
}

// repeatCount is one message's window.
type repeatCount struct {
	start      time.Time
	n          int // lines in the window
	suppressed int // lines dropped since the last one written
}

// admit reports whether a line of key at t is written, and how many of
// its kind were suppressed before it.
func (l *repeatLimiter) admit(key string, t time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.by[key]
	if c == nil {
		if len(l.by) >= repeatKeys {
			clear(l.by)
		}
		c = &repeatCount{start: t}
		l.by[key] = c
	}
	if t.Sub(c.start) >= repeatWindow {
		c.start, c.n = t, 0
	}
	if c.n >= repeatBurst {
		c.suppressed++
		return false, 0
	}
	c.n++
	suppressed := c.suppressed
	c.suppressed = 0
	return true, suppressed
}

// rateLimitedHandler passes records below warning level through and
// limits repeated warnings and errors (keyed by level and message).
type rateLimitedHandler struct {
	slog.Handler
	lim *repeatLimiter
}

func newRateLimitedHandler(h slog.Handler, now func() time.Time) *rateLimitedHandler {
	return &rateLimitedHandler{Handler: h, lim: &repeatLimiter{now: now, by: make(map[string]*repeatCount)}}
}

func (h *rateLimitedHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.Handler.Handle(ctx, r)
	}
	ok, suppressed := h.lim.admit(r.Level.String()+" "+r.Message, h.lim.now())
	if !ok {
		return nil
	}
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *rateLimitedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &rateLimitedHandler{Handler: h.Handler.WithAttrs(as), lim: h.lim}
}

func (h *rateLimitedHandler) WithGroup(name string) slog.Handler {
	return &rateLimitedHandler{Handler: h.Handler.WithGroup(name), lim: h.lim}
}
