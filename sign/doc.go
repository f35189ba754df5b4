// Package sign signs and verifies wasinfer UDF modules, so that "vetted"
// means a machine checked who vouched for exactly these bytes.
//
// A signature is a DSSE envelope (the Dead Simple Signing Envelope, through
// github.com/secure-systems-lab/go-securesystemslib/dsse) whose payload is a
// Statement: the sha256 of the module, the sha256 of its manifest (or null),
// and the module's name and version. The payload type is PayloadType. Keys
// are ed25519; a key's ID is the hex sha256 of its PKIX encoding, shown
// shortened ("3f2a9c01b2d4…"). The envelope lives beside the module as
// <name>.sig.json beside <name>.wasm (SignaturePath).
//
//	pub, priv := sign.GenerateKey()
//	env, err := sign.Sign(wasm, manifest, priv, sign.WithName("acme-normalize"))
//	...
//	policy, err := sign.LoadPolicy("trust.yaml")
//	v, err := policy.VerifyModule(wasm, manifest, env)
//	// v.KeyName signed v.Statement, whose digests are wasm's and manifest's
//
// # Key files
//
// A private key is a PEM "PRIVATE KEY" block (PKCS #8), written with mode
// 0600 and refused when others may read it; a public key is a PEM "PUBLIC
// KEY" block (PKIX). Both are the formats openssl writes (`openssl genpkey
// -algorithm ed25519`), so keys can be made and inspected with either tool.
//
// # Trust policy
//
// A policy file (YAML, or JSON) lists trusted public keys, each optionally
// limited to module names matching path.Match patterns; see ParsePolicy.
// Errors name the file, line and column.
//
// # Determinism
//
// A statement has no timestamp and ed25519 signatures are deterministic, so
// signing the same module, manifest and name with the same key always
// yields the same envelope bytes. The price: a signature never expires;
// trust is withdrawn by removing the key from the policy.
//
// # Concurrency
//
// All functions are safe for concurrent use; a Policy is immutable.
//
// # Errors
//
// Every error wraps a sentinel (ErrModuleDigest, ErrUntrusted, …) and says
// what was expected, what was found, and what to do, e.g.
//
//	sign: module digest mismatch: the envelope signs sha256:ab12cd34ef56…, the module is sha256:cd3401ab77e2… (the module was changed after signing, or the signature is another module's)
//	sign: no signature by a trusted key: signed by key 3f2a9c01b2d4… (not in trust.yaml; if you trust it, add its .pub file there)
package sign
