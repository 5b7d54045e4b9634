package item

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct{ in, out string }{
		{`{"S":"hello"}`, `{"S":"hello"}`},
		{`{"S":""}`, `{"S":""}`},
		{`{"S":"a\"b\\c\n\u0001é😀"}`, `{"S":"a\"b\\c\n\u0001é😀"}`},
		{`{"N":"1E2"}`, `{"N":"100"}`},
		{`{"N":"-0.50"}`, `{"N":"-0.5"}`},
		{`{"B":"AAEC"}`, `{"B":"AAEC"}`},
		{`{"B":""}`, `{"B":""}`},
		{`{"BOOL":false}`, `{"BOOL":false}`},
		{`{"NULL":true}`, `{"NULL":true}`},
		{`{"M":{}}`, `{"M":{}}`},
		{`{"M":{"b":{"S":"x"},"a":{"N":"1"}}}`, `{"M":{"a":{"N":"1"},"b":{"S":"x"}}}`},
		{`{"L":[]}`, `{"L":[]}`},
		{`{"L":[{"S":"x"},{"L":[{"NULL":true}]}]}`, `{"L":[{"S":"x"},{"L":[{"NULL":true}]}]}`},
		{`{"SS":["b","a",""]}`, `{"SS":["b","a",""]}`},
		{`{"NS":["1","2.50","-3e1"]}`, `{"NS":["1","2.5","-30"]}`},
		{`{"BS":["AA==","AQ=="]}`, `{"BS":["AA==","AQ=="]}`},
		{` { "S" : "x" , "N" : null } `, `{"S":"x"}`},
		{`{"S":"x","Unknown":5}`, `{"S":"x"}`},
	}
	for _, tt := range tests {
		var v Value
		if err := json.Unmarshal([]byte(tt.in), &v); err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Errorf("Marshal(%s): %v", tt.in, err)
			continue
		}
		if string(out) != tt.out {
			t.Errorf("round trip of %s = %s, want %s", tt.in, out, tt.out)
		}
		var back Value
		if err := json.Unmarshal(out, &back); err != nil || !Equal(v, back) {
			t.Errorf("re-decode of %s: %v, equal %v", out, err, Equal(v, back))
		}
	}
}

func TestJSONErrors(t *testing.T) {
	deep := func(n int) string {
		return strings.Repeat(`{"M":{"a":`, n) + `{"S":"x"}` + strings.Repeat(`}}`, n)
	}
	deepList := func(n int) string {
		return strings.Repeat(`{"L":[`, n) + `{"S":"x"}` + strings.Repeat(`]}`, n)
	}
	tests := []struct {
		in     string
		msg    string
		serial bool
	}{
		{`{}`, msgEmptyValue, false},
		{`{"S":null}`, msgEmptyValue, false},
		{`{"s":"x"}`, msgEmptyValue, false},
		{`{"S":"x","N":"1"}`, msgMultipleTypes, false},
		{`{"NULL":false}`, msgNullFalse, false},
		{`{"SS":[]}`, "One or more parameter values were invalid: An string set  may not be empty", false},
		{`{"NS":[]}`, "One or more parameter values were invalid: An number set  may not be empty", false},
		{`{"BS":[]}`, "One or more parameter values were invalid: An binary set  may not be empty", false},
		{`{"SS":["a","a"]}`, "One or more parameter values were invalid: Input collection [a, a] contains duplicates.", false},
		{`{"NS":["1","1.0","2"]}`, "One or more parameter values were invalid: Input collection [1, 1.0, 2] contains duplicates.", false},
		{`{"BS":["AA==","AA=="]}`, "One or more parameter values were invalid: Input collection [AA==, AA==] contains duplicates.", false},
		{`{"N":"abc"}`, msgNotNumeric + "abc", false},
		{`{"N":"1e126"}`, msgOverflow, false},
		{`{"NS":["1","x"]}`, msgNotNumeric + "x", false},
		{`{"M":{"a":{}}}`, msgEmptyValue, false},
		{`{"L":[{"NULL":false}]}`, msgNullFalse, false},
		{deep(31), "", false},
		{deep(32), msgDepth, false},
		{deepList(31), "", false},
		{deepList(32), msgDepth, false},
		{`{"S":5}`, "NUMBER_VALUE cannot be converted to String", true},
		{`{"S":true}`, "TRUE_VALUE cannot be converted to String", true},
		{`{"S":{}}`, "Start of structure or map found where not expected", true},
		{`{"S":[]}`, "Start of list found where not expected", true},
		{`{"N":1}`, "NUMBER_VALUE cannot be converted to String", true},
		{`{"BOOL":"true"}`, "STRING_VALUE cannot be converted to Boolean", true},
		{`{"NULL":1}`, "NUMBER_VALUE cannot be converted to Boolean", true},
		{`{"M":[]}`, "Start of list found where not expected", true},
		{`{"M":"x"}`, "Unexpected value type in payload", true},
		{`{"L":{}}`, "Start of structure or map found where not expected", true},
		{`{"SS":[1]}`, "NUMBER_VALUE cannot be converted to String", true},
		{`{"SS":"a"}`, "Unexpected value type in payload", true},
		{`{"B":"abc"}`, "Base64 encoded length is expected a multiple of 4 bytes but found: 3", true},
		{`{"B":"ab!c"}`, "Invalid Base64 character found", true},
		{`{"B":"AA==\r\n"}`, "Base64 encoded length is expected a multiple of 4 bytes but found: 6", true},
		{`{"BS":["AA=="," AA="]}`, "Invalid Base64 character found", true},
		{`"x"`, "Unexpected value type in payload", true},
		{`[]`, "Start of list found where not expected", true},
		// A serialization error wins over a validation error anywhere.
		{`{"M":{"a":{"NULL":false},"b":{"S":5}}}`, "NUMBER_VALUE cannot be converted to String", true},
		{`{"S":"x","N":5}`, "NUMBER_VALUE cannot be converted to String", true},
	}
	for _, tt := range tests {
		var v Value
		err := json.Unmarshal([]byte(tt.in), &v)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("Unmarshal(%.60s): %v", tt.in, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Unmarshal(%s) = %v, want *Error %q", tt.in, err, tt.msg)
			continue
		}
		if e.Msg != tt.msg || e.Serialization != tt.serial {
			t.Errorf("Unmarshal(%.60s) = %q (serialization %v), want %q (%v)", tt.in, e.Msg, e.Serialization, tt.msg, tt.serial)
		}
	}
}

func TestJSONItem(t *testing.T) {
	in := `{"id":{"S":"a"},"n":{"N":"01"},"skip":null,"m":{"M":{"x":{"BOOL":true}}}}`
	var it Item
	if err := json.Unmarshal([]byte(in), &it); err != nil {
		t.Fatal(err)
	}
	want := Item{"id": S("a"), "n": N(MustNumber("1")), "m": {Type: TypeM, M: map[string]Value{"x": Bool(true)}}}
	if !EqualItems(it, want) {
		t.Fatalf("decoded %v, want %v", it, want)
	}
	out, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	if got := `{"id":{"S":"a"},"m":{"M":{"x":{"BOOL":true}}},"n":{"N":"1"}}`; string(out) != got {
		t.Errorf("Marshal = %s, want %s", out, got)
	}
	var req struct {
		Item Item
	}
	err = json.Unmarshal([]byte(`{"Item":{"a":{"S":"x"},"b":{"NULL":false},"c":{"S":1}}}`), &req)
	var e *Error
	if !errors.As(err, &e) || !e.Serialization {
		t.Errorf("item with both kinds of error: %v, want the serialization error", err)
	}
	if err := json.Unmarshal([]byte(`{"Item":null}`), &req); err != nil || req.Item != nil {
		t.Errorf("null Item: %v, %v", req.Item, err)
	}
	if err := json.Unmarshal([]byte(`{"Item":5}`), &req); err == nil {
		t.Error("Item 5: no error")
	}
}

func TestMarshalInvalid(t *testing.T) {
	if _, err := json.Marshal(Value{}); err == nil {
		t.Error("Marshal of zero Value: no error")
	}
	if _, err := json.Marshal(Value{Type: TypeL, L: []Value{{}}}); err == nil {
		t.Error("Marshal of list holding zero Value: no error")
	}
	if b, err := json.Marshal(Value{Type: TypeS, S: "\xff<"}); err != nil || string(b) != `{"S":"\ufffd\u003c"}` {
		t.Errorf("invalid UTF-8: %s, %v", b, err)
	}
}

func TestValueString(t *testing.T) {
	v := Value{Type: TypeM, M: map[string]Value{"n": N(MustNumber("1e2")), "b": B([]byte{1})}}
	if got, want := v.String(), `{"M":{"b":{"B":"AQ=="},"n":{"N":"100"}}}`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got := (Value{}).String(); got != "<invalid>" {
		t.Errorf("zero Value String() = %s", got)
	}
}
