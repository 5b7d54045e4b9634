package auth

import (
	"strings"
)

// Algorithm is the one signing algorithm Partita verifies.
const Algorithm = "AWS4-HMAC-SHA256"

// Authorization is the parsed Authorization header of a signed request:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request,
//	  SignedHeaders=content-type;host;x-amz-date, Signature=5d67...
//
// Fields are as sent; the Verifier checks their content.
type Authorization struct {
	Algorithm     string
	Credential    string
	SignedHeaders string
	Signature     string
}

// authParams are the parameters of the header, in the order DynamoDB
// names the missing ones.
var authParams = [...]string{"Credential", "Signature", "SignedHeaders"}

// ParseAuthorization parses an Authorization header that starts with
// "AWS4-". haveDate says whether the request has an X-Amz-Date or Date
// header: DynamoDB reports its absence together with the missing
// parameters. Every failure is an IncompleteSignature *Error carrying
// DynamoDB's message.
func ParseAuthorization(header string, haveDate bool) (Authorization, error) {
	var a Authorization
	alg, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	a.Algorithm = alg
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return Authorization{}, fail(IncompleteSignature, "'"+key+"' not a valid key=value pair "+
				"(missing equal-sign) in Authorization header: '"+header+"'.")
		}
		switch strings.TrimSpace(key) {
		case "Credential":
			a.Credential = strings.TrimSpace(value)
		case "SignedHeaders":
			a.SignedHeaders = strings.TrimSpace(value)
		case "Signature":
			a.Signature = strings.TrimSpace(value)
		}
	}
	var msg strings.Builder
	for _, p := range authParams {
		if a.param(p) == "" {
			msg.WriteString("Authorization header requires '" + p + "' parameter. ")
		}
	}
	if !haveDate {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		return Authorization{}, fail(IncompleteSignature, msg.String()+"Authorization="+header)
	}
	return a, nil
}

func (a *Authorization) param(name string) string {
	switch name {
	case "Credential":
		return a.Credential
	case "SignedHeaders":
		return a.SignedHeaders
	}
	return a.Signature
}
