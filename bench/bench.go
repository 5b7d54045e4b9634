package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// Config describes one benchmark run.
type Config struct {
	// Endpoint is the DynamoDB endpoint URL.
	Endpoint string
	// Table is the table used; created (PAY_PER_REQUEST, key "pk" S) if missing.
	Table string
	// Workload is "put" (PutItem of random keys) or "get" (GetItem of loaded keys).
	Workload string
	// Clients is the number of concurrent SDK clients.
	Clients int
	// Duration and Operations bound the measured phase (0: unbounded, but
	// at least one must be set).
	Duration   time.Duration
	Operations int
	// Records is the number of items loaded before the measured phase.
	Records int
	// ValueSize is the size in bytes of each item's payload attribute.
	ValueSize int
	// ConsistentRead makes gets strongly consistent.
	ConsistentRead bool
	// Seed seeds key choice.
	Seed uint64
}

// DefaultConfig returns a small put benchmark against the dev node.
func DefaultConfig() Config {
	return Config{
		Endpoint: "http://127.0.0.1:8000", Table: "bench", Workload: "put",
		Clients: 16, Duration: 10 * time.Second, Records: 1000, ValueSize: 1024, Seed: 1,
	}
}

// Validate rejects a run that could not end or could not work.
func (c Config) Validate() error {
	switch {
	case c.Endpoint == "" || c.Table == "":
		return errors.New("bench: endpoint and table are required")
	case c.Workload != "put" && c.Workload != "get":
		return fmt.Errorf("bench: unknown workload %q (put or get)", c.Workload)
	case c.Clients < 1:
		return errors.New("bench: clients must be at least 1")
	case c.Duration <= 0 && c.Operations <= 0:
		return errors.New("bench: set a duration or an operation count")
	case c.Workload == "get" && c.Records < 1:
		return errors.New("bench: the get workload needs records to read")
	}
	return nil
}

// Report is the outcome of a run.
type Report struct {
	Workload   string           `json:"workload"`
	Clients    int              `json:"clients"`
	Operations int64            `json:"operations"`
	Errors     map[string]int64 `json:"errors"`
	Elapsed    time.Duration    `json:"elapsed_ns"`
	OpsPerSec  float64          `json:"ops_per_sec"`
	P50        time.Duration    `json:"p50_ns"`
	P95        time.Duration    `json:"p95_ns"`
	P99        time.Duration    `json:"p99_ns"`
	P999       time.Duration    `json:"p999_ns"`
	Max        time.Duration    `json:"max_ns"`
}

// String is the one-line text form of r.
func (r Report) String() string {
	return fmt.Sprintf("%s clients=%d ops=%d errors=%d %.0f ops/s p50=%v p95=%v p99=%v p99.9=%v max=%v",
		r.Workload, r.Clients, r.Operations, total(r.Errors), r.OpsPerSec, r.P50, r.P95, r.P99, r.P999, r.Max)
}

func total(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// newClient returns an SDK client for endpoint with dummy credentials.
func newClient(endpoint string, clients int) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("bench", "bench", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       newHTTPClient(clients),
	})
}

// Run executes the benchmark described by cfg.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	db := newClient(cfg.Endpoint, cfg.Clients)
	if err := ensureTable(ctx, db, cfg.Table); err != nil {
		return Report{}, err
	}
	if err := load(ctx, db, cfg); err != nil {
		return Report{}, err
	}
	return measure(ctx, db, cfg), nil
}

func ensureTable(ctx context.Context, db *dynamodb.Client, name string) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("bench: create table: %w", err)
	}
	w := dynamodb.NewTableExistsWaiter(db)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("bench: wait for table: %w", err)
	}
	return nil
}

func key(i int) string { return "key" + strconv.Itoa(i) }

func putInput(cfg Config, k string, value []byte) *dynamodb.PutItemInput {
	return &dynamodb.PutItemInput{
		TableName: aws.String(cfg.Table),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: k},
			"v":  &types.AttributeValueMemberB{Value: value},
		},
	}
}

// load inserts cfg.Records items with cfg.Clients writers.
func load(ctx context.Context, db *dynamodb.Client, cfg Config) error {
	value := make([]byte, cfg.ValueSize)
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Clients)
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < cfg.Records; i += cfg.Clients {
				if _, err := db.PutItem(ctx, putInput(cfg, key(i), value)); err != nil {
					errs <- fmt.Errorf("bench: load item %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// measure runs the measured phase and merges the clients' histograms.
func measure(ctx context.Context, db *dynamodb.Client, cfg Config) Report {
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	results := make([]clientResult, cfg.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			quota := -1
			if cfg.Operations > 0 {
				quota = cfg.Operations / cfg.Clients
				if c < cfg.Operations%cfg.Clients {
					quota++
				}
			}
			results[c] = runClient(ctx, db, cfg, rand.New(rand.NewPCG(cfg.Seed, uint64(c))), quota)
		}()
	}
	wg.Wait()
	return report(cfg, results, time.Since(start))
}

type clientResult struct {
	hist   *hdrhistogram.Histogram
	errors map[string]int64
}

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3) // microseconds
}

// runClient issues operations until ctx ends or quota (-1: none) is done.
func runClient(ctx context.Context, db *dynamodb.Client, cfg Config, rng *rand.Rand, quota int) clientResult {
	res := clientResult{hist: newHistogram(), errors: map[string]int64{}}
	value := make([]byte, cfg.ValueSize)
	for n := 0; quota < 0 || n < quota; n++ {
		t0 := time.Now()
		err := op(ctx, db, cfg, rng, value)
		if ctx.Err() != nil {
			break // the run's deadline cut this operation short
		}
		if err != nil {
			res.errors[errorCode(err)]++
			continue
		}
		_ = res.hist.RecordValue(time.Since(t0).Microseconds())
	}
	return res
}

func op(ctx context.Context, db *dynamodb.Client, cfg Config, rng *rand.Rand, value []byte) error {
	if cfg.Workload == "get" {
		_, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(cfg.Table),
			Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(rng.IntN(cfg.Records))}},
			ConsistentRead: aws.Bool(cfg.ConsistentRead),
		})
		return err
	}
	_, err := db.PutItem(ctx, putInput(cfg, key(rng.IntN(1<<30)), value))
	return err
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return "transport"
}

func report(cfg Config, results []clientResult, elapsed time.Duration) Report {
	h := newHistogram()
	errs := map[string]int64{}
	for _, r := range results {
		h.Merge(r.hist)
		for k, v := range r.errors {
			errs[k] += v
		}
	}
	us := func(q float64) time.Duration { return time.Duration(h.ValueAtQuantile(q)) * time.Microsecond }
	return Report{
		Workload: cfg.Workload, Clients: cfg.Clients, Operations: h.TotalCount(), Errors: errs,
		Elapsed: elapsed, OpsPerSec: float64(h.TotalCount()) / elapsed.Seconds(),
		P50: us(50), P95: us(95), P99: us(99), P999: us(99.9),
		Max: time.Duration(h.Max()) * time.Microsecond,
	}
}
