package publish_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"

	"github.com/partitadb/partita/topology/publish"
	"github.com/partitadb/partita/topology/topologypb"
)

// s3EndpointEnv names the S3-compatible server (moto_server) tests use;
// .ci/run starts one and sets it.
const s3EndpointEnv = "PARTITA_TEST_S3_ENDPOINT"

// s3Bucket creates a fresh bucket on the S3-compatible server of
// PARTITA_TEST_S3_ENDPOINT and opens it by URL, as a node would.
func s3Bucket(t *testing.T) *blob.Bucket {
	t.Helper()
	endpoint := os.Getenv(s3EndpointEnv)
	if endpoint == "" {
		t.Skip(s3EndpointEnv + " is unset: no S3-compatible server (CI starts moto_server; locally run `moto_server -H 127.0.0.1 -p 5000` and set it to http://127.0.0.1:5000)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	name := fmt.Sprintf("topology-%d", time.Now().UnixNano())
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket on %s: %v", endpoint, err)
	}
	return openBucket(t, fmt.Sprintf("s3://%s?endpoint=%s&s3ForcePathStyle=true&region=us-east-1", name, endpoint))
}

func openBucket(t *testing.T, url string) *blob.Bucket {
	t.Helper()
	b, err := publish.OpenBucket(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// snapshot is a small snapshot of node taken at t.
func snapshot(node, seq uint64, t time.Time) *topologypb.TopologySnapshot {
	return &topologypb.TopologySnapshot{
		Version:   topologypb.SchemaVersion_SCHEMA_VERSION_1,
		Node:      &topologypb.Node{Id: node, Zone: "a", StartUnixNanos: t.Add(-time.Hour).UnixNano()},
		Seq:       seq,
		UnixNanos: t.UnixNano(),
		Replicas: []*topologypb.Replica{
			{Partition: 1, Role: topologypb.Role_ROLE_LEADER, Applied: seq, Voters: []uint64{node}},
		},
	}
}

func newPublisher(t *testing.T, b publish.Bucket, edit func(*publish.Config)) *publish.Publisher {
	t.Helper()
	cfg := publish.DefaultConfig()
	cfg.Bucket, cfg.Logger = b, slog.New(slog.DiscardHandler)
	cfg.Backoff.Initial, cfg.Backoff.Max = time.Millisecond, 20*time.Millisecond
	if edit != nil {
		edit(&cfg)
	}
	p, err := publish.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs p until the test ends.
func run(t *testing.T, p *publish.Publisher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitFor polls cond until it holds or ten seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// keys lists every key under prefix.
func keys(t *testing.T, b *blob.Bucket, prefix string) []string {
	t.Helper()
	var out []string
	it := b.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(context.Background())
		if err != nil {
			break
		}
		out = append(out, o.Key)
	}
	return out
}
