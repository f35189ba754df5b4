package sign

import "errors"

// Sentinel errors. Every error of this package wraps one of them (test with
// errors.Is) and adds what was expected, what was found, and what to do.
var (
	// ErrKey: a key file or key is unusable (not PEM, wrong block, not
	// ed25519, readable by others).
	ErrKey = errors.New("sign: bad key")
	// ErrMalformedEnvelope: the signature file is not a DSSE envelope of a
	// wasinfer module statement (bad JSON, unknown field, bad base64, wrong
	// payload type, missing signatures).
	ErrMalformedEnvelope = errors.New("sign: malformed envelope")
	// ErrMalformedStatement: the envelope's payload is not a valid module
	// statement.
	ErrMalformedStatement = errors.New("sign: malformed statement")
	// ErrUntrusted: no signature in the envelope is by a key of the policy.
	ErrUntrusted = errors.New("sign: no signature by a trusted key")
	// ErrBadSignature: a signature names a trusted key but does not verify:
	// the envelope was changed after signing.
	ErrBadSignature = errors.New("sign: signature does not verify")
	// ErrModuleDigest: the module's sha256 is not the one the statement signs.
	ErrModuleDigest = errors.New("sign: module digest mismatch")
	// ErrManifestDigest: the manifest's sha256 is not the one the statement
	// signs, or a manifest is present on one side only.
	ErrManifestDigest = errors.New("sign: manifest digest mismatch")
	// ErrNameNotAllowed: the signing key is trusted, but not for modules of
	// this name; or the statement names another module than expected.
	ErrNameNotAllowed = errors.New("sign: module name not allowed")
	// ErrPolicy: the trust policy file is invalid.
	ErrPolicy = errors.New("sign: invalid trust policy")
)
