package sign_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"

	"github.com/wasinfer/wasinfer/sign"
)

func Example() {
	// A fixed seed so the output is stable; use sign.GenerateKey for real keys.
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	pub := priv.Public().(ed25519.PublicKey)

	wasm := []byte("\x00asm\x01\x00\x00\x00") // the module's bytes
	manifest := []byte(`{"name":"acme-empty"}`)
	env, err := sign.Sign(wasm, manifest, priv, sign.WithName("acme-empty"), sign.WithVersion("0.1.0"))
	if err != nil {
		panic(err)
	}

	policy, err := sign.NewPolicy("trust.yaml", sign.TrustedKey{Name: "alice", PublicKey: pub, Modules: []string{"acme-*"}})
	if err != nil {
		panic(err)
	}
	v, err := policy.VerifyModule(wasm, manifest, env)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %s signed by %s (key %s)\n", v.Statement.Name, v.Statement.Version, v.KeyName, sign.ShortID(v.KeyID))

	wasm[len(wasm)-1] ^= 1 // one flipped bit
	_, err = policy.VerifyModule(wasm, manifest, env)
	fmt.Println(err)
	// Output:
	// acme-empty 0.1.0 signed by alice (key 324be2dea8bc…)
	// sign: module digest mismatch: the envelope signs sha256:93a44bbb96c7…, the module is sha256:3f499bf4c9e7… (the module was changed after signing, or the signature is another module's)
}
