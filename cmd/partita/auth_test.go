package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/node"
)

// TestStartWithCredentialsFile runs `partita start --credentials-file`:
// the file's key works, another is refused as DynamoDB refuses it; and
// `partita dev` and `start` refuse contradictory authentication flags.
func TestStartWithCredentialsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t)
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("# test key\nAKIDSTART s3cr3t/key+x alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, "start", "--data-dir", filepath.Join(dir, "data"), "--api-addr", "127.0.0.1:0",
		"--peer-addr", "127.0.0.1:0", "--admin-addr", "", "--log-level", "warn", "--credentials-file", creds)
	if err := listWith(p.api, "AKIDSTART", "s3cr3t/key+x"); err != nil {
		t.Fatalf("the file's key: %v", err)
	}
	if err := listWith(p.api, "AKIDOTHER", "s3cr3t/key+x"); !isAPIError(err, "UnrecognizedClientException") {
		t.Fatalf("a key not in the file: %v", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dev", "--credentials-file", creds}, "add --auth"},
		{[]string{"dev", "--bootstrap-credentials-file", creds}, "add --auth"},
		{[]string{"start", "--insecure", "--credentials-file", creds}, "--insecure turns authentication off"},
		{[]string{"start", "--peer-auth", "sometimes"}, `--peer-auth "sometimes": want require or accept`},
	} {
		cmd := exec.Command(bin, append(c.args, "--data-dir", filepath.Join(dir, "refused"), "--admin-addr", "")...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("partita %v: %v\n%s\nwant an error saying %q", c.args, err, out, c.want)
		}
	}
}

// TestStartClosedByDefault runs `partita start` without any
// authentication flag: it refuses unsigned and unknown keys, prints the
// first key of the new cluster once and keeps it in a 0600 file; a key
// created with ctl works, and after a restart (the cluster key read back
// from the data directory) both still do. --insecure accepts any key and
// says so in the log.
func TestStartClosedByDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t)
	data, admin := filepath.Join(dir, "data"), freeAddr(t)
	args := []string{"start", "--data-dir", data, "--api-addr", "127.0.0.1:0", "--peer-addr", "127.0.0.1:0",
		"--admin-addr", admin, "--log-level", "warn"}
	p := startProc(t, bin, args...)
	if err := listWith(p.api, "AKIDANY", "secret"); !isAPIError(err, "UnrecognizedClientException") {
		t.Fatalf("an unknown key on a node started without flags: %v", err)
	}
	path := filepath.Join(data, node.BootstrapCredentialsFile)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", path, st, err)
	}
	boot, err := auth.LoadCredentialsFile(path)
	if err != nil || boot.Len() != 1 || boot.Keys()[0].User != node.BootstrapUser {
		t.Fatalf("bootstrap credentials: %v, %+v", err, boot)
	}
	admin0 := boot.Keys()[0]
	if err := listWith(p.api, admin0.AccessKeyID, admin0.Secret); err != nil {
		t.Fatalf("the bootstrap key: %v", err)
	}
	if out, err := exec.Command(bin, "ctl", "--addr", admin, "--data-dir", t.TempDir(), "user", "create", "carol").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "401") {
		t.Fatalf("ctl user create without an admin token: %v\n%s", err, out)
	}
	// ctl on the same machine finds the first admin token in the data
	// directory.
	out, err := exec.Command(bin, "ctl", "--addr", admin, "--data-dir", data, "user", "create", "carol").CombinedOutput()
	if err != nil {
		t.Fatalf("ctl user create: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "ctl", "--addr", admin, "--data-dir", data, "policy", "attach", "carol", node.AllowAllPolicy).CombinedOutput(); err != nil {
		t.Fatalf("ctl policy attach: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "ctl", "--addr", admin, "--data-dir", data, "key", "create", "carol", "-o", "json").Output()
	var carol struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if err != nil || json.Unmarshal(out, &carol) != nil || carol.Secret == "" {
		t.Fatalf("ctl key create: %v\n%s", err, out)
	}
	if err := listWith(p.api, carol.ID, carol.Secret); err != nil {
		t.Fatalf("carol's key: %v", err)
	}

	// A restart: the keys come back from the directory and the cluster
	// key file; no new bootstrap key is made.
	_ = p.cmd.Process.Signal(os.Interrupt)
	_ = p.cmd.Wait()
	p = startProc(t, bin, args...)
	for _, k := range []auth.Key{admin0, {AccessKeyID: carol.ID, Secret: carol.Secret}} {
		if err := listWith(p.api, k.AccessKeyID, k.Secret); err != nil {
			t.Fatalf("key %s after a restart: %v", k.AccessKeyID, err)
		}
	}
	if again, err := auth.LoadCredentialsFile(path); err != nil || again.Keys()[0] != admin0 {
		t.Fatalf("the restart changed the bootstrap credentials: %v", err)
	}

	insecure := filepath.Join(dir, "insecure.log")
	logFile, err := os.Create(insecure)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	p = startProcTo(t, logFile, bin, "start", "--data-dir", filepath.Join(dir, "open"), "--api-addr", "127.0.0.1:0",
		"--peer-addr", "127.0.0.1:0", "--admin-addr", "", "--log-level", "warn", "--insecure")
	if err := listWith(p.api, "AKIDANY", "secret"); err != nil {
		t.Fatalf("any key with --insecure: %v", err)
	}
	if raw, _ := os.ReadFile(insecure); !strings.Contains(string(raw), "authentication is off") {
		t.Fatalf("--insecure did not warn in its log:\n%s", raw)
	}
}

// TestStartWithBootstrapCredentialsFile: the first node of a new cluster
// creates the key it is given instead of generating one.
func TestStartWithBootstrapCredentialsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildBinary(t)
	given := filepath.Join(dir, "first")
	if err := os.WriteFile(given, []byte("PKIAGIVENKEY00000001 given/secret+1 ops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	p := startProc(t, bin, "start", "--data-dir", data, "--api-addr", "127.0.0.1:0", "--peer-addr", "127.0.0.1:0",
		"--admin-addr", "", "--log-level", "warn", "--bootstrap-credentials-file", given)
	if err := listWith(p.api, "PKIAGIVENKEY00000001", "given/secret+1"); err != nil {
		t.Fatalf("the given bootstrap key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, node.BootstrapCredentialsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a node given its bootstrap key wrote %s: %v", node.BootstrapCredentialsFile, err)
	}
}

func listWith(api, key, secret string) error {
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(api),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), RetryMaxAttempts: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
	return err
}

func isAPIError(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
