package sign_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasinfer/wasinfer/sign"
)

func TestWriteKeyPair(t *testing.T) {
	dir := t.TempDir()
	pub, priv := sign.GenerateKey()
	privPath, pubPath, err := sign.WriteKeyPair(filepath.Join(dir, "alice"), pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{privPath: 0o600, pubPath: 0o644} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %#o, want %#o", path, fi.Mode().Perm(), mode)
		}
	}
	gotPriv, err := sign.LoadPrivateKey(privPath)
	if err != nil {
		t.Fatal(err)
	}
	gotPub, err := sign.LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if !gotPriv.Equal(priv) || !gotPub.Equal(pub) {
		t.Fatal("keys read back differ from the keys written")
	}

	// Never overwrite a key.
	_, _, err = sign.WriteKeyPair(filepath.Join(dir, "alice"), pub, priv)
	want := "sign: " + privPath + " exists; remove it or choose another name (a key is never overwritten)"
	if err == nil || err.Error() != want {
		t.Fatalf("second WriteKeyPair: %v, want %s", err, want)
	}
}

func TestLoadPrivateKeyRefusesReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	_, priv := key(1)
	data, _ := sign.MarshalPrivateKey(priv)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	_, err := sign.LoadPrivateKey(path)
	want := "sign: private key " + path + ": sign: bad key: mode 0644 lets other users read it (run chmod 600 " + path + ")"
	if err == nil || err.Error() != want || !errors.Is(err, sign.ErrKey) {
		t.Fatalf("error %v, want %s", err, want)
	}
}

// Keys made by OpenSSL read as ours, and the key ID is the one OpenSSL and
// sha256sum compute over the DER public key (testdata/README.md).
func TestOpenSSLKeys(t *testing.T) {
	privPEM, err := os.ReadFile("testdata/openssl-ed25519.key")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := sign.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sign.LoadPublicKey("testdata/openssl-ed25519.pub")
	if err != nil {
		t.Fatal(err)
	}
	wantID, err := os.ReadFile("testdata/openssl-ed25519.keyid")
	if err != nil {
		t.Fatal(err)
	}
	if got := sign.KeyID(pub); got != strings.TrimSpace(string(wantID)) {
		t.Fatalf("KeyID %s, OpenSSL says %s", got, wantID)
	}
	wasm := module(t)
	env := signed(t, wasm, nil, priv, "x")
	p, err := sign.KeyPolicy("key openssl-ed25519.pub", pub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.VerifyModule(wasm, nil, env); err != nil {
		t.Fatal(err)
	}
	// Our PEM encodings are byte-identical to OpenSSL's.
	again, _ := sign.MarshalPrivateKey(priv)
	pubPEM, _ := os.ReadFile("testdata/openssl-ed25519.pub")
	againPub, _ := sign.MarshalPublicKey(pub)
	if !bytes.Equal(again, privPEM) || !bytes.Equal(againPub, pubPEM) {
		t.Fatalf("re-encoded keys differ from OpenSSL's:\n%s%s", again, againPub)
	}
}

func TestParseKeyErrors(t *testing.T) {
	pub, priv := key(1)
	pubPEM, _ := sign.MarshalPublicKey(pub)
	privPEM, _ := sign.MarshalPrivateKey(priv)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPubDER})
	garbage := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")})

	cases := []struct {
		name    string
		private bool
		data    []byte
		want    string
	}{
		{"public as private", true, pubPEM, `sign: bad key: PEM block is "PUBLIC KEY", want "PRIVATE KEY" (this is a public key; sign with the .key file)`},
		{"private as public", false, privPEM, `sign: bad key: PEM block is "PRIVATE KEY", want "PUBLIC KEY" (this is a private key; never hand it out: use the .pub file)`},
		{"not PEM", true, []byte("hello"), "sign: bad key: no PEM block (want -----BEGIN PRIVATE KEY-----)"},
		{"ecdsa private", true, ecPEM, "sign: bad key: a *ecdsa.PrivateKey, want an ed25519 key (make one with wasinfer udf keygen)"},
		{"ecdsa public", false, ecPubPEM, "sign: bad key: a *ecdsa.PublicKey, want an ed25519 key (make one with wasinfer udf keygen)"},
		{"bad DER", true, garbage, "sign: bad key: the PRIVATE KEY block is not valid PKCS #8 (is the file damaged?)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.private {
				_, err = sign.ParsePrivateKey(c.data)
			} else {
				_, err = sign.ParsePublicKey(c.data)
			}
			if err == nil || err.Error() != c.want || !errors.Is(err, sign.ErrKey) {
				t.Fatalf("error:\n%v\nwant:\n%s", err, c.want)
			}
		})
	}
}
