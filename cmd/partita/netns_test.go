package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
)

// netLab is three network namespaces on one bridge: each node of a
// cluster runs in its own, reachable from the test at 10.231.<n>.1<i>, and
// a node is cut off by taking its link down.
type netLab struct {
	t      *testing.T
	tag    string // keeps names unique per run
	subnet string
}

func run(t *testing.T, args ...string) error {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// newNetLab builds the namespaces, or skips the test where the machine
// does not allow it (not root, no ip netns).
func newNetLab(t *testing.T, nodes int) *netLab {
	if os.Geteuid() != 0 {
		t.Skip("network partition test needs root for ip netns")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("network partition test needs iproute2 (ip)")
	}
	tag := fmt.Sprint(os.Getpid() % 10000)
	lab := &netLab{t: t, tag: tag, subnet: fmt.Sprintf("10.231.%d", os.Getpid()%200+1)}
	br := "ptb" + tag
	if err := run(t, "ip", "link", "add", br, "type", "bridge"); err != nil {
		t.Skipf("network partition test cannot create a bridge here: %v", err)
	}
	t.Cleanup(func() { _ = run(t, "ip", "link", "del", br) })
	steps := [][]string{{"ip", "addr", "add", lab.subnet + ".1/24", "dev", br}, {"ip", "link", "set", br, "up"}}
	for i := 1; i <= nodes; i++ {
		ns, host, peer := lab.ns(i), lab.link(i), fmt.Sprintf("ptn%s_%d", tag, i)
		if err := run(t, "ip", "netns", "add", ns); err != nil {
			t.Skipf("network partition test cannot create namespaces here: %v", err)
		}
		t.Cleanup(func() { _ = run(t, "ip", "netns", "del", ns) })
		steps = append(steps,
			[]string{"ip", "link", "add", host, "type", "veth", "peer", "name", peer},
			[]string{"ip", "link", "set", peer, "netns", ns},
			[]string{"ip", "link", "set", host, "master", br},
			[]string{"ip", "link", "set", host, "up"},
			[]string{"ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"},
			[]string{"ip", "netns", "exec", ns, "ip", "addr", "add", lab.ip(i) + "/24", "dev", peer},
			[]string{"ip", "netns", "exec", ns, "ip", "link", "set", peer, "up"},
		)
	}
	for _, s := range steps {
		if err := run(t, s...); err != nil {
			t.Fatal(err)
		}
	}
	return lab
}

func (l *netLab) ns(i int) string   { return fmt.Sprintf("ptns%s_%d", l.tag, i) }
func (l *netLab) link(i int) string { return fmt.Sprintf("ptv%s_%d", l.tag, i) }
func (l *netLab) ip(i int) string   { return fmt.Sprintf("%s.1%d", l.subnet, i) }

// cut isolates node i (its link down); heal reconnects it.
func (l *netLab) cut(i int)  { l.setLink(i, "down") }
func (l *netLab) heal(i int) { l.setLink(i, "up") }
func (l *netLab) setLink(i int, state string) {
	if err := run(l.t, "ip", "link", "set", l.link(i), state); err != nil {
		l.t.Fatal(err)
	}
}

// TestNetworkPartition runs three nodes in their own network namespaces on
// the default ports, cuts one off the network while clients keep writing
// through the others, heals, and checks the cut-off node serves every
// write.
func TestNetworkPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	lab := newNetLab(t, 3)
	dir := t.TempDir()
	bin := buildBinary(t)
	var procs []*proc
	for i := 1; i <= 3; i++ {
		args := []string{"netns", "exec", lab.ns(i), bin, "start", "--data-dir", filepath.Join(dir, fmt.Sprint("n", i)),
			"--api-addr", lab.ip(i) + ":8000", "--peer-addr", lab.ip(i) + ":7000", "--admin-addr", lab.ip(i) + ":9000",
			"--log-level", "warn", "--insecure"}
		if i > 1 {
			args = append(args, "--join", lab.ip(1)+":7000")
		}
		procs = append(procs, startProc(t, "ip", args...))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := func(i int) *dynamodb.Client {
		url := "http://" + lab.ip(i) + ":8000"
		return dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(url),
			Credentials: client(url).Options().Credentials, RetryMaxAttempts: 30})
	}
	if _, err := db(2).CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("netsplit"),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if replicas(lab.ip(1)+":9000") >= 5 && replicas(lab.ip(2)+":9000") >= 5 && replicas(lab.ip(3)+":9000") >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("replicas never reached every node")
		}
	}
	put := func(via, i int) {
		t.Helper()
		if _, err := db(via).PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("netsplit"),
			Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}}); err != nil {
			t.Fatalf("put %d via node %d: %v", i, via, err)
		}
	}
	for i := range 30 {
		put(1+i%3, i)
	}
	lab.cut(1) // node 1 led the meta partition: a new leader is elected
	for i := 30; i < 60; i++ {
		put(2+i%2, i)
	}
	lab.heal(1)
	for i := range 60 {
		out, err := db(1).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("netsplit"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprint("k", i)}}})
		if err != nil || out.Item == nil {
			t.Fatalf("get %d via the healed node: %v", i, err)
		}
	}
	// The cut was shorter than --dead-after: the Doctor replaced or
	// removed nothing (no false action).
	resp, err := http.Get("http://" + lab.ip(2) + ":9000/doctor/timeline?limit=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var es []admin.TimelineEntry
	if err := json.NewDecoder(resp.Body).Decode(&es); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if (e.Kind == "replace-replica" || e.Kind == "remove-replica") && e.State != "held" && e.State != "stale" && e.State != "rejected" {
			t.Fatalf("the Doctor acted on a short cut: %+v", e)
		}
	}
	_ = procs
}
