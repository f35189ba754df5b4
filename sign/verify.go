package sign

import (
	"context"
	"fmt"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Verified describes a signature that Verify accepted.
type Verified struct {
	// Statement is what the key vouched for; its digests match the module
	// and manifest that were checked.
	Statement Statement
	// KeyID is the full ID of the key that signed (see KeyID).
	KeyID string
	// KeyName is the key's name in the policy.
	KeyName string
	// Envelope is the envelope accepted (one of VerifyAny's).
	Envelope []byte
}

// Verify checks that envelope holds a valid signature, by a key the policy
// trusts for the module's name, over exactly these module and manifest bytes
// (manifest nil when the module has none). It is policy.VerifyModule.
func Verify(module, manifest, envelope []byte, policy *Policy, opts ...Option) (*Verified, error) {
	return policy.VerifyModule(module, manifest, envelope, opts...)
}

// VerifyModule checks that envelope holds a valid signature, by a key of p
// that may sign the module's name, over exactly these module and manifest
// bytes (manifest nil when the module has none). WithName additionally
// requires the statement to carry that name.
//
// The checks, in order: the envelope parses; one of its signatures names a
// key of the policy; that signature verifies (DSSE PAE, ed25519); the
// statement's digests are the module's and the manifest's; the key may sign
// the statement's name; the name is the expected one.
//
// Cost: one sha256 pass over module and manifest, one ed25519 verification
// per signature tried. Safe for concurrent use.
//
// # Errors
//
// ErrMalformedEnvelope, ErrMalformedStatement, ErrUntrusted,
// ErrBadSignature, ErrModuleDigest, ErrManifestDigest, ErrNameNotAllowed,
// each wrapped with the digests, key IDs and policy file involved.
func (p *Policy) VerifyModule(module, manifest, envelope []byte, opts ...Option) (*Verified, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: no policy given (load one with LoadPolicy)", ErrPolicy)
	}
	c := options(opts)
	e, err := ParseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	var candidates []*TrustedKey
	for _, id := range e.KeyIDs {
		if id == "" {
			for i := range p.keys {
				candidates = appendKey(candidates, &p.keys[i])
			}
			continue
		}
		if k := p.key(id); k != nil {
			candidates = appendKey(candidates, k)
		}
	}
	if len(candidates) == 0 {
		return nil, p.untrusted(e.KeyIDs)
	}
	var signer *TrustedKey
	for _, k := range candidates {
		ev, err := dsse.NewEnvelopeVerifier(edKey{id: k.ID, pub: k.PublicKey})
		if err != nil {
			return nil, fmt.Errorf("sign: creating verifier: %w", err)
		}
		if _, _, err := ev.VerifyAndDecode(context.Background(), &e.dsse); err == nil {
			signer = k
			break
		}
	}
	if signer == nil {
		k := candidates[0]
		return nil, fmt.Errorf("%w: the signature by key %s (%s in %s) does not match the envelope's payload (the envelope was edited after signing: sign the module again)",
			ErrBadSignature, ShortID(k.ID), k.Name, p.source)
	}
	st := e.Statement
	if err := st.Check(module, manifest); err != nil {
		return nil, err
	}
	if !signer.Allows(st.Name) {
		return nil, fmt.Errorf("%w: key %s (%s) may sign only modules named %s (%s), not %q",
			ErrNameNotAllowed, ShortID(signer.ID), signer.Name, strings.Join(signer.Modules, ", "), signer.where, st.Name)
	}
	if c.name != "" && st.Name != c.name {
		return nil, fmt.Errorf("%w: the signature is for a module named %q, but this module is named %q (sign it under its own name)",
			ErrNameNotAllowed, st.Name, c.name)
	}
	return &Verified{Statement: st, KeyID: signer.ID, KeyName: signer.Name, Envelope: envelope}, nil
}

func appendKey(ks []*TrustedKey, k *TrustedKey) []*TrustedKey {
	for _, have := range ks {
		if have == k {
			return ks
		}
	}
	return append(ks, k)
}

func (p *Policy) untrusted(ids []string) error {
	var named []string
	anonymous := false
	for _, id := range ids {
		if id == "" {
			anonymous = true
			continue
		}
		named = append(named, ShortID(id))
	}
	switch {
	case len(named) == 0:
		return fmt.Errorf("%w: the signatures name no key and none verifies with a key of %s", ErrUntrusted, p.source)
	case len(named) == 1 && !anonymous:
		return fmt.Errorf("%w: signed by key %s (not in %s; if you trust it, add its .pub file there)", ErrUntrusted, named[0], p.source)
	}
	return fmt.Errorf("%w: signed by keys %s (none is in %s; if you trust one, add its .pub file there)", ErrUntrusted, strings.Join(named, ", "), p.source)
}

// Check compares the statement's digests with module and manifest (nil when
// there is none), without any signature: Verify calls it after the
// signature checks out, and a tool may call it to refuse a signature file
// that belongs to another module.
//
// # Errors
//
// ErrModuleDigest or ErrManifestDigest, naming both digests.
func (s Statement) Check(module, manifest []byte) error {
	if d := Digest(module); d != s.ModuleSHA256 {
		return fmt.Errorf("%w: the envelope signs sha256:%s, the module is sha256:%s (the module was changed after signing, or the signature is another module's)",
			ErrModuleDigest, ShortID(s.ModuleSHA256), ShortID(d))
	}
	switch {
	case s.ManifestSHA256 == nil && manifest != nil:
		return fmt.Errorf("%w: the envelope signs no manifest, but the module has one (sha256:%s): sign the module again with its manifest",
			ErrManifestDigest, ShortID(Digest(manifest)))
	case s.ManifestSHA256 != nil && manifest == nil:
		return fmt.Errorf("%w: the envelope signs manifest sha256:%s, but the module has none (give the manifest it was signed with)",
			ErrManifestDigest, ShortID(*s.ManifestSHA256))
	case s.ManifestSHA256 != nil:
		if d := Digest(manifest); d != *s.ManifestSHA256 {
			return fmt.Errorf("%w: the envelope signs manifest sha256:%s, the manifest is sha256:%s (the manifest was changed after signing)",
				ErrManifestDigest, ShortID(*s.ManifestSHA256), ShortID(d))
		}
	}
	return nil
}

// VerifyAny accepts the first of envelopes that VerifyModule accepts, as
// for a module fetched with several signatures attached (oci.Module's
// Signatures). A pipeline that requires trusted modules calls it with
// every signature it has.
//
// # Errors
//
// ErrUntrusted when envelopes is empty; otherwise the error of the first
// envelope, when none is accepted.
func (p *Policy) VerifyAny(module, manifest []byte, envelopes [][]byte, opts ...Option) (*Verified, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: no policy given (load one with LoadPolicy)", ErrPolicy)
	}
	if len(envelopes) == 0 {
		return nil, fmt.Errorf("%w: the module has no signature (sign it with wasinfer udf sign)", ErrUntrusted)
	}
	var first error
	for _, env := range envelopes {
		v, err := p.VerifyModule(module, manifest, env, opts...)
		if err == nil {
			return v, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}
