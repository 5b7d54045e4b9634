package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
)

// TestStartWithCredentialsFile runs `partita start --credentials-file`:
// the file's key works, another is refused as DynamoDB refuses it; and
// `partita dev` refuses half-given authentication flags.
func TestStartWithCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("# test key\nAKIDSTART s3cr3t/key+x alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, bin, "start", "--data-dir", filepath.Join(dir, "data"), "--api-addr", "127.0.0.1:0",
		"--peer-addr", "127.0.0.1:0", "--admin-addr", "", "--log-level", "warn", "--credentials-file", creds)
	list := func(key, secret string) error {
		db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.api),
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), RetryMaxAttempts: 1})
		_, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{})
		return err
	}
	if err := list("AKIDSTART", "s3cr3t/key+x"); err != nil {
		t.Fatalf("the file's key: %v", err)
	}
	var ae smithy.APIError
	if err := list("AKIDOTHER", "s3cr3t/key+x"); !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("a key not in the file: %v", err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{{[]string{"--auth"}, "--auth needs --credentials-file"}, {[]string{"--credentials-file", creds}, "add --auth"}} {
		cmd := exec.Command(bin, append([]string{"dev", "--data-dir", filepath.Join(dir, "dev"), "--port", "0"}, c.args...)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Fatalf("partita dev %v: %v\n%s\nwant an error saying %q", c.args, err, out, c.want)
		}
	}
}
