package item

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// decodeBase64 decodes standard padded base64 as DynamoDB accepts it for
// B and BS members, with its SerializationException messages.
func decodeBase64(s string) ([]byte, *Error) {
	if len(s)%4 != 0 {
		return nil, serializationError("Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(len(s)))
	}
	// The standard library skips CR and LF; DynamoDB does not.
	if strings.ContainsAny(s, "\r\n") {
		return nil, serializationError("Invalid Base64 character found")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, serializationError("Invalid Base64 character found")
	}
	return b, nil
}
