package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKeyCacheBounded fills the cache past its size: it never holds more
// than size keys, keeps the recent ones, and derives the same keys as an
// uncached derivation.
func TestKeyCacheBounded(t *testing.T) {
	c := newKeyCache(8)
	for i := range 100 {
		id := fmt.Sprintf("AKID%d", i)
		if got, want := c.get(id, "secret", "20261204", "us-east-1", "dynamodb").key, deriveKey("secret", "20261204", "us-east-1", "dynamodb"); got != want {
			t.Fatalf("key %d: cached derivation differs", i)
		}
		if n := c.len(); n > 8 {
			t.Fatalf("after %d keys the cache holds %d, bound 8", i+1, n)
		}
	}
	c.get("AKID99", "other", "20261204", "us-east-1", "dynamodb")
	if e := c.cur[cacheKey{"AKID99", "20261204", "us-east-1"}]; e.secret != "other" || e.key.key != deriveKey("other", "20261204", "us-east-1", "dynamodb") {
		t.Fatal("a changed secret did not replace the cached key")
	}
}

// TestMACKeySum checks the HMAC from precomputed pad states against
// crypto/hmac, with one hash reused throughout.
func TestMACKeySum(t *testing.T) {
	key := deriveKey("secret", "20261204", "us-east-1", "dynamodb")
	m, h := newMACKey(key), sha256.New()
	var out []byte
	for _, n := range []int{0, 1, 55, 56, 63, 64, 65, 150, 256, 300, 1000} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		mac := hmac.New(sha256.New, key[:])
		mac.Write(msg)
		if out = m.sum(h, msg, out); !bytes.Equal(out, mac.Sum(nil)) {
			t.Fatalf("%d bytes: macKey.sum %x, crypto/hmac %x", n, out, mac.Sum(nil))
		}
	}
}

// TestHeaderValues checks the allocation-free lookup finds what
// net/http's canonical keys hold.
func TestHeaderValues(t *testing.T) {
	h := http.Header{}
	for _, name := range []string{"amz-sdk-invocation-id", "x-amz-target", "content-type", "x-custom-a-b", "accept-encoding", "www-authenticate"} {
		h.Set(name, "v-"+name)
		if got := headerValues(h, name); len(got) != 1 || got[0] != "v-"+name {
			t.Fatalf("headerValues(%q) = %q", name, got)
		}
	}
	long := strings.Repeat("x", 100)
	h.Set(long, "long")
	if got := headerValues(h, long); len(got) != 1 {
		t.Fatalf("long name: %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { headerValues(h, "amz-sdk-invocation-id") }); n != 0 {
		t.Fatalf("headerValues allocates %v times", n)
	}
}

// FuzzParseAmzDate checks the fast parser of X-Amz-Date against
// time.Parse: the same time, or an error for the same inputs.
func FuzzParseAmzDate(f *testing.F) {
	for _, s := range []string{"20261204T103000Z", "20260229T000000Z", "20261304T103000Z", "20261204T246000Z",
		"2026120AT103000Z", "20261204 103000Z", "", "99991231T235959Z", "00000101T000000Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseAmzDate(s)
		want, werr := time.Parse(amzDateFormat, s)
		if (err != nil) != (werr != nil) || err == nil && !got.Equal(want) {
			t.Fatalf("parseAmzDate(%q) = %v, %v; time.Parse: %v, %v", s, got, err, want, werr)
		}
	})
}
