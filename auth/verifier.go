package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultService is the service name DynamoDB's credential scopes carry.
const DefaultService = "dynamodb"

// DefaultMaxSkew is how far a request's time may be from the server's
// clock, either way: DynamoDB's 15 minutes.
const DefaultMaxSkew = 15 * time.Minute

// DefaultKeyCacheSize bounds the cached signing keys.
const DefaultKeyCacheSize = 4096

// maxPresignExpires is the longest X-Amz-Expires SigV4 allows (7 days).
const maxPresignExpires = 7 * 24 * time.Hour

// unsignedPayload is the payload hash of a request whose body is not
// signed (its integrity is then the transport's business).
const unsignedPayload = "UNSIGNED-PAYLOAD"

// terminator ends every SigV4 credential scope.
const terminator = "aws4_request"

// amzDateFormat is ISO 8601's basic format, as X-Amz-Date carries it.
const amzDateFormat = "20060102T150405Z"

// Config configures a Verifier.
type Config struct {
	// Credentials finds each access key's secret. Required.
	Credentials Credentials
	// Service is the service credential scopes must name (default
	// "dynamodb").
	Service string
	// Regions are the regions a credential scope may name; empty: any.
	Regions []string
	// Now is the server's clock (default time.Now).
	Now func() time.Time
	// MaxSkew is how far a request's time may be from Now (default 15
	// minutes).
	MaxSkew time.Duration
	// KeyCacheSize bounds the derived signing keys kept (default 4096).
	KeyCacheSize int
	// Logger receives a debug line with the canonical request of each
	// signature that does not match (default: discard).
	Logger *slog.Logger
}

// Verifier checks AWS Signature Version 4 on requests: the Authorization
// header form and the presigned query form. It is safe for concurrent
// use.
type Verifier struct {
	cfg  Config
	keys *keyCache
	// claims are Claims that finished (Verify), with the buffer of their
	// canonical request: a verification allocates nothing once warm.
	claims sync.Pool
}

// NewVerifier returns a Verifier; zero fields of cfg take their defaults.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("auth: Config.Credentials is required")
	}
	if cfg.MaxSkew < 0 || cfg.KeyCacheSize < 0 {
		return nil, errors.New("auth: Config.MaxSkew and KeyCacheSize must not be negative")
	}
	if cfg.Service == "" {
		cfg.Service = DefaultService
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.KeyCacheSize == 0 {
		cfg.KeyCacheSize = DefaultKeyCacheSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	v := &Verifier{cfg: cfg, keys: newKeyCache(cfg.KeyCacheSize)}
	v.claims.New = func() any {
		return &Claim{canonical: make([]byte, 0, 1024), mac: sha256.New(), msg: make([]byte, 0, 256), sum: make([]byte, 0, sha256.Size)}
	}
	return v, nil
}

// Now returns the time on the Verifier's clock.
func (v *Verifier) Now() time.Time { return v.cfg.Now() }

// Principal is who signed a request.
type Principal struct {
	AccessKeyID string
	User        string
}

// Claim is a request whose signature passed every check but the one that
// needs its body: Verify finishes the work. A Claim is used once, by one
// goroutine: Verify ends it (the Verifier reuses it for a later request),
// so it must not be used after Verify.
type Claim struct {
	v         *Verifier
	principal Principal
	key       *macKey
	// mac, msg and sum are reused by the Claims of later requests: the
	// hash of the HMAC, the string to sign, the HMAC.
	mac      hash.Hash
	msg, sum []byte
	// canonical holds the canonical request up to and without the
	// payload hash.
	canonical []byte
	amzDate   string
	scope     string
	signature [sha256.Size]byte
	// sigOK says signature holds a well-formed one (else nothing matches).
	sigOK bool
	// payloadHash is the x-amz-content-sha256 header, "" if not sent.
	payloadHash string
}

// Authenticate checks everything in r that does not need its body, in
// the order DynamoDB does, so that a request with several faults gets the
// error DynamoDB would send: the signature's presence and form, its time,
// the signed headers, the algorithm, the credential scope, the access
// key. Errors are *Error.
func (v *Verifier) Authenticate(r *http.Request) (*Claim, error) {
	header := headerValue(r.Header, "Authorization")
	query := presignedQuery(r)
	switch {
	case header != "" && query:
		return nil, fail(InvalidSignature, msgBothForms)
	case query:
		return v.authenticatePresigned(r)
	case !strings.HasPrefix(strings.TrimSpace(header), "AWS4-"):
		return nil, fail(MissingToken, msgMissingToken)
	}
	amzDate, httpDate := headerValue(r.Header, "X-Amz-Date"), false
	if amzDate == "" {
		amzDate, httpDate = headerValue(r.Header, "Date"), true
	}
	a, err := ParseAuthorization(header, amzDate != "")
	if err != nil {
		return nil, err
	}
	amzDate, err = v.checkTime(amzDate, httpDate, 0)
	if err != nil {
		return nil, err
	}
	if err := checkSignedHeaders(r, a.SignedHeaders); err != nil {
		return nil, err
	}
	return v.claim(r, amzDate, a, "")
}

// presignedQuery says whether r carries a presigned query signature.
func presignedQuery(r *http.Request) bool {
	return r.URL.RawQuery != "" && r.URL.Query().Has("X-Amz-Algorithm")
}

// presignParams are the query parameters a presigned request needs, in
// the order DynamoDB names the missing ones.
var presignParams = [...]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"}

// authenticatePresigned is Authenticate for the query form.
func (v *Verifier) authenticatePresigned(r *http.Request) (*Claim, error) {
	q := r.URL.Query()
	var msg strings.Builder
	for _, p := range presignParams {
		if q.Get(p) == "" {
			msg.WriteString("AWS query-string parameters must include '" + p + "'. ")
		}
	}
	if msg.Len() > 0 {
		return nil, fail(IncompleteSignature, msg.String()+"Re-examine the query-string parameters.")
	}
	expires, err := presignExpires(q.Get("X-Amz-Expires"))
	if err != nil {
		return nil, err
	}
	amzDate, err := v.checkTime(q.Get("X-Amz-Date"), false, expires)
	if err != nil {
		return nil, err
	}
	a := Authorization{Algorithm: q.Get("X-Amz-Algorithm"), Credential: q.Get("X-Amz-Credential"),
		SignedHeaders: q.Get("X-Amz-SignedHeaders"), Signature: q.Get("X-Amz-Signature")}
	if err := checkSignedHeaders(r, a.SignedHeaders); err != nil {
		return nil, err
	}
	return v.claim(r, amzDate, a, "X-Amz-Signature")
}

// presignExpires parses X-Amz-Expires: whole seconds, 1 to 7 days; ""
// means the request's time window alone bounds it.
func presignExpires(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || time.Duration(n)*time.Second > maxPresignExpires {
		return 0, fail(IncompleteSignature, "X-Amz-Expires must be a whole number of seconds from 1 to 604800, got '"+s+"'.")
	}
	return time.Duration(n) * time.Second, nil
}

// claim finishes the checks of the two forms: algorithm, credential scope,
// access key; skip names the query parameter the canonical query leaves
// out.
func (v *Verifier) claim(r *http.Request, amzDate string, a Authorization, skip string) (*Claim, error) {
	if a.Algorithm != Algorithm {
		return nil, fail(IncompleteSignature, "Unsupported AWS 'algorithm': '"+a.Algorithm+"' (only "+Algorithm+" for now). ")
	}
	cred := strings.TrimRight(a.Credential, "/")
	parts, ok := splitCredential(cred)
	if !ok {
		return nil, fail(IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, "+
			"e.g. keyid/date/region/service/term, got '"+cred+"'")
	}
	if err := v.checkScope(parts[:], amzDate); err != nil {
		return nil, err
	}
	secret, user, ok := v.cfg.Credentials.Lookup(parts[0])
	if !ok || headerValue(r.Header, "X-Amz-Security-Token") != "" ||
		r.URL.RawQuery != "" && r.URL.Query().Has("X-Amz-Security-Token") {
		return nil, fail(UnrecognizedClient, msgUnrecognized)
	}
	c := v.claims.Get().(*Claim)
	canonical, err := appendCanonicalRequest(c.canonical[:0], r, a.SignedHeaders, skip)
	if err != nil {
		v.claims.Put(c)
		return nil, err
	}
	*c = Claim{v: v, principal: Principal{AccessKeyID: parts[0], User: user},
		key: v.keys.get(parts[0], secret, parts[1], parts[2], v.cfg.Service), canonical: canonical,
		mac: c.mac, msg: c.msg, sum: c.sum,
		amzDate: amzDate, scope: cred[len(parts[0])+1:], payloadHash: headerValue(r.Header, "X-Amz-Content-Sha256")}
	c.sigOK = decodeSignature(&c.signature, a.Signature)
	return c, nil
}

// release gives c back to its Verifier for a later request, keeping the
// buffer of its canonical request and nothing of this one.
func (c *Claim) release() {
	v := c.v
	*c = Claim{canonical: c.canonical[:0], mac: c.mac, msg: c.msg[:0], sum: c.sum[:0]}
	v.claims.Put(c)
}

// headerValue is h.Get(key) for a key already in canonical form (as the
// constants here are, and as net/http stores a request's headers): a
// map read, without canonicalizing key again.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// checkScope checks the credential scope date/region/service/terminator
// against the request's date and the configured regions and service.
func (v *Verifier) checkScope(parts []string, amzDate string) error {
	var msgs []string
	if region := parts[2]; region == "" || len(v.cfg.Regions) > 0 && !slices.Contains(v.cfg.Regions, region) {
		msgs = append(msgs, "Credential should be scoped to a valid region, not '"+region+"'.")
	}
	if parts[3] != v.cfg.Service {
		msgs = append(msgs, "Credential should be scoped to correct service: '"+v.cfg.Service+"'.")
	}
	if parts[4] != terminator {
		msgs = append(msgs, "Credential should be scoped with a valid terminator: 'aws4_request', not '"+parts[4]+"'.")
	}
	if parts[1] != amzDate[:8] {
		msgs = append(msgs, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			parts[1]+"' != '"+amzDate[:8]+"', from '"+amzDate+"'.")
	}
	if len(msgs) > 0 {
		return fail(InvalidSignature, strings.Join(msgs, " "))
	}
	return nil
}

// checkTime parses the request's time (httpDate: from a Date header) and
// checks it is within MaxSkew of the clock, or, for a presigned request
// with an expiry, not past it. It returns the time in ISO 8601's basic
// format, as the string to sign carries it.
func (v *Verifier) checkTime(s string, httpDate bool, expires time.Duration) (string, error) {
	t, err := parseAmzDate(s)
	if httpDate {
		t, err = http.ParseTime(s)
	}
	if err != nil {
		return "", fail(IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '"+s+
			"'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	t = t.UTC()
	now := v.cfg.Now().UTC()
	window := v.cfg.MaxSkew
	if expires > 0 {
		window = expires
	}
	if earliest := now.Add(-window); t.Before(earliest) {
		return "", fail(InvalidSignature, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			t.Format(amzDateFormat), earliest.Format(amzDateFormat), now.Format(amzDateFormat), durationText(window)))
	}
	if latest := now.Add(v.cfg.MaxSkew); t.After(latest) {
		return "", fail(InvalidSignature, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			t.Format(amzDateFormat), latest.Format(amzDateFormat), now.Format(amzDateFormat), durationText(v.cfg.MaxSkew)))
	}
	if httpDate {
		return t.Format(amzDateFormat), nil
	}
	return s, nil
}

// parseAmzDate parses ISO 8601's basic format, YYYYMMDDTHHMMSSZ, as
// time.Parse(amzDateFormat, s) does, without its general machinery
// (what every request pays); anything unusual goes to time.Parse.
func parseAmzDate(s string) (time.Time, error) {
	if len(s) != len(amzDateFormat) || s[8] != 'T' || s[15] != 'Z' {
		return time.Parse(amzDateFormat, s)
	}
	var n [6]int
	for i, f := range [6][2]int{{0, 4}, {4, 6}, {6, 8}, {9, 11}, {11, 13}, {13, 15}} {
		for _, c := range []byte(s[f[0]:f[1]]) {
			if c < '0' || c > '9' {
				return time.Parse(amzDateFormat, s)
			}
			n[i] = n[i]*10 + int(c-'0')
		}
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], n[3], n[4], n[5], 0, time.UTC)
	if t.Year() != n[0] || int(t.Month()) != n[1] || t.Day() != n[2] || t.Hour() != n[3] || t.Minute() != n[4] || t.Second() != n[5] {
		return time.Parse(amzDateFormat, s) // out of range: its error
	}
	return t, nil
}

// splitCredential splits KEYID/DATE/REGION/SERVICE/TERMINATOR.
func splitCredential(cred string) (parts [5]string, ok bool) {
	rest := cred
	for i := range 4 {
		if parts[i], rest, ok = strings.Cut(rest, "/"); !ok {
			return parts, false
		}
	}
	parts[4] = rest
	return parts, !strings.Contains(rest, "/")
}

// decodeSignature decodes the 64 hex digits of sig into dst.
func decodeSignature(dst *[sha256.Size]byte, sig string) bool {
	if len(sig) != 2*sha256.Size {
		return false
	}
	for i := range dst {
		hi, ok1 := fromHex(sig[2*i])
		lo, ok2 := fromHex(sig[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// durationText writes d as DynamoDB's time messages do ("15 min").
func durationText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d sec", d/time.Second)
}

// checkSignedHeaders checks that the signature covers the host, and the
// headers that carry the request's time and operation when present: a
// replayed request must not be able to change what it asks for.
func checkSignedHeaders(r *http.Request, signed string) error {
	var host, date, target bool
	for name := range strings.SplitSeq(signed, ";") {
		switch {
		case strings.EqualFold(name, "host"):
			host = true
		case strings.EqualFold(name, "x-amz-date"):
			date = true
		case strings.EqualFold(name, "x-amz-target"):
			target = true
		}
	}
	switch {
	case !host:
		return fail(InvalidSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	case !date && headerValue(r.Header, "X-Amz-Date") != "":
		return fail(InvalidSignature, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
	case !target && headerValue(r.Header, "X-Amz-Target") != "":
		return fail(InvalidSignature, "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// Principal returns who the request claims to be signed by.
func (c *Claim) Principal() Principal { return c.principal }

// Verify checks the signature over the request and its body (as sent on
// the wire, before any decompression), and returns who signed it. It ends
// c.
func (c *Claim) Verify(body []byte) (Principal, error) {
	defer c.release()
	sum := sha256.Sum256(body)
	var hexSum [2 * sha256.Size]byte
	hex.Encode(hexSum[:], sum[:])
	payload := hexSum[:]
	switch c.payloadHash {
	case "", string(payload):
	case unsignedPayload:
		payload = []byte(unsignedPayload)
	default:
		return Principal{}, c.mismatch(payload)
	}
	want := c.expected(payload)
	if !c.sigOK || !hmac.Equal(want, c.signature[:]) {
		return Principal{}, c.mismatch(payload)
	}
	return c.principal, nil
}

// expected computes the signature of the request with payload hash: the
// HMAC, under the signing key, of the string to sign
//
//	AWS4-HMAC-SHA256 \n AMZ-DATE \n SCOPE \n hex(SHA-256(canonical request))
func (c *Claim) expected(payload []byte) []byte {
	c.canonical = append(c.canonical, payload...)
	canonical := sha256.Sum256(c.canonical)
	c.canonical = c.canonical[:len(c.canonical)-len(payload)]
	msg := append(c.msg[:0], Algorithm+"\n"...)
	msg = append(msg, c.amzDate...)
	msg = append(msg, '\n')
	msg = append(msg, c.scope...)
	msg = append(msg, '\n')
	msg = hex.AppendEncode(msg, canonical[:])
	c.msg = msg
	c.sum = c.key.sum(c.mac, msg, c.sum)
	return c.sum
}

// mismatch logs the canonical request the server computed (what a client
// developer needs to find the difference) and returns the error.
func (c *Claim) mismatch(payload []byte) error {
	c.v.cfg.Logger.Debug("auth: signature mismatch", "access_key_id", c.principal.AccessKeyID,
		"canonical_request", string(c.canonical)+string(payload))
	return fail(InvalidSignature, msgSignatureMismatch)
}

// VerifyRequest authenticates r in one call: it reads r's body (at most
// maxBody bytes, else an error wrapping ErrBodyTooLarge) and puts it
// back, so that a handler can still read it.
func (v *Verifier) VerifyRequest(r *http.Request, maxBody int64) (Principal, error) {
	c, err := v.Authenticate(r)
	if err != nil {
		return Principal{}, err
	}
	var body []byte
	if r.Body != nil {
		body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		r.Body.Close()
		if err != nil {
			return Principal{}, fmt.Errorf("auth: read body: %w", err)
		}
		if int64(len(body)) > maxBody {
			return Principal{}, fmt.Errorf("%w (%d bytes)", ErrBodyTooLarge, maxBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return c.Verify(body)
}

// ErrBodyTooLarge reports a body VerifyRequest would not read whole.
var ErrBodyTooLarge = errors.New("auth: request body too large to verify")
