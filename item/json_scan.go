package item

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"
)

// A small JSON scanner for the AttributeValue decoder. Objects and arrays
// are split into raw member and element spans in one pass that also checks
// the syntax, so the decoder never hands a level to encoding/json (which
// would scan it again for validity, again to skip it and again to unquote
// it). The scan functions take the whole text and the index where a token
// starts, and return the index just past it, or -1 when the text is not
// JSON.

// maxJSONDepth is encoding/json's limit on nesting: text it rejects as too
// deep must not be accepted here, and text it accepts must not be refused.
const maxJSONDepth = 10000

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipJSONSpace(data []byte, i int) int {
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	return i
}

// scanJSONValue reads the value starting at data[i] (white space already
// skipped); depth is the number of containers around it.
func scanJSONValue(data []byte, i, depth int) int {
	if i >= len(data) {
		return -1
	}
	switch c := data[i]; {
	case c == '"':
		return scanJSONString(data, i)
	case c == '{':
		_, end := scanJSONObject(data, i, depth+1, false, nil)
		return end
	case c == '[':
		_, end := scanJSONArray(data, i, depth+1, false, nil)
		return end
	case c == 't':
		return scanJSONLiteral(data, i, "true")
	case c == 'f':
		return scanJSONLiteral(data, i, "false")
	case c == 'n':
		return scanJSONLiteral(data, i, "null")
	case c == '-' || isDigit(c):
		return scanJSONNumber(data, i)
	}
	return -1
}

// scanJSONObject reads the object starting at data[i] ('{'), whose nesting
// depth is depth (1 for a top-level object). With collect set it appends
// the members to ms, in the order written, and returns the extended slice;
// callers pass a small array's slice so that objects of a few members need
// no allocation.
func scanJSONObject(data []byte, i, depth int, collect bool, ms []JSONMember) ([]JSONMember, int) {
	if depth > maxJSONDepth {
		return ms, -1
	}
	i = skipJSONSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return ms, i + 1
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return ms, -1
		}
		keyEnd := scanJSONString(data, i)
		if keyEnd < 0 {
			return ms, -1
		}
		key := data[i:keyEnd]
		i = skipJSONSpace(data, keyEnd)
		if i >= len(data) || data[i] != ':' {
			return ms, -1
		}
		start := skipJSONSpace(data, i+1)
		if i = scanJSONValue(data, start, depth); i < 0 {
			return ms, -1
		}
		if collect {
			ms = append(ms, JSONMember{Key: key, Value: data[start:i]})
		}
		if i = skipJSONSpace(data, i); i >= len(data) {
			return ms, -1
		}
		switch data[i] {
		case ',':
			i = skipJSONSpace(data, i+1)
		case '}':
			return ms, i + 1
		default:
			return ms, -1
		}
	}
}

// scanJSONArray reads the array starting at data[i] ('['), as scanJSONObject
// reads an object, appending the elements to es when collect is set.
func scanJSONArray(data []byte, i, depth int, collect bool, es [][]byte) ([][]byte, int) {
	if depth > maxJSONDepth {
		return es, -1
	}
	i = skipJSONSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return es, i + 1
	}
	for {
		start := i
		if i = scanJSONValue(data, start, depth); i < 0 {
			return es, -1
		}
		if collect {
			es = append(es, data[start:i])
		}
		if i = skipJSONSpace(data, i); i >= len(data) {
			return es, -1
		}
		switch data[i] {
		case ',':
			i = skipJSONSpace(data, i+1)
		case ']':
			return es, i + 1
		default:
			return es, -1
		}
	}
}

func scanJSONLiteral(data []byte, i int, lit string) int {
	if !bytes.HasPrefix(data[i:], []byte(lit)) {
		return -1
	}
	return i + len(lit)
}

// scanJSONNumber reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func scanJSONNumber(data []byte, i int) int {
	if data[i] == '-' {
		i++
	}
	switch {
	case i >= len(data) || !isDigit(data[i]):
		return -1
	case data[i] == '0':
		i++
	default:
		i = skipDigits(data, i)
	}
	if i < len(data) && data[i] == '.' {
		if i++; i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		i = skipDigits(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		if i++; i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return -1
		}
		i = skipDigits(data, i)
	}
	return i
}

func skipDigits(data []byte, i int) int {
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	return i
}

// hasControlByte is non-zero exactly when some byte of x is below 0x20.
func hasControlByte(x uint64) uint64 {
	const lowBits, highBits = 0x0101010101010101, 0x8080808080808080
	return (x - 0x20*lowBits) & ^x & highBits
}

// hasControlChar reports whether b holds a control character, which JSON
// forbids unescaped in a string. Such bytes are almost never there, so it
// tests 32 bytes a round and looks at the result once, at the end.
func hasControlChar(b []byte) bool {
	var found uint64
	for len(b) >= 32 {
		found |= hasControlByte(binary.LittleEndian.Uint64(b)) |
			hasControlByte(binary.LittleEndian.Uint64(b[8:])) |
			hasControlByte(binary.LittleEndian.Uint64(b[16:])) |
			hasControlByte(binary.LittleEndian.Uint64(b[24:]))
		b = b[32:]
	}
	for len(b) >= 8 {
		found |= hasControlByte(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return found != 0
}

// scanJSONString reads the string starting at data[i] ('"'). Any byte but
// a control character may appear unescaped, invalid UTF-8 included, as
// encoding/json allows (unquoteJSON refuses it). Most strings
// have no escape: their end is the next quote, found (like the check for a
// backslash before it) with bytes.IndexByte, which is fast on long base64
// payloads.
func scanJSONString(data []byte, i int) int {
	i++
	q := bytes.IndexByte(data[i:], '"')
	if q < 0 {
		return -1
	}
	if body := data[i : i+q]; bytes.IndexByte(body, '\\') < 0 {
		if hasControlChar(body) {
			return -1
		}
		return i + q + 1
	}
	for i < len(data) {
		switch c := data[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(data) {
				return -1
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(data) || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
	return -1
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// plainJSONString returns the bytes between the quotes of a string token
// when they are its value as they stand: no escapes and valid UTF-8.
// Otherwise ok is false and the token needs unquoteJSON.
func plainJSONString(tok []byte) (b []byte, ok bool) {
	if len(tok) < 2 {
		return nil, false
	}
	b = tok[1 : len(tok)-1]
	if bytes.IndexByte(b, '\\') >= 0 || !utf8.Valid(b) {
		return nil, false
	}
	return b, true
}

// unquoteJSON returns the value of a string token. Escapes are rare in
// requests, so they are left to encoding/json. A token with invalid UTF-8
// or a lone surrogate escape is refused (see ValidJSONStrings): encoding/json
// would read it as U+FFFD, and two distinct tokens as one string.
func unquoteJSON(tok []byte) (string, bool) {
	if b, ok := plainJSONString(tok); ok {
		return string(b), true
	}
	if !ValidJSONStrings(tok) {
		return "", false
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		return "", false
	}
	return s, true
}
