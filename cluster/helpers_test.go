package cluster_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/partitadb/partita/cluster"
	"github.com/partitadb/partita/transport"
)

// server is a Cluster service on a real listener.
type server struct {
	addr string
	s    *grpc.Server
	done chan struct{}
}

// serve serves l on addr ("127.0.0.1:0" for any port) until stop or the
// end of the test.
func serve(t *testing.T, addr string, l cluster.Local) *server {
	t.Helper()
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(transport.ServerOptions()...)
	cluster.Register(s, l)
	srv := &server{addr: lis.Addr().String(), s: s, done: make(chan struct{})}
	go func() {
		defer close(srv.done)
		s.Serve(lis)
	}()
	t.Cleanup(srv.stop)
	return srv
}

func (s *server) stop() {
	s.s.Stop()
	<-s.done
}

// serveAsNode1 serves l as node 1 and returns its server, the address
// book that resolves it, and a client using that book.
func serveAsNode1(t *testing.T, l cluster.Local) (*server, *book, *cluster.Client) {
	t.Helper()
	srv := serve(t, "127.0.0.1:0", l)
	b := &book{}
	b.set(1, srv.addr)
	return srv, b, newClient(t, b)
}

// book is a node address book for Resolve.
type book struct {
	mu    sync.Mutex
	addrs map[uint64]string
}

func (b *book) set(node uint64, addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.addrs == nil {
		b.addrs = map[uint64]string{}
	}
	b.addrs[node] = addr
}

func (b *book) resolve(node uint64) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a, ok := b.addrs[node]; ok {
		return a, nil
	}
	return "", errUnknownNode
}

type unknownNodeError struct{}

func (unknownNodeError) Error() string { return "test: unknown node" }

var errUnknownNode = unknownNodeError{}

// newClient returns a client resolving with b, closed at the end of the
// test.
func newClient(t *testing.T, b *book) *cluster.Client {
	t.Helper()
	c, err := cluster.NewClient(cluster.Config{Resolve: b.resolve, CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
