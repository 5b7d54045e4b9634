package item

import "fmt"

// AppendKeyPrefix appends the encoding shared by the keys of every S or B
// value that begins with v (v's escaped bytes without the terminator), so
// begins_with(sk, v) is the byte range [prefix, PrefixEnd(prefix)).
func AppendKeyPrefix(dst []byte, v Value) ([]byte, error) {
	switch v.Type {
	case TypeS, TypeB:
		k, err := AppendKey(dst, v)
		if err != nil {
			return dst, err
		}
		return k[:len(k)-2], nil // drop the 0x00 0x01 terminator
	}
	return dst, fmt.Errorf("key prefix of type %v: %w", v.Type, ErrKeyType)
}
