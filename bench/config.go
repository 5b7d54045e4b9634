package bench

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Config describes one benchmark run.
type Config struct {
	// Endpoints are the DynamoDB endpoint URLs; client i uses
	// Endpoints[i%len(Endpoints)].
	Endpoints []string
	// Table is the table used; created (PAY_PER_REQUEST) if missing. Empty
	// picks DefaultTable, or DefaultRangeTable for workloads that query
	// ranges (e), whose table has a sort key.
	Table string
	// Workload names the operation mix: a-f (YCSB core workloads), put
	// (inserts only) or get (reads only). See Workloads.
	Workload string
	// Distribution picks the keys read and updated: uniform, zipfian or
	// latest; empty uses the workload's default.
	Distribution string
	// Clients is the number of concurrent clients.
	Clients int
	// Duration and Operations bound the measured phase (0: unbounded, but
	// at least one must be set); the run ends at the first bound reached.
	Duration   time.Duration
	Operations int
	// Records is the number of items the load phase inserts, and the key
	// space that reads and updates choose from (it grows with inserts).
	Records int
	// Load runs the load phase (insert Records items) before measuring.
	// Without it, the items are assumed to be there from an earlier run.
	Load bool
	// ValueSize is the size in bytes of each item's payload attribute.
	ValueSize int
	// MaxScanLength bounds the items a scan reads: each scan asks for a
	// uniform 1..MaxScanLength.
	MaxScanLength int
	// TxnItems is how many items each transaction of the txn workload
	// updates (1..100; at most Records).
	TxnItems int
	// ConsistentRead makes reads (GetItem and Query) strongly consistent.
	ConsistentRead bool
	// Seed seeds every client's random source (client i: Seed, i).
	Seed uint64
	// Attempts is how many times the SDK tries an operation, with its
	// standard backoff between tries (1: no retries, every failure is
	// counted; more: clients behave as applications do, and only failures
	// that outlast the retries are counted).
	Attempts int
	// Progress, if set, receives a live progress line once a second
	// (carriage-return rewritten; meant for a terminal).
	Progress io.Writer
	// AccessKeyID and SecretAccessKey sign every request (SigV4), as a
	// closed cluster requires; empty: a dummy key, which a cluster with
	// authentication off accepts.
	AccessKeyID, SecretAccessKey string
	// Region is the region of the signatures' credential scope (empty:
	// DefaultRegion).
	Region string
}

// DefaultRegion is the region clients sign for without Config.Region.
const DefaultRegion = "us-east-1"

// DefaultTable and DefaultRangeTable are the tables used when Config.Table
// is empty: key "pk" (S), and key "pk" (S) + sort key "sk" (S).
const (
	DefaultTable      = "bench"
	DefaultRangeTable = "bench-range"
)

// DefaultConfig returns a small put benchmark against the dev node.
func DefaultConfig() Config {
	return Config{
		Endpoints: []string{"http://127.0.0.1:8000"}, Workload: "put",
		Clients: 16, Duration: 10 * time.Second, Records: 1000, Load: true,
		ValueSize: 1024, MaxScanLength: 100, TxnItems: 2, Seed: 1, Attempts: 1,
	}
}

// Validate rejects a run that could not end or could not work.
func (c Config) Validate() error {
	w, ok := Workloads[c.Workload]
	switch {
	case len(c.Endpoints) == 0:
		return errors.New("bench: at least one endpoint is required")
	case !ok:
		return fmt.Errorf("bench: unknown workload %q (%s)", c.Workload, strings.Join(WorkloadNames(), ", "))
	case (c.AccessKeyID == "") != (c.SecretAccessKey == ""):
		return errors.New("bench: an access key id needs its secret access key, and a secret its id")
	case c.Distribution != "" && !validDistribution(c.Distribution):
		return fmt.Errorf("bench: unknown distribution %q (uniform, zipfian or latest)", c.Distribution)
	case c.Clients < 1:
		return errors.New("bench: clients must be at least 1")
	case c.Attempts < 1:
		return errors.New("bench: attempts must be at least 1")
	case c.Duration <= 0 && c.Operations <= 0:
		return errors.New("bench: set a duration or an operation count")
	case c.Duration < 0 || c.Operations < 0 || c.Records < 0 || c.ValueSize < 0:
		return errors.New("bench: duration, operations, records and value size cannot be negative")
	case w.reads() && c.Records < 1:
		return fmt.Errorf("bench: workload %s reads items: it needs records", c.Workload)
	case w.Scan > 0 && c.MaxScanLength < 1:
		return errors.New("bench: max scan length must be at least 1")
	case w.Txn > 0 && (c.TxnItems < 1 || c.TxnItems > 100 || c.TxnItems > c.Records):
		return errors.New("bench: a transaction updates 1 to 100 items, and no more than the records")
	}
	for _, e := range c.Endpoints {
		if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
			return fmt.Errorf("bench: endpoint %q is not an http(s) URL", e)
		}
	}
	return nil
}

// table returns the table the run uses.
func (c Config) table() string {
	switch {
	case c.Table != "":
		return c.Table
	case Workloads[c.Workload].Scan > 0:
		return DefaultRangeTable
	}
	return DefaultTable
}

// distribution returns the key distribution the run uses.
func (c Config) distribution() string {
	if c.Distribution != "" {
		return c.Distribution
	}
	return Workloads[c.Workload].Distribution
}
