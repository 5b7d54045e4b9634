package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/bench"
	"github.com/partitadb/partita/node"
)

// TestBenchAgainstAClosedNode runs `partita bench` against `partita dev
// --auth`: without a key it cannot even create its table
// (UnrecognizedClientException); signing with the bootstrap key, it loads
// and reads without an error.
func TestBenchAgainstAClosedNode(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t)
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "dev", "--auth", "--port", "0", "--admin-addr", "127.0.0.1:0", "--data-dir", data, "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	api, _ := devURLs(t, stdout)
	creds, err := auth.LoadCredentialsFile(filepath.Join(data, node.BootstrapCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	k := creds.Keys()[0]
	run := []string{"bench", "--endpoint", api, "--workload", "get", "--records", "50", "--clients", "4",
		"--operations", "300", "--duration", "0", "--json"}

	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if out, err := partita(t, run...); err == nil || !strings.Contains(out+err.Error(), "UnrecognizedClientException") {
		t.Fatalf("bench without a key: %v\n%s\nwant UnrecognizedClientException", err, out)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", k.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", k.Secret)
	out, err := partita(t, run...)
	var r bench.Report
	if err != nil || json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &r) != nil {
		t.Fatalf("bench with the bootstrap key from the environment: %v\n%s", err, out)
	}
	if r.Operations != 300 || len(r.Errors) != 0 {
		t.Fatalf("bench with the bootstrap key: %d operations, errors %v; want 300 and none", r.Operations, r.Errors)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	out, err = partita(t, append(run, "--no-load", "--access-key-id", k.AccessKeyID, "--secret-access-key", k.Secret)...)
	if err != nil || json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &r) != nil || len(r.Errors) != 0 {
		t.Fatalf("bench with the key in flags: %v, errors %v\n%s", err, r.Errors, out)
	}
}
