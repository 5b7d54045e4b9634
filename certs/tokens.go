package certs

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
)

// tokenPrefix marks Partita admin tokens, so that one found in a log or a
// repository is recognisable.
const tokenPrefix = "ptk_"

// NewToken returns a new random admin token (32 random bytes, hex).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("certs: token: %w", err)
	}
	return tokenPrefix + hex.EncodeToString(b), nil
}

// AppendToken adds a new token to the token file at path (created 0600)
// and returns it. A file may hold several tokens: add the new one, move
// clients to it, then delete the old line.
func AppendToken(path string) (string, error) {
	tok, err := NewToken()
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return "", fmt.Errorf("certs: %w", err)
	}
	_, err = fmt.Fprintln(f, tok)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("certs: write %s: %w", path, err)
	}
	return tok, nil
}

// ErrNoTokens is a token file without a token.
var ErrNoTokens = errors.New("certs: the token file holds no token")

// Tokens are the admin bearer tokens of a file, one a line (blank lines
// and lines starting with # are skipped), read again when the file
// changes. Only their SHA-256 digests stay in memory. It is safe for
// concurrent use.
type Tokens struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	digests [][sha256.Size]byte
	seen    []stamp
}

// LoadTokens reads the token file at path; it fails without a token.
func LoadTokens(path string, log *slog.Logger) (*Tokens, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tokens{path: path, log: log}
	st, err := stampOf(path)
	if err != nil {
		return nil, err
	}
	if t.digests, err = readTokens(path); err != nil {
		return nil, err
	}
	t.seen = st
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("the admin token file can be read by other users: chmod 600 it", "file", path, "mode", info.Mode().Perm().String())
	}
	return t, nil
}

func readTokens(path string) ([][sha256.Size]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("certs: token file: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	var out [][sha256.Size]byte
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, sha256.Sum256([]byte(line)))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoTokens, path)
	}
	return out, sc.Err()
}

// Valid reports whether tok is one of the file's tokens. It compares
// digests in constant time, and every one of them, so that its time says
// nothing of which token, or how much of one, matched.
func (t *Tokens) Valid(tok string) bool {
	if tok == "" {
		return false
	}
	d := sha256.Sum256([]byte(tok))
	match := 0
	for _, want := range t.current() {
		match |= subtle.ConstantTimeCompare(d[:], want[:])
	}
	return match == 1
}

// current returns the digests, reading the file again if it changed. It
// fails closed: a file that is gone, unreadable or empty after a change
// leaves no valid token (logged), so emptying it revokes every token.
func (t *Tokens) current() [][sha256.Size]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, err := stampOf(t.path)
	if err == nil && sameStamps(st, t.seen) {
		return t.digests
	}
	t.seen = st
	d, err := readTokens(t.path)
	if err != nil {
		if t.digests != nil {
			t.log.Warn("no admin token is valid any more: the token file does not load", "file", t.path, "err", err)
		}
		t.digests = nil
		return nil
	}
	t.digests = d
	t.log.Info("admin tokens reloaded", "file", t.path, "tokens", len(d))
	return d
}
