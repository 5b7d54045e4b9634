package item

// Exported access to the JSON scanner, for request decoders outside this
// package that want to split a request body in the same single pass the
// AttributeValue decoder uses, instead of handing it to encoding/json.

// JSONMember is one member of a JSON object as written: Key is the key's
// string token (quotes and any escapes included) and Value is the value's
// text, without the white space around it.
type JSONMember struct {
	Key, Value []byte
}

// ScanJSONObject splits data into the members of the one JSON object it
// holds, in the order written, appending them to buf (pass a small array's
// slice to avoid allocation). ok is false unless data, apart from JSON white
// space around it, is exactly one syntactically valid object, by the same
// rules as encoding/json, nesting limit included (data is taken as a whole
// document: the object is at depth 1). Keys and values are not unquoted or
// decoded, and repeated keys are all returned.
func ScanJSONObject(data []byte, buf []JSONMember) (members []JSONMember, ok bool) {
	i := skipJSONSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		return buf, false
	}
	ms, end := scanJSONObject(data, i, 1, true, buf)
	if end < 0 || skipJSONSpace(data, end) != len(data) {
		return buf, false
	}
	return ms, true
}

// UnquoteJSONString returns the value of a JSON string token (quotes
// included), as encoding/json would unquote it. ok is false when tok is not
// a valid string token, or holds invalid UTF-8 or a lone surrogate escape,
// which encoding/json would turn into U+FFFD (see ValidJSONStrings).
func UnquoteJSONString(tok []byte) (s string, ok bool) {
	if len(tok) < 2 || tok[0] != '"' || scanJSONString(tok, 0) != len(tok) {
		return "", false
	}
	return unquoteJSON(tok)
}
