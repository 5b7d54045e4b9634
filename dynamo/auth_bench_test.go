package dynamo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/dynamo"
)

// policyAuthorizer decides by the policies of every user alike, as a node
// does for a user under AllowAll.
type policyAuthorizer struct{ policies []*auth.Policy }

var _ dynamo.Authorizer = policyAuthorizer{}

func (a policyAuthorizer) Authorize(_ auth.Principal, r auth.Request) auth.Decision {
	return auth.Evaluate(a.policies, r)
}

func (a policyAuthorizer) ActionOnly(auth.Principal) bool { return auth.ActionOnly(a.policies) }

// discardWriter is a ResponseWriter that keeps nothing but its header
// map, reused by every request.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkServeGetItemAuth measures the server's own work for a GetItem
// signed as the AWS SDK for Go v2 signs it (its headers included), with
// authentication off and on (SigV4 and an AllowAll policy), alternating
// over rounds: no network, no HTTP parsing, over a real single node's
// backend, so that the difference is what authentication costs a request
// (a read: a write's time is mostly its store's fsync, which hides it).
func BenchmarkServeGetItemAuth(b *testing.B) {
	benchServeAuth(b, "GetItem", []byte(`{"TableName":"bench","Key":{"pk":{"S":"k"}}}`))
}

// BenchmarkServePutItemAuth is BenchmarkServeGetItemAuth for a PutItem of
// a 256-byte value, as partita bench's put workload writes.
func BenchmarkServePutItemAuth(b *testing.B) {
	benchServeAuth(b, "PutItem", []byte(`{"TableName":"bench","Item":{"pk":{"S":"k2"},"v":{"S":"`+
		string(bytes.Repeat([]byte("w"), 256))+`"}}}`))
}

func benchServeAuth(b *testing.B, op string, body []byte) {
	creds, err := auth.NewStaticCredentials(auth.Key{AccessKeyID: authKeyID, Secret: authSecret, User: "alice"})
	if err != nil {
		b.Fatal(err)
	}
	allowAll, err := auth.ParsePolicy("AllowAll", []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"AllowAll","Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	off, on := newFixture(b), newFixture(b)
	for _, f := range []*fixture{off, on} {
		f.ok("CreateTable", `{"TableName":"bench","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
			"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}`)
		f.ok("PutItem", `{"TableName":"bench","Item":{"pk":{"S":"k"},"v":{"S":"`+string(bytes.Repeat([]byte("v"), 256))+`"}}}`)
	}
	v, err := auth.NewVerifier(auth.Config{Credentials: creds, Now: on.clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	// The same backend, now behind authentication.
	if on.srv, err = dynamo.NewServer(dynamo.Config{Backend: on.backend, Logger: slog.New(slog.DiscardHandler), Now: on.clock.Now,
		Region: "us-east-1", AccountID: "000000000000", Auth: v, Authorizer: policyAuthorizer{[]*auth.Policy{allowAll}}}); err != nil {
		b.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:8000/", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	for k, v := range map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op,
		"Accept-Encoding": "identity", "Amz-Sdk-Invocation-Id": "6f1f2a8e-3c4b-4d5e-8f90-a1b2c3d4e5f6",
		"Amz-Sdk-Request": "attempt=1; max=3", "Content-Length": strconv.Itoa(len(body))} {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: authKeyID, SecretAccessKey: authSecret},
		req, hex.EncodeToString(sum[:]), "dynamodb", "us-east-1", on.clock.Now()); err != nil {
		b.Fatal(err)
	}
	rd := bytes.NewReader(body)
	req.Body = io.NopCloser(rd)
	w := &discardWriter{h: http.Header{}}
	serve := func(f *fixture) {
		rd.Reset(body)
		clear(w.h)
		f.srv.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK {
			b.Fatalf("%s: status %d", op, w.code)
		}
	}
	for round := range 3 {
		for _, c := range []struct {
			name string
			f    *fixture
		}{{"auth=off", off}, {"auth=on", on}} {
			b.Run(c.name+"/round="+strconv.Itoa(round), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					serve(c.f)
				}
			})
		}
	}
}
