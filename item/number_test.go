package item

import (
	"errors"
	"strings"
	"testing"
)

func TestParseNumberCanonical(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"0", "0"},
		{"-0", "0"},
		{"+0", "0"},
		{"0.000", "0"},
		{"0e10", "0"},
		{"-0.0e-999", "0"},
		{"1", "1"},
		{"1.0", "1"},
		{"10E-1", "1"},
		{"0.1e1", "1"},
		{"+5", "5"},
		{"+1e2", "100"},
		{"1e+2", "100"},
		{"1.5E+3", "1500"},
		{"-7", "-7"},
		{"-1.5", "-1.5"},
		{".5", "0.5"},
		{"5.", "5"},
		{"-.5e1", "-5"},
		{"1E2", "100"},
		{"1E-3", "0.001"},
		{"00012.3400", "12.34"},
		{"123.456", "123.456"},
		{"0.000123", "0.000123"},
		{"1e100", "1" + strings.Repeat("0", 100)},
		{"1E-130", "0." + strings.Repeat("0", 129) + "1"},
		{"9.9999999999999999999999999999999999999E+125", strings.Repeat("9", 38) + strings.Repeat("0", 88)},
		{"-9.9999999999999999999999999999999999999E+125", "-" + strings.Repeat("9", 38) + strings.Repeat("0", 88)},
		{strings.Repeat("1", 38), strings.Repeat("1", 38)},
		{strings.Repeat("1", 38) + "000000", strings.Repeat("1", 38) + "000000"},
		{"0.00" + strings.Repeat("7", 38) + "000", "0.00" + strings.Repeat("7", 38)},
		{"0000000000000000000000000000000000000000000001", "1"},
		{"100000000000000000000000000000000000000000000e-44", "1"},
	}
	for _, tt := range tests {
		n, err := ParseNumber(tt.in)
		if err != nil {
			t.Errorf("ParseNumber(%q): %v", tt.in, err)
			continue
		}
		if got := n.String(); got != tt.want {
			t.Errorf("ParseNumber(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseNumber(n.String())
		if err != nil || back != n {
			t.Errorf("re-parse of %q: %v, %v; want %v", n.String(), back, err, n)
		}
	}
}

func TestParseNumberEquality(t *testing.T) {
	same := [][]string{
		{"1", "1.0", "10E-1", "0.1e1", "+1", "001", "1.", "100e-2"},
		{"0", "-0", "0.0", "0e5", "-0e-5", ".0", "0."},
		{"-2.5", "-25e-1", "-0.25E1", "-2.50"},
	}
	for _, group := range same {
		first := MustNumber(group[0])
		for _, s := range group[1:] {
			if n := MustNumber(s); n != first {
				t.Errorf("%q != %q: %#v vs %#v", s, group[0], n, first)
			}
		}
	}
	if MustNumber("1") == MustNumber("-1") || MustNumber("1") == MustNumber("10") {
		t.Error("distinct numbers compare ==")
	}
}

func TestParseNumberErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", msgNotNumeric},
		{"abc", msgNotNumeric + "abc"},
		{" 7", msgNotNumeric + " 7"},
		{"7 ", msgNotNumeric + "7 "},
		{"-", msgNotNumeric + "-"},
		{"+", msgNotNumeric + "+"},
		{".", msgNotNumeric + "."},
		{"e5", msgNotNumeric + "e5"},
		{"+e2", msgNotNumeric + "+e2"},
		{"1e", msgNotNumeric + "1e"},
		{"1e+", msgNotNumeric + "1e+"},
		{"1.2.3", msgNotNumeric + "1.2.3"},
		{"1+2", msgNotNumeric + "1+2"},
		{"--1", msgNotNumeric + "--1"},
		{"0x10", msgNotNumeric + "0x10"},
		{"NaN", msgNotNumeric + "NaN"},
		{"Infinity", msgNotNumeric + "Infinity"},
		{"1_000", msgNotNumeric + "1_000"},
		{"1e1.5", msgNotNumeric + "1e1.5"},
		{"1E126", msgOverflow},
		{"-1E126", msgOverflow},
		{"1e99999999999999999999", msgOverflow},
		{"1E-131", msgUnderflow},
		{"-0.9E-130", msgUnderflow},
		{"1e-99999999999999999999", msgUnderflow},
		{strings.Repeat("1", 39), msgPrecision},
		{"1." + strings.Repeat("0", 37) + "1", msgPrecision},
	}
	for _, tt := range tests {
		_, err := ParseNumber(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("ParseNumber(%q) = %v, want *Error %q", tt.in, err, tt.want)
			continue
		}
		if e.Msg != tt.want || e.Serialization {
			t.Errorf("ParseNumber(%q) error = %q (serialization %v), want %q", tt.in, e.Msg, e.Serialization, tt.want)
		}
	}
}

func TestNumberCmp(t *testing.T) {
	ordered := []string{
		"-9.9999999999999999999999999999999999999E+125", "-1e10", "-11", "-10", "-2", "-1.5", "-1",
		"-0.5", "-1e-130", "0", "1e-130", "0.001", "0.0011", "0.5", "1", "1.05", "1.5", "2", "10", "11",
		"100", "1e100", "9.9999999999999999999999999999999999999E+125",
	}
	for i, a := range ordered {
		for j, b := range ordered {
			want := cmpInt(i, j)
			if got := MustNumber(a).Cmp(MustNumber(b)); got != want {
				t.Errorf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

func TestNumberAddSub(t *testing.T) {
	tests := []struct {
		a, b, sum, diff string
	}{
		{"1", "2", "3", "-1"},
		{"0", "0", "0", "0"},
		{"0", "-5", "-5", "5"},
		{"1.5", "1.5", "3", "0"},
		{"0.1", "0.2", "0.3", "-0.1"},
		{"1e100", "1", "", ""},
		{"1e20", "1", "100000000000000000001", "99999999999999999999"},
		{"-1e-130", "1e-130", "0", "-2e-130"},
		{"123.456", "-0.456", "123", "123.912"},
		{"9.9999999999999999999999999999999999999E+125", "1E+88", "", "9.9999999999999999999999999999999999998E+125"},
	}
	for _, tt := range tests {
		a, b := MustNumber(tt.a), MustNumber(tt.b)
		checkArith(t, "Add", tt.a, tt.b, tt.sum, func() (Number, error) { return a.Add(b) })
		checkArith(t, "Sub", tt.a, tt.b, tt.diff, func() (Number, error) { return a.Sub(b) })
	}
}

// checkArith compares an arithmetic result with want ("" = some *Error).
func checkArith(t *testing.T, op, a, b, want string, f func() (Number, error)) {
	t.Helper()
	got, err := f()
	if want == "" {
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s(%s, %s) = %v, %v; want *Error", op, a, b, got, err)
		}
		return
	}
	if err != nil || got != MustNumber(want) {
		t.Errorf("%s(%s, %s) = %v, %v; want %s", op, a, b, got, err, want)
	}
}

func TestNumberArithLimits(t *testing.T) {
	max := MustNumber("9.9999999999999999999999999999999999999E+125")
	if _, err := max.Add(MustNumber("1E+88")); err == nil || err.Error() != msgOverflow {
		t.Errorf("max+1E88: %v, want overflow", err)
	}
	// DynamoDB calls a result needing more than 38 digits an overflow.
	if _, err := MustNumber("1e20").Add(MustNumber("1e-20")); err == nil || err.Error() != msgOverflow {
		t.Errorf("1e20+1e-20: %v, want overflow", err)
	}
	if _, err := MustNumber("1e50").Sub(MustNumber("1")); err == nil || err.Error() != msgOverflow {
		t.Errorf("1e50-1: %v, want overflow", err)
	}
	if _, err := MustNumber("9e125").Add(MustNumber("9e125")); err == nil || err.Error() != msgOverflow {
		t.Errorf("9e125+9e125: %v, want overflow", err)
	}
	if _, err := MustNumber("1.1e-130").Sub(MustNumber("1e-130")); err == nil || err.Error() != msgUnderflow {
		t.Errorf("1.1e-130-1e-130: %v, want underflow", err)
	}
}

func TestNumberFromInt(t *testing.T) {
	for _, i := range []int64{0, 1, -1, 10, 1200, -987654321, 1<<63 - 1, -1 << 63} {
		n := NumberFromInt(i)
		back, ok := n.Int64()
		if !ok || back != i {
			t.Errorf("NumberFromInt(%d).Int64() = %d, %v", i, back, ok)
		}
	}
	for _, s := range []string{"1.5", "1e19", "-1e19", "0.001"} {
		if _, ok := MustNumber(s).Int64(); ok {
			t.Errorf("%s.Int64() ok, want not ok", s)
		}
	}
}
