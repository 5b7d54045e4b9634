package node

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestShutdownCutsRequestsPastTheDrain: a request still running when the
// drain's time is up has its connection closed, which cancels its
// context; shutdown waits for its handler to return (the engine closes
// after it), and says so when a handler ignores the cancellation.
func TestShutdownCutsRequestsPastTheDrain(t *testing.T) {
	t.Parallel()
	m, err := newConnMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		handler func(r *http.Request)
		want    error
	}{
		{"a handler that follows its context", func(r *http.Request) { <-r.Context().Done() }, nil},
		{"a handler that ignores it", func(*http.Request) { time.Sleep(handlerGrace + 2*time.Second) }, errHandlersRunning},
	} {
		t.Run(c.name, func(t *testing.T) {
			started, done := make(chan struct{}), make(chan struct{})
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(started)
				c.handler(r)
				close(done)
			})
			s, err := listen(context.Background(), "api", "127.0.0.1:0", h, DefaultAPILimits(), slog.New(slog.DiscardHandler), m, nil)
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				resp, err := http.Get(s.url())
				if err == nil {
					resp.Body.Close()
				}
			}()
			<-started
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			err = s.shutdown(ctx)
			if c.want == nil {
				select {
				case <-done:
				default:
					t.Fatalf("shutdown returned (%v) before the handler", err)
				}
				if errors.Is(err, errHandlersRunning) {
					t.Fatalf("shutdown: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("shutdown: %v, want %v", err, c.want)
			}
			<-done
		})
	}
}
