package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/partitadb/partita/certs"
	"github.com/partitadb/partita/node"
)

// partita runs the partita command in process and returns its standard
// output (and standard error, after it).
func partita(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String() + errOut.String(), err
}

// clusterFiles makes, with `partita cert`, a CA in ca, node directories
// n1 and n2 for 127.0.0.1, a client certificate "ops" in ops, and an
// admin token.
func clusterFiles(t *testing.T) (ca, n1, n2, ops, tokens, token string) {
	t.Helper()
	root := t.TempDir()
	ca, n1, n2, ops = filepath.Join(root, "ca"), filepath.Join(root, "n1"), filepath.Join(root, "n2"), filepath.Join(root, "ops")
	steps := [][]string{
		{"cert", "create-ca", "--dir", ca},
		{"cert", "create-node", "--dir", ca, "--host", "127.0.0.1,localhost", "--out", n1},
		{"cert", "create-node", "--dir", ca, "--host", "127.0.0.1", "--out", n2},
		{"cert", "create-client", "--dir", ca, "ops", "--out", ops},
	}
	for _, s := range steps {
		if out, err := partita(t, s...); err != nil {
			t.Fatalf("partita %v: %v\n%s", s, err, out)
		}
	}
	out, err := partita(t, "cert", "create-token", "--dir", ca)
	if err != nil {
		t.Fatalf("create-token: %v\n%s", err, out)
	}
	token = strings.Fields(out)[0]
	if !strings.HasPrefix(token, "ptk_") {
		t.Fatalf("create-token printed %q", out)
	}
	if _, err := partita(t, "cert", "create-ca", "--dir", ca); err == nil {
		t.Fatal("create-ca replaced an existing CA")
	}
	return ca, n1, n2, ops, filepath.Join(ca, certs.TokensFile), token
}

// TestCtlAgainstASecuredCluster: ctl reads from loopback with the CA
// alone, and changes only with a token (flag or environment) or a client
// certificate; without, drain and decommission are refused with a hint.
func TestCtlAgainstASecuredCluster(t *testing.T) {
	_, n1dir, n2dir, ops, tokens, token := clusterFiles(t)
	secure := func(dir string) func(*node.Config) {
		return func(c *node.Config) {
			c.TLS = node.TLSConfig{CertsDir: dir, AdminTokenFile: tokens}
		}
	}
	n1 := startCtlMemberWith(t, secure(n1dir))
	n2 := startCtlMemberWith(t, secure(n2dir), n1.PeerAddr())
	addr := strings.TrimPrefix(n1.AdminURL(), "https://")
	if addr == n1.AdminURL() {
		t.Fatalf("admin endpoint %s: want https", n1.AdminURL())
	}
	run := func(args ...string) (string, error) {
		return partita(t, append([]string{"ctl", "--addr", addr}, args...)...)
	}
	eventually(t, func() error {
		if n2.Replicas() == 0 {
			return errors.New("node 2 holds no replica yet")
		}
		return nil
	})
	if out, err := run("--addr", "https://"+addr, "nodes"); err == nil || !strings.Contains(err.Error(), "--certs-dir") {
		t.Fatalf("ctl nodes without the CA: %v\n%s\nwant a hint to give --certs-dir", err, out)
	}
	if out, err := run("--certs-dir", n1dir, "nodes"); err != nil || !strings.Contains(out, "alive") {
		t.Fatalf("ctl nodes with the CA: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"--certs-dir", n1dir, "node", "drain", "2"},
		{"--certs-dir", n1dir, "node", "decommission", "2"},
		{"--certs-dir", n1dir, "--admin-token", "ptk_forged", "node", "drain", "2"},
		{"--certs-dir", n1dir, "jobs", "pause", "directory"},
	} {
		out, err := run(args...)
		if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "--admin-token") {
			t.Fatalf("ctl %v: %v\n%s\nwant a 401 that says what to give", args, err, out)
		}
	}
	if n2.Replicas() == 0 {
		t.Fatal("node 2 lost its replicas to a refused decommission")
	}
	if out, err := run("--certs-dir", n1dir, "--admin-token", token, "node", "drain", "2"); err != nil {
		t.Fatalf("drain with the token: %v\n%s", err, out)
	}
	if out, err := run("--certs-dir", ops, "node", "drain", "2"); err != nil {
		t.Fatalf("drain with the client certificate: %v\n%s", err, out)
	}
	t.Setenv("PARTITA_ADMIN_TOKEN", token)
	if out, err := run("--certs-dir", n1dir, "jobs", "pause", "directory"); err != nil {
		t.Fatalf("pause with PARTITA_ADMIN_TOKEN: %v\n%s", err, out)
	}
	if out, err := run("--certs-dir", n1dir, "jobs", "resume", "directory"); err != nil {
		t.Fatalf("resume with PARTITA_ADMIN_TOKEN: %v\n%s", err, out)
	}
}

var urlOnLine = regexp.MustCompile(`https?://[0-9.:]+`)

// TestDevWithTLSFlags runs `partita dev` with the TLS flags: the AWS SDK
// trusting the cluster CA works over HTTPS, and the admin endpoint takes
// a change from the token holder only.
func TestDevWithTLSFlags(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	_, n1, _, _, tokens, token := clusterFiles(t)
	cmd := exec.Command(bin, "dev", "--port", "0", "--admin-addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--log-level", "warn", "--certs-dir", n1, "--tls-cert", filepath.Join(n1, certs.NodeCertFile),
		"--tls-key", filepath.Join(n1, certs.NodeKeyFile), "--admin-token-file", tokens)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := make(chan [2]string, 1)
	go func() {
		var got [2]string
		for sc := bufio.NewScanner(stdout); sc.Scan(); {
			switch line := sc.Text(); {
			case strings.Contains(line, "DynamoDB API on"):
				got[0] = urlOnLine.FindString(line)
			case strings.Contains(line, "admin endpoint"):
				got[1] = urlOnLine.FindString(line)
				urls <- got
			}
		}
	}()
	var api, adminURL string
	select {
	case got := <-urls:
		api, adminURL = got[0], got[1]
	case <-time.After(60 * time.Second):
		t.Fatal("partita dev did not report its endpoints")
	}
	if !strings.HasPrefix(api, "https://") || !strings.HasPrefix(adminURL, "https://") {
		t.Fatalf("endpoints %s and %s: want https", api, adminURL)
	}
	pool, err := certs.LoadPool(filepath.Join(n1, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(api), HTTPClient: &http.Client{Transport: tr},
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("the SDK over HTTPS: %v", err)
	}
	addr := strings.TrimPrefix(adminURL, "https://")
	if out, err := partita(t, "ctl", "--addr", addr, "--certs-dir", n1, "jobs", "pause", "table-stats"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("pause without a token: %v\n%s", err, out)
	}
	if out, err := partita(t, "ctl", "--addr", addr, "--certs-dir", n1, "--admin-token", token, "jobs", "pause", "table-stats"); err != nil {
		t.Fatalf("pause with the token: %v\n%s", err, out)
	}
}

// TestStartRefusesANodeOfAnotherCA runs real `partita start` processes
// with --certs-dir: a node of the cluster's CA joins; one of another CA
// exits at once, its log saying the handshake was refused and why.
func TestStartRefusesANodeOfAnotherCA(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	_, n1, n2, _, _, _ := clusterFiles(t)
	foreign := filepath.Join(dir, "foreign")
	for _, s := range [][]string{
		{"cert", "create-ca", "--dir", foreign},
		{"cert", "create-node", "--dir", foreign, "--host", "127.0.0.1"},
	} {
		if out, err := partita(t, s...); err != nil {
			t.Fatalf("partita %v: %v\n%s", s, err, out)
		}
	}
	// Signed requests keep these processes valid whether or not
	// `partita start` demands authentication.
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("AKIDTLS s3cr3t alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := func(data, certsDir string, join ...string) []string {
		a := []string{"start", "--data-dir", filepath.Join(dir, data), "--api-addr", "127.0.0.1:0", "--peer-addr", "127.0.0.1:0",
			"--admin-addr", "", "--log-level", "info", "--credentials-file", creds, "--certs-dir", certsDir}
		if len(join) > 0 {
			a = append(a, "--join", join[0])
		}
		return a
	}
	first := startProcTo(t, io.Discard, bin, args("d1", n1)...)
	startProcTo(t, io.Discard, bin, args("d2", n2, first.peer)...)

	var log bytes.Buffer
	cmd := exec.Command(bin, args("d3", foreign, first.peer)...)
	cmd.Stderr, cmd.Stdout = &log, &log
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("the node of another CA exited cleanly:\n%s", log.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("the node of another CA still runs after 30s:\n%s", log.String())
	}
	for _, want := range []string{"cannot join", "TLS handshake with a member refused", "unknown authority"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("its log does not say %q:\n%s", want, log.String())
		}
	}
}
