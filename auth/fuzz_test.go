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

// FuzzAuthenticate sends arbitrary signing material through both phases:
// the verifier never panics, fails only with an *Error, and accepts only
// the one genuine signature (the first seed), over the body it signed.
func FuzzAuthenticate(f *testing.F) {
	now := testTime
	v := newVerifier(f, &now)
	good := dynamoRequest(f, "http://h/", "GetItem", "{}")
	sign(f, good, testKey, "{}", "us-east-1", now)
	genuine := good.Header.Get("Authorization")
	genuine = genuine[strings.Index(genuine, "Signature="):]
	f.Add(good.Header.Get("Authorization"), good.Header.Get("X-Amz-Date"), "", "{}")
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDTEST/20261204/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00",
		"20261204T103000Z", "a=1&b=%zz", "")
	f.Add("", "20261204T103000Z", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDTEST%2F20261204%2Fus-east-1%2Fdynamodb%2Faws4_request"+
		"&X-Amz-Date=20261204T103000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "{}")
	f.Fuzz(func(t *testing.T, authorization, date, query, body string) {
		req := dynamoRequest(t, "http://h/", "GetItem", body)
		req.Header.Set("Authorization", authorization)
		req.Header.Set("X-Amz-Date", date)
		req.URL.RawQuery = query
		_, err := authenticate(v, req, body)
		var ae *auth.Error
		if err == nil && (body != "{}" || !strings.Contains(authorization, genuine)) {
			t.Fatalf("accepted a forged request: Authorization %q, date %q, query %q", authorization, date, query)
		}
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("error %v is not an *auth.Error", err)
		}
	})
}

// FuzzParsePolicy checks the policy parser never panics, fails only with
// ErrPolicy, and that a policy it accepts evaluates without panicking and
// decides a request the same way twice.
func FuzzParsePolicy(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["dynamodb:Get*"],"Resource":"arn:aws:dynamodb:*:*:table/T*"}]}`, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:0:table/T1")
	f.Add(`{"Statement":{"Effect":"Deny","NotAction":"dynamodb:Query","NotResource":"*","Condition":{"ForAnyValue:StringLike":{"dynamodb:LeadingKeys":"${aws:username}*"}}}}`, "dynamodb:Scan", "*")
	f.Add(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"dynamodb:Select":["A","B"]}}}}`, "dynamodb:Query", "x")
	f.Add(`[]`, "", "")
	f.Fuzz(func(t *testing.T, doc, action, resource string) {
		p, err := auth.ParsePolicy("fuzz", []byte(doc))
		if err != nil {
			if !errors.Is(err, auth.ErrPolicy) {
				t.Fatalf("ParsePolicy(%q): %v, not ErrPolicy", doc, err)
			}
			return
		}
		if len(p.Statements) == 0 {
			t.Fatalf("ParsePolicy(%q) accepted a policy without statements", doc)
		}
		r := auth.Request{User: "u", Action: action, Resource: resource,
			Context: map[string][]string{auth.KeyLeadingKeys: {resource}, auth.KeySelect: {action}}}
		if a, b := auth.Evaluate([]*auth.Policy{p}, r), auth.Evaluate([]*auth.Policy{p}, r); a != b {
			t.Fatalf("two evaluations of %q disagree: %v, %v", doc, a, b)
		}
	})
}
