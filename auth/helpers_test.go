package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/partitadb/partita/auth"
)

// The key every test signs with, and the time of its requests.
var (
	testKey  = auth.Key{AccessKeyID: "AKIDTEST", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", User: "alice"}
	testTime = time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
)

// newVerifier returns a Verifier over testKey whose clock reads *now.
func newVerifier(t testing.TB, now *time.Time, configure ...func(*auth.Config)) *auth.Verifier {
	t.Helper()
	creds, err := auth.NewStaticCredentials(testKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.Config{Credentials: creds, Now: func() time.Time { return *now }}
	for _, f := range configure {
		f(&cfg)
	}
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// dynamoRequest returns a request shaped like an SDK's DynamoDB call.
func dynamoRequest(t testing.TB, url, op, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	return req
}

func payloadHash(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

// sign signs req with the SDK's signer as key at signed.
func sign(t testing.TB, req *http.Request, key auth.Key, body, region string, signed time.Time) {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.Secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash(body), "dynamodb", region, signed); err != nil {
		t.Fatal(err)
	}
}

// wantError fails unless err is an *auth.Error of code with message msg
// ("" matches any message).
func wantError(t *testing.T, err error, code auth.Code, msg string) {
	t.Helper()
	var ae *auth.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v, want %v", err, code)
	}
	if ae.Code != code || msg != "" && ae.Message != msg {
		t.Fatalf("error %v %q,\nwant  %v %q", ae.Code, ae.Message, code, msg)
	}
}
