package item

// Sizes follow DynamoDB's accounting ("Item sizes and formats" in the
// Developer Guide):
//
//   - S: UTF-8 bytes; B: raw bytes.
//   - N: one byte per base-100 digit of the value (pairs of decimal digits
//     aligned at the decimal point, leading and trailing zero pairs
//     trimmed), plus one byte, plus one more for a negative number. This
//     refines the guide's "1 byte per two significant digits + 1 byte" and
//     agrees with its examples (27: 2 bytes, -27: 3, 461: 3). Zero is 1 byte.
//   - BOOL and NULL: 1 byte.
//   - M and L: 3 bytes, plus per element 1 byte and the element's size (and
//     for M the key's UTF-8 bytes).
//   - SS, NS, BS: the sum of their members' sizes.
//
// An item's size is the sum over attributes of the name's UTF-8 bytes and
// the value's size.

// Size is the value's size by DynamoDB's accounting rules.
func (v Value) Size() int {
	switch v.Type {
	case TypeS:
		return len(v.S)
	case TypeN:
		return v.N.Size()
	case TypeB:
		return len(v.B)
	case TypeBOOL, TypeNULL:
		return 1
	case TypeM:
		return 3 + mapSize(v.M, 1)
	case TypeL:
		return 3 + listSize(v.L)
	case TypeSS:
		return sumSize(v.SS, func(s string) int { return len(s) })
	case TypeNS:
		return sumSize(v.NS, Number.Size)
	case TypeBS:
		return sumSize(v.BS, func(b []byte) int { return len(b) })
	}
	return 0
}

// Size is the item's size by DynamoDB's rules: attribute names plus values.
func (it Item) Size() int { return mapSize(it, 0) }

// AttributeSize is the size one attribute adds to an item: its name's
// UTF-8 bytes plus its value's size.
func AttributeSize(name string, v Value) int { return len(name) + v.Size() }

// Size is the number's size by DynamoDB's rules (see Value.Size).
func (n Number) Size() int {
	if n.digits == "" {
		return 1
	}
	// Digit i of 0.digits has weight 10^(exp-1-i); base-100 digit k holds
	// weights 10^(2k) and 10^(2k+1).
	first := floorDiv2(int(n.exp) - 1)
	last := floorDiv2(int(n.exp) - len(n.digits))
	size := first - last + 2
	if n.neg {
		size++
	}
	return size
}

// floorDiv2 is x/2 rounded towards minus infinity.
func floorDiv2(x int) int { return x >> 1 }

// mapSize sums names and values of m, plus overhead bytes per entry.
func mapSize(m map[string]Value, overhead int) int {
	n := 0
	for k, v := range m {
		n += len(k) + v.Size() + overhead
	}
	return n
}

func listSize(l []Value) int {
	n := 0
	for _, v := range l {
		n += v.Size() + 1
	}
	return n
}

func sumSize[T any](s []T, size func(T) int) int {
	n := 0
	for _, x := range s {
		n += size(x)
	}
	return n
}
