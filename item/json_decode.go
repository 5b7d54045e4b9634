package item

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// UnmarshalJSON reads a DynamoDB AttributeValue and validates it as DynamoDB
// does (see Value.Validate). Errors are *Error values: wrong JSON types (such
// as {"S": 5}) and bad base64 are SerializationExceptions; a missing or
// repeated type, {"NULL": false}, an empty set, duplicate set members, an
// invalid Number and too deep nesting are ValidationExceptions. A member
// that is JSON null counts as absent; JSON null for the whole value leaves v
// unchanged.
func (v *Value) UnmarshalJSON(data []byte) error {
	if isJSONNullText(data) {
		return nil
	}
	var d jsonDecoder
	got := d.value(data, 1)
	if err := d.err(); err != nil {
		return err
	}
	*v = got
	return nil
}

// UnmarshalJSON reads a JSON object of AttributeValues, validating each as
// Value.UnmarshalJSON does. Attributes whose value is JSON null are
// skipped. When several attributes are wrong, a serialization error wins
// over a validation error, and otherwise the first attribute in name order.
func (it *Item) UnmarshalJSON(data []byte) error {
	if isJSONNullText(data) {
		return nil
	}
	var d jsonDecoder
	got := d.item(data, 1)
	if err := d.err(); err != nil {
		return err
	}
	*it = got
	return nil
}

// jsonDecoder decodes AttributeValues, keeping the first serialization error
// and the first validation error; DynamoDB deserialises a whole request
// before validating it, so a serialization error is the one reported.
type jsonDecoder struct {
	serial *Error
	valid  *Error
}

func (d *jsonDecoder) err() error {
	switch {
	case d.serial != nil:
		return d.serial
	case d.valid != nil:
		return d.valid
	}
	return nil
}

func (d *jsonDecoder) failSerial(msg string) {
	if d.serial == nil {
		d.serial = serializationError(msg)
	}
}

func (d *jsonDecoder) failValid(err error) {
	if e, ok := err.(*Error); ok && d.valid == nil {
		d.valid = e
	}
}

// item decodes an object of attribute values found at nesting level.
func (d *jsonDecoder) item(data []byte, level int) Item {
	var buf [8]JSONMember
	ms, ok := d.object(data, "Map", buf[:0])
	if !ok {
		return nil
	}
	return d.members(ms, level)
}

// jsonField is an object member with its key unquoted.
type jsonField struct {
	name string
	val  []byte
}

// members decodes the raw attribute values of a map found at level - 1,
// in name order; of repeated names the last one counts, as when
// encoding/json fills a map.
func (d *jsonDecoder) members(ms []JSONMember, level int) Item {
	var buf [8]jsonField
	fs := buf[:0]
	for _, m := range ms {
		name, ok := unquoteJSON(m.Key)
		if !ok {
			d.failSerial(malformedJSON(m.Key))
			return nil
		}
		fs = append(fs, jsonField{name, m.Value})
	}
	if len(fs) > 1 {
		// Stable, so that a run of equal names keeps the written order
		// and its last member is the one that counts.
		slices.SortStableFunc(fs, func(a, b jsonField) int { return strings.Compare(a.name, b.name) })
	}
	it := make(Item, len(fs))
	for i, f := range fs {
		if i+1 < len(fs) && fs[i+1].name == f.name || isJSONNull(f.val) {
			continue
		}
		it[f.name] = d.value(f.val, level)
		if d.serial != nil {
			return nil
		}
	}
	return it
}

// value decodes one AttributeValue found at nesting level.
func (d *jsonDecoder) value(data []byte, level int) Value {
	var buf [4]JSONMember
	ms, ok := d.object(data, "Structure", buf[:0])
	if !ok {
		return Value{}
	}
	// The last member naming each type; other names are ignored.
	var byType [TypeBS + 1][]byte
	for _, m := range ms {
		t, ok := typeOfKey(m.Key)
		if !ok {
			d.failSerial(malformedJSON(m.Key))
			return Value{}
		}
		if t != 0 {
			byType[t] = m.Value
		}
	}
	var v Value
	types := 0
	for t := TypeS; t <= TypeBS; t++ {
		member := byType[t]
		if member == nil || isJSONNull(member) {
			continue
		}
		v = d.member(t, member, level)
		types++
	}
	switch {
	case types == 0:
		d.failValid(validationError(msgEmptyValue))
	case types > 1:
		d.failValid(validationError(msgMultipleTypes))
	}
	return v
}

// typeOfKey returns the Type a member key names, 0 for none.
func typeOfKey(tok []byte) (Type, bool) {
	if b, ok := plainJSONString(tok); ok {
		return typeNamed(b), true
	}
	s, ok := unquoteJSON(tok)
	if !ok {
		return 0, false
	}
	t, _ := ParseType(s)
	return t, true
}

// typeNamed is ParseType for a name still in the request's bytes (a switch
// on string(b) does not copy b).
func typeNamed(b []byte) Type {
	switch string(b) {
	case "S":
		return TypeS
	case "N":
		return TypeN
	case "B":
		return TypeB
	case "BOOL":
		return TypeBOOL
	case "NULL":
		return TypeNULL
	case "M":
		return TypeM
	case "L":
		return TypeL
	case "SS":
		return TypeSS
	case "NS":
		return TypeNS
	case "BS":
		return TypeBS
	}
	return 0
}

// member decodes the payload of an AttributeValue of type t.
func (d *jsonDecoder) member(t Type, data []byte, level int) Value {
	v := Value{Type: t}
	switch t {
	case TypeS:
		v.S, _ = d.string(data)
	case TypeN:
		v.N = d.number(data)
	case TypeB:
		v.B = d.binary(data)
	case TypeBOOL:
		v.BOOL = d.bool(data)
	case TypeNULL:
		if !d.bool(data) && d.serial == nil {
			d.failValid(validationError(msgNullFalse))
		}
	case TypeM:
		v.M = d.mapMember(data, level)
	case TypeL:
		v.L = d.list(data, level)
	default:
		d.set(&v, data)
	}
	return v
}

// object splits a JSON object into its members, appended to buf. data is
// either what a caller handed to UnmarshalJSON, checked here in full, or a
// span this scanner already checked.
func (d *jsonDecoder) object(data []byte, want string, buf []JSONMember) ([]JSONMember, bool) {
	i := skipJSONSpace(data, 0)
	if i == len(data) || data[i] != '{' {
		d.failSerial(mismatchMessage(jsonKind(data), want))
		return nil, false
	}
	ms, end := scanJSONObject(data, i, 1, true, buf)
	if end < 0 || skipJSONSpace(data, end) != len(data) {
		d.failSerial(malformedJSON(data))
		return nil, false
	}
	return ms, true
}

// array splits a JSON array into its elements, appended to buf.
func (d *jsonDecoder) array(data []byte, buf [][]byte) ([][]byte, bool) {
	i := skipJSONSpace(data, 0)
	if i == len(data) || data[i] != '[' {
		d.failSerial(mismatchMessage(jsonKind(data), "List"))
		return nil, false
	}
	es, end := scanJSONArray(data, i, 1, true, buf)
	if end < 0 || skipJSONSpace(data, end) != len(data) {
		d.failSerial(malformedJSON(data))
		return nil, false
	}
	return es, true
}

// stringToken checks that data is a JSON string where a value of type want
// is expected.
func (d *jsonDecoder) stringToken(data []byte, want string) bool {
	if k := jsonKind(data); k != '"' {
		d.failSerial(mismatchMessage(k, want))
		return false
	}
	return true
}

func (d *jsonDecoder) string(data []byte) (string, bool) {
	if !d.stringToken(data, "String") {
		return "", false
	}
	s, ok := unquoteJSON(data)
	if !ok {
		d.failSerial(malformedJSON(data))
		return "", false
	}
	return s, true
}

func (d *jsonDecoder) bool(data []byte) bool {
	switch jsonKind(data) {
	case 't':
		return true
	case 'f':
		return false
	}
	d.failSerial(mismatchMessage(jsonKind(data), "Boolean"))
	return false
}

func (d *jsonDecoder) number(data []byte) Number {
	s, ok := d.string(data)
	if !ok {
		return Number{}
	}
	n, err := ParseNumber(s)
	d.failValid(err)
	return n
}

// binary decodes a B payload. Its base64 text is decoded straight from the
// request's bytes unless it needs unquoting (then it is rarely valid
// base64 anyway).
func (d *jsonDecoder) binary(data []byte) []byte {
	if !d.stringToken(data, "String") {
		return nil
	}
	if text, ok := plainJSONString(data); ok {
		return d.base64(text)
	}
	s, ok := d.string(data)
	if !ok {
		return nil
	}
	return d.base64([]byte(s))
}

func (d *jsonDecoder) base64(text []byte) []byte {
	b, err := decodeBase64(text)
	if err != nil {
		d.failSerial(err.Msg)
	}
	return b
}

// mapMember decodes the payload of an M found at level; its values are one
// level deeper.
func (d *jsonDecoder) mapMember(data []byte, level int) map[string]Value {
	var buf [8]JSONMember
	ms, ok := d.object(data, "Map", buf[:0])
	if !ok {
		return nil
	}
	if len(ms) > 0 && level >= MaxDepth {
		d.failValid(validationError(msgDepth))
		return nil
	}
	return d.members(ms, level+1)
}

// list decodes the payload of an L found at level.
func (d *jsonDecoder) list(data []byte, level int) []Value {
	var buf [8][]byte
	es, ok := d.array(data, buf[:0])
	if !ok {
		return nil
	}
	if len(es) > 0 && level >= MaxDepth {
		d.failValid(validationError(msgDepth))
		return nil
	}
	l := make([]Value, 0, len(es))
	for _, e := range es {
		l = append(l, d.value(e, level+1))
		if d.serial != nil {
			return nil
		}
	}
	return l
}

// set decodes the payload of an SS, NS or BS into v and validates it.
func (d *jsonDecoder) set(v *Value, data []byte) {
	var buf [8][]byte
	es, ok := d.array(data, buf[:0])
	if !ok {
		return
	}
	members := make([]string, 0, len(es))
	for _, e := range es {
		s, ok := d.string(e)
		if !ok {
			return
		}
		members = append(members, s)
	}
	d.setMembers(v, members)
}

// setMembers converts the members of a set as written into v, then checks
// the set is non-empty and has no duplicates.
func (d *jsonDecoder) setMembers(v *Value, members []string) {
	switch v.Type {
	case TypeSS:
		v.SS = members
	case TypeNS:
		v.NS = make([]Number, len(members))
		for i, s := range members {
			n, err := ParseNumber(s)
			d.failValid(err)
			v.NS[i] = n
		}
	case TypeBS:
		v.BS = make([][]byte, len(members))
		for i, s := range members {
			v.BS[i] = d.base64([]byte(s))
		}
	}
	if d.serial != nil || d.valid != nil {
		return
	}
	if len(members) == 0 {
		d.failValid(emptySetError(v.Type))
		return
	}
	if setHasDuplicates(*v) {
		d.failValid(duplicatesError(members))
	}
}

func setHasDuplicates(v Value) bool {
	switch v.Type {
	case TypeSS:
		return hasDuplicates(v.SS, strings.Compare)
	case TypeNS:
		return hasDuplicates(v.NS, Number.Cmp)
	}
	return hasDuplicates(v.BS, bytes.Compare)
}

// jsonKind returns the first byte of a JSON value after white space: '{',
// '[', '"', 't', 'f', 'n', or a digit or '-' for a number (0 if empty).
func jsonKind(data []byte) byte {
	if i := skipJSONSpace(data, 0); i < len(data) {
		return data[i]
	}
	return 0
}

// isJSONNull reports whether a value the scanner has checked is null.
func isJSONNull(data []byte) bool { return jsonKind(data) == 'n' }

// isJSONNullText reports whether data, handed to UnmarshalJSON, is the
// JSON text null. Unlike isJSONNull it checks the whole text, so that
// malformed input beginning with n is not taken for null.
func isJSONNullText(data []byte) bool {
	i := skipJSONSpace(data, 0)
	return bytes.HasPrefix(data[i:], []byte("null")) && skipJSONSpace(data, i+len("null")) == len(data)
}

// malformedJSON is the serialization message for data the scanner
// rejected, with encoding/json's description of the fault.
func malformedJSON(data []byte) string {
	if !ValidJSONStrings(data) {
		return msgInvalidString
	}
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return "Malformed JSON: " + err.Error()
	}
	return "Malformed JSON"
}

// mismatchMessage is DynamoDB's serialization message for a JSON value of
// kind k where a value of type want (String, Boolean, List, Map,
// Structure) was expected.
func mismatchMessage(k byte, want string) string {
	switch k {
	case '{':
		return "Start of structure or map found where not expected"
	case '[':
		return "Start of list found where not expected"
	}
	if want == "List" || want == "Map" || want == "Structure" {
		return "Unexpected value type in payload"
	}
	token := map[byte]string{'"': "STRING_VALUE", 't': "TRUE_VALUE", 'f': "FALSE_VALUE", 'n': "NULL_VALUE"}[k]
	if token == "" {
		token = "NUMBER_VALUE"
	}
	return token + " cannot be converted to " + want
}
