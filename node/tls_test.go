package node_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/certs"
	"github.com/partitadb/partita/node"
)

// logBuffer is a log destination tests can read while the node writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// pki is a cluster CA in a directory, issuing node directories.
type pki struct {
	t  *testing.T
	ca string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	p := pki{t: t, ca: t.TempDir()}
	must(t, certs.CreateCA(p.ca, certs.Options{}))
	return p
}

// node issues a node certificate for 127.0.0.1 into a new directory.
func (p pki) node() string {
	p.t.Helper()
	dir := p.t.TempDir()
	must(p.t, certs.CreateNode(p.ca, dir, []string{"127.0.0.1"}, certs.Options{}))
	return dir
}

func (p pki) pool() *x509.CertPool {
	p.t.Helper()
	pool, err := certs.LoadPool(filepath.Join(p.ca, certs.CAFile))
	must(p.t, err)
	return pool
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// startSecure starts a cluster node on loopback with the certificates of
// certsDir (for peers, the API and the admin endpoint) and an admin
// token file, logging to log.
func startSecure(t *testing.T, certsDir, tokens string, log io.Writer, join ...string) (*node.Node, error) {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr, cfg.PeerAddr, cfg.AdminAddr, cfg.Join = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", join
	cfg.ReconcileInterval = 100 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(log, nil))
	cfg.TLS = node.TLSConfig{CertsDir: certsDir, AdminTokenFile: tokens,
		CertFile: filepath.Join(certsDir, certs.NodeCertFile), KeyFile: filepath.Join(certsDir, certs.NodeKeyFile)}
	return node.Start(context.Background(), cfg)
}

// httpsClient trusts pool and, with dir and name, presents that client
// certificate.
func httpsClient(t *testing.T, pool *x509.CertPool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func secureClient(t *testing.T, n *node.Node, pool *x509.CertPool) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()), HTTPClient: httpsClient(t, pool),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
}

// TestClusterOverTLS: two nodes of one CA form a cluster over mutual TLS
// and serve the AWS SDK over HTTPS; nodes whose certificates are not the
// cluster's are refused at the handshake, quickly, saying why; an
// unauthenticated decommission is refused.
func TestClusterOverTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tokens := filepath.Join(t.TempDir(), certs.TokensFile)
	token, err := certs.AppendToken(tokens)
	must(t, err)
	var log1 logBuffer
	n1, err := startSecure(t, p.node(), tokens, &log1)
	must(t, err)
	defer n1.Close()
	n2, err := startSecure(t, p.node(), tokens, io.Discard, n1.PeerAddr())
	must(t, err)
	defer n2.Close()
	if !strings.HasPrefix(n1.APIURL(), "https://") || !strings.HasPrefix(n1.AdminURL(), "https://") {
		t.Fatalf("endpoints %s, %s: want https", n1.APIURL(), n1.AdminURL())
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = secureClient(t, n1, p.pool()).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("sealed"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	must(t, err)
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
	_, err = secureClient(t, n2, p.pool()).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("sealed"), Item: key})
	must(t, err)
	out, err := secureClient(t, n1, p.pool()).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("sealed"), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("read back through node 1: %v %v", out, err)
	}
	if _, err := client(n1).ListTables(ctx, &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("the API answered plain HTTP")
	}

	t.Run("a node of another CA cannot join", func(t *testing.T) {
		var log3 logBuffer
		start := time.Now()
		_, err := startSecure(t, newPKI(t).node(), tokens, &log3, n1.PeerAddr())
		if !errors.Is(err, node.ErrPeerCertificate) || !strings.Contains(err.Error(), "unknown authority") {
			t.Fatalf("join: %v, want ErrPeerCertificate (unknown authority)", err)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("refusal took %v: it is not retried for the join's minute", d)
		}
		if !strings.Contains(log3.String(), "cannot join") {
			t.Errorf("the refused node's log does not say why: %s", log3.String())
		}
	})
	t.Run("a node of another CA that trusts ours cannot join", func(t *testing.T) {
		dir := newPKI(t).node()
		raw, err := os.ReadFile(filepath.Join(p.ca, certs.CAFile))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, certs.CAFile), raw, 0o644))
		_, err = startSecure(t, dir, tokens, io.Discard, n1.PeerAddr())
		if !errors.Is(err, node.ErrPeerCertificate) {
			t.Fatalf("join: %v, want ErrPeerCertificate", err)
		}
		if !strings.Contains(log1.String(), "refused a peer") {
			t.Errorf("the member's log does not say it refused a peer")
		}
	})
	t.Run("a client certificate cannot join", func(t *testing.T) {
		dir := t.TempDir()
		must(t, certs.CreateClient(p.ca, dir, "ops", certs.Options{}))
		must(t, os.Rename(filepath.Join(dir, certs.ClientCertFile("ops")), filepath.Join(dir, certs.NodeCertFile)))
		must(t, os.Rename(filepath.Join(dir, certs.ClientKeyFile("ops")), filepath.Join(dir, certs.NodeKeyFile)))
		_, err := startSecure(t, dir, tokens, io.Discard, n1.PeerAddr())
		if !errors.Is(err, node.ErrPeerCertificate) {
			t.Fatalf("join: %v, want ErrPeerCertificate", err)
		}
	})
	t.Run("an unauthenticated decommission is refused", func(t *testing.T) {
		replicas := n2.Replicas()
		decommission := func(token string) int {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, n1.AdminURL()+"/cluster/nodes/2/decommission", nil)
			must(t, err)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := httpsClient(t, p.pool()).Do(req)
			must(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := decommission(""); code != http.StatusUnauthorized {
			t.Fatalf("decommission without a token: %d, want 401", code)
		}
		if code := decommission("ptk_not-a-token"); code != http.StatusUnauthorized {
			t.Fatalf("decommission with a wrong token: %d, want 401", code)
		}
		if got := n2.Replicas(); got < replicas {
			t.Fatalf("node 2 went from %d to %d replicas after refused decommissions", replicas, got)
		}
		// The same request with the token reaches the operator (which
		// refuses it here: no node could take node 2's replicas).
		if code := decommission(token); code == http.StatusUnauthorized {
			t.Fatal("decommission with the token: 401")
		}
	})
}

// TestAPICertificateReloads: a certificate replaced on disk is served to
// the next connection, without a restart.
func TestAPICertificateReloads(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	dir := p.node()
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr = t.TempDir(), "127.0.0.1:0"
	cfg.TLS = node.TLSConfig{CertFile: filepath.Join(dir, certs.NodeCertFile), KeyFile: filepath.Join(dir, certs.NodeKeyFile)}
	n, err := node.Start(context.Background(), cfg)
	must(t, err)
	defer n.Close()
	serial := func() string {
		conn, err := tls.Dial("tcp", strings.TrimPrefix(n.APIURL(), "https://"), &tls.Config{RootCAs: p.pool(), ServerName: "127.0.0.1"})
		must(t, err)
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := secureClient(t, n, p.pool()).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("SDK over TLS: %v", err)
	}
	next := p.node()
	for _, f := range []string{certs.NodeKeyFile, certs.NodeCertFile} {
		raw, err := os.ReadFile(filepath.Join(next, f))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, f+".new"), raw, 0o600))
		must(t, os.Rename(filepath.Join(dir, f+".new"), filepath.Join(dir, f)))
	}
	if after := serial(); after == before {
		t.Fatal("the replaced certificate was not served")
	}
	if _, err := secureClient(t, n, p.pool()).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("SDK after the reload: %v", err)
	}
}

// TestTLSNodeRefusesAPlainMember: a node with a certs dir joining a
// member in plain text stops at once, saying why.
func TestTLSNodeRefusesAPlainMember(t *testing.T) {
	t.Parallel()
	plain := startMember(t, t.TempDir())
	defer plain.Close()
	start := time.Now()
	_, err := startSecure(t, newPKI(t).node(), "", io.Discard, plain.PeerAddr())
	if !errors.Is(err, node.ErrPeerCertificate) {
		t.Fatalf("join: %v, want ErrPeerCertificate", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("refusal took %v", d)
	}
}
