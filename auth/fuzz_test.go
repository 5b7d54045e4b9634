package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/partitadb/partita/auth"
)

// FuzzParseAuthorization checks the header parser never panics, fails
// only with an IncompleteSignature error naming the header, and returns
// every parameter when it succeeds.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd", true)
	f.Add("AWS4-HMAC-SHA256 Signature=b,    Credential,    SignedHeaders", true)
	f.Add("AWS4-HMAC-SHA256 Credential=a", false)
	f.Add("AWS4-X ,,,=,==,Credential==,", true)
	f.Add("AWS4-", false)
	f.Fuzz(func(t *testing.T, header string, haveDate bool) {
		a, err := auth.ParseAuthorization(header, haveDate)
		if err != nil {
			var ae *auth.Error
			if !errors.As(err, &ae) || ae.Code != auth.IncompleteSignature || !strings.Contains(ae.Message, header) {
				t.Fatalf("ParseAuthorization(%q): error %v", header, err)
			}
			return
		}
		if !haveDate || a.Credential == "" || a.SignedHeaders == "" || a.Signature == "" {
			t.Fatalf("ParseAuthorization(%q, %v) = %+v without error", header, haveDate, a)
		}
		for _, v := range []string{a.Credential, a.SignedHeaders, a.Signature} {
			if strings.Contains(v, ",") || v != strings.TrimSpace(v) {
				t.Fatalf("ParseAuthorization(%q): parameter %q not split or trimmed", header, v)
			}
		}
	})
}
