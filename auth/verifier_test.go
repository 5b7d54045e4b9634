package auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/partitadb/partita/auth"
)

// verifyServer serves VerifyRequest on a real HTTP server: the answer is
// "user body" or the error.
func verifyServer(t *testing.T, v *auth.Verifier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.VerifyRequest(r, 1<<20)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, err.Error())
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", p.User, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func roundTrip(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSDKSignedRequestsVerify sends requests signed by the AWS SDK's
// signer to a real server: paths, queries and header values that
// canonicalization must get right all verify, and the handler still
// reads the body.
func TestSDKSignedRequestsVerify(t *testing.T) {
	now := testTime
	srv := verifyServer(t, newVerifier(t, &now))
	cases := []struct {
		name, path, body string
		header           map[string]string
	}{
		{name: "plain", path: "/", body: `{"TableName":"t"}`},
		{name: "empty body", path: "/", body: ""},
		{name: "escaped path", path: "/a%20b/c~d/%C3%A9", body: "{}"},
		{name: "query", path: "/?b=2&a=1&a=0&sp=x%20y&plus=%2B&empty=", body: "{}"},
		{name: "unicode body", path: "/", body: `{"K":{"S":"日本語 ünïcode"}}`},
		{name: "spaces in header", path: "/", body: "{}", header: map[string]string{"X-Custom": "  a   b  c "}},
		{name: "skewed 14 min", path: "/", body: "{}", header: map[string]string{"skew": "-14m"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := dynamoRequest(t, srv.URL+c.path, "GetItem", c.body)
			signed := now
			for k, v := range c.header {
				if k == "skew" {
					d, _ := time.ParseDuration(v)
					signed = now.Add(d)
					continue
				}
				req.Header.Set(k, v)
			}
			sign(t, req, testKey, c.body, "eu-west-3", signed)
			status, got := roundTrip(t, req)
			if status != http.StatusOK || got != "alice "+c.body {
				t.Fatalf("status %d, answer %q; want 200 %q", status, got, "alice "+c.body)
			}
		})
	}
}

// authenticate runs both phases on a request built client-side.
func authenticate(v *auth.Verifier, req *http.Request, body string) (auth.Principal, error) {
	c, err := v.Authenticate(req)
	if err != nil {
		return auth.Principal{}, err
	}
	return c.Verify([]byte(body))
}

// TestRejections checks each fault gets DynamoDB's error and message, in
// DynamoDB's order of checks.
func TestRejections(t *testing.T) {
	now := testTime
	v := newVerifier(t, &now, func(c *auth.Config) { c.Regions = []string{"us-east-1", "eu-west-3"} })
	const body = `{"TableName":"t"}`
	signedReq := func(mutate func(*http.Request)) *http.Request {
		req := dynamoRequest(t, "http://127.0.0.1:8000/", "GetItem", body)
		sign(t, req, testKey, body, "us-east-1", now)
		if mutate != nil {
			mutate(req)
		}
		return req
	}
	setAuth := func(h string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", h) }
	}
	good := signedReq(nil).Header.Get("Authorization")
	cred := "Credential=AKIDTEST/20261204/us-east-1/dynamodb/aws4_request"
	signedHeaders := "SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target"
	sig := good[strings.Index(good, "Signature="):]
	cases := []struct {
		name   string
		req    *http.Request
		body   string
		code   auth.Code
		msg    string
		mutate func(*http.Request)
	}{
		{name: "no authorization", mutate: func(r *http.Request) { r.Header.Del("Authorization") },
			code: auth.MissingToken, msg: "Request is missing Authentication Token"},
		{name: "not AWS4", mutate: setAuth("Basic dXNlcjpwYXNz"),
			code: auth.MissingToken, msg: "Request is missing Authentication Token"},
		{name: "missing parameters", mutate: setAuth("AWS4-HMAC-SHA256 " + cred),
			code: auth.IncompleteSignature, msg: "Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 " + cred},
		{name: "no date", mutate: func(r *http.Request) { r.Header.Del("X-Amz-Date") },
			code: auth.IncompleteSignature, msg: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + good},
		{name: "pair without equal sign", mutate: setAuth("AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders"),
			code: auth.IncompleteSignature, msg: "'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: " +
				"'AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders'."},
		{name: "bad date", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "201") },
			code: auth.IncompleteSignature, msg: "Date must be in ISO-8601 'basic format'. Got '201'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "expired", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261204T100000Z") },
			code: auth.InvalidSignature, msg: "Signature expired: 20261204T100000Z is now earlier than 20261204T101500Z (20261204T103000Z - 15 min.)"},
		{name: "future", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Date", "20261204T110000Z") },
			code: auth.InvalidSignature, msg: "Signature not yet current: 20261204T110000Z is still later than 20261204T104500Z (20261204T103000Z + 15 min.)"},
		{name: "host not signed", mutate: setAuth("AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;x-amz-target, " + sig),
			code: auth.InvalidSignature, msg: "'Host' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "target not signed", mutate: setAuth("AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, " + sig),
			code: auth.InvalidSignature, msg: "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "algorithm", mutate: setAuth("AWS4-HMAC-SHA25 " + cred + ", " + signedHeaders + ", " + sig),
			code: auth.IncompleteSignature, msg: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA25' (only AWS4-HMAC-SHA256 for now). "},
		{name: "credential parts", mutate: setAuth("AWS4-HMAC-SHA256 Credential=a/b/c/d/, " + signedHeaders + ", " + sig),
			code: auth.IncompleteSignature, msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'"},
		{name: "scope", mutate: setAuth("AWS4-HMAC-SHA256 Credential=AKIDTEST/b/c/d/e, " + signedHeaders + ", " + sig),
			code: auth.InvalidSignature, msg: "Credential should be scoped to a valid region, not 'c'. " +
				"Credential should be scoped to correct service: 'dynamodb'. " +
				"Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. " +
				"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '20261204', from '20261204T103000Z'."},
		{name: "region not served", mutate: func(r *http.Request) { sign(t, r, testKey, body, "ap-south-1", now) },
			code: auth.InvalidSignature, msg: "Credential should be scoped to a valid region, not 'ap-south-1'."},
		{name: "unknown key", mutate: func(r *http.Request) {
			sign(t, r, auth.Key{AccessKeyID: "AKIDOTHER", Secret: testKey.Secret}, body, "us-east-1", now)
		}, code: auth.UnrecognizedClient, msg: "The security token included in the request is invalid."},
		{name: "session token", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "tok") },
			code: auth.UnrecognizedClient, msg: "The security token included in the request is invalid."},
		{name: "wrong secret", mutate: func(r *http.Request) {
			sign(t, r, auth.Key{AccessKeyID: testKey.AccessKeyID, Secret: "not-the-secret"}, body, "us-east-1", now)
		}, code: auth.InvalidSignature, msg: "The request signature we calculated does not match the signature you provided. " +
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
		{name: "tampered body", body: `{"TableName":"u"}`, code: auth.InvalidSignature},
		{name: "tampered target", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteItem") },
			code: auth.InvalidSignature},
		{name: "tampered signature", mutate: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(good, "Signature=", "Signature=0", 1)[:len(good)])
		}, code: auth.InvalidSignature},
		{name: "payload header lies", mutate: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", payloadHash("other")) },
			code: auth.InvalidSignature},
		{name: "both forms", mutate: func(r *http.Request) { r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256" },
			code: auth.InvalidSignature, msg: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := body
			if c.body != "" {
				b = c.body
			}
			_, err := authenticate(v, signedReq(c.mutate), b)
			wantError(t, err, c.code, c.msg)
		})
	}
	if p, err := authenticate(v, signedReq(nil), body); err != nil || p.User != "alice" || p.AccessKeyID != "AKIDTEST" {
		t.Fatalf("untouched request: %+v, %v", p, err)
	}
}

// TestPresigned verifies the SDK's presigned form, within and past its
// X-Amz-Expires.
func TestPresigned(t *testing.T) {
	now := testTime
	srv := verifyServer(t, newVerifier(t, &now))
	const body = `{"TableName":"t"}`
	req := dynamoRequest(t, srv.URL+"/", "GetItem", body)
	req.URL.RawQuery = "X-Amz-Expires=300"
	creds := aws.Credentials{AccessKeyID: testKey.AccessKeyID, SecretAccessKey: testKey.Secret}
	signedURL, headers, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payloadHash(body), "dynamodb", "us-east-1", now)
	if err != nil {
		t.Fatal(err)
	}
	send := func() (int, string) {
		r, err := http.NewRequest(http.MethodPost, signedURL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			if k != "Host" {
				r.Header[k] = v
			}
		}
		return roundTrip(t, r)
	}
	if status, got := send(); status != http.StatusOK || got != "alice "+body {
		t.Fatalf("presigned: %d %q", status, got)
	}
	now = testTime.Add(301 * time.Second)
	want := "Signature expired: 20261204T103000Z is now earlier than 20261204T103001Z (20261204T103501Z - 5 min.)"
	if status, got := send(); status != http.StatusBadRequest || !strings.Contains(got, want) {
		t.Fatalf("expired presigned: %d %q, want %q", status, got, want)
	}

	u, _ := url.Parse(signedURL)
	q := u.Query()
	q.Del("X-Amz-Credential")
	q.Del("X-Amz-Date")
	r := dynamoRequest(t, srv.URL+"/?"+q.Encode(), "GetItem", body)
	_, err = authenticate(newVerifier(t, &now), r, body)
	wantError(t, err, auth.IncompleteSignature, "AWS query-string parameters must include 'X-Amz-Credential'. "+
		"AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.")

	for _, expires := range []string{"0", "604801", "1.5", "-3"} {
		q := u.Query()
		q.Set("X-Amz-Expires", expires)
		r := dynamoRequest(t, srv.URL+"/?"+q.Encode(), "GetItem", body)
		_, err = authenticate(newVerifier(t, &now), r, body)
		wantError(t, err, auth.IncompleteSignature, "X-Amz-Expires must be a whole number of seconds from 1 to 604800, got '"+expires+"'.")
	}
}

// swappable is a Credentials whose keys a test replaces.
type swappable struct {
	cur atomic.Pointer[auth.StaticCredentials]
}

func (s *swappable) Lookup(id string) (string, string, bool) { return s.cur.Load().Lookup(id) }

// TestSecretRotation checks a cached signing key does not outlive its
// secret: once the key's secret changes, the old one no longer verifies
// and the new one does, on the same Verifier.
func TestSecretRotation(t *testing.T) {
	now := testTime
	const body = "{}"
	rotated := auth.Key{AccessKeyID: testKey.AccessKeyID, Secret: "new-secret", User: "alice"}
	creds := &swappable{}
	v := newVerifier(t, &now, func(c *auth.Config) { c.Credentials = creds })
	for _, key := range []auth.Key{testKey, rotated, testKey} {
		sc, err := auth.NewStaticCredentials(key)
		if err != nil {
			t.Fatal(err)
		}
		creds.cur.Store(sc)
		for _, signer := range []auth.Key{testKey, rotated} {
			req := dynamoRequest(t, "http://h/", "GetItem", body)
			sign(t, req, signer, body, "us-east-1", now)
			_, err := authenticate(v, req, body)
			if (err == nil) != (signer == key) {
				t.Fatalf("secret %q, signed with %q: %v", key.Secret, signer.Secret, err)
			}
		}
	}
}

// TestVerifyReusesClaims checks the verified path allocates nothing once
// warm (a Claim and its buffers are reused; not checked under -race, where
// sync.Pool drops some of them), and that reuse mixes nothing of one
// request into another: goroutines verify good and tampered requests at
// once, each getting its own verdict.
func TestVerifyReusesClaims(t *testing.T) {
	now := testTime
	v := newVerifier(t, &now)
	body := `{"TableName":"t","Key":{"pk":{"S":"k"}}}`
	req := dynamoRequest(t, "http://127.0.0.1:8000/", "GetItem", body)
	sign(t, req, testKey, body, "us-east-1", now)
	payload := []byte(body)
	if allocs := testing.AllocsPerRun(200, func() {
		c, err := v.Authenticate(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Verify(payload); err != nil {
			t.Fatal(err)
		}
	}); allocs > 0 && !raceEnabled {
		t.Fatalf("a verification allocates %.1f times, want none", allocs)
	}

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"TableName":"t%d","Key":{"pk":{"S":"%s"}}}`, g, strings.Repeat("k", 50*g))
			req := dynamoRequest(t, "http://127.0.0.1:8000/", "GetItem", body)
			req.Header.Set("X-Amz-Meta-Goroutine", strings.Repeat("g", 300*g)) // canonical requests of different sizes
			sign(t, req, testKey, body, "us-east-1", now)
			for i := range 200 {
				sent := body
				if i%2 == 1 {
					sent = strings.Replace(body, `"t`, `"u`, 1)
				}
				p, err := authenticate(v, req, sent)
				switch {
				case i%2 == 0 && (err != nil || p.User != "alice"):
					t.Errorf("goroutine %d, request %d: %v, %+v; want alice", g, i, err, p)
				case i%2 == 1 && err == nil:
					t.Errorf("goroutine %d, request %d: a tampered body verified", g, i)
				}
			}
		})
	}
	wg.Wait()
}
