//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// execNofileEnv makes the test binary, run as a child, lower its open-file
// limit (soft and hard) to the value and exec the command in its arguments:
// the command then runs under that limit and cannot raise it.
const execNofileEnv = "PARTITA_TEST_EXEC_NOFILE"

// testParallel is how many of the package's tests run at once unless
// -parallel says otherwise. Most start clusters of processes and wait on
// them (elections, the Doctor, restarts): one at a time, the package took
// six minutes on two cores.
const testParallel = 4

func TestMain(m *testing.M) {
	if v := os.Getenv(execNofileEnv); v != "" {
		execWithNofile(v, os.Args[1:])
	}
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", strconv.Itoa(testParallel)); err != nil {
			panic(err)
		}
	}
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func execWithNofile(v string, argv []string) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err == nil {
		err = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n})
	}
	if err == nil {
		err = syscall.Exec(argv[0], argv, os.Environ())
	}
	fmt.Fprintln(os.Stderr, "exec with open-file limit:", err)
	os.Exit(2)
}

// lockedBuffer is a buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestIdleFloodAtALowFileLimit runs `partita dev` under an open-file limit
// of 512 and connects 1,500 idle clients to its API and 300 to its admin
// endpoint: without a connection limit they took every descriptor, Pebble
// could not open files, /healthz and the API stopped answering, and
// net/http printed plain-text accept errors into the JSON log. Now writes,
// reads and /healthz go on, and every log line is JSON with no error.
func TestIdleFloodAtALowFileLimit(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const limit, apiFlood, adminFlood = 512, 1500, 300
	dir := t.TempDir()
	bin := buildBinary(t)
	cmd := exec.Command(os.Args[0], bin, "dev", "--port", "0", "--admin-addr", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "data"), "--log-format", "json", "--log-level", "info")
	cmd.Env = append(os.Environ(), execNofileEnv+"="+strconv.Itoa(limit))
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	apiURL, adminURL := devURLs(t, stdout)

	var idle []net.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	dialFailed := 0
	for i := range apiFlood + adminFlood {
		url := apiURL
		if i%6 == 5 {
			url = adminURL
		}
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), 5*time.Second)
		if err != nil {
			dialFailed++
			continue
		}
		idle = append(idle, c)
	}
	t.Logf("%d idle connections open from the client's side, %d dials failed", len(idle), dialFailed)

	health := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := health.Get(adminURL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz under the flood: %v, %v", resp, err)
	}
	resp.Body.Close()
	c, ctx := client(apiURL), context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("flood"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	}); err != nil {
		t.Fatalf("CreateTable under the flood: %v", err)
	}
	for i := range 200 {
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("flood"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: strconv.Itoa(i)}, "v": &types.AttributeValueMemberS{Value: strings.Repeat("x", 1000)},
		}}); err != nil {
			t.Fatalf("PutItem %d under the flood: %v", i, err)
		}
	}
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("flood"), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Count != 200 {
		t.Fatalf("Scan under the flood: %v, %v", out, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("partita dev exited with %v\n%s", err, stderr.String())
	}
	checkJSONLog(t, stderr.String())
}

// devURLs reads the API and admin URLs `partita dev` prints.
func devURLs(t *testing.T, stdout interface{ Read([]byte) (int, error) }) (api, admin string) {
	t.Helper()
	urls := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`http://[0-9.:]+`)
		var got [2]string
		for sc.Scan() {
			switch line := sc.Text(); {
			case strings.Contains(line, "DynamoDB API on"):
				got[0] = re.FindString(line)
			case strings.Contains(line, "admin endpoint"):
				got[1] = re.FindString(line)
				urls <- got
			}
		}
	}()
	select {
	case got := <-urls:
		return got[0], got[1]
	case <-time.After(30 * time.Second):
		t.Fatal("partita dev did not report its endpoints within 30s")
		return "", ""
	}
}

// checkJSONLog fails unless every line of log is a JSON record and none is
// an error.
func checkJSONLog(t *testing.T, log string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["level"] == "ERROR" || strings.Contains(line, "too many open files") {
			t.Errorf("error logged under the flood: %s", line)
		}
	}
}

// TestDataDirInUse: a second process on a data directory in use says so.
func TestDataDirInUse(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	data := filepath.Join(dir, "data")
	startDev(t, bin, data)
	out, err := exec.Command(bin, "dev", "--port", "0", "--admin-addr", "", "--data-dir", data).CombinedOutput()
	want := "partita: node: data directory " + data + " is in use by another partita process"
	if err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("second process: %v\n%s\nwant %q", err, out, want)
	}
}
