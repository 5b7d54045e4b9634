package dynamo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/partitadb/partita/telemetry"

	"github.com/prometheus/client_golang/prometheus"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/partitadb/partita/auth"
)

// DefaultMaxRequestBytes is DynamoDB's limit on the size of one HTTP request
// body (16 MB), applied after gzip decompression as well.
const DefaultMaxRequestBytes = 16 << 20

// DefaultMaxInflight is the default bound on the operations one Server runs
// at once.
const DefaultMaxInflight = 1024

// DefaultIteratorTTL is how long a DynamoDB Streams shard iterator is
// valid, as DynamoDB's.
const DefaultIteratorTTL = 15 * time.Minute

// Config lists everything a Server needs. Every field but Backend has a
// usable default (see DefaultConfig); NewServer fills zero fields with it.
type Config struct {
	// Backend is the catalog and router below the wire layer. Required.
	Backend Backend
	// Logger receives one line per internal error and per recovered panic.
	Logger *slog.Logger
	// Now is the clock of item commands' timestamps, stream iterators,
	// backups and exports. A new table's creation time is the catalog's:
	// the time of the command that creates it, from the router's clock.
	Now func() time.Time
	// NewID returns a fresh unique id for each command and each request
	// id. It must be safe for concurrent use.
	NewID func() []byte
	// Region and AccountID make up table ARNs
	// (arn:aws:dynamodb:<Region>:<AccountID>:table/<name>) and the health
	// answer.
	Region    string
	AccountID string
	// MaxRequestBytes bounds a request body, after decompression. Larger
	// requests get HTTP 413.
	MaxRequestBytes int64
	// MaxInflight bounds the operations running at once (bodies being read
	// included). Beyond it a request gets a ThrottlingException at once,
	// which the SDKs retry with backoff, instead of queueing: it bounds the
	// memory request bodies take and the work a burst can pile up.
	MaxInflight int
	// ControlPlaneRate and ControlPlaneBurst bound the table operations
	// (CreateTable, UpdateTable, DeleteTable, TagResource, UntagResource)
	// this server accepts, per second and at once; beyond, a
	// ThrottlingException. 0: no bound.
	ControlPlaneRate  float64
	ControlPlaneBurst int
	// Registerer receives the request metrics (nil: not registered).
	Registerer prometheus.Registerer
	// Tracer starts a span per operation (nil: a noop tracer).
	Tracer trace.Tracer
	// Unsampled, if set, is told of every operation the tracer did not
	// sample, after it ended (a span ring keeps the slow and failed).
	Unsampled func(telemetry.Unsampled)
	// Auth verifies each operation's SigV4 signature (nil: requests are
	// not authenticated, any access key is accepted).
	Auth *auth.Verifier
	// Authorizer decides, after authentication, whether the signer may
	// run each operation (authorize.go; nil: every signer may run any).
	Authorizer Authorizer
	// IteratorKey authenticates the shard iterators of DynamoDB Streams
	// (an HMAC key): every node of a cluster must use the same one for an
	// iterator from one node to work on another (nil: a random key, only
	// this server's iterators are valid).
	IteratorKey []byte
	// IteratorTTL is how long a shard iterator is valid (15 minutes, as
	// DynamoDB's, when 0).
	IteratorTTL time.Duration
	// StreamsChanged, if set, is called after a table's stream was enabled
	// or disabled, so that the node gives its leaders the new change view
	// at once.
	StreamsChanged func(ctx context.Context)
	// StreamStatus, if set, says whether the cluster settles streams now:
	// an enabled stream shows ENABLING, a disabled one DISABLING, until
	// the node's stream-status job cut every partition's change log for
	// it (docs/streams.md, "Status"). Without it, or while it says false,
	// a stream is ENABLED and DISABLED at once.
	StreamStatus func() bool
	// StreamsAllowed, if set, says whether a stream may be enabled now
	// (an error, sent as a ValidationException, when the cluster's
	// writes cannot keep a change log).
	StreamsAllowed func() error
	// StreamRetention, if set, is how long a disabled stream, and a
	// deleted table's, stays listed and readable (its records are kept
	// as long by the change log's own retention); 24 hours when nil or
	// not positive.
	StreamRetention func() time.Duration
	// Backups keeps on-demand backups and restores tables from them
	// (nil: the backup operations answer a ValidationException).
	Backups Backups
	// Exports writes table exports and imports tables (nil: the export
	// and import operations answer a ValidationException).
	Exports Exports
	// PITRSettle is how long after point-in-time recovery is enabled a
	// table's restorable window opens (DefaultPITRSettle).
	PITRSettle time.Duration
}

// DefaultConfig returns a Config with every field but Backend set.
func DefaultConfig() Config {
	return Config{
		Logger:          slog.Default(),
		Now:             time.Now,
		NewID:           randomID,
		Region:          "us-east-1",
		AccountID:       "000000000000",
		MaxRequestBytes: DefaultMaxRequestBytes,
		MaxInflight:     DefaultMaxInflight,
	}
}

var (
	regionPattern  = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
)

// Validate reports a missing Backend or a malformed field.
func (c Config) Validate() error {
	var errs []error
	if c.Backend == nil {
		errs = append(errs, errors.New("dynamo: Config.Backend is required"))
	}
	if c.Logger == nil || c.Now == nil || c.NewID == nil {
		errs = append(errs, errors.New("dynamo: Config.Logger, Now and NewID are required"))
	}
	if !regionPattern.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("dynamo: invalid Config.Region %q", c.Region))
	}
	if !accountPattern.MatchString(c.AccountID) {
		errs = append(errs, fmt.Errorf("dynamo: Config.AccountID %q is not 12 digits", c.AccountID))
	}
	if c.MaxRequestBytes <= 0 {
		errs = append(errs, errors.New("dynamo: Config.MaxRequestBytes must be positive"))
	}
	if c.MaxInflight <= 0 {
		errs = append(errs, errors.New("dynamo: Config.MaxInflight must be positive"))
	}
	if c.ControlPlaneRate < 0 || c.ControlPlaneBurst < 0 {
		errs = append(errs, errors.New("dynamo: Config.ControlPlaneRate and ControlPlaneBurst must not be negative"))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields of c from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.NewID == nil {
		c.NewID = d.NewID
	}
	if c.Tracer == nil {
		c.Tracer = noop.NewTracerProvider().Tracer("")
	}
	if c.Region == "" {
		c.Region = d.Region
	}
	if c.AccountID == "" {
		c.AccountID = d.AccountID
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = d.MaxRequestBytes
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = d.MaxInflight
	}
	if c.PITRSettle == 0 {
		c.PITRSettle = DefaultPITRSettle
	}
	if c.IteratorKey == nil {
		c.IteratorKey = randomID()
	}
	if c.IteratorTTL == 0 {
		c.IteratorTTL = DefaultIteratorTTL
	}
	return c
}

// randomID returns 16 random bytes.
func randomID() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}
