package auth_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/partitadb/partita/auth"
)

// TestClusterKeySeal: a sealed secret opens with its cluster key and
// access key id only, and holds no trace of the secret.
func TestClusterKeySeal(t *testing.T) {
	k, err := auth.GenerateClusterKey()
	if err != nil {
		t.Fatal(err)
	}
	const id, secret = "PKIAAAAAAAAAAAAAAAAA", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	sealed, err := k.Seal(id, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(secret)) || bytes.Contains(sealed, []byte(secret[:8])) {
		t.Fatalf("the sealed secret shows the secret: %q", sealed)
	}
	if got, err := k.Open(id, sealed); err != nil || got != secret {
		t.Fatalf("Open = %q, %v; want the secret", got, err)
	}
	again, _ := k.Seal(id, secret)
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of one secret are equal: the nonce is not random")
	}
	other, _ := auth.GenerateClusterKey()
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	for name, open := range map[string]func() (string, error){
		"another access key id": func() (string, error) { return k.Open("PKIABBBBBBBBBBBBBBBB", sealed) },
		"another cluster key":   func() (string, error) { return other.Open(id, sealed) },
		"tampered":              func() (string, error) { return k.Open(id, tampered) },
		"truncated":             func() (string, error) { return k.Open(id, sealed[:5]) },
		"empty":                 func() (string, error) { return k.Open(id, nil) },
	} {
		if got, err := open(); !errors.Is(err, auth.ErrSealed) || got != "" {
			t.Errorf("%s: Open = %q, %v; want ErrSealed", name, got, err)
		}
	}
}

// TestClusterKeyFile: the key survives its file, which only its owner
// reads; a missing file is ErrNoClusterKey.
func TestClusterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), auth.ClusterKeyFile)
	if _, err := auth.LoadClusterKeyFile(path); !errors.Is(err, auth.ErrNoClusterKey) {
		t.Fatalf("a missing file: %v, want ErrNoClusterKey", err)
	}
	k, _ := auth.GenerateClusterKey()
	if err := auth.WriteClusterKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	got, err := auth.LoadClusterKeyFile(path)
	if err != nil || !bytes.Equal(got.Bytes(), k.Bytes()) {
		t.Fatalf("loaded %x, %v; want %x", got.Bytes(), err, k.Bytes())
	}
	if err := os.WriteFile(path, []byte("not hex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.LoadClusterKeyFile(path); err == nil {
		t.Fatal("a file that is not a key loaded")
	}
}

// TestKeySet: Replace swaps the whole set; Chain asks each in turn; NewKey
// makes keys a credentials file accepts.
func TestKeySet(t *testing.T) {
	var s auth.KeySet
	if _, _, ok := s.Lookup("PKIAX"); ok {
		t.Fatal("the zero KeySet knows a key")
	}
	a, err := auth.NewKey("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.AccessKeyID) != 20 || len(a.Secret) != 40 {
		t.Fatalf("NewKey = %+v: want a 20-character id and a 40-character secret", a)
	}
	b, _ := auth.NewKey("bob")
	s.Replace([]auth.Key{a, b})
	if sec, user, ok := s.Lookup(a.AccessKeyID); !ok || sec != a.Secret || user != "alice" {
		t.Fatalf("Lookup(alice's key) = %q, %q, %t", sec, user, ok)
	}
	s.Replace([]auth.Key{b})
	if _, _, ok := s.Lookup(a.AccessKeyID); ok || s.Len() != 1 {
		t.Fatalf("a key removed by Replace is still known (%d keys)", s.Len())
	}
	file, err := auth.NewStaticCredentials(auth.Key{AccessKeyID: "AKIDFILE", Secret: "s", User: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	c := auth.Chain(file, &s)
	if _, user, ok := c.Lookup("AKIDFILE"); !ok || user != "carol" {
		t.Fatal("Chain misses the first set's key")
	}
	if _, user, ok := c.Lookup(b.AccessKeyID); !ok || user != "bob" {
		t.Fatal("Chain misses the second set's key")
	}
	path := filepath.Join(t.TempDir(), "creds")
	if err := auth.WriteCredentialsFile(path, a, b); err != nil {
		t.Fatal(err)
	}
	back, err := auth.LoadCredentialsFile(path)
	if err != nil || back.Len() != 2 {
		t.Fatalf("the written file: %v (%d keys)", err, back.Len())
	}
	if sec, _, _ := back.Lookup(a.AccessKeyID); sec != a.Secret {
		t.Fatal("the written file changed a secret")
	}
}
