package auth

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Credentials finds the secret of an access key. Implementations must be
// safe for concurrent use; Lookup is called once per request, so it must
// be cheap (a map read, not I/O).
type Credentials interface {
	// Lookup returns the secret access key and the user name of
	// accessKeyID, or ok false if the key is unknown (or disabled).
	Lookup(accessKeyID string) (secret, user string, ok bool)
}

// Key is one access key of a user.
type Key struct {
	AccessKeyID string `json:"access_key_id"`
	Secret      string `json:"secret_access_key"`
	User        string `json:"user"`
}

// StaticCredentials is a fixed set of keys, typically read from a file
// with LoadCredentialsFile. It is immutable, so safe for concurrent use.
type StaticCredentials struct {
	keys map[string]Key
}

var _ Credentials = (*StaticCredentials)(nil)

// NewStaticCredentials returns the credentials of keys. It rejects an
// empty or malformed field and an access key id given twice.
func NewStaticCredentials(keys ...Key) (*StaticCredentials, error) {
	c := &StaticCredentials{keys: make(map[string]Key, len(keys))}
	for i, k := range keys {
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("%w: key %d: %w", ErrCredentialsFile, i+1, err)
		}
		if _, dup := c.keys[k.AccessKeyID]; dup {
			return nil, fmt.Errorf("%w: access key id %q given twice", ErrCredentialsFile, k.AccessKeyID)
		}
		c.keys[k.AccessKeyID] = k
	}
	return c, nil
}

// Lookup implements Credentials.
func (c *StaticCredentials) Lookup(accessKeyID string) (secret, user string, ok bool) {
	k, ok := c.keys[accessKeyID]
	return k.Secret, k.User, ok
}

// Len returns the number of keys.
func (c *StaticCredentials) Len() int { return len(c.keys) }

// Keys returns the keys of c, in no order.
func (c *StaticCredentials) Keys() []Key {
	out := make([]Key, 0, len(c.keys))
	for _, k := range c.keys {
		out = append(out, k)
	}
	return out
}

// validate checks a key can appear in a SigV4 credential scope: an id of
// letters and digits (AWS's are 16 to 128), a secret and a user without
// spaces.
func (k Key) validate() error {
	switch {
	case k.AccessKeyID == "" || k.Secret == "" || k.User == "":
		return fmt.Errorf("access key id, secret and user are all required")
	case len(k.AccessKeyID) > 128 || strings.IndexFunc(k.AccessKeyID, notAlnum) >= 0:
		return fmt.Errorf("access key id %q must be at most 128 letters and digits", k.AccessKeyID)
	case strings.ContainsAny(k.Secret, " \t\r\n") || strings.ContainsAny(k.User, " \t\r\n"):
		return fmt.Errorf("the secret and user of %q must not contain spaces", k.AccessKeyID)
	}
	return nil
}

func notAlnum(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// LoadCredentialsFile reads the keys of path: a JSON array of objects
// {"access_key_id", "secret_access_key", "user"}, or text with one key
// per line, "ACCESS_KEY_ID SECRET USER", where blank lines and lines
// starting with '#' are ignored.
func LoadCredentialsFile(path string) (*StaticCredentials, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: credentials file: %w", err)
	}
	c, err := ParseCredentials(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseCredentials parses the content of a credentials file (see
// LoadCredentialsFile).
func ParseCredentials(raw []byte) (*StaticCredentials, error) {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		var keys []Key
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&keys); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCredentialsFile, err)
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("%w: no keys", ErrCredentialsFile)
		}
		return NewStaticCredentials(keys...)
	}
	var keys []Key
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		f := strings.Fields(text)
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: line %d: want ACCESS_KEY_ID SECRET USER, got %d fields", ErrCredentialsFile, line, len(f))
		}
		keys = append(keys, Key{AccessKeyID: f[0], Secret: f[1], User: f[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredentialsFile, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrCredentialsFile)
	}
	return NewStaticCredentials(keys...)
}
