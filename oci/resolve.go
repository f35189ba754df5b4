package oci

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// A Module is a module Resolve fetched and verified.
type Module struct {
	// Ref is the reference, pinned: Digest set.
	Ref Reference
	// Digest is the module manifest's digest, "sha256:…"; it equals the
	// reference's digest when the reference had one.
	Digest string
	// Wasm is the module. Its sha256 is WasmDigest, which the module
	// manifest names.
	Wasm []byte
	// WasmDigest is "sha256:…" of Wasm.
	WasmDigest string
	// Path is the cache file that holds Wasm. Load from Wasm: a file may
	// change after it was checked.
	Path string
	// Manifest is the sidecar manifest layer, nil when there is none (an
	// embedded manifest is inside Wasm).
	Manifest []byte
	// Signatures are the DSSE envelopes attached to the module as
	// referrers, ordered by digest; verify them with package sign.
	Signatures [][]byte
	// Cached is true when nothing was asked of the source: the reference
	// was pinned and everything was in the cache.
	Cached bool
}

// Resolve returns the module ref names, from the cache or from its registry
// or layout, after checking every byte against its digest:
//
//   - a pinned reference (with @sha256:…) is looked up in the cache first;
//     when the manifest, the module, the sidecar and the recorded signatures
//     are all there and match their digests, nothing is fetched (unless
//     WithRefresh). Otherwise the manifest is fetched by that digest, never
//     by tag: the tag only explains a pin that matches nothing;
//   - a reference with only a tag asks the source what the tag points at;
//   - the module manifest's bytes must hash to its digest (the pin, or what
//     the source named), the module and sidecar layers to theirs; bytes that
//     do not are never cached or returned;
//   - signature referrers are listed with the OCI referrers API, or the
//     referrers tag schema where the registry has no such API, and each
//     envelope is checked against its digest. Signatures are not verified
//     here: pass them to sign.Policy.VerifyModule.
//
// A cache entry that fails its digest is removed and fetched again.
// Resolve is safe for concurrent use, also by several processes sharing a
// cache.
//
// # Errors
//
// ErrReference; ErrNotFound (with the tag's digest when a pin matches
// nothing); ErrDigestMismatch naming the blob, the source and both digests;
// ErrNotModule; ErrTooLarge; ErrRegistry with hints (credentials, plain
// HTTP, nothing listening); cache write errors.
func Resolve(ctx context.Context, ref string, opts ...Option) (*Module, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	c := options(opts)
	cache, err := c.cache()
	if err != nil {
		return nil, err
	}
	if r.Digest != "" && !c.refresh {
		if m, ok := c.fromCache(cache, r); ok {
			return m, nil
		}
	}
	src, err := c.openSource(ctx, r)
	if err != nil {
		return nil, err
	}
	desc, err := c.resolveManifest(ctx, src, r)
	if err != nil {
		return nil, err
	}
	manData, ok := cache.get(desc.Digest, desc.Size, maxManifestBytes)
	if !ok {
		if manData, err = c.fetchVerified(ctx, src, r, desc, "module manifest", maxManifestBytes); err != nil {
			return nil, err
		}
	}
	layers, err := parseModuleManifest(manData, c.maxWasm, r.Pin(desc.Digest.String()).String())
	if err != nil {
		return nil, err
	}
	m := &Module{Ref: r.Pin(desc.Digest.String()), Digest: desc.Digest.String(), WasmDigest: layers.wasm.Digest.String()}
	if m.Wasm, m.Path, err = c.blob(ctx, cache, src, r, layers.wasm, "module layer", c.maxWasm); err != nil {
		return nil, err
	}
	if layers.manifest != nil {
		if m.Manifest, _, err = c.blob(ctx, cache, src, r, *layers.manifest, "sidecar manifest layer", maxSidecarBytes); err != nil {
			return nil, err
		}
	}
	sigs, sigDigests, err := c.signatures(ctx, cache, src, r, desc)
	if err != nil {
		return nil, err
	}
	m.Signatures = sigs
	if _, err := cache.put(desc.Digest, manData); err != nil {
		return nil, err
	}
	if err := cache.putSignatures(desc.Digest, sigDigests); err != nil {
		return nil, err
	}
	return m, nil
}

// resolveManifest returns the descriptor of the manifest r names: by digest
// when r has one, else by tag.
func (c *config) resolveManifest(ctx context.Context, src source, r Reference) (ocispec.Descriptor, error) {
	if r.Digest == "" {
		desc, err := src.Resolve(ctx, r.Tag)
		if err != nil {
			return desc, c.explain(r, "resolving tag "+r.Tag+" in "+where(r), err)
		}
		if err := checkDescriptor(desc); err != nil {
			return desc, fmt.Errorf("%w: %s: tag %s: %w", ErrNotModule, where(r), r.Tag, err)
		}
		return desc, nil
	}
	desc, err := src.Resolve(ctx, r.Digest)
	if errors.Is(err, errdef.ErrNotFound) {
		msg := fmt.Sprintf("%s has no manifest %s", where(r), short(r.Digest))
		if r.Tag != "" {
			if td, terr := src.Resolve(ctx, r.Tag); terr == nil {
				msg += fmt.Sprintf("; its tag %s is at %s (is the pin in the reference stale or mistyped?)", r.Tag, short(td.Digest.String()))
			} else {
				msg += fmt.Sprintf(", nor a tag %s", r.Tag)
			}
		}
		return desc, fmt.Errorf("%w: %s", ErrNotFound, msg)
	}
	if err != nil {
		return desc, c.explain(r, "resolving "+short(r.Digest)+" in "+where(r), err)
	}
	if desc.Digest.String() != r.Digest {
		return desc, fmt.Errorf("%w: asked %s for %s, it answered %s", ErrDigestMismatch, where(r), short(r.Digest), short(desc.Digest.String()))
	}
	return desc, nil
}

// blob returns a layer from the cache, or fetches, verifies and caches it.
func (c *config) blob(ctx context.Context, cache *cache, src source, r Reference, desc ocispec.Descriptor, what string, limit int64) ([]byte, string, error) {
	if data, ok := cache.get(desc.Digest, desc.Size, limit); ok {
		return data, cache.blobPath(desc.Digest), nil
	}
	data, err := c.fetchVerified(ctx, src, r, desc, what, limit)
	if err != nil {
		return nil, "", err
	}
	path, err := cache.put(desc.Digest, data)
	if err != nil {
		return nil, "", err
	}
	return data, path, nil
}

// signatures lists and fetches the signature referrers of desc.
func (c *config) signatures(ctx context.Context, cache *cache, src source, r Reference, desc ocispec.Descriptor) ([][]byte, []digest.Digest, error) {
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: desc.Digest, Size: desc.Size}
	refs, err := registry.Referrers(ctx, src, subject, ArtifactTypeSignature)
	if err != nil {
		return nil, nil, c.explain(r, "listing the signatures of "+short(desc.Digest.String()), err)
	}
	slices.SortFunc(refs, func(a, b ocispec.Descriptor) int { return compareStrings(a.Digest.String(), b.Digest.String()) })
	refs = slices.CompactFunc(refs, func(a, b ocispec.Descriptor) bool { return a.Digest == b.Digest })
	if len(refs) > maxSignatures {
		c.logger.Warn("oci: too many signatures; reading the first ones", "ref", r.String(), "count", len(refs), "read", maxSignatures)
		refs = refs[:maxSignatures]
	}
	var envs [][]byte
	var digests []digest.Digest
	for _, ref := range refs {
		if err := checkDescriptor(ref); err != nil {
			c.logger.Warn("oci: signature referrer skipped", "ref", r.String(), "err", err)
			continue
		}
		data, err := c.fetchVerified(ctx, src, r, ref, "signature manifest", maxManifestBytes)
		if err != nil {
			return nil, nil, err
		}
		layer, err := parseSignatureManifest(data)
		if err != nil {
			c.logger.Warn("oci: signature referrer skipped", "ref", r.String(), "digest", ref.Digest.String(), "err", err)
			continue
		}
		env, _, err := c.blob(ctx, cache, src, r, layer, "signature envelope", maxSignatureBytes)
		if err != nil {
			return nil, nil, err
		}
		envs = append(envs, env)
		digests = append(digests, layer.Digest)
	}
	return envs, digests, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fromCache returns the pinned module r when the cache holds all of it.
func (c *config) fromCache(cache *cache, r Reference) (*Module, bool) {
	d := digest.Digest(r.Digest)
	manData, ok := cache.get(d, -1, maxManifestBytes)
	if !ok {
		return nil, false
	}
	layers, err := parseModuleManifest(manData, c.maxWasm, r.String())
	if err != nil {
		return nil, false // fetch again; the source's answer reports it
	}
	sigDigests, ok := cache.signatures(d)
	if !ok {
		return nil, false
	}
	m := &Module{Ref: r, Digest: r.Digest, WasmDigest: layers.wasm.Digest.String(), Cached: true}
	if m.Wasm, ok = cache.get(layers.wasm.Digest, layers.wasm.Size, c.maxWasm); !ok {
		return nil, false
	}
	m.Path = cache.blobPath(layers.wasm.Digest)
	if layers.manifest != nil {
		if m.Manifest, ok = cache.get(layers.manifest.Digest, layers.manifest.Size, maxSidecarBytes); !ok {
			return nil, false
		}
	}
	for _, sd := range sigDigests {
		env, ok := cache.get(sd, -1, maxSignatureBytes)
		if !ok {
			return nil, false
		}
		m.Signatures = append(m.Signatures, env)
	}
	return m, true
}
