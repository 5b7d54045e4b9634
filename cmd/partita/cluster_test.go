package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/clusterversion"
)

// proc is one `partita start` process.
type proc struct {
	cmd             *exec.Cmd
	api, peer, data string
	admin           string
}

var startLine = regexp.MustCompile(`serving the DynamoDB API on (\S+), peers on (\S+)`)

// startNode runs `partita start` on loopback with free ports, joining
// join (empty: a new cluster), and waits for its start line.
func startNode(t *testing.T, bin, data string, admin string, join string) *proc {
	t.Helper()
	return startNodeAt(t, bin, data, "127.0.0.1:0", "127.0.0.1:0", admin, join)
}

// startNodeAt is startNode on given API and peer addresses.
func startNodeAt(t *testing.T, bin, data, api, peer, admin, join string, extra ...string) *proc {
	t.Helper()
	level, logs := "warn", os.Getenv(nodeLogsEnv)
	if logs != "" {
		level = "info"
	}
	args := []string{"start", "--data-dir", data, "--api-addr", api, "--peer-addr", peer,
		"--admin-addr", admin, "--log-level", level, "--insecure"}
	if join != "" {
		args = append(args, "--join", join)
	}
	args = append(args, extra...)
	var stderr io.Writer = os.Stderr
	if logs != "" {
		f, err := os.OpenFile(filepath.Join(logs, filepath.Base(data)+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		stderr = f
	}
	p := startProcTo(t, stderr, bin, args...)
	p.data, p.admin = data, admin
	return p
}

// nodeLogsEnv names a directory: when set, each node started by
// startNodeAt logs at info level to <data dir's name>.log there, for
// debugging a failed run.
const nodeLogsEnv = "PARTITA_TEST_NODE_LOGS"

// startProc runs a command that ends in `partita start`, and waits for the
// node's start line.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	return startProcTo(t, os.Stderr, name, args...)
}

// startProcTo is startProc with the process's standard error going to
// stderr.
func startProcTo(t *testing.T, stderr io.Writer, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tail := &tailWriter{max: 256 << 10}
	cmd.Stderr = io.MultiWriter(stderr, tail)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found, closed := make(chan []string, 1), make(chan struct{})
	go func() {
		defer close(closed) // its standard output ends: the process exited
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := startLine.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
	}()
	var why string
	select {
	case m := <-found:
		return &proc{cmd: cmd, api: m[1], peer: m[2]}
	case <-closed:
		select {
		case m := <-found:
			return &proc{cmd: cmd, api: m[1], peer: m[2]}
		default:
		}
		time.Sleep(100 * time.Millisecond) // its last words
		why = "exited before it reported its addresses"
	case <-time.After(90 * time.Second):
		// Where it is stuck: a Go process prints its goroutines on
		// SIGQUIT.
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		time.Sleep(2 * time.Second)
		why = "did not report its addresses"
	}
	t.Fatalf("%s %s; the end of its standard error:\n%s", strings.Join(append([]string{name}, args...), " "), why, tail.String())
	return nil
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// replicas reads partita_raft_replicas from a node's metrics.
func replicas(admin string) int {
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^partita_raft_replicas (\d+)`).FindSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestClusterOfProcesses runs three `partita start` processes: a table
// created through one is written through all; the first node is killed
// with SIGKILL and the others keep serving; restarted on its data, it
// rejoins on a new port and serves every acknowledged write, though a
// second node is paused with SIGSTOP as it comes back; resumed, that one
// serves every write made meanwhile.
func TestClusterOfProcesses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	admins := []string{freeAddr(t), freeAddr(t), freeAddr(t)}
	n1 := startNode(t, bin, filepath.Join(dir, "n1"), admins[0], "")
	n2 := startNode(t, bin, filepath.Join(dir, "n2"), admins[1], n1.peer)
	n3 := startNode(t, bin, filepath.Join(dir, "n3"), admins[2], n1.peer)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := func(p *proc) *dynamodb.Client { return client(p.api) }
	if _, err := db(n2).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("procs"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	// Every node ends up with the meta partition and the table's four.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if replicas(admins[0]) >= 5 && replicas(admins[1]) >= 5 && replicas(admins[2]) >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas per node: %d %d %d, want 5 each", replicas(admins[0]), replicas(admins[1]), replicas(admins[2]))
		}
	}
	nodes := []*proc{n1, n2, n3}
	put := func(p *proc, i int) {
		t.Helper()
		if _, err := db(p).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("procs"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}, "n": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		}}); err != nil {
			t.Fatalf("put %d via %s: %v", i, p.api, err)
		}
	}
	check := func(p *proc, i int) {
		t.Helper()
		out, err := db(p).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("procs"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil {
			t.Fatalf("get %d via %s: %v", i, p.api, err)
		}
		if v, ok := out.Item["n"].(*types.AttributeValueMemberN); !ok || v.Value != fmt.Sprint(i) {
			t.Fatalf("get %d via %s: %v", i, p.api, out.Item)
		}
	}
	for i := range 60 {
		put(nodes[i%3], i)
	}
	if err := n1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = n1.cmd.Wait()
	for i := 60; i < 90; i++ {
		put(nodes[1+i%2], i)
	}
	for i := range 90 {
		check(nodes[1+i%2], i)
	}
	// Node 1 comes back on a new peer port, and at once node 2 pauses
	// (SIGSTOP: a silent node). Nodes 1 and 3 are a quorum only if node 3
	// reaches node 1 at its new port, which the directory cannot record
	// without them: node 1's own stream announces it.
	n1 = startNode(t, bin, n1.data, admins[0], n2.peer)
	if err := n2.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for i := range 90 {
		check([]*proc{n1, n3}[i%2], i)
	}
	for i := 90; i < 120; i++ {
		put([]*proc{n1, n3}[i%2], i)
	}
	if err := n2.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		check(n2, i)
		check(n1, i)
	}
	if !strings.HasPrefix(n1.api, "http://") {
		t.Fatalf("odd API URL %q", n1.api)
	}
}

// handed are the ports freeAddr gave, never given twice in one run.
var handed struct {
	mu    sync.Mutex
	ports map[int]bool
}

// freeAddr returns a loopback address with a port free at the time, for
// a process the test starts later (and may restart on it). The port is
// drawn below the kernel's ephemeral range: a port from that range (what
// listening on port 0 gives) is handed again to the next process of the
// suite that listens on port 0, which then holds it when the node starts
// (CI: "bind: address already in use").
func freeAddr(t *testing.T) string {
	t.Helper()
	lo := 32768
	if raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(raw)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 2048 {
				lo = n
			}
		}
	}
	handed.mu.Lock()
	defer handed.mu.Unlock()
	for range 1000 {
		port := 1024 + rand.IntN(lo-1024)
		if handed.ports[port] {
			continue // another test of this binary may start a node on it
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			if handed.ports == nil {
				handed.ports = map[int]bool{}
			}
			handed.ports[port] = true
			return addr
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return ""
}

// TestRollingUpgradeUnderLoad upgrades a 3-process cluster begun by an
// older binary (one that supports cluster version 1 only: --max-cluster-
// version 1) with `ctl upgrade plan --exec`, each node drained, stopped
// with SIGTERM and started as the new binary in turn, while clients write
// through every node: with the SDK's own retries no write fails, every
// acknowledged write is there after, and the Doctor finalises the latest version
// by itself once every node runs the new binary.
func TestRollingUpgradeUnderLoad(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	var procs []*proc
	type addrs struct{ api, peer, admin string }
	var as []addrs
	old := []string{"--max-cluster-version", "1", "--upgrade-soak", "2s"}
	for i := range 3 {
		a := addrs{freeAddr(t), freeAddr(t), freeAddr(t)}
		as = append(as, a)
		join := ""
		if i > 0 {
			join = as[0].peer
		}
		procs = append(procs, startNodeAt(t, bin, filepath.Join(dir, fmt.Sprint("n", i)), a.api, a.peer, a.admin, join, old...))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	patient := func(url string) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(url),
			Credentials:      client(url).Options().Credentials,
			RetryMaxAttempts: 30, RetryMode: aws.RetryModeStandard,
		})
	}
	if _, err := patient(procs[0].api).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("rolling"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); replicas(as[0].admin) < 5 || replicas(as[1].admin) < 5 || replicas(as[2].admin) < 5; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("replicas never reached every node")
		}
	}
	stop := make(chan struct{})
	// Every acknowledged write's start and latency, for the p99 before
	// the upgrade and during it (reported, not asserted).
	type timing struct {
		at  time.Time
		lat time.Duration
	}
	type result struct {
		acked   []string
		timings []timing
		err     error
	}
	results := make(chan result, 3)
	for w := range 3 {
		go func() {
			db := patient(procs[w].api)
			var r result
			for i := 0; ; i++ {
				select {
				case <-stop:
					results <- r
					return
				default:
				}
				k := fmt.Sprintf("w%d-%d", w, i)
				start := time.Now()
				if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("rolling"),
					Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}}}); err != nil {
					r.err = fmt.Errorf("put %s via node %d: %w", k, w+1, err)
					results <- r
					return
				}
				r.acked = append(r.acked, k)
				r.timings = append(r.timings, timing{start, time.Since(start)})
			}
		}()
	}
	// The plan's restart command asks the test to restart the node (the
	// test owns the processes) and waits until it has.
	restart := filepath.Join(dir, "restart.sh")
	script := `echo $PARTITA_NODE_ADMIN > "$0.want"; while [ ! -e "$0.done-$PARTITA_NODE_ADMIN" ]; do sleep 0.1; done`
	if err := os.WriteFile(restart, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	restarts := make(chan error, 1)
	go func() {
		for n := 0; n < 3; {
			raw, err := os.ReadFile(restart + ".want")
			want := strings.TrimSpace(string(raw))
			if err != nil || want == "" || ctx.Err() != nil {
				if ctx.Err() != nil {
					restarts <- ctx.Err()
					return
				}
				time.Sleep(50 * time.Millisecond)
				continue
			}
			os.Remove(restart + ".want")
			i := slices.IndexFunc(as, func(a addrs) bool { return a.admin == want })
			if i < 0 {
				restarts <- fmt.Errorf("the plan restarted an unknown node %q", want)
				return
			}
			p := procs[i]
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				restarts <- err
				return
			}
			if err := p.cmd.Wait(); err != nil {
				restarts <- fmt.Errorf("node %d exit after SIGTERM: %w", i+1, err)
				return
			}
			procs[i] = startNodeAt(t, bin, p.data, as[i].api, as[i].peer, as[i].admin, as[(i+1)%3].peer, "--upgrade-soak", "2s")
			if err := os.WriteFile(restart+".done-"+want, nil, 0o644); err != nil {
				restarts <- err
				return
			}
			n++
		}
		restarts <- nil
	}()
	// Five seconds of load before the upgrade; the last four of them are
	// the p99 before (the first writes meet new partitions' elections).
	time.Sleep(5 * time.Second)
	if out, err := partita(t, "ctl", "--addr", as[0].admin, "upgrade", "status"); err != nil ||
		!strings.Contains(out, "cluster version 1 (base") || strings.Count(out, "commands\n") != 3 {
		t.Fatalf("ctl upgrade status before the upgrade: %v\n%s", err, out)
	}
	planStart := time.Now()
	out, err := partita(t, "ctl", "--addr", as[0].admin, "upgrade", "plan", "--stages", "node:1,node:2",
		"--exec", "sh "+restart, "--soak", "2s", "--wait", "90s")
	planEnd := time.Now()
	if err != nil {
		t.Fatalf("ctl upgrade plan: %v\n%s", err, out)
	}
	if err := <-restarts; err != nil {
		t.Fatal(err)
	}
	t.Logf("ctl upgrade plan:\n%s", out)
	upgraded := time.Now()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		out, err := partita(t, "ctl", "--addr", as[1].admin, "upgrade", "status")
		if err == nil && strings.Contains(out, "cluster version "+clusterversion.Latest.String()) && strings.Count(out, "effects\n") == 3 {
			t.Logf("version %d finalised, every node writing effects, %v after the last restart (soak 2s)", clusterversion.Latest, time.Since(upgraded).Round(100*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("version %d not finalised a minute after the upgrade: %v\n%s", clusterversion.Latest, err, out)
		}
	}
	time.Sleep(time.Second)
	close(stop)
	var acked []string
	var before, during []time.Duration
	for range 3 {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		acked = append(acked, r.acked...)
		for _, tm := range r.timings {
			switch {
			case tm.at.Before(planStart.Add(-4 * time.Second)):
			case tm.at.Before(planStart):
				before = append(before, tm.lat)
			case tm.at.Before(planEnd):
				during = append(during, tm.lat)
			}
		}
	}
	p99 := func(ds []time.Duration) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return ds[len(ds)*99/100]
	}
	t.Logf("put p99 before the upgrade %v (%d writes), during it %v (%d writes, %v of restarts), the SDK's retries included",
		p99(before).Round(100*time.Microsecond), len(before), p99(during).Round(100*time.Microsecond), len(during),
		planEnd.Sub(planStart).Round(100*time.Millisecond))
	db := patient(procs[1].api)
	for _, k := range acked {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("rolling"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}}})
		if err != nil || out.Item == nil {
			t.Fatalf("acknowledged write %s missing after the rolling restart: %v", k, err)
		}
	}
	t.Logf("%d writes acknowledged through a rolling upgrade, all present", len(acked))
}

// TestFiveProcesses runs five `partita start` processes: partitions spread
// over all of them, and killing one (SIGKILL) leaves every write working.
func TestFiveProcesses(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	var procs []*proc
	for i := range 5 {
		join := ""
		if i > 0 {
			join = procs[0].peer
		}
		procs = append(procs, startNode(t, bin, filepath.Join(dir, fmt.Sprint("n", i)), freeAddr(t), join))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	patient := func(p *proc) *dynamodb.Client {
		return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.api),
			Credentials: client(p.api).Options().Credentials, RetryMaxAttempts: 30})
	}
	if _, err := patient(procs[3]).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("five"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	put := func(live []*proc, from, to int) {
		for i := from; i < to; i++ {
			if _, err := patient(live[i%len(live)]).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("five"),
				Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}}); err != nil {
				t.Fatalf("put %d: %v", i, err)
			}
		}
	}
	put(procs, 0, 50)
	victim := procs[2]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()
	live := []*proc{procs[0], procs[1], procs[3], procs[4]}
	put(live, 50, 100)
	out, err := patient(procs[4]).Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("five"), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Count != 100 {
		t.Fatalf("scan with a node killed: %v items, %v", out, err)
	}
}
