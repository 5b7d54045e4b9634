package item

import (
	"strconv"
	"strings"
)

// Number is an exact decimal as DynamoDB stores it: up to 38 significant
// digits, magnitude between 1E-130 and 9.9999999999999999999999999999999999999E+125,
// or zero. A Number is kept in canonical form, so two Numbers are numerically
// equal exactly when they are == (1, 1.0 and 10E-1 are the same Number).
// The zero Number is 0.
type Number struct {
	digits string // significant digits, no leading or trailing zeros; "" for zero
	exp    int32  // value = 0.digits * 10^exp; 0 for zero
	neg    bool   // never set for zero
}

// ParseNumber parses a DynamoDB number string: an optional sign, digits with
// an optional decimal point (".5" and "5." are accepted), and an optional
// exponent (e or E, optional sign, digits). No spaces. Errors are *Error
// values carrying DynamoDB's message.
func ParseNumber(s string) (Number, error) {
	p, ok := scanNumber(s)
	if !ok {
		return Number{}, validationError(msgNotNumeric + s)
	}
	return p.number()
}

// MustNumber is ParseNumber that panics; for tests and constants.
func MustNumber(s string) Number {
	n, err := ParseNumber(s)
	if err != nil {
		panic("item.MustNumber(" + strconv.Quote(s) + "): " + err.Error())
	}
	return n
}

// NumberFromInt returns i as a Number.
func NumberFromInt(i int64) Number {
	s := strconv.FormatInt(i, 10)
	neg := i < 0
	if neg {
		s = s[1:]
	}
	return normalize(s, int64(len(s)), neg)
}

// scanned is a syntactically valid number before normalisation:
// value = 0.mant * 10^exp, mant holding every digit written.
type scanned struct {
	mant string
	exp  int64
	neg  bool
}

// maxScanExp caps exponents while scanning; anything beyond it is far out of
// range, so saturating there keeps the arithmetic safe without changing the
// outcome.
const maxScanExp = 1 << 40

// scanNumber checks the syntax of s and splits it into its parts.
func scanNumber(s string) (scanned, bool) {
	var p scanned
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		p.neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[intStart:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[fs:i]
	}
	if intPart == "" && frac == "" {
		return p, false
	}
	e, ok := scanExponent(s[i:])
	if !ok {
		return p, false
	}
	p.mant = intPart + frac
	p.exp = e + int64(len(intPart))
	return p, true
}

// scanExponent parses "" or an exponent part "e[+-]digits", saturating at
// ±maxScanExp.
func scanExponent(s string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	if s[0] != 'e' && s[0] != 'E' {
		return 0, false
	}
	s = s[1:]
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var e int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		e = min(e*10+int64(s[i]-'0'), maxScanExp)
	}
	if neg {
		e = -e
	}
	return e, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number normalises p and checks it against DynamoDB's limits.
func (p scanned) number() (Number, error) {
	return checked(normalize(p.mant, p.exp, p.neg))
}

// normalize strips leading and trailing zeros from mant (value =
// 0.mant * 10^exp) without checking limits. The exponent is kept in an
// int64 so out-of-range values can still be detected by checked: the
// returned Number's exp is clamped to one past the supported range.
func normalize(mant string, exp int64, neg bool) Number {
	lead := 0
	for lead < len(mant) && mant[lead] == '0' {
		lead++
	}
	mant = strings.TrimRight(mant[lead:], "0")
	if mant == "" {
		return Number{}
	}
	exp -= int64(lead)
	exp = max(min(exp, maxExp+1), minExp-1)
	return Number{digits: mant, exp: int32(exp), neg: neg}
}

// checked returns n, or DynamoDB's error if n is out of range or too precise.
func checked(n Number) (Number, error) {
	switch {
	case n.digits == "":
		return n, nil
	case n.exp > maxExp:
		return Number{}, validationError(msgOverflow)
	case n.exp < minExp:
		return Number{}, validationError(msgUnderflow)
	case len(n.digits) > MaxDigits:
		return Number{}, validationError(msgPrecision)
	}
	return n, nil
}

// String prints n as DynamoDB prints numbers in responses: plain decimal
// notation, never an exponent ("100" for 1E2, "0.001" for 1E-3, "-1.5"),
// however large or small the magnitude.
func (n Number) String() string {
	if n.digits == "" {
		return "0"
	}
	var b strings.Builder
	b.Grow(len(n.digits) + 4 + int(max(n.exp, -n.exp)))
	if n.neg {
		b.WriteByte('-')
	}
	d, e := n.digits, int(n.exp)
	switch {
	case e <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -e))
		b.WriteString(d)
	case e >= len(d):
		b.WriteString(d)
		b.WriteString(strings.Repeat("0", e-len(d)))
	default:
		b.WriteString(d[:e])
		b.WriteByte('.')
		b.WriteString(d[e:])
	}
	return b.String()
}

// IsZero reports whether n is 0.
func (n Number) IsZero() bool { return n.digits == "" }

// Sign returns -1, 0 or +1.
func (n Number) Sign() int {
	switch {
	case n.digits == "":
		return 0
	case n.neg:
		return -1
	}
	return 1
}

// Neg returns -n.
func (n Number) Neg() Number {
	if n.digits != "" {
		n.neg = !n.neg
	}
	return n
}

// Digits returns the number of significant digits of n (0 for zero).
func (n Number) Digits() int { return len(n.digits) }

// Int64 returns n as an int64, and false if n is not an integer or does not
// fit.
func (n Number) Int64() (int64, bool) {
	if n.digits == "" {
		return 0, true
	}
	if int(n.exp) < len(n.digits) || n.exp > 19 {
		return 0, false
	}
	s := n.digits + strings.Repeat("0", int(n.exp)-len(n.digits))
	if n.neg {
		s = "-" + s
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

// Cmp compares numerically: -1, 0, +1.
func (n Number) Cmp(m Number) int {
	sn, sm := n.Sign(), m.Sign()
	if sn != sm {
		return cmpInt(sn, sm)
	}
	if sn == 0 {
		return 0
	}
	c := cmpMagnitude(n, m)
	if n.neg {
		return -c
	}
	return c
}

// cmpMagnitude compares |n| and |m|, both non-zero.
func cmpMagnitude(n, m Number) int {
	if n.exp != m.exp {
		return cmpInt(int(n.exp), int(m.exp))
	}
	// Same exponent: 0.digits compare as strings, a prefix being smaller.
	return strings.Compare(n.digits, m.digits)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
