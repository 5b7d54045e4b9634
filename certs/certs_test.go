package certs_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partitadb/partita/certs"
)

// newCA creates a CA in a temporary directory and returns it.
func newCA(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := certs.CreateCA(dir, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newNode issues a node certificate for 127.0.0.1 from ca into a new
// directory and returns it.
func newNode(t *testing.T, ca string) string {
	t.Helper()
	out := t.TempDir()
	if err := certs.CreateNode(ca, out, []string{"127.0.0.1", "localhost"}, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	return out
}

func pairOf(t *testing.T, dir, cert, key string) *certs.KeyPair {
	t.Helper()
	p, err := certs.NewKeyPair(filepath.Join(dir, cert), filepath.Join(dir, key), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func poolOf(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	p, err := certs.LoadPool(filepath.Join(dir, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCreateWritesPrivateKeysAndRefusesToOverwrite(t *testing.T) {
	ca := newCA(t)
	node := newNode(t, ca)
	if err := certs.CreateClient(ca, node, "alice", certs.Options{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(ca, certs.CAKeyFile), filepath.Join(node, certs.NodeKeyFile),
		filepath.Join(node, certs.ClientKeyFile("alice"))} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	if _, err := os.Stat(filepath.Join(node, certs.CAKeyFile)); err == nil {
		t.Error("the CA key was copied to a node's directory")
	}
	if err := certs.CreateCA(ca, certs.Options{}); !errors.Is(err, certs.ErrExists) {
		t.Errorf("CreateCA over a CA: %v, want ErrExists", err)
	}
	if err := certs.CreateNode(ca, node, []string{"127.0.0.1"}, certs.Options{}); !errors.Is(err, certs.ErrExists) {
		t.Errorf("CreateNode over a node certificate: %v, want ErrExists", err)
	}
	if err := certs.CreateNode(t.TempDir(), t.TempDir(), []string{"h"}, certs.Options{}); !errors.Is(err, certs.ErrNoCA) {
		t.Errorf("CreateNode without a CA: %v, want ErrNoCA", err)
	}
	if err := certs.CreateClient(ca, ca, "../x", certs.Options{}); !errors.Is(err, certs.ErrBadName) {
		t.Errorf("CreateClient ../x: %v, want ErrBadName", err)
	}
	leaf := pairOf(t, node, certs.NodeCertFile, certs.NodeKeyFile).Certificate().Leaf
	if !certs.HasRole(leaf, certs.RoleNode) || leaf.VerifyHostname("127.0.0.1") != nil || leaf.VerifyHostname("localhost") != nil {
		t.Errorf("node certificate: OU %v, IPs %v, DNS %v", leaf.Subject.OrganizationalUnit, leaf.IPAddresses, leaf.DNSNames)
	}
}

// handshake runs a TLS handshake between a server and a client config
// over loopback, with one byte each way (TLS 1.3 reports a refused
// client certificate on the first read), and returns the client's and
// the server's errors.
func handshake(t *testing.T, server, client *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srv <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.(*tls.Conn).Handshake(); err != nil {
			srv <- err
			return
		}
		_, err = c.Write([]byte{1})
		if err == nil {
			_, err = io.ReadFull(c, make([]byte, 1))
		}
		srv <- err
	}()
	client = client.Clone()
	client.ServerName = "127.0.0.1"
	c, err := tls.Dial("tcp", ln.Addr().String(), client)
	if err == nil {
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err = io.ReadFull(c, make([]byte, 1)); err == nil {
			_, err = c.Write([]byte{1})
		}
	}
	return err, <-srv
}

func TestMutualTLSBetweenNodesOfOneCA(t *testing.T) {
	ca := newCA(t)
	a, b := newNode(t, ca), newNode(t, ca)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	server := certs.PeerServerTLS(pairOf(t, a, certs.NodeCertFile, certs.NodeKeyFile), poolOf(t, a), log)
	client := certs.PeerClientTLS(pairOf(t, b, certs.NodeCertFile, certs.NodeKeyFile), poolOf(t, b))
	if cerr, serr := handshake(t, server, client); cerr != nil || serr != nil {
		t.Fatalf("nodes of one CA: client %v, server %v", cerr, serr)
	}
	if logs.Len() != 0 {
		t.Errorf("logged on success: %s", logs.String())
	}
}

func TestPeerRefusals(t *testing.T) {
	ca, foreign := newCA(t), newCA(t)
	a, stranger := newNode(t, ca), newNode(t, foreign)
	if err := certs.CreateClient(ca, a, "ops", certs.Options{}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	nodePair := pairOf(t, a, certs.NodeCertFile, certs.NodeKeyFile)
	server := certs.PeerServerTLS(nodePair, poolOf(t, a), log)

	t.Run("a node of another CA that trusts it", func(t *testing.T) {
		logs.Reset()
		// The stranger trusts our CA, but its certificate is not ours.
		client := certs.PeerClientTLS(pairOf(t, stranger, certs.NodeCertFile, certs.NodeKeyFile), poolOf(t, a))
		cerr, serr := handshake(t, server, client)
		if cerr == nil || serr == nil {
			t.Fatalf("handshake succeeded: client %v, server %v", cerr, serr)
		}
		if !strings.Contains(logs.String(), "refused a peer") || !strings.Contains(logs.String(), "unknown authority") {
			t.Errorf("server log does not say why: %s", logs.String())
		}
	})
	t.Run("a node of another CA", func(t *testing.T) {
		client := certs.PeerClientTLS(pairOf(t, stranger, certs.NodeCertFile, certs.NodeKeyFile), poolOf(t, stranger))
		cerr, _ := handshake(t, server, client)
		var unknown x509.UnknownAuthorityError
		if !errors.As(cerr, &unknown) {
			t.Fatalf("client: %v, want an unknown authority", cerr)
		}
	})
	t.Run("a client certificate on the peer port", func(t *testing.T) {
		logs.Reset()
		client := certs.PeerClientTLS(pairOf(t, a, certs.ClientCertFile("ops"), certs.ClientKeyFile("ops")), poolOf(t, a))
		cerr, serr := handshake(t, server, client)
		if cerr == nil || !errors.Is(serr, certs.ErrRole) {
			t.Fatalf("client %v, server %v: want the server to refuse the role", cerr, serr)
		}
	})
	t.Run("no certificate", func(t *testing.T) {
		client := &tls.Config{RootCAs: poolOf(t, a), MinVersion: tls.VersionTLS13}
		if cerr, serr := handshake(t, server, client); cerr == nil || serr == nil {
			t.Fatalf("handshake without a client certificate succeeded: %v %v", cerr, serr)
		}
	})
	t.Run("a server with a client certificate", func(t *testing.T) {
		impostor := certs.ServerTLS(pairOf(t, a, certs.ClientCertFile("ops"), certs.ClientKeyFile("ops")), nil)
		client := certs.PeerClientTLS(nodePair, poolOf(t, a))
		cerr, _ := handshake(t, impostor, client)
		if cerr == nil {
			t.Fatal("a node accepted a server that is not a node")
		}
	})
}

func TestKeyPairReloadsChangedFiles(t *testing.T) {
	ca := newCA(t)
	dir := newNode(t, ca)
	pair := pairOf(t, dir, certs.NodeCertFile, certs.NodeKeyFile)
	first := pair.Certificate().Leaf.SerialNumber
	if again := pair.Certificate().Leaf.SerialNumber; again.Cmp(first) != 0 {
		t.Fatal("unchanged files gave another certificate")
	}
	// A new certificate written in two steps: with the certificate
	// alone, the old pair stays; with both, the new one serves.
	next := t.TempDir()
	if err := certs.CreateNode(ca, next, []string{"127.0.0.1"}, certs.Options{}); err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(next, certs.NodeCertFile), filepath.Join(dir, certs.NodeCertFile))
	if got := pair.Certificate().Leaf.SerialNumber; got.Cmp(first) != 0 {
		t.Fatal("a certificate without its key replaced the pair")
	}
	copyFile(t, filepath.Join(next, certs.NodeKeyFile), filepath.Join(dir, certs.NodeKeyFile))
	got := pair.Certificate()
	if got.Leaf.SerialNumber.Cmp(first) == 0 {
		t.Fatal("the new pair was not loaded")
	}
	srv := certs.ServerTLS(pair, nil)
	c, err := srv.GetCertificate(nil)
	if err != nil || c != got {
		t.Fatalf("GetCertificate: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	// Rename over the old file, as deployment tools do.
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

func TestTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), certs.TokensFile)
	if _, err := certs.LoadTokens(path, nil); err == nil {
		t.Fatal("loaded a missing token file")
	}
	one, err := certs.AppendToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", st.Mode().Perm())
	}
	toks, err := certs.LoadTokens(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !toks.Valid(one) || toks.Valid("") || toks.Valid(one+"x") || toks.Valid(one[:len(one)-1]) {
		t.Fatal("token check")
	}
	two, err := certs.AppendToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if !toks.Valid(two) || !toks.Valid(one) {
		t.Fatal("an added token is not valid, or the first one was lost")
	}
	if err := os.WriteFile(path, []byte("# revoked\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if toks.Valid(one) || toks.Valid(two) {
		t.Fatal("an emptied token file still accepts its old tokens")
	}
}
