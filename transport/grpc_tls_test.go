package transport_test

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/partitadb/partita/certs"
	"github.com/partitadb/partita/transport"
)

// tlsNode is startNode over mutual TLS with the node certificate of
// certsDir (server side through Serve's options, client side through
// Config.DialOptions).
func tlsNode(t *testing.T, dir *directory, id uint64, h transport.Handler, certsDir string) *node {
	t.Helper()
	pair, err := certs.NewKeyPair(filepath.Join(certsDir, certs.NodeCertFile), filepath.Join(certsDir, certs.NodeKeyFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := certs.LoadPool(filepath.Join(certsDir, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &node{id: id, addr: lis.Addr().String(), reg: prometheus.NewRegistry(), serve: make(chan error, 1)}
	cfg := testConfig(id, dir, n.reg)
	cfg.DialOptions = []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(certs.PeerClientTLS(pair, pool)))}
	if n.tr, err = transport.NewGRPC(cfg); err != nil {
		t.Fatal(err)
	}
	dir.set(id, n.addr)
	creds := grpc.Creds(credentials.NewTLS(certs.PeerServerTLS(pair, pool, cfg.Logger)))
	go func() { n.serve <- n.tr.Serve(lis, h, creds) }()
	t.Cleanup(func() { n.close(t) })
	return n
}

func nodeCerts(t *testing.T, ca string) string {
	t.Helper()
	out := t.TempDir()
	if err := certs.CreateNode(ca, out, []string{"127.0.0.1"}, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGRPCOverMutualTLS: nodes of one CA exchange raft messages over
// mutual TLS; a node of another CA reaches nobody and nobody reaches it.
func TestGRPCOverMutualTLS(t *testing.T) {
	ca, foreign := t.TempDir(), t.TempDir()
	for _, d := range []string{ca, foreign} {
		if err := certs.CreateCA(d, certs.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := newDirectory()
	var got1, got2, got3 recorder
	a := tlsNode(t, dir, 1, &got1, nodeCerts(t, ca))
	b := tlsNode(t, dir, 2, &got2, nodeCerts(t, ca))
	stranger := tlsNode(t, dir, 3, &got3, nodeCerts(t, foreign))

	a.tr.Send(2, []transport.Message{msg(7, 1, 2, 1)})
	b.tr.Send(1, []transport.Message{msg(7, 2, 1, 1)})
	eventually(t, "messages both ways over mutual TLS", func() bool {
		return len(got1.messages()) == 1 && len(got2.messages()) == 1
	})
	stranger.tr.Send(1, []transport.Message{msg(7, 3, 1, 5)})
	a.tr.Send(3, []transport.Message{msg(7, 1, 3, 6)})
	// A refused handshake breaks the stream (counted unreachable); an
	// accepted one would deliver and never break.
	eventually(t, "both handshakes refused", func() bool {
		return stranger.metric(t, "partita_transport_unreachable_total") > 0 && a.metric(t, "partita_transport_unreachable_total") > 0
	})
	if n := len(got1.messages()); n != 1 {
		t.Errorf("node 1 received %d messages, want 1: the stranger's got through", n)
	}
	if n := len(got3.messages()); n != 0 {
		t.Errorf("the stranger received %d messages", n)
	}
}
