package directory

import (
	"time"

	"github.com/partitadb/partita/engine"
	"github.com/partitadb/partita/partitapb"
)

// kindRequestToken is the record kind of the ClientRequestTokens of
// write transactions (docs/transactions.md).
const kindRequestToken = "request-token"

// RequestTokenWindow is how long a ClientRequestToken names its request,
// as in DynamoDB: a repeat within it gets the first one's answer.
const RequestTokenWindow = 10 * time.Minute

// RequestTokenKey is the key of the record of token.
func RequestTokenKey(token string) []byte { return engine.MetaKey(kindRequestToken, token) }

// RequestTokensSpan is the span of every token record.
func RequestTokensSpan() (lo, hi []byte) { return engine.MetaSpan(kindRequestToken) }

// EncodeRequestToken encodes a token record.
func EncodeRequestToken(t *partitapb.RequestToken) ([]byte, error) { return encode("request token", t) }

// DecodeRequestToken decodes a token record.
func DecodeRequestToken(raw []byte) (*partitapb.RequestToken, error) {
	return decode(raw, &partitapb.RequestToken{}, "request token")
}

// ReadRequestToken returns the record of token, or nil.
func ReadRequestToken(r engine.Reader, token string) (*partitapb.RequestToken, error) {
	return read(r, RequestTokenKey(token), DecodeRequestToken)
}
