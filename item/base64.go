package item

import (
	"bytes"
	"encoding/base64"
	"strconv"
)

// decodeBase64 decodes standard padded base64 as DynamoDB accepts it for
// B and BS members, with its SerializationException messages. It takes
// bytes so that a B payload is decoded straight from the request.
func decodeBase64(s []byte) ([]byte, *Error) {
	if len(s)%4 != 0 {
		return nil, serializationError("Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(len(s)))
	}
	// The standard library skips CR and LF; DynamoDB does not.
	if bytes.IndexByte(s, '\r') >= 0 || bytes.IndexByte(s, '\n') >= 0 {
		return nil, serializationError("Invalid Base64 character found")
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		return nil, serializationError("Invalid Base64 character found")
	}
	return b[:n], nil
}
