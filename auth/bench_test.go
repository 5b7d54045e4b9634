package auth_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkVerify measures verifying one SDK-signed GetItem-sized request
// with a warm signing-key cache: both phases, as the DynamoDB server
// runs them.
func BenchmarkVerify(b *testing.B) {
	now := testTime
	v := newVerifier(b, &now)
	for _, c := range []struct {
		size int
		sdk  bool
	}{{100, false}, {4 << 10, false}, {100, true}} {
		body := `{"TableName":"bench","Key":{"pk":{"S":"` + strings.Repeat("k", c.size) + `"}}}`
		req := dynamoRequest(b, "http://127.0.0.1:8000/", "GetItem", body)
		name := fmt.Sprintf("body=%dB", len(body))
		if c.sdk { // the headers the AWS SDK for Go v2 adds and signs
			req.Header.Set("Accept-Encoding", "identity")
			req.Header.Set("Amz-Sdk-Invocation-Id", "6f1f2a8e-3c4b-4d5e-8f90-a1b2c3d4e5f6")
			req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
			req.Header.Set("Content-Length", strconv.Itoa(len(body)))
			name += "/sdk-headers"
		}
		sign(b, req, testKey, body, "us-east-1", now)
		if _, err := authenticate(v, req, body); err != nil {
			b.Fatal(err)
		}
		payload := []byte(body)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c, err := v.Authenticate(req)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Verify(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
