package node_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partitadb/partita/admin"
	"github.com/partitadb/partita/harness"
	"github.com/partitadb/partita/node"
	"github.com/partitadb/partita/topology"
)

// TestDoctorLinearizable checks the harness's linearizability model
// against a cluster the Doctor repairs while clients use it. Five nodes,
// a table on three replicas per partition, and key/value clients (Get as a
// consistent GetItem, Put as PutItem, CAS as a conditional PutItem)
// through two nodes, recorded in a history. Meanwhile: a replica is made
// silent on a live node (its raft messages dropped) and replaced; a node
// holding replicas dies and every replica of it is replaced; another
// node's disk turns slow and its leaders move. porcupine checks the
// history.
func TestDoctorLinearizable(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a workload until the Doctor has repaired three faults")
	}
	drop := make([]*atomic.Uint64, 5)
	delay := make([]*atomic.Int64, 5)
	tweak := func(i int) func(*node.Config) {
		drop[i], delay[i] = new(atomic.Uint64), new(atomic.Int64)
		return func(c *node.Config) {
			c.DropRaft = func(p uint64) bool { return p == drop[i].Load() }
			c.FsyncDelay = func() time.Duration { return time.Duration(delay[i].Load()) }
		}
	}
	n1 := startHealerWith(t, "", tweak(0))
	nodes := []*node.Node{n1}
	for i := 1; i < 5; i++ {
		nodes = append(nodes, startHealerWith(t, "", tweak(i), n1.PeerAddr()))
	}
	createCapacityTable(t, client(n1), "lin", 0, 0)
	all := func() []topology.PartitionInfo { return append(partitions(t, n1, ""), partitions(t, n1, "lin")...) }
	waitFor(t, func() error { return healthy(all()) })
	waitWithin(t, 2*time.Minute, func() error { return quiet(t, n1) })

	h := harness.NewHistory()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() { kvClient(ctx, nodes[c%2], h, c) })
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			wg.Wait()
		}
	}
	defer stop()

	// Three faults, each on a node other than n1 and n2 (the clients'),
	// and each waited on until the Doctor has dealt with it.
	victims := func() []int {
		var out []int
		for i := 2; i < 5; i++ {
			if !nodes[i].Doctor().IsActive() {
				out = append(out, i)
			}
		}
		return out
	}
	// 1. A silent replica on a live node: replaced from its leader's view.
	var v int
	var silent topology.PartitionInfo
	for _, c := range victims() {
		for _, p := range partitions(t, n1, "lin") {
			if silent.ID == 0 && slices.Contains(p.Voters, nodes[c].ID()) && p.Leader != nodes[c].ID() {
				v, silent = c, p
			}
		}
	}
	if silent.ID == 0 {
		t.Fatalf("no node but n1 and n2 follows a partition of the table: %+v", partitions(t, n1, "lin"))
	}
	h.Note(fmt.Sprintf("p%d silent on n%d", silent.ID, nodes[v].ID()), h.Now(), h.Now())
	drop[v].Store(silent.ID)
	waitWithin(t, 2*time.Minute, func() error {
		for _, p := range partitions(t, n1, "lin") {
			if p.ID == silent.ID && slices.Contains(p.Voters, nodes[v].ID()) {
				return fmt.Errorf("p%d still has its silent replica on n%d: voters %v", p.ID, nodes[v].ID(), p.Voters)
			}
		}
		return nil
	})
	drop[v].Store(0)

	// 2. A node dies: every replica of it replaced.
	dead := nodes[victims()[len(victims())-1]]
	h.Note(fmt.Sprintf("n%d dies", dead.ID()), h.Now(), h.Now())
	if err := dead.Close(); err != nil {
		t.Fatal(err)
	}
	waitWithin(t, 2*time.Minute, func() error { return healthy(all(), dead.ID()) })

	// 3. A slow disk: its leaders move away. The node must lead something,
	// and follow leaders on two other nodes: the Doctor acts on a slow
	// disk only when two leaders see it slow. The Doctor's leader
	// balancing spreads the leaderships over the four nodes left, so one
	// of the clients' others comes to qualify.
	var slow int
	waitWithin(t, 2*time.Minute, func() error {
		parts := all()
		for i := 2; i < 5; i++ {
			leads, seenBy := false, map[uint64]bool{}
			for _, p := range parts {
				leads = leads || p.Leader == nodes[i].ID()
				if p.Leader != nodes[i].ID() && slices.Contains(p.Voters, nodes[i].ID()) {
					seenBy[p.Leader] = true
				}
			}
			if nodes[i] != dead && leads && len(seenBy) >= 2 {
				slow = i
				return nil
			}
		}
		return fmt.Errorf("no node but n1 and n2 leads a partition and follows two leaders: %+v", parts)
	})
	h.Note(fmt.Sprintf("n%d's disk slow", nodes[slow].ID()), h.Now(), h.Now())
	delay[slow].Store(int64(400 * time.Millisecond))
	waitWithin(t, 2*time.Minute, func() error {
		for _, p := range all() {
			if p.Leader == nodes[slow].ID() {
				var plan admin.DoctorPlan
				adminDo(t, n1, http.MethodGet, "/doctor/plan", &plan)
				return fmt.Errorf("n%d still leads p%d; the Doctor's plan: %+v", nodes[slow].ID(), p.ID, plan)
			}
		}
		return nil
	})
	delay[slow].Store(0)
	time.Sleep(2 * time.Second)
	stop()

	var moved []string
	for _, e := range timeline(t, n1, "state=succeeded") {
		moved = append(moved, e.Kind+"/"+e.Checker)
	}
	n, unknown, faults := h.Stats()
	t.Logf("%d operations (%d unknown) with %d faults; the Doctor's operations: %v", n, unknown, faults, moved)
	if n-unknown < 100 {
		t.Fatalf("only %d operations completed", n-unknown)
	}
	h.RequireLinearizable(t, time.Minute)
}

// kvClient runs key/value operations on table lin through n until ctx
// ends, recording each in h: consistent reads, puts, swaps (puts with
// ReturnValues ALL_OLD) and conditional puts (with
// ReturnValuesOnConditionCheckFailure ALL_OLD), whose returned items the
// model checks too. The SDK does not retry (a retried
// conditional write could be told it failed after it applied); an error
// other than a failed condition leaves a write's outcome unknown.
func kvClient(ctx context.Context, n *node.Node, h *harness.History, c int) {
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.APIURL()),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), RetryMaxAttempts: 1})
	rng := rand.New(rand.NewPCG(uint64(c), 7))
	id := h.NewClient()
	seen := map[string]string{}
	for seq := 0; ctx.Err() == nil && seq < 100_000; seq++ {
		in := harness.KVInput{Key: fmt.Sprint("k", rng.IntN(8))}
		switch p := rng.Float64(); {
		case p < 0.4:
			in.Kind = harness.OpGet
		case p < 0.7:
			in.Kind, in.Expect, in.Value = harness.OpCAS, seen[in.Key], fmt.Sprintf("c%d.%d", c, seq)
		case p < 0.85:
			in.Kind, in.Value = harness.OpSwap, fmt.Sprintf("c%d.%d", c, seq)
		default:
			in.Kind, in.Value = harness.OpPut, fmt.Sprintf("c%d.%d", c, seq)
		}
		octx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		call := h.Now()
		out, err := kvDo(octx, db, in)
		ret := h.Now()
		cancel()
		switch {
		case err != nil && in.Kind == harness.OpGet:
			continue // a read that failed changed nothing
		case err != nil:
			h.Add(id, in, call, harness.KVOutput{Unknown: true}, ret)
			id = h.NewClient() // its operation may still apply: a new client
			delete(seen, in.Key)
			continue
		}
		h.Add(id, in, call, out, ret)
		switch {
		case in.Kind == harness.OpGet || out.Found:
			seen[in.Key] = out.Value
		case in.Kind != harness.OpCAS || out.OK:
			seen[in.Key] = in.Value
		}
	}
}

// valueOf is the value of it's attribute v ("" for no item).
func valueOf(it map[string]types.AttributeValue) string {
	v, _ := it["v"].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

func kvDo(ctx context.Context, db *dynamodb.Client, in harness.KVInput) (harness.KVOutput, error) {
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: in.Key}}
	switch in.Kind {
	case harness.OpGet:
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("lin"), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return harness.KVOutput{}, err
		}
		return harness.KVOutput{Value: valueOf(out.Item)}, nil
	}
	put := &dynamodb.PutItemInput{TableName: aws.String("lin"), Item: map[string]types.AttributeValue{
		"pk": key["pk"], "v": &types.AttributeValueMemberS{Value: in.Value}}}
	switch in.Kind {
	case harness.OpSwap:
		put.ReturnValues = types.ReturnValueAllOld
	case harness.OpCAS:
		put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
		if in.Expect == "" {
			put.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			put.ConditionExpression = aws.String("v = :e")
			put.ExpressionAttributeValues = map[string]types.AttributeValue{":e": &types.AttributeValueMemberS{Value: in.Expect}}
		}
	}
	out, err := db.PutItem(ctx, put)
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return harness.KVOutput{OK: false, Found: true, Value: valueOf(failed.Item)}, nil
	case err != nil:
		return harness.KVOutput{}, err
	case in.Kind == harness.OpSwap:
		return harness.KVOutput{Value: valueOf(out.Attributes)}, nil
	}
	return harness.KVOutput{OK: true}, nil
}
