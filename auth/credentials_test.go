package auth_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/partitadb/partita/auth"
)

func TestLoadCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content string
		ok            bool
	}{
		{"text", "# keys\n\nAKIDA secretA alice\n  AKIDB  secret/B+x  bob  \n", true},
		{"json", `[{"access_key_id":"AKIDA","secret_access_key":"secretA","user":"alice"},
			{"access_key_id":"AKIDB","secret_access_key":"secret/B+x","user":"bob"}]`, true},
		{"two fields", "AKIDA secretA\n", false},
		{"duplicate", "AKIDA s alice\nAKIDA t bob\n", false},
		{"slash in id", "AKID/A s alice\n", false},
		{"empty", "# nothing\n", false},
		{"json unknown field", `[{"access_key_id":"A","secret_access_key":"s","user":"u","x":1}]`, false},
		{"json empty", `[]`, false},
		{"json missing user", `[{"access_key_id":"A","secret_access_key":"s"}]`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			creds, err := auth.LoadCredentialsFile(path)
			if !c.ok {
				if !errors.Is(err, auth.ErrCredentialsFile) {
					t.Fatalf("error %v, want ErrCredentialsFile", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if creds.Len() != 2 {
				t.Fatalf("%d keys, want 2", creds.Len())
			}
			if s, u, ok := creds.Lookup("AKIDB"); !ok || s != "secret/B+x" || u != "bob" {
				t.Fatalf("Lookup(AKIDB) = %q %q %v", s, u, ok)
			}
			if _, _, ok := creds.Lookup("AKIDC"); ok {
				t.Fatal("Lookup(AKIDC) found an unknown key")
			}
		})
	}
	if _, err := auth.LoadCredentialsFile(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("absent file: %v", err)
	}
}
