package item

import "unicode/utf8"

// A string in a request must mean exactly one sequence of Unicode scalar
// values. encoding/json reads invalid UTF-8 and lone surrogate escapes
// ("\ud800") as U+FFFD, so two keys the client sent as different byte
// strings would become one stored key; DynamoDB refuses such a request
// (SerializationException), and so does this package.

// ValidJSONStrings reports whether every string of the JSON text data is
// valid UTF-8 and has no lone surrogate escape: a "\uD800".."\uDBFF"
// escape must be followed at once by a "\uDC00".."\uDFFF" one, and a low
// surrogate escape must not stand alone. Text outside strings is not
// checked for syntax; bytes of invalid UTF-8 there fail too.
func ValidJSONStrings(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	return validEscapes(data)
}

// validEscapes reports whether data has no lone surrogate escape. A
// backslash escapes the one byte after it, so "\\ud800" is a backslash
// and five letters, not an escape.
func validEscapes(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if i+1 >= len(data) || data[i+1] != 'u' {
			i++ // skip the escaped byte
			continue
		}
		r, ok := hexEscape(data, i)
		switch {
		case !ok || !isSurrogate(r):
			i += 1 // an invalid escape is the scanner's to reject
		case r >= 0xDC00:
			return false // a low surrogate first
		default:
			low, ok := hexEscape(data, i+6)
			if !ok || low < 0xDC00 || low > 0xDFFF {
				return false
			}
			i += 11
		}
	}
	return true
}

// hexEscape reads the "\uXXXX" escape at data[i].
func hexEscape(data []byte, i int) (rune, bool) {
	if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range data[i+2 : i+6] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

func isSurrogate(r rune) bool { return 0xD800 <= r && r <= 0xDFFF }
