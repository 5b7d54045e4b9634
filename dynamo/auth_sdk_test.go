package dynamo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/partitadb/partita/auth"
	"github.com/partitadb/partita/node"
)

// The credentials of authNode's one user.
const (
	authKeyID  = "AKIDPARTITATEST"
	authSecret = "c2VjcmV0LWtleS1mb3ItdGVzdHM/+="
)

// authNode is a node started with SigV4 verification, and the offset its
// verifier's clock has from the real one.
type authNode struct {
	n    *node.Node
	skew atomic.Int64
}

func (a *authNode) now() time.Time { return time.Now().Add(time.Duration(a.skew.Load())) }

// startAuthNode runs a real node whose DynamoDB API verifies signatures
// against one key, authKeyID with authSecret, of user "alice".
func startAuthNode(t testing.TB) *authNode {
	t.Helper()
	a := &authNode{}
	creds, err := auth.ParseCredentials([]byte(authKeyID + " " + authSecret + " alice\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := node.DefaultConfig()
	cfg.DataDir, cfg.APIAddr = t.TempDir(), "127.0.0.1:0"
	cfg.Auth = node.AuthConfig{Enabled: true, Credentials: creds, Now: a.now}
	cfg.Logger = slog.New(slog.DiscardHandler)
	if a.n, err = node.Start(context.Background(), cfg); err != nil {
		t.Fatalf("start node: %v", err)
	}
	t.Cleanup(func() {
		if err := a.n.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	return a
}

// client returns an SDK client of a signing with keyID and secret.
func (a *authNode) client(keyID, secret string, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:           "eu-west-3",
		BaseEndpoint:     aws.String(a.n.APIURL()),
		Credentials:      credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		RetryMaxAttempts: 1,
	}, opts...)
}

// afterSigning runs change on every request the client sends, after the
// SDK signed it.
func afterSigning(change func(*smithyhttp.Request)) func(*dynamodb.Options) {
	return dynamodb.WithAPIOptions(func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("tamper",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				change(in.Request.(*smithyhttp.Request))
				return next.HandleDeserialize(ctx, in)
			}), middleware.Before)
	})
}

// wantAPIError fails unless err is the API error code with a message
// matching msg.
func wantAPIError(t *testing.T, what string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !regexp.MustCompile(msg).MatchString(ae.ErrorMessage()) {
		t.Fatalf("%s: error %v, want %s matching %q", what, err, code, msg)
	}
}

func getItem(c *dynamodb.Client, table, pk string) (map[string]types.AttributeValue, error) {
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": s(pk)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// TestAuthSDK drives a node with authentication on through the AWS SDK
// for Go v2, signing for real: the right key works, and each fault gets
// DynamoDB's error.
func TestAuthSDK(t *testing.T) {
	a := startAuthNode(t)
	ctx := context.Background()
	good := a.client(authKeyID, authSecret)
	sdkTable(t, good, "auth", false)
	put := func(c *dynamodb.Client, pk string) error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("auth"),
			Item: map[string]types.AttributeValue{"pk": s(pk), "v": s("value")}})
		return err
	}
	if err := put(good, "item-a"); err != nil {
		t.Fatalf("PutItem with the right key: %v", err)
	}
	if item, err := getItem(good, "auth", "item-a"); err != nil || item == nil {
		t.Fatalf("GetItem with the right key: %v %v", item, err)
	}

	err := put(a.client("AKIDUNKNOWN", authSecret), "item-x")
	wantAPIError(t, "unknown key", err, "UnrecognizedClientException", `^The security token included in the request is invalid\.$`)
	err = put(a.client(authKeyID, "wrong-secret"), "item-x")
	wantAPIError(t, "wrong secret", err, "InvalidSignatureException", `^The request signature we calculated does not match`)
	anonymous := dynamodb.New(dynamodb.Options{Region: "eu-west-3", BaseEndpoint: aws.String(a.n.APIURL()),
		Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	err = put(anonymous, "item-x")
	wantAPIError(t, "unsigned", err, "MissingAuthenticationTokenException", `^Request is missing Authentication Token$`)

	// A body changed after signing (same length: the request is well
	// formed), and a GetItem signature replayed as a DeleteItem.
	tampered := a.client(authKeyID, authSecret, afterSigning(func(r *smithyhttp.Request) {
		b, err := io.ReadAll(r.GetStream())
		if err != nil {
			t.Error(err)
		}
		changed, err := r.SetStream(bytes.NewReader(bytes.ReplaceAll(b, []byte("item-b"), []byte("item-c"))))
		if err != nil {
			t.Error(err)
		}
		*r = *changed
	}))
	err = put(tampered, "item-b")
	wantAPIError(t, "tampered body", err, "InvalidSignatureException", `^The request signature we calculated does not match`)
	replayed := a.client(authKeyID, authSecret, afterSigning(func(r *smithyhttp.Request) {
		r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteItem")
	}))
	_, err = getItem(replayed, "auth", "item-a")
	wantAPIError(t, "target changed", err, "InvalidSignatureException", `^The request signature we calculated does not match`)
	for _, pk := range []string{"item-b", "item-c", "item-x"} {
		if item, err := getItem(good, "auth", pk); err != nil || item != nil {
			t.Fatalf("%s was written by a refused request: %v %v", pk, item, err)
		}
	}
	if item, err := getItem(good, "auth", "item-a"); err != nil || item == nil {
		t.Fatalf("item-a was deleted by a replayed signature: %v %v", item, err)
	}
}

// TestAuthClockSkew moves the server's clock: beyond 15 minutes a client
// that does not correct its clock gets DynamoDB's expired-signature error;
// the SDK's default client reads the server's Date and recovers.
func TestAuthClockSkew(t *testing.T) {
	a := startAuthNode(t)
	noCorrection := a.client(authKeyID, authSecret, func(o *dynamodb.Options) { o.DisableClockSkewCorrection = true })
	if _, err := noCorrection.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("no skew: %v", err)
	}
	a.skew.Store(int64(14 * time.Minute))
	if _, err := noCorrection.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("14 minutes of skew: %v", err)
	}
	a.skew.Store(int64(20 * time.Minute))
	_, err := noCorrection.ListTables(context.Background(), &dynamodb.ListTablesInput{})
	wantAPIError(t, "20 minutes behind", err, "InvalidSignatureException",
		`^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$`)
	a.skew.Store(int64(-20 * time.Minute))
	_, err = noCorrection.ListTables(context.Background(), &dynamodb.ListTablesInput{})
	wantAPIError(t, "20 minutes ahead", err, "InvalidSignatureException",
		`^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$`)

	corrects := a.client(authKeyID, authSecret, func(o *dynamodb.Options) { o.RetryMaxAttempts = 3 })
	if _, err := corrects.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("an SDK that corrects its clock from the server's Date: %v", err)
	}
}

// rawPost sends a GetItem with the given Authorization header and
// returns the status and decoded error body.
func rawPost(t *testing.T, a *authNode, authorization string, header map[string]string) (int, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.n.APIURL(), strings.NewReader(`{"TableName":"t","Key":{"pk":{"S":"a"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	req.Header.Set("X-Amz-Date", a.now().UTC().Format("20060102T150405Z"))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestAuthMalformed sends hand-made Authorization headers: each gets
// DynamoDB's __type, status and message.
func TestAuthMalformed(t *testing.T) {
	a := startAuthNode(t)
	date := a.now().UTC().Format("20060102")
	cases := []struct {
		name, authorization, typ, msg string
	}{
		{"none", "", "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{"other scheme", "Bearer abc", "MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{"only credential", "AWS4-HMAC-SHA256 Credential=" + authKeyID + "/" + date + "/eu-west-3/dynamodb/aws4_request",
			"IncompleteSignatureException", "Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=" +
				authKeyID + "/" + date + "/eu-west-3/dynamodb/aws4_request"},
		{"no equal sign", "AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=00", "IncompleteSignatureException",
			"'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: " +
				"'AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=00'."},
		{"short credential", "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00",
			"IncompleteSignatureException", "Credential must have exactly 5 slash-delimited elements, " +
				"e.g. keyid/date/region/service/term, got 'a/b'"},
		{"other service", "AWS4-HMAC-SHA256 Credential=" + authKeyID + "/" + date + "/eu-west-3/s3/aws4_request, " +
			"SignedHeaders=host;x-amz-date;x-amz-target, Signature=00", "InvalidSignatureException",
			"Credential should be scoped to correct service: 'dynamodb'."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := rawPost(t, a, c.authorization, nil)
			if status != http.StatusBadRequest || body["__type"] != "com.amazon.coral.service#"+c.typ || body["message"] != c.msg {
				t.Fatalf("got %d %q\nwant 400 %s %q", status, body, c.typ, c.msg)
			}
		})
	}
}

// TestAuthPresigned sends a GetItem presigned by the SDK's signer (its
// x-amz-* headers, the target included, move to the query): it works
// within X-Amz-Expires and fails after.
func TestAuthPresigned(t *testing.T) {
	a := startAuthNode(t)
	sdkTable(t, a.client(authKeyID, authSecret), "presigned", false)
	if _, err := a.client(authKeyID, authSecret).PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String("presigned"), Item: map[string]types.AttributeValue{"pk": s("a"), "v": s("value")}}); err != nil {
		t.Fatal(err)
	}
	body := `{"TableName":"presigned","Key":{"pk":{"S":"a"}},"ConsistentRead":true}`
	req, err := http.NewRequest(http.MethodPost, a.n.APIURL()+"/?X-Amz-Expires=60", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	sum := sha256.Sum256([]byte(body))
	signedURL, headers, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: authKeyID, SecretAccessKey: authSecret}, req, hex.EncodeToString(sum[:]),
		"dynamodb", "eu-west-3", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(signedURL, "X-Amz-Target=") {
		t.Fatalf("the signer kept X-Amz-Target in a header: %s", signedURL)
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
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, got := send(); status != http.StatusOK || !strings.Contains(got, `"v":{"S":"value"}`) {
		t.Fatalf("presigned GetItem: %d %s", status, got)
	}
	a.skew.Store(int64(2 * time.Minute))
	status, got := send()
	if status != http.StatusBadRequest || !strings.Contains(got, "InvalidSignatureException") ||
		!regexp.MustCompile(`Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 1 min\.\)`).MatchString(got) {
		t.Fatalf("expired presigned GetItem: %d %s", status, got)
	}
}

// botoScript puts and gets an item with boto3 signing for real, then
// tries a wrong key; it prints what it saw.
const botoScript = `
import sys, boto3, botocore
url, key, secret = sys.argv[1], sys.argv[2], sys.argv[3]
def client(k, s):
    return boto3.client("dynamodb", endpoint_url=url, region_name="eu-west-3",
        aws_access_key_id=k, aws_secret_access_key=s,
        config=botocore.config.Config(retries={"max_attempts": 1}))
db = client(key, secret)
db.create_table(TableName="boto", BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
db.get_waiter("table_exists").wait(TableName="boto", WaiterConfig={"Delay": 1})
db.put_item(TableName="boto", Item={"pk": {"S": "a"}, "v": {"S": "from boto3"}})
print(db.get_item(TableName="boto", Key={"pk": {"S": "a"}}, ConsistentRead=True)["Item"]["v"]["S"])
for k, s in (("AKIDUNKNOWN", secret), (key, "wrong")):
    try:
        client(k, s).list_tables()
        print("accepted")
    except botocore.exceptions.ClientError as e:
        print(e.response["Error"]["Code"])
`

// TestAuthBoto3 signs with boto3, the other SDK most clients use.
func TestAuthBoto3(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	if exec.Command(python, "-c", "import boto3").Run() != nil {
		t.Skip("boto3 is not installed for python3")
	}
	a := startAuthNode(t)
	script := filepath.Join(t.TempDir(), "boto.py")
	if err := os.WriteFile(script, []byte(botoScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, a.n.APIURL(), authKeyID, authSecret)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, out)
	}
	want := "from boto3\nUnrecognizedClientException\nInvalidSignatureException\n"
	if string(out) != want {
		t.Fatalf("boto3 saw:\n%s\nwant:\n%s", out, want)
	}
}

// BenchmarkGetItemAuth measures an SDK GetItem end to end with
// authentication off and on; run with -count N, the two alternate.
func BenchmarkGetItemAuth(b *testing.B) {
	off := startNode(b)
	on := startAuthNode(b).client(authKeyID, authSecret)
	for _, c := range []struct {
		name string
		db   *dynamodb.Client
	}{{"auth=off", off}, {"auth=on", on}} {
		sdkTable(b, c.db, "bench", false)
		if _, err := c.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("bench"),
			Item: map[string]types.AttributeValue{"pk": s("k"), "v": s(strings.Repeat("v", 100))}}); err != nil {
			b.Fatal(err)
		}
	}
	in := &dynamodb.GetItemInput{TableName: aws.String("bench"), Key: map[string]types.AttributeValue{"pk": s("k")}}
	for round := range 3 {
		for _, c := range []struct {
			name string
			db   *dynamodb.Client
		}{{"auth=off", off}, {"auth=on", on}} {
			b.Run(c.name+"/round="+strconv.Itoa(round), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.db.GetItem(context.Background(), in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
