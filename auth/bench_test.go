package auth_test

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkVerify measures verifying one SDK-signed GetItem-sized request
// with a warm signing-key cache: both phases, as the DynamoDB server
// runs them.
func BenchmarkVerify(b *testing.B) {
	now := testTime
	v := newVerifier(b, &now)
	for _, size := range []int{100, 4 << 10} {
		body := `{"TableName":"bench","Key":{"pk":{"S":"` + strings.Repeat("k", size) + `"}}}`
		req := dynamoRequest(b, "http://127.0.0.1:8000/", "GetItem", body)
		sign(b, req, testKey, body, "us-east-1", now)
		if _, err := authenticate(v, req, body); err != nil {
			b.Fatal(err)
		}
		payload := []byte(body)
		b.Run(fmt.Sprintf("body=%dB", len(body)), func(b *testing.B) {
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
