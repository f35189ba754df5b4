package oci

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// An Artifact is what Push stores.
type Artifact struct {
	// Wasm is the module. Required.
	Wasm []byte
	// Manifest is a sidecar manifest, stored as a MediaTypeManifest layer;
	// nil when the module has none or embeds it.
	Manifest []byte
	// Signature is a DSSE envelope (package sign) attached as a referrer;
	// nil for none. Push does not check it: callers verify it first.
	Signature []byte
	// Title, when not empty, is the module layer's file name annotation
	// (org.opencontainers.image.title), e.g. "normalize.wasm".
	Title string
}

// Pushed describes a module Push stored.
type Pushed struct {
	// Ref is the reference pushed to, pinned: its Digest is set. Write
	// Ref.String() into pipeline specs.
	Ref Reference
	// Digest is the module manifest's digest, "sha256:…".
	Digest string
	// WasmDigest is the module layer's digest, "sha256:…" (the sha256 of
	// the module file).
	WasmDigest string
	// SignatureDigest is the digest of the signature referrer's manifest,
	// or empty when no signature was pushed.
	SignatureDigest string
}

// Push stores a module in a registry or an OCI layout directory as a Wasm
// OCI artifact tagged ref's tag, with its sidecar manifest as a layer and its
// signature as a referrer (see the package doc). ref must have a tag and no
// digest. The artifact's manifest has no timestamp, so pushing the same
// module twice gives the same digest. Blobs the target already has are not
// sent again.
//
// # Errors
//
// ErrReference; ErrRegistry and ErrNotFound (wrapped with what was being
// pushed, and hints: credentials, plain HTTP); file system errors of a
// layout.
func Push(ctx context.Context, ref string, a Artifact, opts ...Option) (*Pushed, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if r.Digest != "" || r.Tag == "" {
		return nil, fmt.Errorf("%w %q: push needs a tag and no digest (the digest is computed from what is pushed)", ErrReference, ref)
	}
	if len(a.Wasm) == 0 {
		return nil, fmt.Errorf("oci: push %s: the module is empty", r)
	}
	c := options(opts)
	t, err := c.openTarget(ctx, r)
	if err != nil {
		return nil, err
	}
	man, blobs := moduleManifest(a.Wasm, a.Manifest, a.Title)
	for _, b := range blobs {
		if err := c.pushBlob(ctx, t, r, b, layerName(b.desc.MediaType)); err != nil {
			return nil, err
		}
	}
	if err := c.pushManifest(ctx, t, r, man, r.Tag, "the module manifest"); err != nil {
		return nil, err
	}
	p := &Pushed{Ref: r.Pin(man.desc.Digest.String()), Digest: man.desc.Digest.String(), WasmDigest: blobs[1].desc.Digest.String()}
	if a.Signature != nil {
		d, err := c.attach(ctx, t, r, man.desc, a.Signature)
		if err != nil {
			return nil, err
		}
		p.SignatureDigest = d
	}
	return p, nil
}

// AttachSignature attaches a DSSE envelope to the module ref names (by tag
// or digest) as a referrer, beside any signatures it has. It returns the
// referrer manifest's digest. Attaching the same envelope twice is a no-op.
//
// # Errors
//
// ErrNotFound when ref names nothing; ErrNotModule when it is not a module;
// the errors of Push.
func AttachSignature(ctx context.Context, ref string, envelope []byte, opts ...Option) (string, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return "", err
	}
	if len(envelope) == 0 || len(envelope) > maxSignatureBytes {
		return "", fmt.Errorf("oci: attaching a signature to %s: the envelope is %d bytes; want 1 to %d", r, len(envelope), maxSignatureBytes)
	}
	c := options(opts)
	t, err := c.openTarget(ctx, r)
	if err != nil {
		return "", err
	}
	desc, err := c.resolveManifest(ctx, t, r)
	if err != nil {
		return "", err
	}
	data, err := c.fetchVerified(ctx, t, r, desc, "module manifest", maxManifestBytes)
	if err != nil {
		return "", err
	}
	if _, err := parseModuleManifest(data, c.maxWasm, r.String()); err != nil {
		return "", err
	}
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: desc.Digest, Size: desc.Size}
	return c.attach(ctx, t, r, subject, envelope)
}

func (c *config) attach(ctx context.Context, t target, r Reference, subject ocispec.Descriptor, envelope []byte) (string, error) {
	man, blobs := signatureManifest(subject, envelope)
	for _, b := range blobs {
		if err := c.pushBlob(ctx, t, r, b, layerName(b.desc.MediaType)); err != nil {
			return "", err
		}
	}
	if err := c.pushManifest(ctx, t, r, man, "", "the signature"); err != nil {
		return "", err
	}
	return man.desc.Digest.String(), nil
}

func layerName(mediaType string) string {
	switch mediaType {
	case MediaTypeWasm:
		return "the module"
	case MediaTypeWasmConfig:
		return "the module config"
	case MediaTypeManifest:
		return "the sidecar manifest"
	case MediaTypeDSSE:
		return "the signature envelope"
	}
	return "the signature config"
}
