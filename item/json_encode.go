package item

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// ErrInvalidValue reports a Value whose Type is not one of DynamoDB's.
var ErrInvalidValue = errors.New("item: invalid value")

// MarshalJSON writes v as a DynamoDB AttributeValue: {"S":"x"}, {"N":"1"},
// {"B":"<base64>"}, {"BOOL":true}, {"NULL":true}, {"M":{...}}, {"L":[...]},
// {"SS":[...]}, {"NS":[...]}, {"BS":[...]}. Numbers are printed by
// Number.String, binaries in standard padded base64, map keys in byte order.
func (v Value) MarshalJSON() ([]byte, error) { return AppendJSON(nil, v) }

// MarshalJSON writes it as a JSON object of AttributeValues, names in byte
// order.
func (it Item) MarshalJSON() ([]byte, error) { return AppendItemJSON(nil, it) }

// AppendJSON appends v's JSON form (see Value.MarshalJSON) to dst.
func AppendJSON(dst []byte, v Value) ([]byte, error) {
	if v.Type == 0 || v.Type > TypeBS {
		return dst, fmt.Errorf("marshal type %d: %w", v.Type, ErrInvalidValue)
	}
	dst = append(dst, `{"`...)
	dst = append(dst, v.Type.String()...)
	dst = append(dst, `":`...)
	dst, err := appendJSONPayload(dst, v)
	return append(dst, '}'), err
}

// AppendItemJSON appends it as a JSON object to dst; a nil Item is {}.
func AppendItemJSON(dst []byte, it Item) ([]byte, error) {
	return appendJSONMap(dst, it)
}

func appendJSONPayload(dst []byte, v Value) ([]byte, error) {
	switch v.Type {
	case TypeS:
		return appendJSONString(dst, v.S), nil
	case TypeN:
		return appendJSONNumber(dst, v.N), nil
	case TypeB:
		return appendJSONBinary(dst, v.B), nil
	case TypeBOOL:
		return strconv.AppendBool(dst, v.BOOL), nil
	case TypeNULL:
		return append(dst, "true"...), nil
	case TypeM:
		return appendJSONMap(dst, v.M)
	case TypeL:
		return appendJSONList(dst, v.L)
	case TypeSS:
		return appendJSONArray(dst, v.SS, appendJSONString), nil
	case TypeNS:
		return appendJSONArray(dst, v.NS, appendJSONNumber), nil
	default:
		return appendJSONArray(dst, v.BS, appendJSONBinary), nil
	}
}

func appendJSONMap(dst []byte, m map[string]Value) ([]byte, error) {
	dst = append(dst, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		var err error
		if dst, err = AppendJSON(dst, m[k]); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func appendJSONList(dst []byte, l []Value) ([]byte, error) {
	dst = append(dst, '[')
	for i, v := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = AppendJSON(dst, v); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func appendJSONArray[T any](dst []byte, s []T, f func([]byte, T) []byte) []byte {
	dst = append(dst, '[')
	for i, x := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = f(dst, x)
	}
	return append(dst, ']')
}

func appendJSONNumber(dst []byte, n Number) []byte {
	dst = append(dst, '"')
	dst = append(dst, n.String()...)
	return append(dst, '"')
}

func appendJSONBinary(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping quotes, backslashes
// and control characters and replacing invalid UTF-8 with U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		dst = appendJSONByte(dst, c)
		i++
	}
	return append(dst, '"')
}

// appendJSONByte appends one ASCII byte of a JSON string, escaped if needed.
func appendJSONByte(dst []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(dst, '\\', c)
	case c == '\n':
		return append(dst, '\\', 'n')
	case c == '\r':
		return append(dst, '\\', 'r')
	case c == '\t':
		return append(dst, '\\', 't')
	case c < 0x20:
		return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
	}
	return append(dst, c)
}

// String returns v's JSON form, or "<invalid>" for a Value without a valid
// Type; for logs, errors and test output.
func (v Value) String() string {
	b, err := AppendJSON(nil, v)
	if err != nil {
		return "<invalid>"
	}
	return string(b)
}
