package item

// The JSON decoder as it was before the single-pass scanner: every level
// parsed with json.Unmarshal. It is kept, unchanged but renamed, as the
// reference FuzzJSONDecodeMatchesReference compares the decoder with and as
// the "before" of BenchmarkUnmarshalItem.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
)

// refUnmarshalValue is the old Value.UnmarshalJSON. It reads a DynamoDB
// AttributeValue and validates it as DynamoDB does (see Value.Validate). Errors are *Error values: wrong JSON types (such
// as {"S": 5}) and bad base64 are SerializationExceptions; a missing or
// repeated type, {"NULL": false}, an empty set, duplicate set members, an
// invalid Number and too deep nesting are ValidationExceptions. A member
// that is JSON null counts as absent; JSON null for the whole value leaves v
// unchanged.
func refUnmarshalValue(data []byte, v *Value) error {
	if refIsJSONNull(data) {
		return nil
	}
	var d refDecoder
	got := d.value(data, 1)
	if err := d.err(); err != nil {
		return err
	}
	*v = got
	return nil
}

// refUnmarshalItem is the old Item.UnmarshalJSON. It reads a JSON object of
// AttributeValues, validating each as Value.UnmarshalJSON does. Attributes whose value is JSON null are
// skipped. When several attributes are wrong, a serialization error wins
// over a validation error, and otherwise the first attribute in name order.
func refUnmarshalItem(data []byte, it *Item) error {
	if refIsJSONNull(data) {
		return nil
	}
	var d refDecoder
	got := d.item(data, 1)
	if err := d.err(); err != nil {
		return err
	}
	*it = got
	return nil
}

// refDecoder decodes AttributeValues, keeping the first serialization error
// and the first validation error; DynamoDB deserialises a whole request
// before validating it, so a serialization error is the one reported.
type refDecoder struct {
	serial *Error
	valid  *Error
}

func (d *refDecoder) err() error {
	switch {
	case d.serial != nil:
		return d.serial
	case d.valid != nil:
		return d.valid
	}
	return nil
}

func (d *refDecoder) failSerial(msg string) {
	if d.serial == nil {
		d.serial = serializationError(msg)
	}
}

func (d *refDecoder) failValid(err error) {
	if e, ok := err.(*Error); ok && d.valid == nil {
		d.valid = e
	}
}

// item decodes an object of attribute values found at nesting level.
func (d *refDecoder) item(data []byte, level int) Item {
	raw, ok := d.object(data, "Map")
	if !ok {
		return nil
	}
	return d.members(raw, level)
}

// members decodes the raw attribute values of a map found at level - 1.
func (d *refDecoder) members(raw map[string]json.RawMessage, level int) Item {
	it := make(Item, len(raw))
	for _, k := range sortedKeys(raw) {
		if refIsJSONNull(raw[k]) {
			continue
		}
		it[k] = d.value(raw[k], level)
		if d.serial != nil {
			return nil
		}
	}
	return it
}

// value decodes one AttributeValue found at nesting level.
func (d *refDecoder) value(data []byte, level int) Value {
	raw, ok := d.object(data, "Structure")
	if !ok {
		return Value{}
	}
	var v Value
	types := 0
	for _, name := range typeNames[1:] {
		member, present := raw[name]
		if !present || refIsJSONNull(member) {
			continue
		}
		t, _ := ParseType(name)
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

// member decodes the payload of an AttributeValue of type t.
func (d *refDecoder) member(t Type, data []byte, level int) Value {
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

// object parses a JSON object into its raw members.
func (d *refDecoder) object(data []byte, want string) (map[string]json.RawMessage, bool) {
	if k := refJSONKind(data); k != '{' {
		d.failSerial(refMismatchMessage(k, want))
		return nil, false
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		d.failSerial("Malformed JSON: " + err.Error())
		return nil, false
	}
	return raw, true
}

// array parses a JSON array into its raw elements.
func (d *refDecoder) array(data []byte) ([]json.RawMessage, bool) {
	if k := refJSONKind(data); k != '[' {
		d.failSerial(refMismatchMessage(k, "List"))
		return nil, false
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		d.failSerial("Malformed JSON: " + err.Error())
		return nil, false
	}
	return raw, true
}

func (d *refDecoder) string(data []byte) (string, bool) {
	if k := refJSONKind(data); k != '"' {
		d.failSerial(refMismatchMessage(k, "String"))
		return "", false
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		d.failSerial("Malformed JSON: " + err.Error())
		return "", false
	}
	return s, true
}

func (d *refDecoder) bool(data []byte) bool {
	switch refJSONKind(data) {
	case 't':
		return true
	case 'f':
		return false
	}
	d.failSerial(refMismatchMessage(refJSONKind(data), "Boolean"))
	return false
}

func (d *refDecoder) number(data []byte) Number {
	s, ok := d.string(data)
	if !ok {
		return Number{}
	}
	n, err := ParseNumber(s)
	d.failValid(err)
	return n
}

func (d *refDecoder) binary(data []byte) []byte {
	s, ok := d.string(data)
	if !ok {
		return nil
	}
	b, err := refDecodeBase64(s)
	if err != nil {
		d.failSerial(err.Msg)
	}
	return b
}

// mapMember decodes the payload of an M found at level; its values are one
// level deeper.
func (d *refDecoder) mapMember(data []byte, level int) map[string]Value {
	raw, ok := d.object(data, "Map")
	if !ok {
		return nil
	}
	if len(raw) > 0 && level >= MaxDepth {
		d.failValid(validationError(msgDepth))
		return nil
	}
	return d.members(raw, level+1)
}

// list decodes the payload of an L found at level.
func (d *refDecoder) list(data []byte, level int) []Value {
	raw, ok := d.array(data)
	if !ok {
		return nil
	}
	if len(raw) > 0 && level >= MaxDepth {
		d.failValid(validationError(msgDepth))
		return nil
	}
	l := make([]Value, 0, len(raw))
	for _, e := range raw {
		l = append(l, d.value(e, level+1))
		if d.serial != nil {
			return nil
		}
	}
	return l
}

// set decodes the payload of an SS, NS or BS into v and validates it.
func (d *refDecoder) set(v *Value, data []byte) {
	raw, ok := d.array(data)
	if !ok {
		return
	}
	members := make([]string, 0, len(raw))
	for _, e := range raw {
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
func (d *refDecoder) setMembers(v *Value, members []string) {
	switch v.Type {
	case TypeSS:
		v.SS = members
	case TypeNS:
		v.NS = make([]Number, len(members))
		for i, s := range members {
			v.NS[i] = d.number(refJSONQuote(s))
		}
	case TypeBS:
		v.BS = make([][]byte, len(members))
		for i, s := range members {
			v.BS[i] = d.binary(refJSONQuote(s))
		}
	}
	if d.serial != nil || d.valid != nil {
		return
	}
	if len(members) == 0 {
		d.failValid(emptySetError(v.Type))
		return
	}
	if refSetHasDuplicates(*v) {
		d.failValid(duplicatesError(members))
	}
}

func refSetHasDuplicates(v Value) bool {
	switch v.Type {
	case TypeSS:
		return hasDuplicates(v.SS, strings.Compare)
	case TypeNS:
		return hasDuplicates(v.NS, Number.Cmp)
	}
	return hasDuplicates(v.BS, bytes.Compare)
}

func refJSONQuote(s string) []byte { return appendJSONString(nil, s) }

// refJSONKind returns the first byte of a JSON value after white space: '{',
// '[', '"', 't', 'f', 'n', or a digit or '-' for a number (0 if empty).
func refJSONKind(data []byte) byte {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return 0
	}
	return data[0]
}

func refIsJSONNull(data []byte) bool { return refJSONKind(data) == 'n' }

// refMismatchMessage is DynamoDB's serialization message for a JSON value of
// kind k where a value of type want (String, Boolean, List, Map,
// Structure) was expected.
func refMismatchMessage(k byte, want string) string {
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

// refDecodeBase64 decodes standard padded base64 as DynamoDB accepts it for
// B and BS members, with its SerializationException messages.
func refDecodeBase64(s string) ([]byte, *Error) {
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
