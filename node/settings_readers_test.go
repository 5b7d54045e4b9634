package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/settings"
)

// setOverride sets key=value at scope through n and waits for n to
// apply it.
func setOverride(t *testing.T, n *node.Node, key, value, scope string) {
	t.Helper()
	q := url.Values{"key": {key}, "value": {value}}
	if scope != "" {
		q.Set("scope", scope)
	}
	code, v := configDo(t, n, "set", q)
	if code != http.StatusOK {
		t.Fatalf("set %s=%s at %q: status %d", key, value, scope, code)
	}
	waitFor(t, func() error {
		if _, _, have := effective(t, n, key); have < v {
			return fmt.Errorf("version %d of the overrides not applied yet", v)
		}
		return nil
	})
}

func unsetOverride(t *testing.T, n *node.Node, key, scope string) {
	t.Helper()
	q := url.Values{"key": {key}}
	if scope != "" {
		q.Set("scope", scope)
	}
	code, v := configDo(t, n, "unset", q)
	if code != http.StatusOK {
		t.Fatalf("unset %s at %q: status %d", key, scope, code)
	}
	waitFor(t, func() error {
		if _, _, have := effective(t, n, key); have < v {
			return fmt.Errorf("version %d of the overrides not applied yet", v)
		}
		return nil
	})
}

// TestSettingsReadersApplyLive: the live settings change what the node
// does, without a restart: the raft clock, lease reads, lazy commit, the
// topology job's interval and the bound on operations in flight. (The log bounds, table-scoped
// ones included, are checked on replicas by replica's
// truncate_live_bounds script: a single node's logs are trimmed to what
// it applied whatever the bounds.)
func TestSettingsReadersApplyLive(t *testing.T) {
	t.Parallel()
	n := startHealerWith(t, "", func(c *node.Config) { c.Doctor = false })
	base := n.TickInterval()

	setOverride(t, n, "raft.tick-interval", "50ms", "")
	if got := n.TickInterval(); got != 50*time.Millisecond {
		t.Errorf("raft tick %v after the override, want 50ms", got)
	}
	unsetOverride(t, n, "raft.tick-interval", "")
	if got := n.TickInterval(); got != base {
		t.Errorf("raft tick %v after the unset, want the configured %v", got, base)
	}

	// Switches on by default: off with the override, on again without it.
	for name, on := range map[string]func() bool{"raft.lease-reads": n.LeaseReads, "raft.lazy-commit": n.LazyCommit} {
		if !on() {
			t.Errorf("%s off by default", name)
		}
		setOverride(t, n, name, "false", "")
		if on() {
			t.Errorf("%s on after the override false", name)
		}
		unsetOverride(t, n, name, "")
		if !on() {
			t.Errorf("%s off after the unset", name)
		}
	}

	setOverride(t, n, "topology.interval", "3s", "")
	var job struct {
		Interval time.Duration `json:"interval"`
	}
	if code := adminDo(t, n, http.MethodGet, "/debug/jobs/"+node.TopologyJob, &job); code != http.StatusOK {
		t.Fatalf("job %s: status %d", node.TopologyJob, code)
	}
	if job.Interval != 3*time.Second {
		t.Errorf("topology job interval %v, want 3s", job.Interval)
	}

	// One operation at a time: a request stalled mid-body holds the only
	// slot, and the next is throttled. Unset, the node's own bound
	// returns and the next goes through.
	createTable(t, client(n), "busy")
	setOverride(t, n, "request.max-inflight", "1", "")
	stalled, answer := holdSlot(t, n)
	if answer == "" {
		t.Fatal("no throttle with request.max-inflight=1")
	}
	unsetOverride(t, n, "request.max-inflight", "")
	if err := putN(client(n), "busy", 1); err != nil {
		t.Errorf("a put beside the stalled one after the unset: %v", err)
	}
	stalled.Close()

	// One table operation a second (bursts of 2): of five DeleteTables
	// sent at once, some are throttled. (Sent one after another, each
	// slower than half a second on a loaded machine, none would be.)
	setOverride(t, n, "request.control-plane-rate", "1", "")
	once := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: client(n).Options().Credentials, RetryMaxAttempts: 1})
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = once.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(fmt.Sprint("none-", i))})
		})
	}
	wg.Wait()
	throttles := 0
	for i, err := range errs {
		var te *types.ResourceNotFoundException
		var ae interface{ ErrorCode() string }
		switch {
		case errors.As(err, &te):
		case errors.As(err, &ae) && ae.ErrorCode() == "ThrottlingException":
			throttles++
		default:
			t.Fatalf("DeleteTable %d: %v", i, err)
		}
	}
	if throttles == 0 {
		t.Error("no table operation throttled at request.control-plane-rate=1")
	}
	unsetOverride(t, n, "request.control-plane-rate", "")

}

// TestSettingsTableRequestTimeout: a table-scoped request.timeout bounds
// the requests on that table only. With every fsync slowed by a second
// (fault.fsync-delay), a put on the table with a 300 ms timeout fails,
// and a put on another table, under the cluster's 10 s, succeeds.
func TestSettingsTableRequestTimeout(t *testing.T) {
	t.Parallel()
	n := startHealerWith(t, "", func(c *node.Config) { c.Doctor = false })
	c := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: client(n).Options().Credentials, RetryMaxAttempts: 1,
	})
	createTable(t, c, "slow")
	createTable(t, c, "fast")
	setOverride(t, n, "request.timeout", "300ms", "table:slow")
	setOverride(t, n, "fault.fsync-delay", "1s", "")
	defer unsetOverride(t, n, "fault.fsync-delay", "")
	put := func(table string) error {
		_, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}})
		return err
	}
	start := time.Now()
	err := put("slow")
	if err == nil {
		t.Fatalf("a put on the table with a 300ms timeout succeeded in %v under a 1s fsync", time.Since(start))
	}
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) {
		t.Fatalf("the timed-out put: %v, want a DynamoDB error", err)
	}
	t.Logf("the timed-out put failed after %v: %s", time.Since(start), ae.ErrorCode())
	if err := put("fast"); err != nil {
		t.Fatalf("a put on the other table: %v", err)
	}
}

// TestSettingsCatchUpAfterRestart: a node down while the overrides change
// applies the version in force when it returns.
func TestSettingsCatchUpAfterRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	noDoctor := func(c *node.Config) { c.Doctor = false }
	n1 := startHealerWith(t, "", noDoctor)
	n2 := startHealerWith(t, "", noDoctor, n1.PeerAddr())
	var logs syncBuffer
	third := func(c *node.Config) {
		c.Doctor, c.DataDir = false, dir
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	n3 := startHealerWith(t, "", third, n1.PeerAddr())
	setOverride(t, n2, "request.timeout", "20s", "")
	waitSetting(t, []*node.Node{n1, n2, n3}, "request.timeout", "20s", "override v1 (cluster)")
	if err := n3.Close(); err != nil {
		t.Fatal(err)
	}
	setOverride(t, n2, "request.timeout", "30s", "")
	logs.Reset()
	n3 = startHealerWith(t, "", third, n1.PeerAddr())
	defer func() {
		if t.Failed() {
			t.Logf("the restarted node's logs:\n%s", logs.String())
		}
	}()
	waitSetting(t, []*node.Node{n1, n2, n3}, "request.timeout", "30s", "override v2 (cluster)")
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// TestStartSettingsReachTheirReaders: the settings read only at start
// (from the node's flags, environment or file) are what its engine and
// store run with; not given, the components' defaults are. A contradiction
// between the raft timeouts, or a value out of bounds, stops the node
// before it starts.
func TestStartSettingsReachTheirReaders(t *testing.T) {
	t.Parallel()
	static := map[string]settings.Static{
		"storage.memtable-size": {Text: "8MiB", From: settings.FromFlag},
		"store.workers":         {Text: "3", From: settings.FromEnv},
		"raft.election-ticks":   {Text: "20", From: settings.FromFile},
		"raft.heartbeat-ticks":  {Text: "2", From: settings.FromFlag},
	}
	n := startHealerWith(t, "", func(c *node.Config) { c.Doctor, c.Settings = false, static })
	mem, workers, election, heartbeat := n.StartSettings()
	if mem != 8<<20 || workers != 3 || election != 20 || heartbeat != 2 {
		t.Errorf("started with memtables of %d bytes, %d store workers, raft ticks %d/%d; want 8MiB, 3, 20/2",
			mem, workers, election, heartbeat)
	}
	d := startHealerWith(t, "", func(c *node.Config) { c.Doctor = false })
	mem, workers, election, heartbeat = d.StartSettings()
	if mem != 16<<20 || workers != 1 || election != 10 || heartbeat != 1 {
		t.Errorf("without the settings: memtables of %d bytes, %d store workers, raft ticks %d/%d; want 16MiB, 1, 10/1",
			mem, workers, election, heartbeat)
	}

	for name, bad := range map[string]map[string]settings.Static{
		"heartbeat not below election": {"raft.election-ticks": {Text: "3", From: settings.FromFlag}, "raft.heartbeat-ticks": {Text: "3", From: settings.FromFlag}},
		"memtable below its minimum":   {"storage.memtable-size": {Text: "1MiB", From: settings.FromFlag}},
		"workers not a number":         {"store.workers": {Text: "two", From: settings.FromEnv}},
	} {
		cfg := node.DefaultConfig()
		cfg.DataDir, cfg.APIAddr, cfg.Settings = t.TempDir(), "127.0.0.1:0", bad
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: the configuration is valid", name)
		}
	}
}
