package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// buildBinary returns the partita binary the package's tests run, built on
// the first call.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "partita-test-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.dir, built.bin = dir, filepath.Join(dir, "partita")
		if out, err := exec.Command("go", "build", "-o", built.bin, ".").CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// built is the binary the package's tests run, built once (linking it
// takes seconds, and most tests run it): TestMain removes it at the end.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// startDev starts `partita dev` on a free port and returns the process and
// its endpoint URL, read from the line it prints when it serves.
func startDev(t *testing.T, bin, dataDir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--port", "0", "--admin-addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), "http://"); i >= 0 {
				lines <- strings.Fields(sc.Text()[i:])[0]
			}
		}
	}()
	select {
	case url := <-lines:
		return cmd, url
	case <-time.After(30 * time.Second):
		t.Fatal("partita dev did not report its endpoint within 30s")
		return nil, ""
	}
}

func client(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
}

// TestKillNineLosesNoAcknowledgedWrite writes items, kills the process with
// SIGKILL, restarts it on the same data directory and reads everything back.
func TestKillNineLosesNoAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	proc, url := startDev(t, bin, data)
	db := client(url)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("kills"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String("kills"),
			Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)},
				"n":  &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
			},
		})
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()

	_, url = startDev(t, bin, data)
	db = client(url)
	for i := range n {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String("kills"),
			Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			t.Fatalf("get %d after restart: %v", i, err)
		}
		n, ok := out.Item["n"].(*types.AttributeValueMemberN)
		if !ok || n.Value != fmt.Sprint(i) {
			t.Fatalf("item %d after kill -9: %v", i, out.Item)
		}
	}
}

// TestSigtermShutsDownCleanly checks that SIGTERM stops the server with exit
// status 0 and that the data directory opens again afterwards.
func TestSigtermShutsDownCleanly(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	data := filepath.Join(dir, "data")
	proc, url := startDev(t, bin, data)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := client(url).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if err := proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- proc.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("no exit within a minute of SIGTERM")
	}
	_, url = startDev(t, bin, data)
	if _, err := client(url).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
