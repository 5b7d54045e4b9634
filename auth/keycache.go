package auth

import (
	"crypto/hmac"
	"crypto/sha256"
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
	key    signingKey
}

func newKeyCache(size int) *keyCache {
	half := max(size/2, 1)
	return &keyCache{half: half, cur: make(map[cacheKey]cachedKey), old: map[cacheKey]cachedKey{}}
}

// get returns the signing key of (accessKeyID, secret, date, region),
// deriving and caching it on a miss.
func (c *keyCache) get(accessKeyID, secret, date, region, service string) signingKey {
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
	e = cachedKey{secret: secret, key: deriveKey(secret, date, region, service)}
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
