package dynamo

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// Exact member names. encoding/json matches an object's keys to struct
// fields without regard to case, so {"tablename":"t"} would fill
// TableName. DynamoDB's members are case-sensitive and it ignores the ones
// it does not know: there, "tablename" is an unknown member and TableName
// is missing. exactMembers removes, before encoding/json sees the body,
// every key of an object bound for a struct that is not spelled exactly as
// one of the struct's JSON names, at every depth. Keys of maps (item
// attributes, expression placeholders) are data and stay; values read by
// their own UnmarshalJSON (attribute values) are left to it.

// shape is what exactMembers needs of a Go type.
type shape struct {
	kind   reflect.Kind      // Struct, Map, Slice; anything else is skipped
	fields map[string]*shape // a struct's members by exact JSON name
	elem   *shape            // a map's values, a slice's elements
}

// skipShape is the shape of a value exactMembers does not look into.
var skipShape = &shape{}

// shapes memoizes shapeOf per request type. It holds facts about Go types,
// the same for every request, as encoding/json's own field cache does.
var shapes sync.Map // reflect.Type -> *shape

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// shapeOf returns the shape of t, building and caching it on first use.
func shapeOf(t reflect.Type) *shape {
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s := buildShape(t, map[reflect.Type]*shape{})
	actual, _ := shapes.LoadOrStore(t, s)
	return actual.(*shape)
}

// buildShape describes t; seen breaks cycles of recursive types.
func buildShape(t reflect.Type, seen map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := seen[t]; ok {
		return s
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return skipShape
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &shape{kind: reflect.Struct, fields: map[string]*shape{}}
		seen[t] = s
		addFields(s, t, seen)
		return s
	case reflect.Map, reflect.Slice:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return skipShape // []byte is a base64 string
		}
		s := &shape{kind: t.Kind()}
		seen[t] = s
		s.elem = buildShape(t.Elem(), seen)
		return s
	}
	return skipShape
}

// addFields adds t's exported fields to s under their JSON names,
// embedded structs' fields included.
func addFields(s *shape, t reflect.Type, seen map[reflect.Type]*shape) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			addFields(s, ft, seen)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.fields[name] = buildShape(f.Type, seen)
	}
}

// exactMembers returns body without the members encoding/json would bind
// to req's fields by a case-insensitive match. It returns body itself
// (no copy) when there are none, and also when body is not well-formed
// JSON, for encoding/json to report.
func exactMembers(body []byte, req any) []byte {
	w := memberWalker{body: body}
	end, ok := w.value(skipSpace(body, 0), shapeOf(reflect.TypeOf(req)))
	// The walker only finds where values end; before cutting, the body
	// must be JSON, or a cut could hide a malformed member.
	if !ok || len(w.cuts) == 0 || skipSpace(body, end) != len(body) || !json.Valid(body) {
		return body
	}
	out := make([]byte, 0, len(body))
	prev := 0
	for _, c := range w.cuts {
		out = append(out, body[prev:c[0]]...)
		prev = c[1]
	}
	return append(out, body[prev:]...)
}

// memberWalker walks a JSON body along a shape and records the byte
// ranges of the members to cut, in order.
type memberWalker struct {
	body []byte
	cuts [][2]int
}

// value walks the value at i and returns the offset just past it.
func (w *memberWalker) value(i int, s *shape) (int, bool) {
	if i >= len(w.body) {
		return i, false
	}
	switch w.body[i] {
	case '{':
		return w.object(i, s)
	case '[':
		return w.array(i, s)
	case '"':
		return skipString(w.body, i)
	}
	return skipLiteral(w.body, i)
}

// object walks the object at i. Bound for a struct, its members that are
// not exact field names are cut, with the comma that separates each from
// a kept neighbour.
func (w *memberWalker) object(i int, s *shape) (int, bool) {
	i = skipSpace(w.body, i+1)
	if i < len(w.body) && w.body[i] == '}' {
		return i + 1, true
	}
	keptBefore := false // a member of this object before this one is kept
	pending := -1       // start of a cut first member, whose end is the next member's start
	commaBefore := -1   // offset of the comma before this member
	for {
		start := i
		if pending >= 0 {
			w.cuts = append(w.cuts, [2]int{pending, start})
			pending = -1
		}
		key, end, ok := readKey(w.body, i)
		if !ok {
			return end, false
		}
		i = skipSpace(w.body, end)
		if i >= len(w.body) || w.body[i] != ':' {
			return i, false
		}
		i = skipSpace(w.body, i+1)
		child, keep := w.member(s, key)
		if i, ok = w.value(i, child); !ok {
			return i, false
		}
		switch {
		case keep:
			keptBefore = true
		case keptBefore:
			w.cuts = append(w.cuts, [2]int{commaBefore, i})
		default:
			pending = start
		}
		i = skipSpace(w.body, i)
		if i >= len(w.body) {
			return i, false
		}
		switch w.body[i] {
		case '}':
			if pending >= 0 {
				w.cuts = append(w.cuts, [2]int{pending, i})
			}
			return i + 1, true
		case ',':
			commaBefore = i
			i = skipSpace(w.body, i+1)
		default:
			return i, false
		}
	}
}

// member returns the shape of the value under key in an object of shape s,
// and whether the member stays.
func (w *memberWalker) member(s *shape, key []byte) (*shape, bool) {
	switch s.kind {
	case reflect.Struct:
		if f, ok := s.fields[string(key)]; ok {
			return f, true
		}
		return skipShape, false
	case reflect.Map:
		return s.elem, true
	}
	return skipShape, true
}

// array walks the array at i, each element along s's element shape.
func (w *memberWalker) array(i int, s *shape) (int, bool) {
	elem := skipShape
	if s.kind == reflect.Slice {
		elem = s.elem
	}
	i = skipSpace(w.body, i+1)
	if i < len(w.body) && w.body[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = w.value(i, elem); !ok {
			return i, false
		}
		i = skipSpace(w.body, i)
		if i >= len(w.body) {
			return i, false
		}
		switch w.body[i] {
		case ']':
			return i + 1, true
		case ',':
			i = skipSpace(w.body, i+1)
		default:
			return i, false
		}
	}
}

// readKey reads the object key at i, unescaped as encoding/json would
// before matching it.
func readKey(b []byte, i int) ([]byte, int, bool) {
	end, ok := skipString(b, i)
	if !ok {
		return nil, end, false
	}
	raw := b[i+1 : end-1]
	if !hasEscape(raw) {
		return raw, end, true
	}
	var key string
	if json.Unmarshal(b[i:end], &key) != nil {
		return nil, end, false
	}
	return []byte(key), end, true
}

func hasEscape(b []byte) bool { return bytes.IndexByte(b, '\\') >= 0 }

// skipString returns the offset past the string that starts at i.
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return len(b), false
		}
		q := j + k
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, true
		}
		j = q + 1
	}
}

// skipLiteral returns the offset past the number, true, false or null at
// i. It only finds the literal's end: encoding/json judges it.
func skipLiteral(b []byte, i int) (int, bool) {
	start := i
	for i < len(b) {
		c := b[i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '{' || c == '[' || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	return i, i > start
}

// skipSpace returns the offset of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
