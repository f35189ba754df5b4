package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/wasinfer/wasinfer/manifest"
	"github.com/wasinfer/wasinfer/oci"
	"github.com/wasinfer/wasinfer/sign"
)

// module is a UDF module's bytes with what vouches for them.
type module struct {
	wasm       []byte
	manifest   []byte   // raw JSON, or nil
	signatures [][]byte // DSSE envelopes
	origin     string   // the file or reference, for messages
}

// isOCI reports whether a udf: value is a registry or layout reference.
func isOCI(ref string) bool {
	return strings.HasPrefix(ref, "oci://") || strings.HasPrefix(ref, "oci-layout:")
}

// fetchModule reads stage i's module: from its file (with the sidecar
// manifest and signature beside it), or from an OCI registry or layout
// (digest-checked, cached). A pinned sha256 is checked against the bytes
// that will run.
func (s *Spec) fetchModule(ctx context.Context, i int, cfg *buildConfig) (*module, error) {
	st := &s.Stages[i]
	var m *module
	if isOCI(st.UDF) {
		ref := st.UDF
		if strings.HasPrefix(ref, "oci-layout:") {
			// The layout directory is relative to the spec file, like every path.
			rest := strings.TrimPrefix(ref, "oci-layout:")
			dir, tag := rest, ""
			if j := strings.LastIndex(rest, ":"); j > 0 {
				dir, tag = rest[:j], rest[j:]
			}
			full, err := s.ResolvePath(dir)
			if err != nil {
				return nil, err
			}
			ref = "oci-layout:" + full + tag
		}
		opts := []oci.Option{oci.WithPlainHTTP(s.Run.PlainHTTP), oci.WithLogger(cfg.logger)}
		r, err := oci.Resolve(ctx, ref, opts...)
		if err != nil {
			return nil, err
		}
		m = &module{wasm: r.Wasm, manifest: r.Manifest, signatures: r.Signatures, origin: st.UDF}
		if m.manifest == nil {
			if data, err := manifest.Extract(r.Wasm); err == nil {
				m.manifest = data
			}
		}
	} else {
		path, err := s.ResolvePath(st.UDF)
		if err != nil {
			return nil, err
		}
		wasm, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading udf module: %w", err)
		}
		m = &module{wasm: wasm, origin: path}
		if data, _, err := manifest.Find(path, wasm); err == nil {
			m.manifest = data
		} else if !errors.Is(err, manifest.ErrNoManifest) {
			return nil, fmt.Errorf("reading the module's manifest: %w", err)
		}
		if sig, err := os.ReadFile(sign.SignaturePath(path)); err == nil {
			m.signatures = [][]byte{sig}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading the module's signature: %w", err)
		}
	}
	if pin := strings.TrimPrefix(st.SHA256, "sha256:"); pin != "" {
		sum := sha256.Sum256(m.wasm)
		if got := hex.EncodeToString(sum[:]); got != pin {
			return nil, fmt.Errorf("%s has sha256 %s, not the pinned %s: the module changed (pin the new digest only if you trust the new module)", m.origin, got, pin)
		}
	}
	return m, nil
}

// verifySigned checks that m carries a signature by a key the policy trusts.
func (m *module) verifySigned(policy *sign.Policy) error {
	var opts []sign.Option
	if m.manifest != nil {
		if man, err := manifest.Parse(m.manifest); err == nil {
			opts = append(opts, sign.WithName(man.Name))
		}
	}
	if len(m.signatures) == 0 {
		return fmt.Errorf("run.require_signed: %s has no signature (sign it with `wasinfer udf sign %s --key KEY`, or pull it with its signature)", m.origin, m.origin)
	}
	if _, err := policy.VerifyAny(m.wasm, m.manifest, m.signatures, opts...); err != nil {
		return fmt.Errorf("run.require_signed: %s: %w", m.origin, err)
	}
	return nil
}
