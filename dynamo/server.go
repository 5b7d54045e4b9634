package dynamo

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partitadb/partita/admission"
	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/item"
)

// targetPrefix starts the X-Amz-Target header of every DynamoDB operation.
const targetPrefix = "DynamoDB_20120810."

// contentType is the media type of DynamoDB's JSON 1.0 protocol.
const contentType = "application/x-amz-json-1.0"

// handler is one operation: it decodes body, does the work and returns the
// response value to marshal as JSON, or an error.
type handler func(s *Server, ctx context.Context, r *request) (any, error)

// request is what a handler gets beside its context.
type request struct {
	body []byte
	host string
}

// operations dispatches X-Amz-Target operation names to handlers.
var operations = map[string]handler{
	"CreateTable":               (*Server).handleCreateTable,
	"DescribeTable":             (*Server).handleDescribeTable,
	"DeleteTable":               (*Server).handleDeleteTable,
	"UpdateTable":               (*Server).handleUpdateTable,
	"ListTables":                (*Server).handleListTables,
	"TagResource":               (*Server).handleTagResource,
	"UntagResource":             (*Server).handleUntagResource,
	"ListTagsOfResource":        (*Server).handleListTagsOfResource,
	"DescribeLimits":            (*Server).handleDescribeLimits,
	"DescribeEndpoints":         (*Server).handleDescribeEndpoints,
	"PutItem":                   (*Server).handlePutItem,
	"GetItem":                   (*Server).handleGetItem,
	"UpdateItem":                (*Server).handleUpdateItem,
	"DeleteItem":                (*Server).handleDeleteItem,
	"Query":                     (*Server).handleQuery,
	"Scan":                      (*Server).handleScan,
	"BatchGetItem":              (*Server).handleBatchGetItem,
	"BatchWriteItem":            (*Server).handleBatchWriteItem,
	"ExecuteStatement":          (*Server).handleExecuteStatement,
	"BatchExecuteStatement":     (*Server).handleBatchExecuteStatement,
	"ExecuteTransaction":        (*Server).handleExecuteTransaction,
	"TransactWriteItems":        (*Server).handleTransactWriteItems,
	"TransactGetItems":          (*Server).handleTransactGetItems,
	"UpdateTimeToLive":          (*Server).handleUpdateTimeToLive,
	"DescribeTimeToLive":        (*Server).handleDescribeTimeToLive,
	"CreateBackup":              (*Server).handleCreateBackup,
	"DescribeBackup":            (*Server).handleDescribeBackup,
	"ListBackups":               (*Server).handleListBackups,
	"DeleteBackup":              (*Server).handleDeleteBackup,
	"RestoreTableFromBackup":    (*Server).handleRestoreTableFromBackup,
	"DescribeContinuousBackups": (*Server).handleDescribeContinuousBackups,
	"UpdateContinuousBackups":   (*Server).handleUpdateContinuousBackups,
	"ExportTableToPointInTime":  (*Server).handleExportTableToPointInTime,
	"DescribeExport":            (*Server).handleDescribeExport,
	"ListExports":               (*Server).handleListExports,
	"ImportTable":               (*Server).handleImportTable,
	"DescribeImport":            (*Server).handleDescribeImport,
	"ListImports":               (*Server).handleListImports,
	"RestoreTableToPointInTime": (*Server).handleRestoreTableToPointInTime,
	// DynamoDB Streams (streamsTargetPrefix).
	"ListStreams":      (*Server).handleListStreams,
	"DescribeStream":   (*Server).handleDescribeStream,
	"GetShardIterator": (*Server).handleGetShardIterator,
	"GetRecords":       (*Server).handleGetRecords,
}

// Server is the DynamoDB HTTP endpoint of one node. It implements
// http.Handler and is safe for concurrent use.
type Server struct {
	cfg Config
	m   *metrics
	// running counts the operations running; limit bounds them
	// (MaxInflight, or SetMaxInflight's).
	running, limit atomic.Int64
	// controlPlane limits the table operations (nil: no limit).
	controlPlane atomic.Pointer[admission.Limiter]
	// tokens are the ClientRequestTokens of recent transactions.
	tokens *requestTokens
	// gzips recycles the gzip writers of compressed responses.
	gzips *sync.Pool
}

// controlPlaneOps are the operations ControlPlaneRate bounds: they change
// the catalogue, a write to the meta partition each.
var controlPlaneOps = map[string]bool{
	"CreateTable": true, "UpdateTable": true, "DeleteTable": true, "TagResource": true, "UntagResource": true,
	"UpdateTimeToLive": true, "CreateBackup": true, "DeleteBackup": true, "RestoreTableFromBackup": true,
	"ExportTableToPointInTime": true, "ImportTable": true,
	"UpdateContinuousBackups": true, "RestoreTableToPointInTime": true,
}

// NewServer returns a Server over cfg.Backend; zero fields of cfg take their
// DefaultConfig values. It fails if the resulting Config does not Validate.
func NewServer(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, tokens: newRequestTokens(cfg.Now), gzips: newGzipPool()}
	s.m = newMetrics(func() float64 { return float64(s.running.Load()) })
	s.limit.Store(int64(cfg.MaxInflight))
	if cfg.ControlPlaneRate > 0 {
		s.controlPlane.Store(admission.NewLimiter(cfg.ControlPlaneRate, max(cfg.ControlPlaneBurst, 1), cfg.Now))
	}
	if err := s.m.register(cfg.Registerer); err != nil {
		return nil, err
	}
	return s, nil
}

// ServeHTTP answers health checks (GET /) and DynamoDB operations (POST,
// on any path: DynamoDB ignores it), and anything else as DynamoDB does
// (serveNotFound).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.requestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	w = negotiateEncoding(w, r, s.gzips)
	defer s.recoverPanic(w, r, reqID)
	if r.Header.Get("Origin") != "" {
		allowCrossOrigin(w.Header())
	}
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		s.serveHealth(w)
	case r.Method == http.MethodOptions && r.Header.Get("Origin") != "":
		servePreflight(w, r)
	case r.Method == http.MethodPost && readableBody(r):
		s.serveOperation(w, r)
	default:
		serveNotFound(w)
	}
}

// The CORS answers: a browser's script on any origin may call the API
// (requests are signed, so the origin grants nothing by itself), and read
// the response headers the SDKs read.
const (
	corsAllowMethods  = "GET, POST, OPTIONS"
	corsExposeHeaders = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, x-amz-crc32, Date"
	corsMaxAge        = "172800"
)

// allowCrossOrigin adds to a response to a request with an Origin the
// headers that let a browser hand it to the calling script.
func allowCrossOrigin(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
}

// servePreflight answers a browser's CORS preflight (OPTIONS): any
// origin, the API's methods, and the headers the browser asks to send
// (the SDK's signature headers among them). It needs no signature, as
// browsers send none.
func servePreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	if asked := r.Header.Get("Access-Control-Request-Headers"); asked != "" {
		h.Set("Access-Control-Allow-Headers", asked)
	}
	h.Set("Access-Control-Max-Age", corsMaxAge)
	writeBody(w, http.StatusOK, nil)
}

// serveHealth answers like DynamoDB's endpoint does to a plain GET.
func (s *Server) serveHealth(w http.ResponseWriter) {
	body := []byte("healthy: dynamodb." + s.cfg.Region + ".amazonaws.com ")
	w.Header().Set("Content-Type", "text/plain")
	writeBody(w, http.StatusOK, body)
}

// serveOperation runs one operation inside its span, and measures it: the
// one place every operation's metrics are taken.
func (s *Server) serveOperation(w http.ResponseWriter, r *http.Request) {
	op, ok := operationName(target(r))
	h := operations[op]
	if !ok || h == nil {
		op, h = unknownOperation, nil
	}
	w.Header().Set("Content-Type", responseType(r))
	ctx, span := s.startSpan(extractTrace(r), op)
	start := time.Now()
	var err error = errPanicked // stays so only if the handler panics
	defer func() { s.finish(span, op, start, time.Since(start), err, r.Context().Err() != nil) }()
	if controlPlaneOps[op] && !s.allowControlPlane() || !s.admit() {
		err = s.writeError(ctx, w, &apiError{Kind: kindThrottling, Message: msgThrottling})
		return
	}
	defer s.release()
	err = s.runOperation(ctx, w, r, h)
}

// admit takes an in-flight slot, or reports that all are taken.
func (s *Server) admit() bool {
	if s.running.Add(1) > s.limit.Load() {
		s.running.Add(-1)
		return false
	}
	return true
}

func (s *Server) release() { s.running.Add(-1) }

// allowControlPlane takes a token of the control plane's limit, if any.
func (s *Server) allowControlPlane() bool {
	l := s.controlPlane.Load()
	return l == nil || l.Allow()
}

// SetControlPlaneRate changes the limit on table operations from now on:
// rate a second with bursts of burst (rate 0: Config's; negative: no
// limit).
func (s *Server) SetControlPlaneRate(rate float64, burst int) {
	if rate == 0 {
		rate, burst = s.cfg.ControlPlaneRate, s.cfg.ControlPlaneBurst
	}
	if rate <= 0 {
		s.controlPlane.Store(nil)
		return
	}
	burst = max(burst, 1)
	if l := s.controlPlane.Load(); l != nil {
		l.SetRate(rate, burst)
		return
	}
	s.controlPlane.Store(admission.NewLimiter(rate, burst, s.cfg.Now))
}

// SetMaxInflight changes the bound on the operations running at once
// (0: Config.MaxInflight's). Operations running beyond a lowered bound
// finish; new ones are throttled until they do.
func (s *Server) SetMaxInflight(n int) {
	if n <= 0 {
		n = s.cfg.MaxInflight
	}
	s.limit.Store(int64(n))
}

// runOperation authenticates a POST, decodes its body, runs the handler
// and writes its answer. It returns the error the client was sent, if
// any.
func (s *Server) runOperation(ctx context.Context, w http.ResponseWriter, r *http.Request, h handler) error {
	if h == nil {
		return s.writeError(ctx, w, &apiError{Kind: kindUnknownOperation})
	}
	var claim *auth.Claim
	if s.cfg.Auth != nil {
		var err error
		if claim, err = s.cfg.Auth.Authenticate(r); err != nil {
			return s.writeAuthError(ctx, w, err)
		}
	}
	raw, err := s.readBody(w, r)
	if err != nil {
		return s.writeError(ctx, w, err)
	}
	var p auth.Principal
	if claim != nil {
		if p, err = claim.Verify(raw); err != nil {
			return s.writeAuthError(ctx, w, err)
		}
	}
	body, err := s.decompress(w, r, raw)
	if err != nil {
		return s.writeError(ctx, w, err)
	}
	// Every string of the request (names, keys, values, expressions) must
	// mean one sequence of characters: nothing is stored under a key the
	// client did not send.
	if !item.ValidJSONStrings(body) {
		return s.writeError(ctx, w, &apiError{Kind: kindInvalidEncoding})
	}
	traceTables(ctx, body)
	if claim != nil && s.cfg.Authorizer != nil {
		op, _ := operationName(target(r))
		if err := s.authorize(ctx, p, op, body); err != nil {
			return s.writeError(ctx, w, err)
		}
	}
	resp, err := h(s, ctx, &request{body: body, host: r.Host})
	if err != nil {
		return s.writeError(ctx, w, err)
	}
	return s.writeJSON(ctx, w, resp)
}

// target returns the X-Amz-Target of r: its header, else (a presigned
// request carries its x-amz-* headers in the query) its query parameter.
func target(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if t == "" && r.URL.RawQuery != "" {
		t = r.URL.Query().Get("X-Amz-Target")
	}
	return t
}

// operationName returns Op from "DynamoDB_20120810.Op", or from
// "DynamoDBStreams_20120810.Op" for the streams operations.
func operationName(target string) (string, bool) {
	if op, ok := strings.CutPrefix(target, streamsTargetPrefix); ok {
		return op, streamOperations[op]
	}
	op, ok := strings.CutPrefix(target, targetPrefix)
	return op, ok && op != "" && !streamOperations[op]
}

// readBody reads the request body as sent (what a signature covers),
// within the configured size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.cfg.MaxRequestBytes
	body, err := readAll(http.MaxBytesReader(connWriter(w), r.Body, limit), r.ContentLength, limit)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, newError(kindRequestTooLarge, "Request size exceeded %d bytes", limit)
	case err != nil:
		return nil, newError(kindSerialization, "Could not read request body: %v", err)
	}
	return body, nil
}

// readAll reads rd to its end into a buffer of the size the request
// announced (io.ReadAll's doubling from 512 bytes took three allocations
// and copies for a 1 KB item's body). A body longer than announced, or of
// unknown length, still reads to its end.
func readAll(rd io.Reader, announced, limit int64) ([]byte, error) {
	if announced <= 0 || announced > limit {
		return io.ReadAll(rd)
	}
	// One byte more than announced: the read that finds the end needs no
	// room of its own.
	b := make([]byte, 0, announced+1)
	for {
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			rest, err := io.ReadAll(rd)
			return append(b, rest...), err
		}
	}
}

// decompress decodes raw as its Content-Encoding says (gzip or deflate;
// none or identity: as it is), within the configured size limit. Any
// other coding is refused with 415, as HTTP asks, and Accept-Encoding
// names the ones the endpoint reads.
func (s *Server) decompress(w http.ResponseWriter, r *http.Request, raw []byte) ([]byte, error) {
	var zr io.ReadCloser
	switch coding := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); coding {
	case "", "identity":
		return raw, nil
	case "gzip", "x-gzip":
		gz, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, newError(kindSerialization, "Invalid gzip request body: %v", err)
		}
		zr = gz
	case "deflate":
		// HTTP's deflate is the zlib format; some clients send a bare
		// deflate stream instead, which is read as such.
		if z, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
			zr = z
		} else {
			zr = flate.NewReader(bytes.NewReader(raw))
		}
	default:
		w.Header().Set("Accept-Encoding", "gzip, deflate")
		return nil, newError(kindUnsupportedEncoding, "Unsupported Content-Encoding: %s (the endpoint reads gzip and deflate)", coding)
	}
	defer zr.Close()
	limit := s.cfg.MaxRequestBytes
	body, err := io.ReadAll(io.LimitReader(zr, limit+1))
	switch {
	case int64(len(body)) > limit:
		return nil, newError(kindRequestTooLarge, "Request size exceeded %d bytes", limit)
	case err != nil:
		return nil, newError(kindSerialization, "Could not read request body: %v", err)
	}
	return body, nil
}

// writeAuthError sends an authentication failure. Its Date header is the
// verifier's clock: an SDK whose clock is off by more than the signature
// window corrects its signing time from it and retries.
func (s *Server) writeAuthError(ctx context.Context, w http.ResponseWriter, err error) error {
	w.Header().Set("Date", s.cfg.Auth.Now().UTC().Format(http.TimeFormat))
	return s.writeError(ctx, w, err)
}

// writeJSON sends v as a 200 response; it returns the error sent instead
// if v cannot be encoded.
func (s *Server) writeJSON(ctx context.Context, w http.ResponseWriter, v any) error {
	body, err := marshalResponse(v)
	if err != nil {
		return s.writeError(ctx, w, fmt.Errorf("dynamo: marshal response: %w", err))
	}
	setContentType(w.Header())
	writeBody(w, http.StatusOK, body)
	return nil
}

// writeError sends err in DynamoDB's error shape, logging internal errors,
// and returns the wire error it sent.
func (s *Server) writeError(ctx context.Context, w http.ResponseWriter, err error) *apiError {
	ae, internal := toAPIError(err)
	if internal {
		s.cfg.Logger.ErrorContext(ctx, "dynamo: internal error", "err", err,
			"request_id", w.Header().Get("x-amzn-RequestId"))
	}
	for i, r := range ae.Reasons {
		if r.Resource != "" && !isARN(r.Resource) {
			ae.Reasons[i].Resource = s.tableARN(r.Resource)
		}
	}
	setContentType(w.Header())
	writeBody(w, ae.Kind.Status, ae.body())
	return ae
}

// recoverPanic turns a handler panic into an InternalServerError and a log
// line. Nothing was written before the panic: handlers write only through
// writeJSON/writeError, after their work is done.
func (s *Server) recoverPanic(w http.ResponseWriter, r *http.Request, reqID string) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.cfg.Logger.ErrorContext(r.Context(), "dynamo: panic serving request", "panic", fmt.Sprint(v),
		"target", r.Header.Get("X-Amz-Target"), "request_id", reqID,
		"stack", string(debug.Stack()))
	s.writeError(r.Context(), w, &apiError{Kind: kindInternal, Message: msgInternal})
}

// requestID formats a fresh id the way DynamoDB's look: upper-case
// letters and digits.
func (s *Server) requestID() string {
	id := s.cfg.NewID()
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	return strings.ToUpper(enc.EncodeToString(id))
}

// marshalResponse encodes a response value without HTML escaping, as
// DynamoDB does.
func marshalResponse(v any) ([]byte, error) {
	if a, ok := v.(jsonAppender); ok {
		return a.appendJSON(make([]byte, 0, 512))
	}
	var buf bytes.Buffer
	enc := newJSONEncoder(&buf)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
