package sign

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// PEM block types of key files.
const (
	pemPrivate = "PRIVATE KEY" // PKCS #8
	pemPublic  = "PUBLIC KEY"  // PKIX SubjectPublicKeyInfo
)

// Key file suffixes written by WriteKeyPair.
const (
	PrivateKeySuffix = ".key"
	PublicKeySuffix  = ".pub"
)

// maxKeyFile bounds the size of a key file read from disk.
const maxKeyFile = 64 << 10

// GenerateKey returns a new ed25519 key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic("sign: generating key: " + err.Error())
	}
	return pub, priv
}

// KeyID returns the ID of a public key: the lowercase hex sha256 of its PKIX
// (SubjectPublicKeyInfo, DER) encoding, 64 characters. Messages show it
// shortened by ShortID.
func KeyID(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic("sign: KeyID of an invalid ed25519 public key") // length checked by callers
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// ShortID shortens a key ID or hex digest to 12 characters and an ellipsis.
func ShortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:12] + "…"
}

// MarshalPrivateKey encodes a private key as a PEM "PRIVATE KEY" block
// (PKCS #8), the format openssl and most tools read.
func MarshalPrivateKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("sign: encoding private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}), nil
}

// MarshalPublicKey encodes a public key as a PEM "PUBLIC KEY" block (PKIX).
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("sign: encoding public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der}), nil
}

// ParsePrivateKey decodes a PEM "PRIVATE KEY" (PKCS #8) block holding an
// ed25519 key.
//
// # Errors
//
// ErrKey, wrapped with what is wrong: no PEM block, another block type (a
// public key given where the private key belongs), another algorithm.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	der, err := pemBlock(data, pemPrivate)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: the PRIVATE KEY block is not valid PKCS #8 (is the file damaged?)", ErrKey)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, want an ed25519 key (make one with wasinfer udf keygen)", ErrKey, k)
	}
	return priv, nil
}

// ParsePublicKey decodes a PEM "PUBLIC KEY" (PKIX) block holding an ed25519
// key.
//
// # Errors
//
// ErrKey, wrapped with what is wrong.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(data, pemPublic)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: the PUBLIC KEY block is not valid PKIX (is the file damaged?)", ErrKey)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, want an ed25519 key (make one with wasinfer udf keygen)", ErrKey, k)
	}
	return pub, nil
}

func pemBlock(data []byte, want string) ([]byte, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%w: no PEM block (want -----BEGIN %s-----)", ErrKey, want)
	}
	if b.Type != want {
		hint := ""
		switch b.Type {
		case pemPublic:
			hint = " (this is a public key; sign with the .key file)"
		case pemPrivate:
			hint = " (this is a private key; never hand it out: use the .pub file)"
		}
		return nil, fmt.Errorf("%w: PEM block is %q, want %q%s", ErrKey, b.Type, want, hint)
	}
	return b.Bytes, nil
}

// LoadPrivateKey reads a private key file (see ParsePrivateKey). Like ssh,
// it refuses a file that users other than its owner may read or write.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("sign: private key %s: %w: mode %#o lets other users read it (run chmod 600 %s)", path, ErrKey, fi.Mode().Perm(), path)
	}
	priv, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv, nil
}

// LoadPublicKey reads a public key file (see ParsePublicKey).
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

func readKeyFile(path string) ([]byte, error) {
	// Stat first: opening a FIFO or device could block or never end.
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sign: reading key %s: %w: not a regular file", path, ErrKey)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sign: reading key: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("sign: reading key %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("sign: reading key %s: %w: larger than %d bytes", path, ErrKey, maxKeyFile)
	}
	return data, nil
}

// WriteKeyPair writes priv to name+".key" (mode 0600, PKCS #8 PEM) and its
// public key to name+".pub" (mode 0644, PKIX PEM). It refuses to overwrite
// either file, so a key is never lost by a repeated command.
func WriteKeyPair(name string, pub ed25519.PublicKey, priv ed25519.PrivateKey) (privPath, pubPath string, err error) {
	privPEM, err := MarshalPrivateKey(priv)
	if err != nil {
		return "", "", err
	}
	pubPEM, err := MarshalPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	privPath, pubPath = name+PrivateKeySuffix, name+PublicKeySuffix
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return "", "", fmt.Errorf("sign: %s exists; remove it or choose another name (a key is never overwritten)", p)
		}
	}
	if err := writeNew(privPath, privPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		_ = os.Remove(privPath)
		return "", "", err
	}
	return privPath, pubPath, nil
}

// writeNew creates path exclusively with mode perm (never wider, whatever
// the umask) and writes data to it.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("sign: writing key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("sign: %s exists; remove it or choose another name (a key is never overwritten)", path)
		}
		return fmt.Errorf("sign: writing key: %w", err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("sign: writing key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("sign: writing key: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("sign: writing key: %w", err)
	}
	return nil
}
