package dynamo_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// getLarge sends a GetItem whose answer is over a kilobyte, with the
// given Accept-Encoding, and returns the recorded response.
func getLarge(t *testing.T, f *fixture, acceptEncoding string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"TableName":"big","Key":{"pk":{"S":"big"}}}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GetItem (Accept-Encoding %q): %d %s", acceptEncoding, rec.Code, rec.Body)
	}
	if got, want := rec.Header().Get("x-amz-crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(rec.Body.Bytes())), 10); got != want {
		t.Fatalf("Accept-Encoding %q: x-amz-crc32 %s, want %s (the bytes sent)", acceptEncoding, got, want)
	}
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
		t.Fatalf("Accept-Encoding %q: Content-Length %s, want %s", acceptEncoding, got, want)
	}
	return rec
}

func TestGzipResponses(t *testing.T) {
	f := newFixture(t)
	f.createTable("big", "")
	big := strings.Repeat("x", 4000)
	f.ok("PutItem", `{"TableName":"big","Item":{"pk":{"S":"big"},"v":{"S":"`+big+`"}}}`)

	plain := getLarge(t, f, "")
	if plain.Header().Get("Content-Encoding") != "" || !strings.Contains(plain.Body.String(), big) {
		t.Fatalf("no Accept-Encoding: Content-Encoding %q", plain.Header().Get("Content-Encoding"))
	}
	for _, ae := range []string{"gzip", "deflate, gzip;q=0.5", "*", "identity, x-gzip"} {
		rec := getLarge(t, f, ae)
		if rec.Header().Get("Content-Encoding") != "gzip" {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q", ae, rec.Header().Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, plain.Body.Bytes()) {
			t.Fatalf("Accept-Encoding %q: decompressed %d bytes (%v), want the plain answer's %d", ae, len(got), err, plain.Body.Len())
		}
		if rec.Body.Len() >= plain.Body.Len()/4 {
			t.Fatalf("Accept-Encoding %q: %d bytes compressed, plain %d", ae, rec.Body.Len(), plain.Body.Len())
		}
	}
	for _, ae := range []string{"identity", "gzip;q=0", "deflate", "br", "gzip; q=0.0, *;q=0"} {
		if rec := getLarge(t, f, ae); rec.Header().Get("Content-Encoding") != "" {
			t.Fatalf("Accept-Encoding %q: Content-Encoding %q", ae, rec.Header().Get("Content-Encoding"))
		}
	}
	// Small answers are not worth compressing.
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Accept-Encoding", "gzip")
	if r := f.send(req); r.status != http.StatusOK || r.header.Get("Content-Encoding") != "" {
		t.Fatalf("small ListTables: %d, Content-Encoding %q", r.status, r.header.Get("Content-Encoding"))
	}
}

// TestSDKGzipResponses reads compressed answers through the SDK, which
// checks x-amz-crc32 over the compressed bytes and then decompresses.
func TestSDKGzipResponses(t *testing.T) {
	c := startNode(t)
	ctx := context.Background()
	sdkTable(t, c, "gzip", false)
	big := strings.Repeat("compressible ", 1000)
	for i := range 5 {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("gzip"),
			Item: map[string]types.AttributeValue{"pk": s(strconv.Itoa(i)), "v": s(big)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The last answer of each mode: the SDK may retry (a loaded machine,
	// a kept-alive connection the server closed).
	sizes := make([]int64, 2)
	var answers []string
	for i, gz := range []bool{false, true} {
		out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("gzip")}, func(o *dynamodb.Options) {
			o.EnableAcceptEncodingGzip = gz
			o.HTTPClient = &countingClient{do: http.DefaultClient.Do, onResponse: func(r *http.Response) {
				if got := r.Header.Get("Content-Encoding") == "gzip"; got != gz {
					t.Errorf("EnableAcceptEncodingGzip %v: Content-Encoding %q", gz, r.Header.Get("Content-Encoding"))
				}
				sizes[i] = r.ContentLength
				answers = append(answers, fmt.Sprintf("gzip %v: %d, %d bytes, crc32 %s", gz, r.StatusCode, r.ContentLength, r.Header.Get("X-Amz-Crc32")))
			}}
		})
		if err != nil {
			t.Fatalf("Scan (gzip %v): %v", gz, err)
		}
		if len(out.Items) != 5 || out.Items[0]["v"].(*types.AttributeValueMemberS).Value != big {
			t.Fatalf("Scan (gzip %v): %d items", gz, len(out.Items))
		}
	}
	if sizes[0] == 0 || sizes[1] == 0 || sizes[1]*10 > sizes[0] {
		t.Fatalf("response sizes plain, gzip: %v (answers: %v)", sizes, answers)
	}
	if len(answers) > 2 {
		t.Logf("the SDK retried: %v", answers)
	}
}

// countingClient is an SDK HTTP client that shows each response to
// onResponse.
type countingClient struct {
	do         func(*http.Request) (*http.Response, error)
	onResponse func(*http.Response)
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.do(r)
	if err == nil {
		c.onResponse(resp)
	}
	return resp, err
}
