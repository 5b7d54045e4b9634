package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// server is one HTTP listener of the node and its serving goroutine.
type server struct {
	ln     net.Listener
	http   *http.Server
	served chan error
}

// listen starts serving h on addr.
func listen(ctx context.Context, addr string, h http.Handler) (*server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("node: listen on %s: %w", addr, err)
	}
	s := &server{ln: ln, http: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, served: make(chan error, 1)}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

func (s *server) url() string { return "http://" + s.ln.Addr().String() }

// shutdown stops accepting, waits for in-flight requests until ctx ends,
// and for the serving goroutine.
func (s *server) shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if serr := <-s.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
