package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"hash"
	"sync"
)

// signingKey is a key derived for one (secret, date, region, service).
type signingKey [sha256.Size]byte

// deriveKey computes SigV4's signing key:
//
//	kDate    = HMAC("AWS4" + secret, date)
//	kRegion  = HMAC(kDate, region)
//	kService = HMAC(kRegion, service)
//	kSigning = HMAC(kService, "aws4_request")
func deriveKey(secret, date, region, service string) signingKey {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	var out signingKey
	copy(out[:], hmacSHA256(k, terminator))
	return out
}

// macKey is a signing key with HMAC-SHA256's two padded key blocks
// already hashed: the marshaled SHA-256 states after (key XOR ipad) and
// after (key XOR opad). A request's HMAC then starts from them, hashing
// its message and the inner digest alone. Immutable once made.
type macKey struct {
	key          signingKey
	inner, outer []byte
}

func newMACKey(key signingKey) *macKey {
	const block = 64
	m := &macKey{key: key}
	for i, pad := range []byte{0x36, 0x5c} {
		var padded [block]byte
		for j := range padded {
			padded[j] = pad
			if j < len(key) {
				padded[j] ^= key[j]
			}
		}
		h := sha256.New()
		h.Write(padded[:])
		state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			panic("auth: SHA-256 state does not marshal: " + err.Error()) // crypto/sha256 always does
		}
		if i == 0 {
			m.inner = state
		} else {
			m.outer = state
		}
	}
	return m
}

// sum appends HMAC-SHA256(m.key, msg) to out[:0], using h (a SHA-256
// hash.Hash the caller reuses; its state is overwritten).
func (m *macKey) sum(h hash.Hash, msg, out []byte) []byte {
	u := h.(encoding.BinaryUnmarshaler)
	if err := u.UnmarshalBinary(m.inner); err != nil {
		panic("auth: SHA-256 state does not unmarshal: " + err.Error()) // it came from MarshalBinary
	}
	h.Write(msg)
	out = h.Sum(out[:0])
	if err := u.UnmarshalBinary(m.outer); err != nil {
		panic("auth: SHA-256 state does not unmarshal: " + err.Error())
	}
	h.Write(out)
	return h.Sum(out[:0])
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// keyCache holds derived signing keys by (access key, date, region), so
// that a key is derived once a day per region instead of once per
// request (four HMACs). It is bounded: two generations of at most size/2
// entries each; when the current one fills up, it becomes the previous
// one and the older is dropped. Safe for concurrent use.
type keyCache struct {
	mu       sync.Mutex
	half     int
	cur, old map[cacheKey]cachedKey
}

type cacheKey struct{ accessKeyID, date, region string }

// cachedKey remembers the secret its key came from: a secret changed
// under the same access key id derives a new key.
type cachedKey struct {
	secret string
	key    *macKey
}

func newKeyCache(size int) *keyCache {
	half := max(size/2, 1)
	return &keyCache{half: half, cur: make(map[cacheKey]cachedKey), old: map[cacheKey]cachedKey{}}
}

// get returns the signing key of (accessKeyID, secret, date, region),
// deriving and caching it on a miss.
func (c *keyCache) get(accessKeyID, secret, date, region, service string) *macKey {
	ck := cacheKey{accessKeyID, date, region}
	c.mu.Lock()
	e, ok := c.cur[ck]
	if !ok {
		if e, ok = c.old[ck]; ok && e.secret == secret {
			c.put(ck, e)
		}
	}
	c.mu.Unlock()
	if ok && e.secret == secret {
		return e.key
	}
	e = cachedKey{secret: secret, key: newMACKey(deriveKey(secret, date, region, service))}
	c.mu.Lock()
	c.put(ck, e)
	c.mu.Unlock()
	return e.key
}

// put stores e; c.mu is held.
func (c *keyCache) put(ck cacheKey, e cachedKey) {
	if _, ok := c.cur[ck]; !ok && len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[cacheKey]cachedKey, c.half)
	}
	c.cur[ck] = e
}

// len returns the number of cached keys.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
