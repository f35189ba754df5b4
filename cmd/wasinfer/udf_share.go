package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v3"

	"github.com/wasinfer/wasinfer/manifest"
	"github.com/wasinfer/wasinfer/oci"
	"github.com/wasinfer/wasinfer/sign"
)

// Sharing modules: keys, signatures, registries.
//
//	wasinfer udf keygen --out NAME
//	wasinfer udf sign MODULE --key NAME.key
//	wasinfer udf verify MODULE --policy trust.yaml | --key NAME.pub
//	wasinfer udf push REF MODULE
//	wasinfer udf pull REF [--out FILE] [--policy trust.yaml | --key NAME.pub]

func init() {
	registerUDFCommand(udfKeygenCommand)
	registerUDFCommand(udfSignCommand)
	registerUDFCommand(udfVerifyCommand)
	registerUDFCommand(udfPushCommand)
	registerUDFCommand(udfPullCommand)
}

func udfKeygenCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:  "keygen",
		Usage: "make an ed25519 key pair for signing modules",
		Description: "Writes NAME.key (the private key, PKCS #8 PEM, mode 0600: keep it secret) and\n" +
			"NAME.pub (the public key, PKIX PEM: give it to the people who run your modules, who\n" +
			"list it in their trust policy). Existing files are never overwritten.\n\n" +
			"Examples:\n" +
			"  wasinfer udf keygen --out alice\n" +
			"  wasinfer udf keygen --out ~/.config/wasinfer/keys/ci",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write NAME.key and NAME.pub; required"},
		},
		Action: func(_ context.Context, c *cli.Command) error {
			if c.Args().Len() != 0 {
				return usageError{fmt.Errorf("%s: takes no arguments (name the files with --out NAME)", commandName(c))}
			}
			name := strings.TrimSuffix(strings.TrimSuffix(c.String("out"), sign.PrivateKeySuffix), sign.PublicKeySuffix)
			if name == "" {
				return usageError{fmt.Errorf("%s: --out NAME is required", commandName(c))}
			}
			pub, priv := sign.GenerateKey()
			privPath, pubPath, err := sign.WriteKeyPair(name, pub, priv)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.Root().Writer, "key id:  %s\nprivate: %s (mode 0600; keep it secret)\npublic:  %s (list it in a trust policy)\n",
				sign.KeyID(pub), privPath, pubPath)
			return nil
		},
	}
}

func udfSignCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign a module and its manifest with a private key (writes NAME.sig.json)",
		ArgsUsage: "MODULE.wasm",
		Description: "The signature is a DSSE envelope over the module's sha256, its manifest's sha256, and\n" +
			"its name and version (taken from the manifest). The manifest is the one embedded in the\n" +
			"module, else the sidecar NAME.manifest.json, else --manifest; a module without one is\n" +
			"signed under --name (default: the file name). The signature goes to NAME.sig.json\n" +
			"beside the module, or --out.\n\n" +
			"Examples:\n" +
			"  wasinfer udf sign normalize.wasm --key alice.key\n" +
			"  wasinfer udf sign build/filter.wasm --key ci.key --manifest filter.manifest.json --out filter.sig.json",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "key", Aliases: []string{"k"}, Usage: "private key file (from udf keygen); required"},
			&cli.StringFlag{Name: "manifest", Usage: "the module's manifest file (default: embedded, else the sidecar)"},
			&cli.StringFlag{Name: "name", Usage: "module name, for a module without a manifest (default: the file name)"},
			&cli.StringFlag{Name: "version", Usage: "module version, for a module without a manifest"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the signature here (default NAME.sig.json beside the module)"},
		},
		Action: udfSign,
	}
}

func udfSign(_ context.Context, c *cli.Command) error {
	path, err := moduleArg(c)
	if err != nil {
		return err
	}
	if c.String("key") == "" {
		return usageError{fmt.Errorf("%s: --key FILE is required (make one with wasinfer udf keygen)", commandName(c))}
	}
	wasm, err := readModule(path)
	if err != nil {
		return err
	}
	man, origin, err := findManifest(path, wasm, c.String("manifest"))
	if err != nil {
		return err
	}
	name, version := c.String("name"), c.String("version")
	if man != nil {
		m, err := manifest.Parse(man)
		if err != nil {
			return fmt.Errorf("%s manifest of %s: %w (fix it before signing: wasinfer udf vet)", origin, path, err)
		}
		if err := m.VerifyCode(wasm); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if name != "" && name != m.Name {
			return usageError{fmt.Errorf("%s: --name %q, but the manifest names the module %q (leave out --name)", commandName(c), name, m.Name)}
		}
		if version != "" && version != m.Version {
			return usageError{fmt.Errorf("%s: --version %q, but the manifest says %q (leave out --version)", commandName(c), version, m.Version)}
		}
		name, version = m.Name, m.Version
	} else if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), ".wasm")
	}
	priv, err := sign.LoadPrivateKey(c.String("key"))
	if err != nil {
		return err
	}
	env, err := sign.Sign(wasm, man, priv, sign.WithName(name), sign.WithVersion(version))
	if err != nil {
		return err
	}
	out := c.String("out")
	if out == "" {
		out = sign.SignaturePath(path)
	}
	if err := writeFileAtomic(out, env); err != nil {
		return err
	}
	pub := priv.Public().(ed25519.PublicKey)
	what := "without a manifest"
	if man != nil {
		what = "with its " + string(origin) + " manifest"
	}
	fmt.Fprintf(c.Root().Writer, "signed %s (sha256:%s) %s as %s with key %s\nsignature: %s\n",
		path, sign.ShortID(sign.Digest(wasm)), what, nameVersion(name, version), sign.ShortID(sign.KeyID(pub)), out)
	return nil
}

func udfVerifyCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a module's signature against a trust policy or one public key",
		ArgsUsage: "MODULE.wasm",
		Description: "Checks that the signature (NAME.sig.json beside the module, or --sig) is by a key the\n" +
			"policy trusts for the module's name, over exactly this module and manifest. Exit status 0\n" +
			"when it is, 1 when not (the message says what differs), 2 for a usage error.\n\n" +
			"A trust policy (YAML or JSON) lists the keys you trust:\n" +
			"  keys:\n" +
			"    - name: alice\n" +
			"      public_key_file: keys/alice.pub   # relative to the policy file\n" +
			"      modules: [\"acme-*\"]               # optional: the names this key may sign\n\n" +
			"Examples:\n" +
			"  wasinfer udf verify normalize.wasm --policy trust.yaml\n" +
			"  wasinfer udf verify normalize.wasm --key alice.pub --sig downloads/normalize.sig.json",
		Flags: append(trustFlags(),
			&cli.StringFlag{Name: "sig", Usage: "the signature file (default NAME.sig.json beside the module)"},
			&cli.StringFlag{Name: "manifest", Usage: "the module's manifest file (default: embedded, else the sidecar)"},
		),
		Action: udfVerify,
	}
}

func udfVerify(_ context.Context, c *cli.Command) error {
	path, err := moduleArg(c)
	if err != nil {
		return err
	}
	policy, err := trustPolicy(c, true)
	if err != nil {
		return err
	}
	wasm, err := readModule(path)
	if err != nil {
		return err
	}
	man, _, err := findManifest(path, wasm, c.String("manifest"))
	if err != nil {
		return err
	}
	sigPath := c.String("sig")
	if sigPath == "" {
		sigPath = sign.SignaturePath(path)
	}
	env, err := os.ReadFile(sigPath)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no signature: %s does not exist (sign it with wasinfer udf sign, or pass --sig FILE)", path, sigPath)
	}
	if err != nil {
		return fmt.Errorf("reading signature: %w", err)
	}
	v, err := policy.VerifyModule(wasm, man, env, nameOption(man)...)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", path, sigPath, err)
	}
	fmt.Fprintf(c.Root().Writer, "verified: %s (sha256:%s) is %s, signed by %s (key %s)\n",
		path, sign.ShortID(v.Statement.ModuleSHA256), nameVersion(v.Statement.Name, v.Statement.Version), v.KeyName, sign.ShortID(v.KeyID))
	return nil
}

func udfPushCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "store a module, its manifest and its signature in an OCI registry or layout",
		ArgsUsage: "REF MODULE.wasm",
		Description: "REF is oci://HOST[:PORT]/REPO:TAG, or oci-layout:DIR:TAG for an OCI image layout directory.\n" +
			"The module becomes a Wasm OCI artifact; a sidecar manifest travels as a layer (an embedded\n" +
			"one inside the module), and the signature (NAME.sig.json beside the module, or --sig) as a\n" +
			"referrer. Prints the pinned reference, REF@sha256:…, to put in pipeline specs.\n" +
			"Credentials come from the Docker config (docker login).\n\n" +
			"Examples:\n" +
			"  wasinfer udf push oci://registry.example/udfs/normalize:1.0.0 normalize.wasm\n" +
			"  wasinfer udf push oci://localhost:5000/udfs/filter:dev filter.wasm --plain-http\n" +
			"  wasinfer udf push oci-layout:./modules:1.0.0 normalize.wasm",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "sig", Usage: "the signature file (default NAME.sig.json beside the module, when it exists)"},
			&cli.StringFlag{Name: "manifest", Usage: "a sidecar manifest file to push (default NAME.manifest.json beside the module, when it exists)"},
			&cli.BoolFlag{Name: "plain-http", Usage: "talk plain HTTP to the registry (loopback or trusted networks only)"},
		},
		Action: udfPush,
	}
}

func udfPush(ctx context.Context, c *cli.Command) error {
	if c.Args().Len() != 2 {
		return usageError{fmt.Errorf("%s: want REF and MODULE.wasm, got %d arguments", commandName(c), c.Args().Len())}
	}
	ref, path := c.Args().Get(0), c.Args().Get(1)
	if _, err := oci.ParseReference(ref); err != nil {
		return usageError{err}
	}
	wasm, err := readModule(path)
	if err != nil {
		return err
	}
	man, origin, err := findManifest(path, wasm, c.String("manifest"))
	if err != nil {
		return err
	}
	a := oci.Artifact{Wasm: wasm, Title: filepath.Base(path)}
	if origin != manifest.OriginEmbedded {
		a.Manifest = man
	}
	sigPath := c.String("sig")
	if sigPath == "" {
		if _, err := os.Stat(sign.SignaturePath(path)); err == nil {
			sigPath = sign.SignaturePath(path)
		}
	}
	if sigPath != "" {
		if a.Signature, err = os.ReadFile(sigPath); err != nil {
			return fmt.Errorf("reading signature: %w", err)
		}
		// Refuse to publish a signature that is another module's.
		e, err := sign.ParseEnvelope(a.Signature)
		if err != nil {
			return fmt.Errorf("%s: %w", sigPath, err)
		}
		if err := e.Statement.Check(wasm, man); err != nil {
			return fmt.Errorf("%s does not sign %s: %w", sigPath, path, err)
		}
	}
	p, err := oci.Push(ctx, ref, a, oci.WithPlainHTTP(c.Bool("plain-http")))
	if err != nil {
		return err
	}
	fmt.Fprintln(c.Root().Writer, p.Ref.String())
	signed := "unsigned"
	if sigPath != "" {
		signed = "signature " + sigPath + " attached"
	}
	fmt.Fprintf(c.Root().ErrWriter, "wasinfer: pushed %s (%d bytes, module %s), %s\n", path, len(wasm), p.WasmDigest, signed)
	return nil
}

func udfPullCommand(*slog.Logger) *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "fetch a module from an OCI registry or layout, checking its digests (and signature)",
		ArgsUsage: "REF",
		Description: "REF is oci://HOST[:PORT]/REPO:TAG, …/REPO@sha256:…, …/REPO:TAG@sha256:…, or\n" +
			"oci-layout:DIR:TAG. A pinned digest must match what the registry serves; every layer is\n" +
			"checked against its digest before it is written. The module is cached under\n" +
			"${XDG_CACHE_HOME:-~/.cache}/wasinfer/modules and written to --out (default REPO-NAME.wasm),\n" +
			"with its sidecar manifest (NAME.manifest.json) and signature (NAME.sig.json) beside it.\n" +
			"With --policy or --key, the pull fails unless a trusted key signed the module.\n" +
			"Prints the pinned reference.\n\n" +
			"Examples:\n" +
			"  wasinfer udf pull oci://registry.example/udfs/normalize:1.0.0 --policy trust.yaml\n" +
			"  wasinfer udf pull oci://localhost:5000/udfs/filter:dev@sha256:3f2a… --out filter.wasm --plain-http\n" +
			"  wasinfer udf pull oci-layout:./modules:1.0.0 --key alice.pub",
		Flags: append(trustFlags(),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "write the module here (default: the repository's last name, .wasm)"},
			&cli.BoolFlag{Name: "plain-http", Usage: "talk plain HTTP to the registry (loopback or trusted networks only)"},
		),
		Action: udfPull,
	}
}

func udfPull(ctx context.Context, c *cli.Command) error {
	if c.Args().Len() != 1 {
		return usageError{fmt.Errorf("%s: want exactly one REF argument, got %d", commandName(c), c.Args().Len())}
	}
	r, err := oci.ParseReference(c.Args().First())
	if err != nil {
		return usageError{err}
	}
	policy, err := trustPolicy(c, false)
	if err != nil {
		return err
	}
	m, err := oci.Resolve(ctx, r.String(), oci.WithPlainHTTP(c.Bool("plain-http")), oci.WithRefresh(true))
	if err != nil {
		return err
	}
	man := m.Manifest
	if man == nil {
		if man, err = manifest.Extract(m.Wasm); errors.Is(err, manifest.ErrNoManifest) {
			man = nil
		} else if err != nil {
			return fmt.Errorf("%s: %w", m.Ref, err)
		}
	}
	var sig []byte
	verified := ""
	if len(m.Signatures) > 0 {
		sig = m.Signatures[0]
	}
	if policy != nil {
		v, err := policy.VerifyAny(m.Wasm, man, m.Signatures, nameOption(man)...)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Ref, err)
		}
		sig = v.Envelope // write the signature that verified beside the module
		verified = fmt.Sprintf(", signed by %s (key %s)", v.KeyName, sign.ShortID(v.KeyID))
	}
	out := c.String("out")
	if out == "" {
		base := path.Base(r.Repository)
		if r.IsLayout() {
			base = filepath.Base(r.Layout)
		}
		out = base + ".wasm"
	}
	if err := writeFileAtomic(out, m.Wasm); err != nil {
		return err
	}
	if m.Manifest != nil {
		if err := writeFileAtomic(manifest.SidecarPath(out), m.Manifest); err != nil {
			return err
		}
	}
	if sig != nil {
		if err := writeFileAtomic(sign.SignaturePath(out), sig); err != nil {
			return err
		}
	}
	fmt.Fprintln(c.Root().Writer, m.Ref.String())
	fmt.Fprintf(c.Root().ErrWriter, "wasinfer: pulled %s (%d bytes, module %s), %d signature(s)%s\n",
		out, len(m.Wasm), m.WasmDigest, len(m.Signatures), verified)
	return nil
}

func trustFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "policy", Usage: "trust policy file (YAML or JSON) listing trusted public keys"},
		&cli.StringFlag{Name: "key", Aliases: []string{"k"}, Usage: "trust this one public key file (NAME.pub) instead of a policy"},
	}
}

// trustPolicy returns the policy of --policy or --key; nil when neither is
// given and required is false.
func trustPolicy(c *cli.Command, required bool) (*sign.Policy, error) {
	policyPath, keyPath := c.String("policy"), c.String("key")
	switch {
	case policyPath != "" && keyPath != "":
		return nil, usageError{fmt.Errorf("%s: give --policy or --key, not both", commandName(c))}
	case policyPath != "":
		return sign.LoadPolicy(policyPath)
	case keyPath != "":
		pub, err := sign.LoadPublicKey(keyPath)
		if err != nil {
			return nil, err
		}
		return sign.KeyPolicy("key "+keyPath, pub)
	case required:
		return nil, usageError{fmt.Errorf("%s: --policy FILE or --key NAME.pub is required (whom do you trust?)", commandName(c))}
	}
	return nil, nil
}

// findManifest returns the manifest at explicit, or the module's embedded
// or sidecar manifest; nil (and no error) when the module has none.
func findManifest(modulePath string, wasm []byte, explicit string) ([]byte, manifest.Origin, error) {
	if explicit != "" {
		data, err := os.ReadFile(explicit)
		if err != nil {
			return nil, "", fmt.Errorf("reading manifest: %w", err)
		}
		return data, manifest.OriginSidecar, nil
	}
	data, origin, err := manifest.Find(modulePath, wasm)
	if errors.Is(err, manifest.ErrNoManifest) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", modulePath, err)
	}
	return data, origin, nil
}

// nameOption requires the statement to carry the manifest's name, when the
// manifest reads; a key trusted for some names cannot then vouch for a
// manifest that calls itself something else.
func nameOption(man []byte) []sign.Option {
	if man == nil {
		return nil
	}
	m, err := manifest.Decode(man)
	if err != nil || m.Name == "" {
		return nil
	}
	return []sign.Option{sign.WithName(m.Name)}
}

func nameVersion(name, version string) string {
	if version == "" {
		return name
	}
	return name + " " + version
}

func readModule(path string) ([]byte, error) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading udf module: %w", err)
	}
	return wasm, nil
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it into place.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
