package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ClusterKeySize is the size of a cluster key: AES-256.
const ClusterKeySize = 32

// sealVersion starts every sealed secret, so that a later format (a new
// cluster key beside the old one) can tell its own apart.
const sealVersion = 1

// ErrNoClusterKey: the node has no cluster key file (a new node, or one
// that never got it).
var ErrNoClusterKey = errors.New("auth: no cluster key")

// ErrSealed: a sealed secret does not open with the cluster key (another
// cluster's key, or corrupted bytes).
var ErrSealed = errors.New("auth: the sealed secret does not open with this cluster key")

// ClusterKey encrypts the secrets of access keys at rest: the directory,
// the raft log and snapshots only ever hold them sealed (AES-256-GCM, a
// random nonce per secret, the access key id as additional data so that
// a sealed secret cannot be moved to another key's record). Every node of
// a cluster holds the same key, in a file of its data directory readable
// by its owner only; the bootstrap node generates it and joining nodes get
// it from the member they join through. Safe for concurrent use.
type ClusterKey struct {
	raw  [ClusterKeySize]byte
	aead cipher.AEAD
}

// NewClusterKey returns the cluster key of raw (ClusterKeySize bytes).
func NewClusterKey(raw []byte) (*ClusterKey, error) {
	if len(raw) != ClusterKeySize {
		return nil, fmt.Errorf("auth: a cluster key is %d bytes, not %d", ClusterKeySize, len(raw))
	}
	k := &ClusterKey{}
	copy(k.raw[:], raw)
	block, err := aes.NewCipher(k.raw[:])
	if err != nil {
		return nil, fmt.Errorf("auth: cluster key: %w", err)
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("auth: cluster key: %w", err)
	}
	return k, nil
}

// GenerateClusterKey returns a new random cluster key.
func GenerateClusterKey() (*ClusterKey, error) {
	raw := make([]byte, ClusterKeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("auth: generate a cluster key: %w", err)
	}
	return NewClusterKey(raw)
}

// Bytes returns the key's bytes (to hand to a joining node).
func (k *ClusterKey) Bytes() []byte { return append([]byte(nil), k.raw[:]...) }

// Seal encrypts the secret of accessKeyID: version, nonce, ciphertext.
func (k *ClusterKey) Seal(accessKeyID, secret string) ([]byte, error) {
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(secret)+k.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("auth: seal: %w", err)
	}
	return k.aead.Seal(out, out[1:], []byte(secret), sealAAD(accessKeyID)), nil
}

// Open decrypts a secret Seal sealed for accessKeyID; ErrSealed if it
// does not open.
func (k *ClusterKey) Open(accessKeyID string, sealed []byte) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return "", fmt.Errorf("%w (key %s: malformed)", ErrSealed, accessKeyID)
	}
	secret, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], sealAAD(accessKeyID))
	if err != nil {
		return "", fmt.Errorf("%w (key %s)", ErrSealed, accessKeyID)
	}
	return string(secret), nil
}

func sealAAD(accessKeyID string) []byte { return []byte("partita access key " + accessKeyID) }

// ClusterKeyFile is the name of the cluster key's file in a node's data
// directory.
const ClusterKeyFile = "cluster-key"

// LoadClusterKeyFile reads the cluster key from path (hex);
// ErrNoClusterKey if the file does not exist.
func LoadClusterKeyFile(path string) (*ClusterKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoClusterKey, path)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read the cluster key: %w", err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("auth: cluster key file %s: %w", path, err)
	}
	return NewClusterKey(b)
}

// WriteClusterKeyFile writes k to path, readable by its owner only, and
// syncs it before it takes the name.
func WriteClusterKeyFile(path string, k *ClusterKey) error {
	return writeSecretFile(path, []byte(hex.EncodeToString(k.raw[:])+"\n"))
}

// writeSecretFile writes data to path (mode 0600) through a temporary
// file, synced, then renamed: a crash leaves the old file or the new one.
func writeSecretFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("auth: write %s: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("auth: write %s: %w", path, err)
	}
	return nil
}
