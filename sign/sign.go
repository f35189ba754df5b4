package sign

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Option configures Sign and Verify.
type Option func(*config)

type config struct {
	name    string
	version string
}

// WithName sets the module's name. Sign: the name the statement carries
// (required; callers take it from the module's manifest). Verify: the name
// the statement must carry (callers pass the manifest's name, so a key
// allowed to sign "acme-*" cannot vouch for a manifest that calls itself
// something else). Default: none.
func WithName(name string) Option { return func(c *config) { c.name = name } }

// WithVersion sets the version the statement carries (Sign only). Default
// empty.
func WithVersion(v string) Option { return func(c *config) { c.version = v } }

func options(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return c
}

// SignatureSuffix replaces ".wasm" in a module's file name to name its
// signature file, as the manifest package names sidecar manifests.
const SignatureSuffix = ".sig.json"

// SignaturePath returns the default path of a module's signature file:
// "dir/normalize.wasm" → "dir/normalize.sig.json".
func SignaturePath(modulePath string) string {
	return strings.TrimSuffix(modulePath, ".wasm") + SignatureSuffix
}

// Sign returns a DSSE envelope (indented JSON, ending in a newline) whose
// payload is the Statement for module and manifest (nil when the module has
// none), signed by priv. The signature's keyid is KeyID of priv's public key.
// The result is deterministic: the same inputs give the same bytes.
//
// Cost: two sha256 passes over the module and manifest and one ed25519
// signature.
//
// # Errors
//
// ErrMalformedStatement when the name is missing or unprintable; ErrKey when
// priv is not an ed25519 private key.
func Sign(module, manifest []byte, priv ed25519.PrivateKey, opts ...Option) ([]byte, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key is %d bytes, want %d", ErrKey, len(priv), ed25519.PrivateKeySize)
	}
	c := options(opts)
	st, err := NewStatement(module, manifest, c.name, c.version)
	if err != nil {
		return nil, err
	}
	pub, ok := priv.Public().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: private key has no ed25519 public key", ErrKey)
	}
	signer, err := dsse.NewEnvelopeSigner(edKey{id: KeyID(pub), pub: pub, priv: priv})
	if err != nil {
		return nil, fmt.Errorf("sign: creating signer: %w", err)
	}
	env, err := signer.SignPayload(context.Background(), PayloadType, st.marshal())
	if err != nil {
		return nil, fmt.Errorf("sign: signing statement: %w", err)
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sign: encoding envelope: %w", err)
	}
	return append(out, '\n'), nil
}

// edKey adapts an ed25519 key to the dsse package's Signer and Verifier.
type edKey struct {
	id   string
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey // nil for verification only
}

var errNoMatch = errors.New("ed25519 signature does not match")

func (k edKey) Sign(_ context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(k.priv, data), nil
}

func (k edKey) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(k.pub, data, sig) {
		return errNoMatch
	}
	return nil
}

func (k edKey) KeyID() (string, error)   { return k.id, nil }
func (k edKey) Public() crypto.PublicKey { return k.pub }
