package dynamo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// decode unmarshals a request body into req (a pointer to a request
// struct). Malformed JSON and values of the wrong JSON type are
// SerializationExceptions, as in DynamoDB; attribute values that are
// well-formed JSON but invalid DynamoDB values are ValidationExceptions.
//
// Simple item requests take decodeFast; the rest, and every body with an
// error, take decodeSlow, whose results decodeFast must match exactly.
func decode(body []byte, req any) error {
	if decodeFast(body, req) {
		return nil
	}
	return decodeSlow(body, req)
}

// decodeSlow is decode by encoding/json, for any request and any body.
func decodeSlow(body []byte, req any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &apiError{Kind: kindInvalidEncoding}
	}
	body = exactMembers(body, req)
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(req); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &apiError{Kind: kindInvalidEncoding}
	}
	return nil
}

// decodeError maps an encoding/json error to the wire.
func decodeError(err error) error {
	var (
		te *json.UnmarshalTypeError
		se *json.SyntaxError
		ae *apiError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &te):
		return newError(kindSerialization, "%s", typeErrorMessage(te))
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
		// DynamoDB says nothing about where a body stops being JSON.
		return &apiError{Kind: kindInvalidEncoding}
	}
	if _, internal := toAPIError(err); !internal {
		return err // an item or expression validation error
	}
	return newError(kindSerialization, "Malformed request: %v", err)
}

// typeErrorMessage words a JSON type mismatch the way DynamoDB does.
func typeErrorMessage(te *json.UnmarshalTypeError) string {
	target := javaType(te)
	switch {
	case te.Value == "object":
		return "Start of structure or map found where not expected."
	case te.Value == "array":
		return "Start of list found where not expected"
	case target == "List":
		return "Expected list or null"
	case target == "Map":
		return "Expected map or null"
	case target == "Structure":
		return "Expected null"
	}
	return fmt.Sprintf("%s_VALUE cannot be converted to %s", strings.ToUpper(jsonKind(te.Value)), target)
}

// jsonKind names the JSON kind of a mismatched value ("number 1.5" is a
// NUMBER).
func jsonKind(value string) string {
	kind, _, _ := strings.Cut(value, " ")
	if kind == "bool" {
		return "boolean"
	}
	return kind
}

// javaType names the Go target type of a mismatch as DynamoDB names its own.
func javaType(te *json.UnmarshalTypeError) string {
	if te.Type == nil {
		return "value"
	}
	switch te.Type.Kind().String() {
	case "string":
		return "String"
	case "bool":
		return "Boolean"
	case "int", "int32", "int64":
		return "Long"
	case "float64":
		return "Double"
	case "slice":
		return "List"
	case "map":
		return "Map"
	case "struct":
		return "Structure"
	}
	return te.Type.String()
}

// newJSONEncoder returns an encoder that does not escape HTML characters.
func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// violations collects constraint failures of a request, reported together
// as DynamoDB does: "2 validation errors detected: Value ... ; Value ...".
type violations []string

// maxViolations is how many failures one message lists.
const maxViolations = 10

// add records that value at path fails constraint. value is printed quoted,
// or as null when nil.
func (v *violations) add(value any, path, constraint string) {
	if len(*v) >= maxViolations {
		return
	}
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s",
		quoteValue(value), path, constraint))
}

// quoteValue prints a violating value as DynamoDB does.
func quoteValue(value any) string {
	switch x := value.(type) {
	case nil:
		return "null"
	case *string:
		if x == nil {
			return "null"
		}
		return "'" + *x + "'"
	case *int64:
		if x == nil {
			return "null"
		}
		return fmt.Sprintf("'%d'", *x)
	case []string:
		return "'[" + strings.Join(x, ", ") + "]'"
	}
	return fmt.Sprintf("'%v'", value)
}

// err returns the collected failures as one ValidationException, or nil.
func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return validationf("1 validation error detected: %s", v[0])
	}
	return validationf("%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}

// notNull records a missing required parameter.
func (v *violations) notNull(present bool, path string) {
	if !present {
		v.add(nil, path, "Member must not be null")
	}
}

// enum records a value outside allowed (nil values pass).
func (v *violations) enum(s *string, path string, allowed ...string) {
	if s == nil {
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	v.add(s, path, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// length records a string shorter than minLen or longer than maxLen runes
// (nil values pass).
func (v *violations) length(s *string, path string, minLen, maxLen int) {
	if s == nil {
		return
	}
	n := len([]rune(*s))
	if n < minLen {
		v.add(s, path, fmt.Sprintf("Member must have length greater than or equal to %d", minLen))
	}
	if n > maxLen {
		v.add(s, path, fmt.Sprintf("Member must have length less than or equal to %d", maxLen))
	}
}
