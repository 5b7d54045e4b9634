package settings

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is a setting's type.
type Kind int

// The kinds of settings.
const (
	Duration Kind = iota + 1 // a Go duration: 250ms, 2s, 1m30s
	Int                      // a whole number
	Bytes                    // a size: 1048576, 16MiB, 512KiB, 1GB
	Float                    // a real number: 0.5
	Bool                     // true or false
	Enum                     // one of the setting's Choices
)

var kindNames = map[Kind]string{Duration: "duration", Int: "int", Bytes: "bytes", Float: "float", Bool: "bool", Enum: "enum"}

func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Value is a parsed setting value. The zero Value is not valid.
type Value struct {
	kind Kind
	num  float64 // Duration (nanoseconds), Int, Bytes, Float, Bool (0 or 1)
	str  string  // Enum
}

// Kind is the value's kind.
func (v Value) Kind() Kind { return v.kind }

// Duration is a Duration value.
func (v Value) Duration() time.Duration { return time.Duration(v.num) }

// Int is an Int or Bytes value (or a Duration in nanoseconds).
func (v Value) Int() int64 { return int64(v.num) }

// Float is a Float value, or any numeric value as a float.
func (v Value) Float() float64 { return v.num }

// Bool is a Bool value.
func (v Value) Bool() bool { return v.num != 0 }

// Str is an Enum value.
func (v Value) Str() string { return v.str }

// String is the value in its canonical form: what Parse reads back.
func (v Value) String() string {
	switch v.kind {
	case Duration:
		return v.Duration().String()
	case Int:
		return strconv.FormatInt(v.Int(), 10)
	case Bytes:
		return formatBytes(v.Int())
	case Float:
		return strconv.FormatFloat(v.num, 'g', -1, 64)
	case Bool:
		return strconv.FormatBool(v.Bool())
	case Enum:
		return v.str
	}
	return ""
}

// Equal reports whether v and w are the same value of the same kind.
func (v Value) Equal(w Value) bool { return v == w }

// parse reads text as a value of kind k; choices are an Enum's values.
func parse(k Kind, text string, choices []string) (Value, error) {
	text = strings.TrimSpace(text)
	switch k {
	case Duration:
		d, err := time.ParseDuration(text)
		if err != nil {
			return Value{}, fmt.Errorf("%q is not a duration (e.g. 250ms, 2s, 1m30s)", text)
		}
		return Value{kind: k, num: float64(d)}, nil
	case Int:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n > 1<<53 || n < -(1<<53) {
			return Value{}, fmt.Errorf("%q is not a whole number", text)
		}
		return Value{kind: k, num: float64(n)}, nil
	case Bytes:
		n, err := parseBytes(text)
		if err != nil {
			return Value{}, err
		}
		return Value{kind: k, num: float64(n)}, nil
	case Float:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return Value{}, fmt.Errorf("%q is not a number", text)
		}
		return Value{kind: k, num: f}, nil
	case Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return Value{}, fmt.Errorf("%q is not true or false", text)
		}
		v := Value{kind: k}
		if b {
			v.num = 1
		}
		return v, nil
	case Enum:
		for _, c := range choices {
			if strings.EqualFold(c, text) {
				return Value{kind: k, str: c}, nil
			}
		}
		return Value{}, fmt.Errorf("%q is not one of %s", text, strings.Join(choices, ", "))
	}
	return Value{}, fmt.Errorf("unknown kind %v", k)
}

// byteUnits are the size suffixes Bytes values accept, longest first.
var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

func parseBytes(text string) (int64, error) {
	num, mult := text, int64(1)
	for _, u := range byteUnits {
		if rest, ok := strings.CutSuffix(text, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || (mult > 1 && n > math.MaxInt64/mult) || n*mult > 1<<53 {
		return 0, fmt.Errorf("%q is not a size (e.g. 1048576, 512KiB, 16MiB, 1GB)", text)
	}
	return n * mult, nil
}

// formatBytes writes n with the unit, binary or decimal, that divides it
// into the smallest number: 16MiB, 16MB, 1000B.
func formatBytes(n int64) string {
	best, suffix := n, "B"
	for _, u := range byteUnits {
		if n != 0 && n%u.mult == 0 && n/u.mult < best {
			best, suffix = n/u.mult, u.suffix
		}
	}
	return strconv.FormatInt(best, 10) + suffix
}
