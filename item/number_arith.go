package item

import "math/big"

// Add returns n+m exactly, or an *Error if the result is out of DynamoDB's
// range or needs more than 38 significant digits. DynamoDB reports a result
// that is too precise as a "Number overflow", and so does Add.
func (n Number) Add(m Number) (Number, error) {
	switch {
	case n.digits == "":
		return m, nil
	case m.digits == "":
		return n, nil
	}
	// Write both as integer * 10^scale with the smaller scale, add the
	// integers, and normalise the sum.
	an, sn := n.bigInt()
	am, sm := m.bigInt()
	scale := min(sn, sm)
	an = shiftLeft(an, sn-scale)
	am = shiftLeft(am, sm-scale)
	sum := an.Add(an, am)
	return fromBigInt(sum, scale)
}

// Sub returns n-m, like Add.
func (n Number) Sub(m Number) (Number, error) { return n.Add(m.Neg()) }

// bigInt returns n as i * 10^scale with i an integer.
func (n Number) bigInt() (*big.Int, int) {
	i, ok := new(big.Int).SetString(n.digits, 10)
	if !ok {
		panic("item: corrupt Number digits")
	}
	if n.neg {
		i.Neg(i)
	}
	return i, int(n.exp) - len(n.digits)
}

var bigTen = big.NewInt(10)

// shiftLeft multiplies i by 10^k (k >= 0) in place.
func shiftLeft(i *big.Int, k int) *big.Int {
	if k == 0 {
		return i
	}
	p := new(big.Int).Exp(bigTen, big.NewInt(int64(k)), nil)
	return i.Mul(i, p)
}

// fromBigInt returns i * 10^scale as a checked Number.
func fromBigInt(i *big.Int, scale int) (Number, error) {
	neg := i.Sign() < 0
	abs := new(big.Int).Abs(i).String()
	n := normalize(abs, int64(len(abs))+int64(scale), neg)
	if len(n.digits) > MaxDigits && n.exp >= minExp {
		return Number{}, validationError(msgOverflow)
	}
	return checked(n)
}
